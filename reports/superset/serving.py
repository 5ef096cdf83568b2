"""The serving copy: a separate, read-only DuckDB file of disclosure-controlled marts for Superset.

Why a copy: DuckDB lets one process write a file, and any other connection, even read-only, blocks that
writer; while a writer holds the file, readers fail (STACK_NOTES.md). If Superset read the live
warehouse, a dashboard query could stall the monthly build, and the build would break dashboards. So
after each build the marts a dashboard needs are copied, with small-number disclosure control applied
(reports/disclosure.py: counts 1–7 suppressed, others rounded to 5, ratios from the protected figures,
statistics suppressed on too few people), into `$SPRX_OUTPUT/serving/sprx_serving.duckdb`. The file is
written under a temporary name and renamed over the old one in one step, so Superset sees the old copy
or the new one, never half of one. Superset registers it with `?access_mode=read_only`.

Every serving table carries `icb_code`, `pcn_code` and `financial_year`: the dashboard's native filters
(ICB, PCN, period) act on those columns in every chart. Counts of people are published as protected
values (null where suppressed) with a `<count>_suppressed` flag, never as a `*` in a numeric column.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from orchestration.months import financial_year_label
from orchestration.warehouse import read_connection
from reports.disclosure import DisclosureRule, Protected, protect_count, protect_ratio, protect_statistic

log = logging.getLogger(__name__)

SERVING_SCHEMA = "serving"
SERVING_FILE_NAME = "sprx_serving.duckdb"
ARROW_TYPES: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "DATE": pa.date32(),
    "BIGINT": pa.int64(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "TIMESTAMP": pa.timestamp("us"),
}

# Practice → PCN → ICB by month, from the practice rows of the monthly measures (the membership of the month).
ORG_CONTEXT = """
practice_months as (
    select org_code as practice_code, month_start, parent_pcn_code as pcn_code, parent_icb_code as icb_code
    from marts.referral_measures_monthly
    where org_type = 'practice'
),
pcn_icb as (
    select pcn_code, month_start, min(icb_code) as icb_code
    from practice_months
    where pcn_code is not null
    group by pcn_code, month_start
),
pcn_names as (
    select org_code as pcn_code, max(org_name) as pcn_name
    from marts.referral_measures_monthly
    where org_type = 'pcn'
    group by org_code
)
"""


def org_label(name: str | None, code: str | None) -> str | None:
    """A display name that stays unique when two organisations share a name: `NAME (CODE)`."""
    if code is None:
        return None
    return f"{name} ({code})" if name else code


def serving_path(output: Path) -> Path:
    """Where the serving copy lives: `$SPRX_OUTPUT/serving/sprx_serving.duckdb`."""
    return output / "serving" / SERVING_FILE_NAME


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str
    label: str = ""  # short heading for charts; the name in words when empty

    @property
    def heading(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()


@dataclass(frozen=True)
class ServingTable:
    """One published table: the warehouse query it comes from and how each row is protected."""

    name: str
    description: str
    requires: tuple[str, ...]  # warehouse tables ("schema.table") it reads; missing ones skip the table
    source_sql: str
    columns: tuple[Column, ...]
    protect: Callable[[Mapping[str, Any], DisclosureRule], dict[str, Any]]

    @property
    def qualified_name(self) -> str:
        return f"{SERVING_SCHEMA}.{self.name}"


def _count(name: str, value: int | None, rule: DisclosureRule) -> dict[str, Any]:
    """A protected count as two columns: the value (null when suppressed) and `<name>_suppressed`."""
    protected = protect_count(int(value or 0), rule)
    return {name: protected.value, f"{name}_suppressed": protected.suppressed}


def _value(protected: Protected) -> Any:
    return None if protected.suppressed else protected.value


def _ratio(numerator: int | None, denominator: int | None, scale: float, rule: DisclosureRule) -> Any:
    return _value(protect_ratio(int(numerator or 0), int(denominator or 0), scale=scale, places=1, rule=rule))


def _statistic(value: float | None, n: int | None, rule: DisclosureRule) -> Any:
    return _value(protect_statistic(None if value is None else float(value), int(n or 0), rule))


ORG_COLUMNS = (
    Column("icb_code", "VARCHAR", "ICB of the PCN (of the practice's PCN in the period).", "ICB"),
    Column("pcn_code", "VARCHAR", "ODS code of the PCN.", "PCN code"),
)
PCN_LABEL_COLUMN = Column("pcn_label", "VARCHAR", "PCN name and code, e.g. GREENSTEAD PCN (U12345).", "PCN")
PERIOD_COLUMN = Column("financial_year", "VARCHAR", "NHS financial year (April to March), e.g. 2025-26.", "Year")


def _protect_pcn_month(row: Mapping[str, Any], rule: DisclosureRule) -> dict[str, Any]:
    return {
        "icb_code": row["icb_code"],
        "pcn_code": row["pcn_code"],
        "pcn_name": row["pcn_name"],
        "pcn_label": org_label(row["pcn_name"], row["pcn_code"]),
        "month_start": row["month_start"],
        "financial_year": financial_year_label(row["month_start"]),
        **_count("registered_patients", row["registered_patients"], rule),
        **_count("referrals_received", row["referrals_received"], rule),
        "referrals_per_1000_patients": _ratio(row["referrals_received"], row["registered_patients"], 1000, rule),
        **_count("referrals_seen", row["referrals_seen"], rule),
        "median_days_to_first_contact": _statistic(row["median_days_to_first_contact"], row["referrals_seen"], rule),
        "p90_days_to_first_contact": _statistic(row["p90_days_to_first_contact"], row["referrals_seen"], rule),
    }


def _count_columns(name: str, description: str) -> tuple[Column, Column]:
    return (
        Column(name, "BIGINT", f"{description} Protected: null when 1–7 (suppressed), else rounded to 5."),
        Column(f"{name}_suppressed", "BOOLEAN", f"{name} was suppressed (1–7)."),
    )


REFERRALS_PCN_MONTHLY = ServingTable(
    name="referrals_pcn_monthly",
    description="Referrals, rate per 1,000 registered patients and days to first contact per PCN and month "
    "(marts.referral_measures_monthly), disclosure-controlled.",
    requires=("marts.referral_measures_monthly",),
    source_sql=f"""
        with {ORG_CONTEXT}
        select pcn_icb.icb_code, measures.org_code as pcn_code, measures.org_name as pcn_name, measures.month_start,
               measures.registered_patients, measures.referrals_received, measures.referrals_seen,
               measures.median_days_to_first_contact, measures.p90_days_to_first_contact
        from marts.referral_measures_monthly as measures
        left join pcn_icb on measures.org_code = pcn_icb.pcn_code and measures.month_start = pcn_icb.month_start
        where measures.org_type = 'pcn'
        order by pcn_code, month_start
    """,
    columns=(
        *ORG_COLUMNS,
        Column("pcn_name", "VARCHAR", "Name of the PCN."),
        PCN_LABEL_COLUMN,
        Column("month_start", "DATE", "First day of the month."),
        PERIOD_COLUMN,
        *_count_columns("registered_patients", "Patients registered at the PCN's practices."),
        *_count_columns("referrals_received", "Referrals received in the month."),
        Column(
            "referrals_per_1000_patients",
            "DOUBLE",
            "Referrals per 1,000 registered patients, from the protected figures (null where either is suppressed).",
        ),
        *_count_columns("referrals_seen", "Referrals first contacted by a link worker in the month."),
        Column("median_days_to_first_contact", "DOUBLE", "Median days from referral to first contact; null on ≤ 7."),
        Column("p90_days_to_first_contact", "DOUBLE", "90th centile of days to first contact; null on ≤ 7."),
    ),
    protect=_protect_pcn_month,
)


def _protect_practice_year(row: Mapping[str, Any], rule: DisclosureRule) -> dict[str, Any]:
    return {
        "icb_code": row["icb_code"],
        "pcn_code": row["pcn_code"],
        "practice_code": row["practice_code"],
        "practice_name": row["practice_name"],
        "practice_label": org_label(row["practice_name"], row["practice_code"]),
        "financial_year": row["financial_year"],
        "period_start": row["period_start"],
        "period_end": row["period_end"],
        "months_covered": row["months_covered"],
        **_count("registered_patients", row["registered_patients"], rule),
        **_count("referrals_received", row["referrals_received"], rule),
        "referrals_per_1000_patients": _ratio(row["referrals_received"], row["registered_patients"], 1000, rule),
    }


REFERRALS_PRACTICE_FINANCIAL_YEAR = ServingTable(
    name="referrals_practice_financial_year",
    description="Referrals and the rate per 1,000 registered patients per practice and financial year (to date) "
    "(marts.referral_measures_financial_year), disclosure-controlled; the practice's PCN and ICB at the period end.",
    requires=("marts.referral_measures_financial_year", "marts.referral_measures_monthly"),
    source_sql=f"""
        with {ORG_CONTEXT}
        select practice_months.icb_code, practice_months.pcn_code, years.org_code as practice_code,
               years.org_name as practice_name, years.financial_year, years.period_start, years.period_end,
               years.months_covered, years.registered_patients, years.referrals_received
        from marts.referral_measures_financial_year as years
        left join practice_months
            on years.org_code = practice_months.practice_code
            and date_trunc('month', years.period_end) = practice_months.month_start
        where years.org_type = 'practice'
        order by practice_code, period_start
    """,
    columns=(
        *ORG_COLUMNS,
        Column("practice_code", "VARCHAR", "ODS code of the GP practice."),
        Column("practice_name", "VARCHAR", "Name of the practice."),
        Column("practice_label", "VARCHAR", "Practice name and code (practice names are not unique).", "Practice"),
        PERIOD_COLUMN,
        Column("period_start", "DATE", "1 April of the financial year."),
        Column("period_end", "DATE", "Last day of the latest month covered."),
        Column("months_covered", "BIGINT", "Months of the year inside the reporting range."),
        *_count_columns("registered_patients", "Mean registered patients over the months covered."),
        *_count_columns("referrals_received", "Referrals received in the year to date."),
        Column(
            "referrals_per_1000_patients",
            "DOUBLE",
            "Referrals per 1,000 registered patients, from the protected figures (null where either is suppressed).",
        ),
    ),
    protect=_protect_practice_year,
)


def _protect_reason(row: Mapping[str, Any], rule: DisclosureRule) -> dict[str, Any]:
    return {
        "icb_code": row["icb_code"],
        "pcn_code": row["pcn_code"],
        "financial_year": financial_year_label(row["period_start"]),
        "period_start": row["period_start"],
        "referral_reason": row["referral_reason"],
        "referral_reason_name": row["referral_reason_name"],
        **_count("referrals_with_reason", row["referrals_with_reason"], rule),
        **_count("referrals_received", row["referrals_received"], rule),
        "percent_of_referrals": _ratio(row["referrals_with_reason"], row["referrals_received"], 100, rule),
    }


REFERRAL_REASONS_PCN_FINANCIAL_YEAR = ServingTable(
    name="referral_reasons_pcn_financial_year",
    description="Why people were referred: referrals giving each reason per PCN and financial year "
    "(marts.referral_reason_mix), disclosure-controlled. A referral can give several reasons.",
    requires=("marts.referral_reason_mix", "marts.referral_measures_monthly"),
    source_sql=f"""
        with {ORG_CONTEXT}
        select pcn_icb.icb_code, mix.org_code as pcn_code, mix.period_start, mix.referral_reason,
               mix.referral_reason_name, mix.referrals_with_reason, mix.referrals_received
        from marts.referral_reason_mix as mix
        left join pcn_icb
            on mix.org_code = pcn_icb.pcn_code and date_trunc('month', mix.period_end) = pcn_icb.month_start
        where mix.period_type = 'financial_year' and mix.org_type = 'pcn'
        order by pcn_code, period_start, referral_reason
    """,
    columns=(
        *ORG_COLUMNS,
        PERIOD_COLUMN,
        Column("period_start", "DATE", "1 April of the financial year."),
        Column("referral_reason", "VARCHAR", "Reason code."),
        Column("referral_reason_name", "VARCHAR", "Reason for referral.", "Reason"),
        *_count_columns("referrals_with_reason", "Referrals received in the year that give the reason."),
        *_count_columns("referrals_received", "All referrals received by the PCN in the year."),
        Column("percent_of_referrals", "DOUBLE", "Percentage of referrals giving the reason, from protected figures."),
    ),
    protect=_protect_reason,
)


def _protect_data_quality(row: Mapping[str, Any], rule: DisclosureRule) -> dict[str, Any]:
    return {
        "icb_code": row["icb_code"],
        "pcn_code": row["pcn_code"],
        "submitter_code": row["submitter_code"],
        "submitter_type": row["submitter_type"],
        "period": row["period"],
        "financial_year": financial_year_label(row["period"]),
        "rejection_percent": _ratio(row["rows_quarantined"], row["rows_received"], 100, rule),
        "data_quality_score": row["data_quality_score"],
        "validity_score": row["validity_score"],
        "completeness_score": row["completeness_score"],
        "timeliness_score": row["timeliness_score"],
        "concordance_score": row["concordance_score"],
    }


DATA_QUALITY_SUBMITTER_MONTHLY = ServingTable(
    name="data_quality_submitter_monthly",
    description="Data quality scores (0–100) per submitter and month (marts.data_quality_submitter_monthly). "
    "A practice has one row per month, under its PCN of the month; a link-worker provider has one row per "
    "month for each PCN it serves (ref.provider_pcns), so average scores rather than adding rows up.",
    requires=("marts.data_quality_submitter_monthly", "marts.referral_measures_monthly", "ref.provider_pcns"),
    source_sql=f"""
        with {ORG_CONTEXT}
        select coalesce(practice_months.icb_code, pcn_icb.icb_code) as icb_code,
               coalesce(practice_months.pcn_code, provider_pcns.pcn_code) as pcn_code,
               quality.submitter_code, quality.submitter_type, quality.period, quality.rows_received,
               quality.rows_quarantined, quality.data_quality_score, quality.validity_score,
               quality.completeness_score, quality.timeliness_score, quality.concordance_score
        from marts.data_quality_submitter_monthly as quality
        left join practice_months
            on quality.submitter_type = 'practice'
            and quality.submitter_code = practice_months.practice_code
            and quality.period = practice_months.month_start
        left join ref.provider_pcns as provider_pcns
            on quality.submitter_type = 'provider' and quality.submitter_code = provider_pcns.provider_code
        left join pcn_icb on provider_pcns.pcn_code = pcn_icb.pcn_code and quality.period = pcn_icb.month_start
        order by submitter_code, period, pcn_code
    """,
    columns=(
        *ORG_COLUMNS,
        Column("submitter_code", "VARCHAR", "ODS code of the practice, or the provider's code.", "Submitter"),
        Column("submitter_type", "VARCHAR", "practice or provider.", "Type"),
        Column("period", "DATE", "Reporting month (first day)."),
        PERIOD_COLUMN,
        Column(
            "rejection_percent",
            "DOUBLE",
            "Rows quarantined as a percentage of rows received, from protected "
            "figures (null where either is suppressed).",
        ),
        Column("data_quality_score", "DOUBLE", "The 0–100 data quality score."),
        Column("validity_score", "DOUBLE", "Validity component, 0–100."),
        Column("completeness_score", "DOUBLE", "Completeness component, 0–100."),
        Column("timeliness_score", "DOUBLE", "Timeliness component, 0–100."),
        Column("concordance_score", "DOUBLE", "Coding concordance component (practices), 0–100."),
    ),
    protect=_protect_data_quality,
)


def _protect_outcome(row: Mapping[str, Any], rule: DisclosureRule) -> dict[str, Any]:
    pairs = int(row["pairs"] or 0)
    improved = round(float(row["share_improved"]) * pairs) if row["share_improved"] is not None else 0
    return {
        "icb_code": row["icb_code"],
        "pcn_code": row["pcn_code"],
        "pcn_label": org_label(row["pcn_name"], row["pcn_code"]),
        "financial_year": row["financial_year"],
        "period_start": row["period_start"],
        "instrument": row["instrument"],
        "measure": row["measure"],
        **_count("pairs", pairs, rule),
        "mean_change": _statistic(row["mean_change"], pairs, rule),
        "ci_lower": _statistic(row["ci_lower"], pairs, rule),
        "ci_upper": _statistic(row["ci_upper"], pairs, rule),
        "percent_improved": _ratio(improved, pairs, 100, rule) if row["share_improved"] is not None else None,
        "status": row["status"],
    }


WELLBEING_CHANGE_PCN_FINANCIAL_YEAR = ServingTable(
    name="wellbeing_change_pcn_financial_year",
    description="Change in wellbeing between baseline and follow-up per PCN, financial year (of the follow-up) "
    "and instrument measure (marts.outcome_statistics), disclosure-controlled: statistics on 7 or fewer pairs "
    "are suppressed.",
    requires=("marts.outcome_statistics", "marts.referral_measures_monthly"),
    source_sql=f"""
        with {ORG_CONTEXT}
        select pcn_icb.icb_code, statistics.org_code as pcn_code, pcn_names.pcn_name,
               statistics.period_label as financial_year,
               statistics.period_start, statistics.instrument, statistics.measure, statistics.pairs,
               statistics.mean_change, statistics.ci_lower, statistics.ci_upper, statistics.share_improved,
               statistics.status
        from marts.outcome_statistics as statistics
        left join pcn_icb
            on statistics.org_code = pcn_icb.pcn_code
            and date_trunc('month', statistics.period_end) = pcn_icb.month_start
        left join pcn_names on statistics.org_code = pcn_names.pcn_code
        where statistics.org_level = 'pcn' and statistics.period_type = 'financial_year'
        order by pcn_code, period_start, instrument, measure
    """,
    columns=(
        *ORG_COLUMNS,
        PCN_LABEL_COLUMN,
        PERIOD_COLUMN,
        Column("period_start", "DATE", "1 April of the financial year."),
        Column("instrument", "VARCHAR", "ONS4, SWEMWBS, UCLA3 or EQ5D5L."),
        Column("measure", "VARCHAR", "The scored measure (e.g. swemwbs_metric, ons4_life_satisfaction)."),
        *_count_columns("pairs", "Baseline/follow-up pairs."),
        Column("mean_change", "DOUBLE", "Mean change, follow-up − baseline; null on ≤ 7 pairs."),
        Column("ci_lower", "DOUBLE", "Lower 95% confidence limit of the mean change; null on ≤ 7 pairs."),
        Column("ci_upper", "DOUBLE", "Upper 95% confidence limit of the mean change; null on ≤ 7 pairs."),
        Column(
            "percent_improved",
            "DOUBLE",
            "Percentage of pairs improved by at least the minimal important difference, from protected figures.",
        ),
        Column("status", "VARCHAR", "computed, or too_few pairs for the statistics."),
    ),
    protect=_protect_outcome,
)


def _protect_sroi(row: Mapping[str, Any], rule: DisclosureRule) -> dict[str, Any]:
    published = {column: row[column] for column in row if column != "pcn_name"}
    return {**published, "pcn_label": org_label(row["pcn_name"], row["pcn_code"])}


SROI_PCN_FINANCIAL_YEAR = ServingTable(
    name="sroi_pcn_financial_year",
    description="Social return on investment per PCN, financial year and sensitivity scenario "
    "(marts.sroi_pcn_financial_year): money values, not counts of people, published as they are.",
    requires=("marts.sroi_pcn_financial_year", "marts.referral_measures_monthly"),
    source_sql=f"""
        with {ORG_CONTEXT}
        select sroi.icb_code, sroi.pcn_code, sroi.financial_year, sroi.scenario, sroi.input_value,
               sroi.present_value, sroi.net_present_value, sroi.sroi_ratio, sroi.assumption_version,
               pcn_names.pcn_name
        from marts.sroi_pcn_financial_year as sroi
        left join pcn_names on sroi.pcn_code = pcn_names.pcn_code
        order by sroi.pcn_code, sroi.financial_year, sroi.scenario
    """,
    columns=(
        *ORG_COLUMNS,
        PERIOD_COLUMN,
        Column("scenario", "VARCHAR", "low, central or high sensitivity scenario."),
        Column("input_value", "DOUBLE", "Inputs (provider costs), £."),
        Column("present_value", "DOUBLE", "Present value of the valued outcomes, £."),
        Column("net_present_value", "DOUBLE", "Present value − inputs, £."),
        Column("sroi_ratio", "DOUBLE", "Present value ÷ inputs (£ of social value per £1)."),
        Column("assumption_version", "VARCHAR", "Version of the SROI assumptions seed used."),
        PCN_LABEL_COLUMN,
    ),
    protect=_protect_sroi,
)

SERVING_TABLES: tuple[ServingTable, ...] = (
    REFERRALS_PCN_MONTHLY,
    REFERRALS_PRACTICE_FINANCIAL_YEAR,
    REFERRAL_REASONS_PCN_FINANCIAL_YEAR,
    DATA_QUALITY_SUBMITTER_MONTHLY,
    WELLBEING_CHANGE_PCN_FINANCIAL_YEAR,
    SROI_PCN_FINANCIAL_YEAR,
)


@dataclass
class ServingCopy:
    """What a publish of the serving copy wrote."""

    path: Path
    row_counts: dict[str, int] = field(default_factory=dict)
    missing: dict[str, list[str]] = field(default_factory=dict)  # table → warehouse tables it lacked
    rule: DisclosureRule = field(default_factory=DisclosureRule)

    @property
    def tables(self) -> list[str]:
        return list(self.row_counts)


def _existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {
        f"{schema}.{name}"
        for schema, name in con.execute("SELECT table_schema, table_name FROM information_schema.tables").fetchall()
    }


def _read_rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [description[0] for description in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


NUMBER_TYPES: dict[str, Callable[[Any], Any]] = {"DOUBLE": float, "BIGINT": int}


def _arrow_table(table: ServingTable, rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    """The published rows as Arrow, typed as declared (DuckDB hands DECIMAL columns over as Python Decimals)."""
    schema = pa.schema([(column.name, ARROW_TYPES[column.type]) for column in table.columns])
    expected = [column.name for column in table.columns]
    converters = {column.name: NUMBER_TYPES[column.type] for column in table.columns if column.type in NUMBER_TYPES}
    typed = []
    for number, row in enumerate(rows):
        if list(row) != expected:
            raise ValueError(f"{table.name}: published row {number} has columns {list(row)}, expected {expected}")
        typed.append(
            {
                name: converters[name](value) if name in converters and value is not None else value
                for name, value in row.items()
            }
        )
    return pa.Table.from_pylist(typed, schema=schema)


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _write_table(con: duckdb.DuckDBPyConnection, table: ServingTable, rows: Sequence[Mapping[str, Any]]) -> None:
    columns = ", ".join(f"{column.name} {column.type}" for column in table.columns)
    con.execute(f"CREATE TABLE {table.qualified_name} ({columns})")
    con.register("published_rows", _arrow_table(table, rows))
    try:
        con.execute(f"INSERT INTO {table.qualified_name} SELECT * FROM published_rows")
    finally:
        con.unregister("published_rows")
    con.execute(f"COMMENT ON TABLE {table.qualified_name} IS {_sql_text(table.description)}")
    for column in table.columns:
        con.execute(f"COMMENT ON COLUMN {table.qualified_name}.{column.name} IS {_sql_text(column.description)}")


def publish_serving_copy(
    warehouse: Path,
    destination: Path,
    *,
    rule: DisclosureRule | None = None,
    tables: Sequence[ServingTable] = SERVING_TABLES,
) -> ServingCopy:
    """Read the marts (one short read-only connection), protect them, write the copy and swap it in atomically.

    A serving table whose warehouse tables do not exist yet (e.g. the outcome marts before their first build)
    is left out and reported in `missing`, so the rest is still published.
    """
    rule = rule or DisclosureRule.from_environment()
    result = ServingCopy(path=destination, rule=rule)
    published: dict[ServingTable, list[dict[str, Any]]] = {}
    with read_connection(warehouse) as con:
        existing = _existing_tables(con)
        for table in tables:
            absent = [name for name in table.requires if name not in existing]
            if absent:
                result.missing[table.name] = absent
                log.warning("serving copy: %s left out, the warehouse has no %s yet", table.name, ", ".join(absent))
                continue
            published[table] = [table.protect(row, rule) for row in _read_rows(con, table.source_sql)]

    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = destination.with_name(f".{destination.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    try:
        with duckdb.connect(str(temporary)) as con:
            con.execute(f"CREATE SCHEMA {SERVING_SCHEMA}")
            for table, rows in published.items():
                _write_table(con, table, rows)
                result.row_counts[table.name] = len(rows)
            _write_about(con, warehouse, result)
            con.execute("CHECKPOINT")
        temporary.chmod(0o444)  # a read-only copy: nothing should write to it after publication
        os.replace(temporary, destination)
    finally:
        temporary.unlink(missing_ok=True)
        temporary.with_name(temporary.name + ".wal").unlink(missing_ok=True)
    return result


def _write_about(con: duckdb.DuckDBPyConnection, warehouse: Path, result: ServingCopy) -> None:
    """`serving.about`: when and from what the copy was made, and the disclosure rule applied."""
    rule = result.rule
    facts = {
        "published_at_utc": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "source_warehouse_file": warehouse.name,
        "disclosure_rule": (
            f"counts 1–{rule.suppress_up_to} suppressed (null, with a _suppressed flag), others rounded to the "
            f"nearest {rule.rounding_base}; rates and percentages from the protected figures; means and "
            f"statistics suppressed below n = {rule.statistic_minimum_n}"
        ),
        "tables": ", ".join(result.row_counts),
        "tables_not_yet_available": ", ".join(result.missing) or "none",
    }
    con.execute(f"CREATE TABLE {SERVING_SCHEMA}.about (fact VARCHAR, value VARCHAR)")
    con.executemany(f"INSERT INTO {SERVING_SCHEMA}.about VALUES (?, ?)", list(facts.items()))
