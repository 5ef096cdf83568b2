"""The data layer: one month of the marts, read once, shaped into plain dataclasses of published figures.

Disclosure control is applied here (through `Figures`), once: nothing downstream sees a raw count.
Every query reads a whole month for every organisation, so rendering 1,250 PCNs costs the same
dozen queries as rendering one. Optional marts (the outcome and SROI tables) are checked for
existence; a missing table makes its section say "not yet available", an empty one says so too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

import duckdb

from orchestration.months import MONTH_NAMES, add_months, financial_year_label, financial_year_start, month_end
from reports.disclosure import DisclosureRule, protect_ratio
from reports.pcn.figures import Figure, Figures, missing

TREND_MONTHS = 24
OUTCOME_TABLES = ("outcome_statistics", "outcome_pairs")
SROI_TABLES = ("sroi_pcn_financial_year", "sroi_walk", "health_benefit_pcn_financial_year")
MEASURE_LABELS = {
    "swemwbs_metric": "Mental wellbeing (SWEMWBS)",
    "ons4_life_satisfaction": "Life satisfaction (ONS4)",
    "ons4_worthwhile": "Feeling things are worthwhile (ONS4)",
    "ons4_happiness": "Happiness yesterday (ONS4)",
    "ons4_anxiety": "Anxiety yesterday (ONS4)",
    "ucla3_total": "Loneliness (UCLA3)",
    "eq5d_index": "Health-related quality of life (EQ-5D-5L)",
}
MEASURE_ORDER = tuple(MEASURE_LABELS)
COHORT_LABELS = {
    "engaged": "Engaged with the link worker",
    "declined": "Declined",
    "not_contacted": "Not yet contacted",
}
DIMENSION_LABELS = {
    "age_band": "Age",
    "sex": "Sex",
    "ethnic_group": "Ethnic group",
    "imd_quintile": "Deprivation (1 = most deprived fifth of areas)",
}
COMPONENT_LABELS = {
    "validity": "Rows accepted",
    "completeness": "Key fields filled in",
    "timeliness": "Sent on time",
    "concordance": "Referrals coded in the GP record",
}


def month_label(month: date) -> str:
    """`September 2026`, without strftime so the locale cannot change the bytes."""
    return f"{MONTH_NAMES[month.month - 1]} {month.year}"


def short_month_label(month: date) -> str:
    return f"{MONTH_NAMES[month.month - 1][:3]} {month.year % 100:02d}"


# ---- the sections ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Tile:
    """A headline number with its change on last month and on the same month last year."""

    key: str
    label: str
    figure: Figure
    vs_last_month: Figure
    vs_last_year: Figure


@dataclass(frozen=True)
class PracticeRate:
    code: str
    name: str
    referrals: Figure
    patients: Figure
    rate: Figure


@dataclass(frozen=True)
class TrendPoint:
    month: date
    label: str
    referrals: Figure
    seen: Figure
    discharges: Figure
    median_wait: Figure
    p90_wait: Figure


@dataclass(frozen=True)
class Share:
    """A category of a breakdown: its protected count and share."""

    code: str
    label: str
    count: Figure
    share: Figure


@dataclass(frozen=True)
class Breakdown:
    items: list[Share]
    total: Figure | None = None


@dataclass(frozen=True)
class ActivitySection:
    """Contacts, care plans and discharges, for the month and the last 12 months."""

    month: dict[str, Figure]
    year: dict[str, Figure]
    discharge_reasons: Breakdown


@dataclass(frozen=True)
class OutcomeRow:
    measure: str
    label: str
    higher_is_better: bool
    pairs: Figure
    mean_baseline: Figure
    mean_follow_up: Figure
    mean_change: Figure
    ci_lower: Figure
    ci_upper: Figure
    improved_share: Figure
    computed: bool


@dataclass(frozen=True)
class OutcomesSection:
    status: str  # available, statistics_not_yet_available, empty, not_yet_available
    period_label: str = ""
    rows: list[OutcomeRow] = field(default_factory=list)


@dataclass(frozen=True)
class CohortChange:
    cohort: str
    label: str
    episodes: Figure
    before: Figure
    after: Figure
    pct_change: Figure


@dataclass(frozen=True)
class GpChangeSection:
    period_label: str
    cohorts: list[CohortChange]


@dataclass(frozen=True)
class WalkStep:
    """A line of the SROI walk; figures that do not apply to the step (a proxy on the inputs line) are None."""

    outcome: str
    step: str
    quantity: Figure | None
    unit: str
    financial_proxy: Figure | None
    gross_value: Figure | None
    adjustments: str
    present_value: Figure


@dataclass(frozen=True)
class SroiScenario:
    scenario: str
    input_value: Figure
    present_value: Figure
    ratio: Figure


@dataclass(frozen=True)
class SroiSection:
    status: str  # available, empty, not_yet_available
    financial_year: str = ""
    scenarios: list[SroiScenario] = field(default_factory=list)
    walk: list[WalkStep] = field(default_factory=list)
    health_benefit: dict[str, Figure] = field(default_factory=dict)
    assumption_version: str = ""


@dataclass(frozen=True)
class EquityCategory:
    code: str
    label: str
    referrals: Figure
    referral_share: Figure
    population_share: Figure  # registered population (age, sex) or England's referrals (ethnicity, deprivation)


@dataclass(frozen=True)
class EquityDimension:
    dimension: str
    label: str
    comparator: str  # "registered patients" or "referrals in England"
    categories: list[EquityCategory]


@dataclass(frozen=True)
class FixItem:
    title: str
    detail: str


@dataclass(frozen=True)
class SubmitterQuality:
    code: str
    name: str
    kind: str  # practice or provider
    submitted: bool
    score: Figure
    components: dict[str, Figure]
    rows_received: Figure
    rows_not_loaded: Figure
    fixes: list[FixItem]


@dataclass(frozen=True)
class PcnReport:
    pcn_code: str
    pcn_name: str
    icb_code: str
    month: date
    month_label: str
    year_label: str  # the 12 months to the report month, e.g. "October 2025 to September 2026"
    financial_year: str
    headline: list[Tile]
    practice_rates: list[PracticeRate]
    pcn_rate_12m: Figure
    trend: list[TrendPoint]
    sources: Breakdown
    reasons: list[Share]
    waits: dict[str, Figure]
    activity: ActivitySection
    outcomes: OutcomesSection
    gp_change: GpChangeSection | None
    sroi: SroiSection
    equity: list[EquityDimension]
    data_quality: list[SubmitterQuality]


@dataclass(frozen=True)
class PcnSummaryRow:
    pcn_code: str
    pcn_name: str
    referrals: Figure
    rate_12m: Figure
    median_wait: Figure
    active_caseload: Figure
    outcome_pairs: Figure
    sroi_ratio: Figure


@dataclass(frozen=True)
class IcbSummary:
    icb_code: str
    icb_name: str
    month: date
    month_label: str
    year_label: str
    financial_year: str
    headline: list[Tile]
    pcns: list[PcnSummaryRow]
    icb_rate_12m: Figure
    trend: list[TrendPoint]
    sources: Breakdown
    outcomes: OutcomesSection
    sroi_status: str
    data_quality: list[SubmitterQuality]


# ---- reading --------------------------------------------------------------------------------------
def _dicts(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _group(rows: Iterable[dict[str, Any]], *keys: str) -> dict[tuple, list[dict[str, Any]]]:
    grouped: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[tuple(row[k] for k in keys)].append(row)
    return grouped


def _index(rows: Iterable[dict[str, Any]], *keys: str) -> dict[tuple, dict[str, Any]]:
    return {tuple(row[k] for k in keys): row for row in rows}


class WarehouseMonth:
    """Everything the reports of one month need, read from the marts in one pass."""

    def __init__(self, con: duckdb.DuckDBPyConnection, month: date, figures: Figures | None = None) -> None:
        self.month = month.replace(day=1)
        self.figures = figures or Figures()
        self.first_trend_month = add_months(self.month, -(TREND_MONTHS - 1))
        self.window_start = add_months(self.month, -11)
        self.fy_start = financial_year_start(self.month)
        tables = {
            name
            for (name,) in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'"
            ).fetchall()
        }
        self.tables = tables
        self.monthly = _index(
            _dicts(
                con,
                "SELECT * FROM marts.referral_measures_monthly WHERE month_start BETWEEN ? AND ? "
                "AND org_type IN ('practice', 'pcn', 'icb')",
                [self.first_trend_month, self.month],
            ),
            "org_type",
            "org_code",
            "month_start",
        )
        self.rolling = _index(
            _dicts(
                con,
                "SELECT * FROM marts.referral_measures_rolling_12m WHERE month_start = ? "
                "AND org_type IN ('practice', 'pcn', 'icb')",
                [self.month],
            ),
            "org_type",
            "org_code",
        )
        mix_where = "period_type = 'rolling_12m' AND period_start = ? AND org_type IN ('pcn', 'icb')"
        self.sources = _group(
            _dicts(con, f"SELECT * FROM marts.referral_source_mix WHERE {mix_where}", [self.window_start]),
            "org_type",
            "org_code",
        )
        self.reasons = _group(
            _dicts(con, f"SELECT * FROM marts.referral_reason_mix WHERE {mix_where}", [self.window_start]),
            "org_type",
            "org_code",
        )
        self.equity = _group(
            _dicts(
                con,
                "SELECT * FROM marts.equity_referrals WHERE financial_year_start = ? ORDER BY category_order, category",
                [self.fy_start],
            ),
            "org_type",
            "org_code",
        )
        # GP appointments: the latest financial year (started by the report month) with complete windows
        self.utilisation = _group(
            _dicts(
                con,
                "SELECT * FROM marts.utilisation_gp_appointments u WHERE period_type = 'financial_year' "
                "AND period_start <= ? ORDER BY period_start",
                [self.month],
            ),
            "org_type",
            "org_code",
        )
        self.quality = _index(
            _dicts(con, "SELECT * FROM marts.data_quality_submitter_monthly WHERE period = ?", [self.month]),
            "submitter_code",
        )
        self.rejections = _group(
            _dicts(
                con,
                "SELECT * FROM marts.data_quality_rejection_reasons WHERE period = ? "
                "ORDER BY rows_quarantined DESC, files_affected DESC, reason_code, table_name",
                [self.month],
            ),
            "submitter_code",
        )
        self.completeness = _group(
            _dicts(
                con,
                "SELECT * FROM marts.data_quality_field_completeness WHERE period = ? "
                "ORDER BY completeness_share, table_name, field_name",
                [self.month],
            ),
            "submitter_code",
        )
        self.providers_by_pcn = _group(
            _dicts(
                con,
                "SELECT DISTINCT f.pcn_code, f.provider_code, p.provider_name FROM marts.fct_referrals f "
                "LEFT JOIN ref.providers p ON p.provider_code = f.provider_code "
                "WHERE f.referral_date <= ? AND f.pcn_code IS NOT NULL ORDER BY f.provider_code",
                [month_end(self.month)],
            ),
            "pcn_code",
        )
        self.outcomes: dict[tuple, list[dict[str, Any]]] = {}
        self.improved: dict[tuple, dict[str, Any]] = {}
        if "outcome_statistics" in tables:
            stats = _dicts(
                con,
                "SELECT * FROM marts.outcome_statistics WHERE period_type = 'rolling_12m' AND period_start = ? "
                "AND org_level IN ('pcn', 'icb')",
                [self.window_start],
            )
            self.outcomes = _group(stats, "org_level", "org_code")
        if "outcome_pairs" in tables:
            self.improved = _index(
                _dicts(
                    con,
                    "SELECT pcn_code AS org_code, 'pcn' AS org_level, measure, count(*) AS pairs, "
                    "sum(CASE WHEN change_category = 'improved' THEN 1 ELSE 0 END) AS improved "
                    "FROM marts.outcome_pairs WHERE has_follow_up AND follow_up_month BETWEEN ? AND ? "
                    "GROUP BY ALL UNION ALL "
                    "SELECT icb_code, 'icb', measure, count(*), "
                    "sum(CASE WHEN change_category = 'improved' THEN 1 ELSE 0 END) "
                    "FROM marts.outcome_pairs WHERE has_follow_up AND follow_up_month BETWEEN ? AND ? "
                    "GROUP BY ALL",
                    [self.window_start, self.month, self.window_start, self.month],
                ),
                "org_level",
                "org_code",
                "measure",
            )
        self.sroi: dict[tuple, list[dict[str, Any]]] = {}
        self.walk: dict[tuple, list[dict[str, Any]]] = {}
        self.health: dict[tuple, list[dict[str, Any]]] = {}
        fy = financial_year_label(self.fy_start)
        if all(t in tables for t in SROI_TABLES):
            self.sroi = _group(
                _dicts(con, "SELECT * FROM marts.sroi_pcn_financial_year WHERE financial_year = ?", [fy]),
                "pcn_code",
            )
            self.walk = _group(
                _dicts(
                    con,
                    "SELECT * FROM marts.sroi_walk WHERE financial_year = ? ORDER BY scenario, step_order",
                    [fy],
                ),
                "pcn_code",
            )
            self.health = _group(
                _dicts(con, "SELECT * FROM marts.health_benefit_pcn_financial_year WHERE financial_year = ?", [fy]),
                "pcn_code",
            )
        self.names = {
            code: name
            for code, name in con.execute(
                "SELECT DISTINCT org_code, org_name FROM marts.referral_measures_monthly "
                "WHERE org_name IS NOT NULL AND month_start BETWEEN ? AND ?",
                [self.first_trend_month, self.month],
            ).fetchall()
        }

    # ---- organisations ----------------------------------------------------------------------------
    def pcn_codes(self) -> list[str]:
        """PCNs with a row for the report month (every PCN in scope has one, zeros included)."""
        return sorted(code for (kind, code, month) in self.monthly if kind == "pcn" and month == self.month)

    def icb_codes(self) -> list[str]:
        return sorted(code for (kind, code, month) in self.monthly if kind == "icb" and month == self.month)

    @cached_property
    def _practices_in_month(self) -> list[dict[str, Any]]:
        """The practice rows of the report month, by practice code (indexed once: 1,250 PCNs at national scale)."""
        return sorted(
            (row for (kind, _code, month), row in self.monthly.items() if kind == "practice" and month == self.month),
            key=lambda row: row["org_code"],
        )

    @cached_property
    def _practices_by_pcn(self) -> dict[str, list[dict[str, Any]]]:
        by_pcn: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in self._practices_in_month:
            by_pcn[row["parent_pcn_code"]].append(row)
        return dict(by_pcn)

    @cached_property
    def _pcns_by_icb(self) -> dict[str, list[str]]:
        by_icb: dict[str, set[str]] = defaultdict(set)
        for row in self._practices_in_month:
            if row["parent_pcn_code"]:
                by_icb[row["parent_icb_code"]].add(row["parent_pcn_code"])
        return {icb: sorted(pcns) for icb, pcns in by_icb.items()}

    def practices_of(self, pcn_code: str) -> list[dict[str, Any]]:
        return list(self._practices_by_pcn.get(pcn_code, []))

    def pcns_of(self, icb_code: str) -> list[str]:
        """PCNs whose practices belonged to the ICB in the report month."""
        return list(self._pcns_by_icb.get(icb_code, []))

    def icb_of(self, pcn_code: str) -> str:
        icbs = sorted(
            {row["parent_icb_code"] or "" for row in self.practices_of(pcn_code) if row["parent_icb_code"] is not None}
        )
        return icbs[0] if icbs else ""

    @property
    def year_label(self) -> str:
        return f"{month_label(self.window_start)} to {month_label(self.month)}"


# ---- building the sections ------------------------------------------------------------------------
MONTHLY = "referral_measures_monthly"
ROLLING = "referral_measures_rolling_12m"

HEADLINE_MEASURES: tuple[tuple[str, str, str], ...] = (
    # key (a column of the monthly measures), label, kind of figure
    ("referrals_received", "Referrals received", "count"),
    ("referrals_per_1000_patients", "Referrals per 1,000 patients", "rate"),
    ("referrals_seen", "Seen for the first time", "count"),
    ("median_days_to_first_contact", "Median days to first contact", "wait"),
    ("discharges", "Discharged", "count"),
    ("active_caseload", "Open cases at month end", "count"),
)


def _monthly_where(org_type: str, code: str, month: date) -> dict[str, Any]:
    """A month counts only once providers report: before their first return the mart holds just the referrals
    still open when reporting began, which would read as a fall (or a rise) that never happened."""
    return {"org_type": org_type, "org_code": code, "month_start": month, "has_provider_returns": True}


def _monthly_row(data: WarehouseMonth, org_type: str, code: str, month: date) -> dict[str, Any] | None:
    row = data.monthly.get((org_type, code, month))
    return row if row is not None and row["has_provider_returns"] else None


def _monthly_figure(data: WarehouseMonth, org_type: str, code: str, month: date, kind: str, column: str) -> Figure:
    where = _monthly_where(org_type, code, month)
    row = _monthly_row(data, org_type, code, month)
    f = data.figures
    if kind == "rate":
        return f.ratio(
            MONTHLY, where, row, "referrals_received", "registered_patients", scale=1000, places=2, unit="rate"
        )
    if kind == "wait":
        return f.statistic(MONTHLY, where, row, column, "referrals_seen", places=1, unit="days")
    return f.count(MONTHLY, where, row, column)


def headline(data: WarehouseMonth, org_type: str, code: str) -> list[Tile]:
    tiles = []
    for key, label, kind in HEADLINE_MEASURES:
        now = _monthly_figure(data, org_type, code, data.month, kind, key)
        last_month = _monthly_figure(data, org_type, code, add_months(data.month, -1), kind, key)
        last_year = _monthly_figure(data, org_type, code, add_months(data.month, -12), kind, key)
        tiles.append(
            Tile(
                key=key,
                label=label,
                figure=now,
                vs_last_month=data.figures.change(now, last_month),
                vs_last_year=data.figures.change(now, last_year),
            )
        )
    return tiles


def trend(data: WarehouseMonth, org_type: str, code: str) -> list[TrendPoint]:
    points = []
    month = data.first_trend_month
    while month <= data.month:
        if _monthly_row(data, org_type, code, month) is not None:
            points.append(
                TrendPoint(
                    month=month,
                    label=short_month_label(month),
                    referrals=_monthly_figure(data, org_type, code, month, "count", "referrals_received"),
                    seen=_monthly_figure(data, org_type, code, month, "count", "referrals_seen"),
                    discharges=_monthly_figure(data, org_type, code, month, "count", "discharges"),
                    median_wait=_monthly_figure(data, org_type, code, month, "wait", "median_days_to_first_contact"),
                    p90_wait=_monthly_figure(data, org_type, code, month, "wait", "p90_days_to_first_contact"),
                )
            )
        month = add_months(month, 1)
    return points


def _rolling_where(org_type: str, code: str, data: WarehouseMonth) -> dict[str, Any]:
    return {"org_type": org_type, "org_code": code, "month_start": data.month}


def rate_12m(data: WarehouseMonth, org_type: str, code: str) -> Figure:
    row = data.rolling.get((org_type, code))
    return data.figures.ratio(
        ROLLING,
        _rolling_where(org_type, code, data),
        row,
        "referrals_received",
        "registered_patients",
        scale=1000,
        places=1,
        unit="rate",
    )


def practice_rates(data: WarehouseMonth, pcn_code: str) -> list[PracticeRate]:
    result = []
    for practice in data.practices_of(pcn_code):
        code = practice["org_code"]
        row = data.rolling.get(("practice", code))
        where = _rolling_where("practice", code, data)
        result.append(
            PracticeRate(
                code=code,
                name=practice["org_name"] or code,
                referrals=data.figures.count(ROLLING, where, row, "referrals_received"),
                patients=data.figures.count(ROLLING, where, row, "registered_patients"),
                rate=rate_12m(data, "practice", code),
            )
        )
    return result


def _mix_where(org_type: str, code: str, data: WarehouseMonth) -> dict[str, Any]:
    return {"period_type": "rolling_12m", "period_start": data.window_start, "org_type": org_type, "org_code": code}


def sources(data: WarehouseMonth, org_type: str, code: str) -> Breakdown:
    rows = data.sources.get((org_type, code), [])
    where = _mix_where(org_type, code, data)
    counts, shares, total = data.figures.breakdown(
        "referral_source_mix", where, rows, "referral_source", "referrals", places=0
    )
    names = {r["referral_source"]: r["referral_source_name"] for r in rows}
    items = [Share(code=k, label=names[k], count=counts[k], share=shares[k]) for k in counts]
    items.sort(key=lambda s: (-(s.count.value or 0), s.label))
    return Breakdown(items=items, total=total)


def reasons(data: WarehouseMonth, org_type: str, code: str) -> list[Share]:
    """Reasons: a referral may give several, so each share is of all referrals (and they may sum past 100%)."""
    items = []
    for row in data.reasons.get((org_type, code), []):
        where = {**_mix_where(org_type, code, data), "referral_reason": row["referral_reason"]}
        items.append(
            Share(
                code=row["referral_reason"],
                label=row["referral_reason_name"],
                count=data.figures.count("referral_reason_mix", where, row, "referrals_with_reason"),
                share=data.figures.ratio(
                    "referral_reason_mix", where, row, "referrals_with_reason", "referrals_received", places=0
                ),
            )
        )
    items.sort(key=lambda s: (-(s.count.value or 0), s.label))
    return items


def waits(data: WarehouseMonth, org_type: str, code: str) -> dict[str, Figure]:
    f = data.figures
    month_where = _monthly_where(org_type, code, data.month)
    month_row = _monthly_row(data, org_type, code, data.month)
    year_where = _rolling_where(org_type, code, data)
    year_row = data.rolling.get((org_type, code))
    return {
        "seen_month": f.count(MONTHLY, month_where, month_row, "referrals_seen"),
        "median_month": f.statistic(
            MONTHLY, month_where, month_row, "median_days_to_first_contact", "referrals_seen", unit="days"
        ),
        "p90_month": f.statistic(
            MONTHLY, month_where, month_row, "p90_days_to_first_contact", "referrals_seen", unit="days"
        ),
        "seen_year": f.count(ROLLING, year_where, year_row, "referrals_seen"),
        "median_year": f.statistic(
            ROLLING, year_where, year_row, "median_days_to_first_contact", "referrals_seen", unit="days"
        ),
        "p90_year": f.statistic(
            ROLLING, year_where, year_row, "p90_days_to_first_contact", "referrals_seen", unit="days"
        ),
    }


DISCHARGE_REASONS = (
    ("completed", "Completed"),
    ("declined", "Declined"),
    ("disengaged", "Stopped engaging"),
    ("moved_away", "Moved away"),
    ("deceased", "Died"),
    ("transferred", "Transferred"),
    ("other", "Other"),
)


def _activity_figures(f: Figures, mart: str, where: dict[str, Any], row: dict[str, Any] | None) -> dict[str, Figure]:
    return {
        "contacts_offered": f.count(mart, where, row, "contacts_offered"),
        "contacts_attended": f.count(mart, where, row, "contacts_attended"),
        "dna_rate": f.ratio(mart, where, row, "contacts_did_not_attend", "contacts_offered", places=0),
        "people_attending": f.count(mart, where, row, "people_attending"),
        "contacts_per_person": f.ratio(
            mart, where, row, "contacts_attended", "people_attending", scale=1, places=1, unit="number"
        ),
        "care_plans_agreed": f.count(mart, where, row, "care_plans_agreed"),
        "discharges": f.count(mart, where, row, "discharges"),
        "discharges_completed_share": f.ratio(mart, where, row, "discharges_completed", "discharges", places=0),
    }


def activity(data: WarehouseMonth, org_type: str, code: str) -> ActivitySection:
    month_row = _monthly_row(data, org_type, code, data.month)
    year_row = data.rolling.get((org_type, code))
    year_where = _rolling_where(org_type, code, data)
    # The discharge reasons are columns of one row: a breakdown over (reason, count) pairs of that row.
    reason_rows = [
        {"reason": reason, "discharges": (year_row or {}).get(f"discharges_{reason}") or 0}
        for reason, _label in DISCHARGE_REASONS
    ]
    counts, shares, total = data.figures.breakdown(ROLLING, year_where, reason_rows, "reason", "discharges", places=0)
    labels = dict(DISCHARGE_REASONS)
    items = []
    for reason in counts:
        # provenance: the reason's own column of the rolling row
        count = counts[reason]
        count = Figure(
            count.protected, {**count.source, "column": f"discharges_{reason}", "where": _plain_where(year_where)}
        )
        share = shares[reason]
        share = Figure(
            share.protected,
            {
                "rule": "share_of_columns",
                "mart": ROLLING,
                "where": _plain_where(year_where),
                "column": f"discharges_{reason}",
                "columns": [f"discharges_{r}" for r, _ in DISCHARGE_REASONS],
                "places": 0,
            },
            "percent",
            0,
        )
        items.append(Share(code=reason, label=labels[reason], count=count, share=share))
    total = Figure(
        total.protected,
        {
            "rule": "total_of_columns",
            "mart": ROLLING,
            "where": _plain_where(year_where),
            "columns": [f"discharges_{r}" for r, _ in DISCHARGE_REASONS],
        },
    )
    if year_row is None:
        items, total = [], None
    return ActivitySection(
        month=_activity_figures(data.figures, MONTHLY, _monthly_where(org_type, code, data.month), month_row),
        year=_activity_figures(data.figures, ROLLING, year_where, year_row),
        discharge_reasons=Breakdown(items=items, total=total),
    )


def _plain_where(where: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in where.items()}


def outcomes(data: WarehouseMonth, org_level: str, code: str) -> OutcomesSection:
    """Pairs and share improved from outcome_pairs; mean change and CI from outcome_statistics. Each part says
    "not yet available" only while its own table is missing from the warehouse."""
    if "outcome_pairs" not in data.tables:
        return OutcomesSection(status="not_yet_available")
    statistics_built = "outcome_statistics" in data.tables
    stats = {r["measure"]: r for r in data.outcomes.get((org_level, code), [])}
    measures = sorted(
        {m for (level, org, m) in data.improved if (level, org) == (org_level, code)} | set(stats),
        key=lambda m: (MEASURE_ORDER.index(m) if m in MEASURE_ORDER else 99, m),
    )
    if not measures:
        return OutcomesSection(status="empty", period_label=data.year_label)
    f = data.figures
    result = []
    for measure in measures:
        row = stats.get(measure)
        where = {
            "org_level": org_level,
            "org_code": code,
            "period_type": "rolling_12m",
            "period_start": data.window_start,
            "measure": measure,
        }
        pair_where = {
            "org_column": "pcn_code" if org_level == "pcn" else "icb_code",
            "org_code": code,
            "measure": measure,
            "follow_up_from": data.window_start,
            "follow_up_to": data.month,
        }
        pair_row = data.improved.get((org_level, code, measure))
        pairs = f.count("outcome_pairs", pair_where, pair_row, "pairs")
        result.append(
            OutcomeRow(
                measure=measure,
                label=MEASURE_LABELS.get(measure, measure),
                higher_is_better=measure not in ("ons4_anxiety", "ucla3_total"),
                pairs=Figure(pairs.protected, {**pairs.source, "rule": "outcome_pairs"}, "count", 0, pairs.available),
                mean_baseline=f.statistic("outcome_statistics", where, row, "mean_baseline", "pairs", places=2),
                mean_follow_up=f.statistic("outcome_statistics", where, row, "mean_follow_up", "pairs", places=2),
                mean_change=f.statistic("outcome_statistics", where, row, "mean_change", "pairs", places=2),
                ci_lower=f.statistic("outcome_statistics", where, row, "ci_lower", "pairs", places=2),
                ci_upper=f.statistic("outcome_statistics", where, row, "ci_upper", "pairs", places=2),
                improved_share=_improved_share(f, pair_where, pair_row),
                computed=row is not None and row["status"] == "computed",
            )
        )
    return OutcomesSection(
        status="available" if statistics_built else "statistics_not_yet_available",
        period_label=data.year_label,
        rows=result,
    )


def _improved_share(f: Figures, where: dict[str, Any], row: dict[str, Any] | None) -> Figure:
    """Share improved from the protected counts of pairs and of improved pairs (outcome_pairs, follow-ups in the
    window), so the percentage comes from rounded figures like every other."""
    figure = f.ratio("outcome_pairs", where, row, "improved", "pairs", places=0)
    return Figure(figure.protected, {**figure.source, "rule": "improved_share"}, figure.unit, 0, figure.available)


def gp_change(data: WarehouseMonth, org_type: str, code: str) -> GpChangeSection | None:
    """The latest financial year with people whose six months before and after referral are both in the data."""
    rows = data.utilisation.get((org_type, code), [])
    years = sorted({r["period_start"] for r in rows if (r["episodes"] or 0) > 0})
    if not years:
        return None
    year = years[-1]
    f = data.figures
    cohorts = []
    for row in sorted(
        (r for r in rows if r["period_start"] == year), key=lambda r: list(COHORT_LABELS).index(r["cohort"])
    ):
        where = {
            "org_type": org_type,
            "org_code": code,
            "period_type": "financial_year",
            "period_start": year,
            "cohort": row["cohort"],
        }
        mart = "utilisation_gp_appointments"
        cohorts.append(
            CohortChange(
                cohort=row["cohort"],
                label=COHORT_LABELS.get(row["cohort"], row["cohort"]),
                episodes=f.count(mart, where, row, "episodes"),
                before=f.statistic(mart, where, row, "gp_appointments_before_per_person", "episodes", places=1),
                after=f.statistic(mart, where, row, "gp_appointments_after_per_person", "episodes", places=1),
                pct_change=f.statistic(mart, where, row, "pct_change", "episodes", places=0, unit="change_percent"),
            )
        )
    return GpChangeSection(period_label=f"people referred in {financial_year_label(year)}", cohorts=cohorts)


def sroi(data: WarehouseMonth, pcn_code: str) -> SroiSection:
    """SROI to date. Money resting on people (outcome values, totals, the ratio) is a statistic: an outcome row is
    shown when at least 8 people are behind it, and totals and ratios only when every outcome row is (otherwise a
    hidden row could be recovered as the total minus the others). Costs and financial proxies are not about people."""
    if not all(t in data.tables for t in SROI_TABLES):
        return SroiSection(status="not_yet_available")
    fy = financial_year_label(data.fy_start)
    rows = data.sroi.get((pcn_code,), [])
    if not rows:
        return SroiSection(status="empty", financial_year=fy)
    f = data.figures
    walk_rows = data.walk.get((pcn_code,), [])

    def fewest_people(scenario: str) -> tuple[int, dict[str, Any]]:
        outcome_rows = [r for r in walk_rows if r["scenario"] == scenario and r["step"] == "outcome"]
        n_from = {
            "mart": "sroi_walk",
            "where": {"pcn_code": pcn_code, "financial_year": fy, "scenario": scenario, "step": "outcome"},
            "column": "people",
            "aggregate": "min_positive",
        }
        # rows with nobody behind them are worth exactly 0 and hide no one, so they do not count here
        return min((int(r["people"]) for r in outcome_rows if r["people"]), default=0), n_from

    scenarios = []
    for row in sorted(rows, key=lambda r: ("low", "central", "high").index(r["scenario"])):
        where = {"pcn_code": pcn_code, "financial_year": fy, "scenario": row["scenario"]}
        n, n_from = fewest_people(row["scenario"])
        row = {**row, "fewest_people": n}
        mart = "sroi_pcn_financial_year"
        scenarios.append(
            SroiScenario(
                scenario=row["scenario"],
                input_value=f.national(mart, where, row, "input_value", places=0, unit="pounds"),
                present_value=f.statistic(
                    mart, where, row, "present_value", "fewest_people", places=0, unit="pounds", n_from=n_from
                ),
                ratio=f.statistic(
                    mart, where, row, "sroi_ratio", "fewest_people", places=2, unit="ratio", n_from=n_from
                ),
            )
        )
    steps = []
    n_central, n_from_central = fewest_people("central")
    for row in (r for r in walk_rows if r["scenario"] == "central"):
        where = {"pcn_code": pcn_code, "financial_year": fy, "scenario": "central", "step_order": row["step_order"]}
        mart = "sroi_walk"
        adjustments = ", ".join(
            f"{label} {float(row[column]) * 100:.0f}%"
            for column, label in (
                ("deadweight", "deadweight"),
                ("displacement", "displacement"),
                ("attribution", "attribution"),
                ("drop_off", "drop-off"),
            )
            if row.get(column) is not None
        )
        proxy = gross = None
        if row["step"] == "outcome":
            quantity = f.statistic(mart, where, row, "quantity", "people", places=1)
            proxy = f.national(mart, where, row, "financial_proxy", places=0, unit="pounds")
            gross = f.statistic(mart, where, row, "gross_value", "people", places=0, unit="pounds")
            present = f.statistic(mart, where, row, "present_value", "people", places=0, unit="pounds")
        elif row["step"] == "inputs":
            quantity = None
            present = f.national(mart, where, row, "present_value", places=0, unit="pounds")
        elif row["step"] == "sroi_ratio":
            row = {**row, "fewest_people": n_central}
            quantity = None
            present = f.statistic(
                mart, where, row, "quantity", "fewest_people", places=2, unit="ratio", n_from=n_from_central
            )
        else:  # total and net present value
            row = {**row, "fewest_people": n_central}
            quantity = None
            present = f.statistic(
                mart, where, row, "present_value", "fewest_people", places=0, unit="pounds", n_from=n_from_central
            )
        steps.append(
            WalkStep(
                outcome=row["outcome"] or "",
                step=row["step"] or "",
                quantity=quantity,
                unit=(row["unit"] or "") if row["step"] == "outcome" else "",
                financial_proxy=proxy,
                gross_value=gross,
                adjustments=adjustments if row["step"] == "outcome" else "",
                present_value=present,
            )
        )
    health = {}
    for row in data.health.get((pcn_code,), []):
        if row["scenario"] != "central":
            continue
        where = {"pcn_code": pcn_code, "financial_year": fy, "scenario": "central"}
        mart = "health_benefit_pcn_financial_year"
        health = {
            "eq5d_pairs": f.count(mart, where, row, "eq5d_pairs"),
            "qaly_gain": f.statistic(mart, where, row, "qaly_gain", "eq5d_pairs", places=2),
            "health_benefit_value": f.statistic(
                mart, where, row, "health_benefit_value", "eq5d_pairs", places=0, unit="pounds"
            ),
        }
    return SroiSection(
        status="available",
        financial_year=fy,
        scenarios=scenarios,
        walk=steps,
        health_benefit=health,
        assumption_version=str(rows[0].get("assumption_version") or ""),
    )


EQUITY_COMPARATORS = {
    "age_band": "population",
    "sex": "population",
    "ethnic_group": "england",
    "imd_quintile": "england",
}


def equity(data: WarehouseMonth, org_type: str, code: str) -> list[EquityDimension]:
    """Who is referred against who is registered (age, sex) or against England's referrals (ethnicity, deprivation,
    for which the reference data has no registered population)."""
    rows = data.equity.get((org_type, code), [])
    england = _index(data.equity.get(("england", "ENG"), []), "dimension", "category")
    dimensions = []
    fy = financial_year_label(data.fy_start)
    for dimension, label in DIMENSION_LABELS.items():
        members = [r for r in rows if r["dimension"] == dimension and r["is_known_category"]]
        if not members:
            continue
        where = {"org_type": org_type, "org_code": code, "financial_year": fy, "dimension": dimension}
        counts, shares, _total = data.figures.breakdown(
            "equity_referrals", {**where, "is_known_category": True}, members, "category", "referrals", places=0
        )
        if EQUITY_COMPARATORS[dimension] == "population":
            pop_rows = [{**r, "registered_population": r["registered_population"] or 0} for r in members]
            _pop_counts, pop_shares, _ = data.figures.breakdown(
                "equity_referrals",
                {**where, "is_known_category": True},
                pop_rows,
                "category",
                "registered_population",
                places=0,
            )
            comparator = "registered patients"
        else:
            eng_where = {"org_type": "england", "org_code": "ENG", "financial_year": fy, "dimension": dimension}
            pop_shares = {
                r["category"]: data.figures.national(
                    "equity_referrals",
                    {**eng_where, "category": r["category"]},
                    england.get((dimension, r["category"])),
                    "share_of_known_referrals",
                    places=0,
                    unit="percent",
                    scale=100.0,
                )
                for r in members
            }
            comparator = "referrals in England"
        dimensions.append(
            EquityDimension(
                dimension=dimension,
                label=label,
                comparator=comparator,
                categories=[
                    EquityCategory(
                        code=r["category"],
                        label=r["category_name"] or r["category"],
                        referrals=counts[r["category"]],
                        referral_share=shares[r["category"]],
                        population_share=pop_shares[r["category"]],
                    )
                    for r in members
                ],
            )
        )
    return dimensions


# ---- data quality ---------------------------------------------------------------------------------
QUALITY = "data_quality_submitter_monthly"


@dataclass(frozen=True)
class QualityGuidance:
    """What to say for each shortfall: the feedback pack's fix hints, plus the texts in dq_guidance.yml."""

    describe: Any  # reason code -> description
    hint: Any  # reason code -> how to fix
    texts: Mapping[str, Any]
    weights: Mapping[str, float]
    settings: Mapping[str, int]
    rule: DisclosureRule = field(default_factory=DisclosureRule.from_environment)


