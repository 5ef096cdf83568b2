"""Paired outcome statistics per organisation and period, from marts.outcome_pairs.

Pure functions (no warehouse): `outcome_statistics(pairs)` turns baseline/follow-up pairs into the
rows of marts.outcome_statistics. Per PCN, ICB and England, per financial year and per rolling 12
months, and per measure: baselines, pairs, follow-up completion, mean baseline and follow-up, mean
change with its 95% confidence interval (t distribution), paired t-test and Wilcoxon signed-rank
p-values, Cohen's d_z and the share improved. The statistics are scipy's (`ttest_rel`,
`wilcoxon`, both with their defaults, so the Wilcoxon test drops zero differences); they are only
computed for MIN_PAIRS pairs or more, otherwise the row says 'too_few' and the statistics are null,
never zero.

Attribution to periods: a pair counts in the period of its follow-up date; a baseline (for the
number of baselines and the completion rate) in the period of its baseline date. The completion
rate is the share of the period's baselines that have a follow-up so far, so the latest periods,
whose follow-up windows are still open, read low.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from scipy import stats

from orchestration.months import add_months, financial_year_label, financial_year_start, month_end

MIN_PAIRS = 10  # statistics only from 10 pairs up (issue #5, DESIGN.md); fewer are recorded as too few
CONFIDENCE = 0.95
ENGLAND_CODE = "ENG"  # as dbt's var england_org_code
ORG_LEVELS = ("pcn", "icb", "england")
PERIOD_TYPES = ("financial_year", "rolling_12m")

# marts.outcome_statistics, in order, with DuckDB types.
STATISTICS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("org_level", "VARCHAR"),
    ("org_code", "VARCHAR"),
    ("period_type", "VARCHAR"),
    ("period_start", "DATE"),
    ("period_end", "DATE"),
    ("period_label", "VARCHAR"),
    ("instrument", "VARCHAR"),
    ("measure", "VARCHAR"),
    ("baselines", "INTEGER"),
    ("pairs", "INTEGER"),
    ("follow_up_completion_rate", "DOUBLE"),
    ("mean_baseline", "DOUBLE"),
    ("mean_follow_up", "DOUBLE"),
    ("mean_change", "DOUBLE"),
    ("ci_lower", "DOUBLE"),
    ("ci_upper", "DOUBLE"),
    ("t_test_p_value", "DOUBLE"),
    ("wilcoxon_p_value", "DOUBLE"),
    ("cohens_dz", "DOUBLE"),
    ("share_improved", "DOUBLE"),
    ("status", "VARCHAR"),
)


@dataclass(frozen=True)
class Pair:
    """One row of marts.outcome_pairs (a referral's baseline and, if any, follow-up on one measure)."""

    referral_key: str
    pcn_code: str | None
    icb_code: str | None
    instrument: str
    measure: str
    baseline_date: date
    baseline_score: float
    follow_up_date: date | None = None
    follow_up_score: float | None = None
    change_category: str | None = None

    def __post_init__(self) -> None:
        if (self.follow_up_date is None) != (self.follow_up_score is None):
            raise ValueError(
                f"outcome pair {self.referral_key}/{self.measure}: follow_up_date and follow_up_score must both be "
                f"set or both be empty (got {self.follow_up_date!r}, {self.follow_up_score!r})"
            )
        if self.follow_up_date is not None and self.follow_up_date <= self.baseline_date:
            raise ValueError(
                f"outcome pair {self.referral_key}/{self.measure}: follow-up {self.follow_up_date} is not after "
                f"baseline {self.baseline_date}"
            )


@dataclass(frozen=True, order=True)
class Period:
    """A reporting period: a financial year (April–March) or the 12 months ending with a month."""

    period_type: str
    start: date
    end: date
    label: str


@dataclass(frozen=True)
class PairedSummary:
    """The paired statistics of one group of pairs (None where a statistic is undefined)."""

    mean_baseline: float
    mean_follow_up: float
    mean_change: float
    ci_lower: float | None
    ci_upper: float | None
    t_test_p_value: float | None
    wilcoxon_p_value: float | None
    cohens_dz: float | None


def financial_year(day: date) -> Period:
    """The NHS financial year (1 April – 31 March) holding a day, labelled like '2025-26'."""
    start = financial_year_start(day)
    return Period("financial_year", start, date(start.year + 1, 3, 31), financial_year_label(day))


def rolling_12m(last_month: date) -> Period:
    """The 12 months ending with last_month, labelled like '2025-10 to 2026-09'."""
    first = add_months(last_month, -11)
    return Period("rolling_12m", first, month_end(last_month), f"{first:%Y-%m} to {last_month:%Y-%m}")


def _finite(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def wilcoxon_p_value(after: np.ndarray, before: np.ndarray) -> float | None:
    """Wilcoxon signed-rank p-value (zero changes dropped), None when every change is zero.

    scipy's default method, except where it would run a permutation test: 10 to 13 pairs with tied or zero
    changes (usual for integer scores) make `method="auto"` enumerate all 2^n sign patterns, a tenth of a
    second per group and most of an hour for the 100,000+ groups of a national run. Those take the normal
    approximation with tie correction that scipy uses above 13 pairs with ties (as R's wilcox.test does
    whenever there are ties). Without ties scipy's exact distribution is used, as before.
    """
    change = after - before
    nonzero = change[change != 0]
    if nonzero.size == 0:
        return None
    tied_or_zero = nonzero.size < change.size or np.unique(np.abs(nonzero)).size < nonzero.size
    return _finite(stats.wilcoxon(after, before, method="asymptotic" if tied_or_zero else "auto").pvalue)


def paired_summary(baseline: Sequence[float], follow_up: Sequence[float]) -> PairedSummary:
    """Mean change with its t-distribution CI, paired t-test, Wilcoxon signed-rank and d_z (scipy).

    Why d_z: for paired data the standardised effect is the mean change over the SD of the changes.
    Undefined statistics (all changes equal, so SD 0; all changes zero for Wilcoxon) are None.
    """
    if len(baseline) != len(follow_up):
        raise ValueError(f"paired_summary: {len(baseline)} baseline scores but {len(follow_up)} follow-up scores")
    if len(baseline) < 2:
        raise ValueError(f"paired_summary: needs at least 2 pairs, got {len(baseline)}")
    before = np.asarray(baseline, dtype=float)
    after = np.asarray(follow_up, dtype=float)
    change = after - before
    mean_change = float(change.mean())
    sd_change = float(change.std(ddof=1))
    if sd_change > 0:
        t_test = stats.ttest_rel(after, before)
        interval = t_test.confidence_interval(CONFIDENCE)
        ci_lower, ci_upper = _finite(interval.low), _finite(interval.high)
        t_p = _finite(t_test.pvalue)
        cohens_dz: float | None = mean_change / sd_change
    else:
        ci_lower = ci_upper = t_p = cohens_dz = None
    wilcoxon_p = wilcoxon_p_value(after, before)
    return PairedSummary(
        mean_baseline=float(before.mean()),
        mean_follow_up=float(after.mean()),
        mean_change=mean_change,
        ci_lower=ci_lower,
        ci_upper=ci_upper,
        t_test_p_value=t_p,
        wilcoxon_p_value=wilcoxon_p,
        cohens_dz=cohens_dz,
    )


def _organisations(pair: Pair) -> Iterator[tuple[str, str]]:
    if pair.pcn_code:
        yield "pcn", pair.pcn_code
    if pair.icb_code:
        yield "icb", pair.icb_code
    yield "england", ENGLAND_CODE


def _periods_holding(day: date, window_ends: Sequence[date]) -> list[Period]:
    """The financial year of a day and every rolling 12 months (ending in window_ends) that holds it."""
    month = day.replace(day=1)
    latest_end = add_months(month, 11)
    return [financial_year(day), *(rolling_12m(last) for last in window_ends if month <= last <= latest_end)]


@dataclass
class _Group:
    baselines: int = 0
    baselines_followed_up: int = 0
    before: list[float] = field(default_factory=list)
    after: list[float] = field(default_factory=list)
    improved: int = 0


def _data_months(pairs: Sequence[Pair]) -> list[date]:
    """Every month from the first baseline to the last baseline or follow-up: the rolling windows' ends."""
    days = [p.baseline_date for p in pairs] + [p.follow_up_date for p in pairs if p.follow_up_date is not None]
    if not days:
        return []
    months = [min(days).replace(day=1)]
    last = max(days).replace(day=1)
    while months[-1] < last:
        months.append(add_months(months[-1], 1))
    return months


def outcome_statistics(pairs: Iterable[Pair], min_pairs: int = MIN_PAIRS) -> list[dict[str, object]]:
    """Rows of marts.outcome_statistics (STATISTICS_COLUMNS), sorted by org, period and measure."""
    pairs = list(pairs)
    window_ends = _data_months(pairs)
    groups: dict[tuple[str, str, Period, str, str], _Group] = defaultdict(_Group)
    for pair in pairs:
        baseline_periods = _periods_holding(pair.baseline_date, window_ends)
        follow_up_periods = _periods_holding(pair.follow_up_date, window_ends) if pair.follow_up_date else []
        for org_level, org_code in _organisations(pair):
            for period in baseline_periods:
                group = groups[(org_level, org_code, period, pair.instrument, pair.measure)]
                group.baselines += 1
                group.baselines_followed_up += pair.follow_up_date is not None
            for period in follow_up_periods:
                group = groups[(org_level, org_code, period, pair.instrument, pair.measure)]
                group.before.append(pair.baseline_score)
                group.after.append(pair.follow_up_score)  # type: ignore[arg-type]  # set with follow_up_date
                group.improved += pair.change_category == "improved"
    level_order = {level: i for i, level in enumerate(ORG_LEVELS)}
    rows: list[dict[str, object]] = []
    for key in sorted(groups, key=lambda k: (level_order[k[0]], k[1], k[2], k[3], k[4])):
        org_level, org_code, period, instrument, measure = key
        group = groups[key]
        n = len(group.before)
        row: dict[str, object] = {
            "org_level": org_level,
            "org_code": org_code,
            "period_type": period.period_type,
            "period_start": period.start,
            "period_end": period.end,
            "period_label": period.label,
            "instrument": instrument,
            "measure": measure,
            "baselines": group.baselines,
            "pairs": n,
            "follow_up_completion_rate": group.baselines_followed_up / group.baselines if group.baselines else None,
        }
        if n >= min_pairs:
            summary = paired_summary(group.before, group.after)
            row.update(
                mean_baseline=summary.mean_baseline,
                mean_follow_up=summary.mean_follow_up,
                mean_change=summary.mean_change,
                ci_lower=summary.ci_lower,
                ci_upper=summary.ci_upper,
                t_test_p_value=summary.t_test_p_value,
                wilcoxon_p_value=summary.wilcoxon_p_value,
                cohens_dz=summary.cohens_dz,
                share_improved=group.improved / n,
                status="computed",
            )
        else:
            row.update(
                {name: None for name, _ in STATISTICS_COLUMNS if name not in row and name != "status"},
                status="too_few",
            )
        rows.append({name: row[name] for name, _ in STATISTICS_COLUMNS})
    return rows