def _missing_share_text(check: Mapping[str, Any], rule: DisclosureRule) -> str:
    """`40% of` (rows missing a field), from the protected counts; `some` when they are too few to show."""
    checked = int(check["rows_checked"] or 0)
    protected = protect_ratio(checked - int(check["rows_complete"] or 0), checked, 100.0, 0, rule)
    return "some" if protected.suppressed else f"{protected.value:.0f}% of"


def quality_fixes(
    row: dict[str, Any] | None,
    rejections: list[dict[str, Any]],
    completeness: list[dict[str, Any]],
    guidance: QualityGuidance,
    limit: int = 3,
) -> list[FixItem]:
    """The few changes that would raise the score most, largest weighted shortfall first."""
    if row is None:
        return [FixItem(guidance.texts["not_submitted"]["title"], guidance.texts["not_submitted"]["detail"])]
    candidates: list[tuple[float, str, FixItem]] = []
    validity_gap = 100 - float(row["validity_score"] if row["validity_score"] is not None else 100)
    for rejection in rejections[:2]:
        code = rejection["reason_code"]
        candidates.append(
            (
                guidance.weights.get("validity", 0) * validity_gap * float(rejection["rejection_rate"] or 0),
                f"validity:{code}",
                FixItem(f"{guidance.describe(code)} ({rejection['table_name']})", guidance.hint(code)),
            )
        )
    completeness_gap = 100 - float(row["completeness_score"] if row["completeness_score"] is not None else 100)
    for check in completeness:
        share = float(check["completeness_share"] if check["completeness_share"] is not None else 1)
        if share >= 1:
            continue
        text = guidance.texts["fields"].get(check["field_name"], guidance.texts["fields"]["default"])
        candidates.append(
            (
                guidance.weights.get("completeness", 0) * completeness_gap * (1 - share),
                f"completeness:{check['table_name']}:{check['field_name']}",
                FixItem(
                    text["title"].format(
                        field=check["field_name"],
                        table=check["table_name"],
                        share_below=_missing_share_text(check, guidance.rule),
                        **guidance.settings,
                    ),
                    text["detail"].format(**guidance.settings),
                ),
            )
        )
    for component in ("timeliness", "concordance"):
        score = row[f"{component}_score"]
        if score is not None and float(score) < 100:
            text = guidance.texts[component]
            candidates.append(
                (
                    guidance.weights.get(component, 0) * (100 - float(score)),
                    component,
                    FixItem(text["title"], text["detail"].format(**guidance.settings)),
                )
            )
    candidates.sort(key=lambda c: (-c[0], c[1]))
    seen: set[str] = set()
    fixes = []
    for _gap, _key, item in candidates:
        if item.title not in seen:
            seen.add(item.title)
            fixes.append(item)
    return fixes[:limit]


def submitter_quality(
    data: WarehouseMonth, code: str, name: str, kind: str, guidance: QualityGuidance
) -> SubmitterQuality:
    row = data.quality.get((code,))
    f = data.figures
    where = {"submitter_code": code, "period": data.month}
    if row is not None:
        row = {**row, "rows_not_loaded": (row["rows_received"] or 0) - (row["rows_loaded"] or 0)}
    components = {
        component: f.statistic(QUALITY, where, row, f"{component}_score", "rows_received", places=0, unit="score")
        for component in COMPONENT_LABELS
    }
    return SubmitterQuality(
        code=code,
        name=name,
        kind=kind,
        submitted=row is not None,
        score=f.statistic(QUALITY, where, row, "data_quality_score", "rows_received", places=0, unit="score"),
        components=components,
        rows_received=f.count(QUALITY, where, row, "rows_received"),
        rows_not_loaded=f.count(QUALITY, where, row, "rows_quarantined"),
        fixes=quality_fixes(row, data.rejections.get((code,), []), data.completeness.get((code,), []), guidance),
    )


def data_quality(data: WarehouseMonth, pcn_code: str, guidance: QualityGuidance) -> list[SubmitterQuality]:
    practices = [
        submitter_quality(data, p["org_code"], p["org_name"] or p["org_code"], "practice", guidance)
        for p in data.practices_of(pcn_code)
    ]
    providers = [
        submitter_quality(data, p["provider_code"], p["provider_name"] or p["provider_code"], "provider", guidance)
        for p in data.providers_by_pcn.get((pcn_code,), [])
    ]
    return practices + providers


# ---- the reports ----------------------------------------------------------------------------------
def pcn_report(data: WarehouseMonth, pcn_code: str, guidance: QualityGuidance) -> PcnReport:
    if ("pcn", pcn_code, data.month) not in data.monthly:
        raise KeyError(f"PCN {pcn_code} has no row in marts.{MONTHLY} for {month_label(data.month)}")
    return PcnReport(
        pcn_code=pcn_code,
        pcn_name=data.names.get(pcn_code) or pcn_code,
        icb_code=data.icb_of(pcn_code),
        month=data.month,
        month_label=month_label(data.month),
        year_label=data.year_label,
        financial_year=financial_year_label(data.fy_start),
        headline=headline(data, "pcn", pcn_code),
        practice_rates=practice_rates(data, pcn_code),
        pcn_rate_12m=rate_12m(data, "pcn", pcn_code),
        trend=trend(data, "pcn", pcn_code),
        sources=sources(data, "pcn", pcn_code),
        reasons=reasons(data, "pcn", pcn_code),
        waits=waits(data, "pcn", pcn_code),
        activity=activity(data, "pcn", pcn_code),
        outcomes=outcomes(data, "pcn", pcn_code),
        gp_change=gp_change(data, "pcn", pcn_code),
        sroi=sroi(data, pcn_code),
        equity=equity(data, "pcn", pcn_code),
        data_quality=data_quality(data, pcn_code, guidance),
    )


def _central_ratio(data: WarehouseMonth, pcn_code: str) -> Figure:
    central = [s for s in sroi(data, pcn_code).scenarios if s.scenario == "central"]
    if central:
        return central[0].ratio
    where = {"pcn_code": pcn_code, "financial_year": financial_year_label(data.fy_start), "scenario": "central"}
    return missing(
        {"mart": "sroi_pcn_financial_year", "where": where, "column": "sroi_ratio", "rule": "count"}, "ratio", 2
    )


def icb_summary(data: WarehouseMonth, icb_code: str, guidance: QualityGuidance) -> IcbSummary:
    pcn_rows = []
    quality: list[SubmitterQuality] = []
    seen_providers: set[str] = set()
    for pcn_code in data.pcns_of(icb_code):
        month_where = _monthly_where("pcn", pcn_code, data.month)
        month_row = _monthly_row(data, "pcn", pcn_code, data.month)
        pairs = [r for r in outcomes(data, "pcn", pcn_code).rows if r.measure == "swemwbs_metric"]
        pcn_rows.append(
            PcnSummaryRow(
                pcn_code=pcn_code,
                pcn_name=data.names.get(pcn_code) or pcn_code,
                referrals=data.figures.count(MONTHLY, month_where, month_row, "referrals_received"),
                rate_12m=rate_12m(data, "pcn", pcn_code),
                median_wait=data.figures.statistic(
                    MONTHLY, month_where, month_row, "median_days_to_first_contact", "referrals_seen", unit="days"
                ),
                active_caseload=data.figures.count(MONTHLY, month_where, month_row, "active_caseload"),
                outcome_pairs=pairs[0].pairs
                if pairs
                else missing(
                    {
                        "mart": "outcome_pairs",
                        "rule": "outcome_pairs",
                        "column": "pairs",
                        "where": {
                            "org_column": "pcn_code",
                            "org_code": pcn_code,
                            "measure": "swemwbs_metric",
                            "follow_up_from": data.window_start.isoformat(),
                            "follow_up_to": data.month.isoformat(),
                        },
                    }
                ),
                sroi_ratio=_central_ratio(data, pcn_code),
            )
        )
        for submitter in data_quality(data, pcn_code, guidance):
            if submitter.kind == "provider":
                if submitter.code in seen_providers:
                    continue
                seen_providers.add(submitter.code)
            quality.append(submitter)
    sroi_states = {sroi(data, p.pcn_code).status for p in pcn_rows}
    return IcbSummary(
        icb_code=icb_code,
        icb_name=data.names.get(icb_code) or icb_code,
        month=data.month,
        month_label=month_label(data.month),
        year_label=data.year_label,
        financial_year=financial_year_label(data.fy_start),
        headline=headline(data, "icb", icb_code),
        pcns=pcn_rows,
        icb_rate_12m=rate_12m(data, "icb", icb_code),
        trend=trend(data, "icb", icb_code),
        sources=sources(data, "icb", icb_code),
        outcomes=outcomes(data, "icb", icb_code),
        sroi_status="available" if "available" in sroi_states else sorted(sroi_states or {"empty"})[0],
        data_quality=quality,
    )
