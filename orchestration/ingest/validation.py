"""Row validation generated from a contract and run set-based in DuckDB.

Each rule becomes a SQL expression that yields `column<US>REASON<US>message` for a failing row or
NULL; a row's errors are the non-null ones, in column order. Values are never echoed for NHS
numbers. The SQL is DuckDB's own: ingestion runs on the embedded engine by design (the dbt
models downstream are the part kept portable).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from extracts.contract import Column, Contract

SEPARATOR = "\x1f"
_REFERENCE_TABLES = {
    "practice": ("ref.practices", "practice_code", "UNKNOWN_PRACTICE", "a known GP practice (ODS epraccur)"),
    "provider": ("ref.providers", "provider_code", "UNKNOWN_PROVIDER", "a known link-worker provider"),
    "pcn": ("ref.pcns", "pcn_code", "UNKNOWN_PCN", "a known PCN (ODS PCN membership)"),
}


# Per-file context travels as columns of the batch, so one statement validates many files at once.
SUBMITTER = "batch_submitter"
PERIOD_START = "batch_period_start"
PERIOD_END = "batch_period_end"
UNIT = "batch_unit"
PERIOD_TEXT = f"strftime({PERIOD_START}, '%Y-%m')"


@dataclass(frozen=True)
class BatchContext:
    """What every batch is checked against besides its own columns: the load date."""

    today: date


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# What a submitted value is trimmed of: white space, no-break spaces and stray byte-order marks.
TRIMMED = sql_literal(" \t\r\n\u00a0\ufeff")


def normalised_expression(column: Column) -> str:
    """The trimmed, case-normalised value as it will be checked and stored; empty text is NULL."""
    name = f"nullif(trim({column.name}, {TRIMMED}), '')"
    if column.type == "nhs_number":
        return f"nullif(replace({name}, ' ', ''), '')"
    if column.type == "month":
        # an XLSX date cell for a month arrives as YYYY-MM-01
        return f"CASE WHEN regexp_full_match({name}, '[0-9]{{4}}-[0-9]{{2}}-01') THEN left({name}, 7) ELSE {name} END"
    if column.multi:
        sep = sql_literal(column.multi)
        element = "lower(trim(x))" if column.normalised_case == "lower" else "upper(trim(x))"
        return f"array_to_string(list_transform(string_split({name}, {sep}), lambda x: {element}), {sep})"
    if column.normalised_case == "upper":
        return f"upper({name})"
    if column.normalised_case == "lower":
        return f"lower({name})"
    return name


def _error(column: str, reason: str, condition: str, message_sql: str) -> str:
    prefix = sql_literal(f"{column}{SEPARATOR}{reason}{SEPARATOR}")
    return f"CASE WHEN {condition} THEN {prefix} || {message_sql} END"


def _shown(name: str) -> str:
    """The offending value, quoted and truncated, for a message."""
    return f"'''' || left({name}, 40) || ''''"


def nhs_number_is_valid(name: str) -> str:
    """SQL: the column holds 10 digits whose last is the modulus 11 check of the first nine."""
    digits = " + ".join(f"TRY_CAST(substr({name}, {i}, 1) AS INTEGER) * {11 - i}" for i in range(1, 10))
    # CASE, not AND: DuckDB evaluates both sides of AND, so guard the arithmetic explicitly
    return (
        f"(CASE WHEN regexp_full_match({name}, '[0-9]{{10}}') "
        f"THEN (11 - ({digits}) % 11) % 11 = TRY_CAST(substr({name}, 10, 1) AS INTEGER) ELSE false END)"
    )


def column_checks(column: Column, context: BatchContext, submitter_column: str) -> list[str]:
    name = column.name
    present = f"{name} IS NOT NULL"
    checks: list[str] = []
    if column.required:
        checks.append(_error(name, "MISSING_REQUIRED", f"{name} IS NULL", sql_literal("a value is required")))
    if column.max_length:
        checks.append(
            _error(
                name,
                "TOO_LONG",
                f"{present} AND length({name}) > {column.max_length}",
                sql_literal(f"longer than {column.max_length} characters"),
            )
        )
    if column.type == "nhs_number":
        checks.append(
            _error(
                name,
                "INVALID_NHS_NUMBER",
                f"{present} AND NOT {nhs_number_is_valid(name)}",
                sql_literal("not a valid NHS number (10 digits, modulus 11 check digit)"),
            )
        )
    if column.type == "integer":
        checks.append(
            _error(
                name,
                "BAD_TYPE",
                f"{present} AND NOT regexp_full_match({name}, '-?[0-9]{{1,9}}')",
                _shown(name) + " || ' is not a whole number'",
            )
        )
    if column.type == "decimal":
        checks.append(
            _error(
                name,
                "BAD_TYPE",
                f"{present} AND NOT regexp_full_match({name}, '-?[0-9]{{1,12}}(\\.[0-9]{{1,2}})?')",
                _shown(name) + " || ' is not an amount like 1234.50 (no commas or £)'",
            )
        )
    if column.type in {"integer", "decimal"} and (column.min is not None or column.max is not None):
        number = f"TRY_CAST({name} AS DOUBLE)"
        bounds = []
        if column.min is not None:
            bounds.append(f"{number} < {column.min}")
        if column.max is not None:
            bounds.append(f"{number} > {column.max}")
        checks.append(
            _error(
                name,
                "OUT_OF_RANGE",
                f"{present} AND ({' OR '.join(bounds)})",
                _shown(name) + f" || ' is outside {column.min:g}–{column.max:g}'",
            )
        )
    if column.type == "date":
        as_date = f"TRY_CAST({name} AS DATE)"
        is_iso = f"regexp_full_match({name}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}')"
        checks.append(
            _error(
                name,
                "BAD_DATE",
                f"{present} AND (NOT {is_iso} OR {as_date} IS NULL)",
                _shown(name) + " || ' is not a date YYYY-MM-DD'",
            )
        )
        good = f"{present} AND {is_iso} AND {as_date} IS NOT NULL"
        checks.append(
            _error(
                name,
                "FUTURE_DATE",
                f"{good} AND {as_date} > DATE '{context.today}'",
                _shown(name) + f" || ' is after today ({context.today})'",
            )
        )
        not_future = f"{as_date} <= DATE '{context.today}'"
        if column.date_rule == "in_period":
            checks.append(
                _error(
                    name,
                    "DATE_OUTSIDE_PERIOD",
                    f"{good} AND {not_future} AND ({as_date} < {PERIOD_START} OR {as_date} > {PERIOD_END})",
                    _shown(name) + f" || ' is outside the reporting month ' || {PERIOD_TEXT}",
                )
            )
        elif column.date_rule == "not_after_period":
            checks.append(
                _error(
                    name,
                    "DATE_OUTSIDE_PERIOD",
                    f"{good} AND {not_future} AND {as_date} > {PERIOD_END}",
                    _shown(name) + f" || ' is after the reporting month ' || {PERIOD_TEXT}",
                )
            )
    if column.type == "month":
        checks.append(
            _error(
                name,
                "BAD_DATE",
                f"{present} AND TRY_CAST({name} || '-01' AS DATE) IS NULL",
                _shown(name) + " || ' is not a month YYYY-MM'",
            )
        )
        if column.date_rule == "in_period":
            checks.append(
                _error(
                    name,
                    "DATE_OUTSIDE_PERIOD",
                    f"{present} AND TRY_CAST({name} || '-01' AS DATE) <> {PERIOD_START}",
                    _shown(name) + f" || ' is not the reporting month ' || {PERIOD_TEXT}",
                )
            )
    if column.pattern:
        pattern = sql_literal(column.pattern.removeprefix("^").removesuffix("$"))
        checks.append(
            _error(
                name,
                "PATTERN_MISMATCH",
                f"{present} AND NOT regexp_full_match({name}, {pattern})",
                _shown(name) + f" || ' does not match {column.pattern}'",
            )
        )
    if column.allowed and column.multi:
        values = ", ".join(sql_literal(v) for v in column.allowed)
        separator = sql_literal(column.multi)
        bad = f"len(list_filter(string_split({name}, {separator}), lambda x: x NOT IN ({values}))) > 0"
        checks.append(
            _error(
                name,
                "UNKNOWN_CODE",
                f"{present} AND {bad}",
                _shown(name) + f" || ' has a value not in: {', '.join(column.allowed)}'",
            )
        )
    elif column.allowed:
        values = ", ".join(sql_literal(v) for v in column.allowed)
        checks.append(
            _error(
                name,
                "UNKNOWN_CODE",
                f"{present} AND {name} NOT IN ({values})",
                _shown(name) + f" || ' is not one of: {', '.join(column.allowed)}'",
            )
        )
    if column.type == "snomed":
        checks.append(
            _error(
                name,
                "INVALID_SNOMED",
                f"{present} AND {name} IN (SELECT code FROM sctid_check WHERE NOT valid)",
                _shown(name) + " || ' is not a SNOMED CT identifier (check digit fails)'",
            )
        )
    if column.references == "snomed_codelist":
        checks.append(
            _error(
                name,
                "NOT_IN_CODELIST",
                f"{present} AND {name} NOT IN (SELECT code FROM ref.snomed_codelist) "
                f"AND {name} IN (SELECT code FROM sctid_check WHERE valid)",
                _shown(name) + " || ' is not in the social prescribing codelist'",
            )
        )
    elif column.references:
        table, key, reason, what = _REFERENCE_TABLES[column.references]
        checks.append(
            _error(
                name,
                reason,
                f"{present} AND {name} NOT IN (SELECT {key} FROM {table})",
                _shown(name) + f" || ' is not {what}'",
            )
        )
    if name == submitter_column:
        checks.append(
            _error(
                name,
                "SUBMITTER_MISMATCH",
                f"{present} AND {name} <> {SUBMITTER}",
                _shown(name) + f" || ' is not the submitter ' || {SUBMITTER} || ' named in the file name'",
            )
        )
    return checks


def row_rule_checks(contract: Contract) -> list[str]:
    checks: list[str] = []
    for rule in contract.rules:
        kind = rule["kind"]
        if kind == "not_before":
            column, other = rule["column"], rule["other"]
            checks.append(
                _error(
                    column,
                    "DATE_ORDER",
                    f"TRY_CAST({column} AS DATE) < TRY_CAST({other} AS DATE)",
                    _shown(column) + f" || ' is before {other} ' || {_shown(other)}",
                )
            )
        elif kind == "required_with":
            column, other = rule["column"], rule["other"]
            checks.append(
                _error(
                    column,
                    "MISSING_REQUIRED",
                    f"{other} IS NOT NULL AND {column} IS NULL",
                    sql_literal(f"a value is required when {other} is given"),
                )
            )
        elif kind == "instrument_items":
            for instrument in contract.instruments.values():
                is_it = f"instrument = {sql_literal(instrument.name)}"
                for item in range(1, 8):
                    column = f"item_{item}"
                    if item > instrument.items:
                        checks.append(
                            _error(
                                column,
                                "ITEM_NOT_IN_INSTRUMENT",
                                f"{is_it} AND {column} IS NOT NULL",
                                sql_literal(
                                    f"{instrument.name} has {instrument.items} items; item {item} must be empty"
                                ),
                            )
                        )
                    else:
                        score = f"TRY_CAST({column} AS INTEGER)"
                        checks.append(
                            _error(
                                column,
                                "OUT_OF_RANGE_SCORE",
                                f"{is_it} AND {score} IS NOT NULL "
                                f"AND ({score} < {instrument.min} OR {score} > {instrument.max})",
                                _shown(column)
                                + f" || ' is outside {instrument.name} item range {instrument.min}–{instrument.max}'",
                            )
                        )
                if not instrument.vas:
                    checks.append(
                        _error(
                            "eq5d_vas",
                            "ITEM_NOT_IN_INSTRUMENT",
                            f"{is_it} AND eq5d_vas IS NOT NULL",
                            sql_literal(f"eq5d_vas is for EQ5D5L only, not {instrument.name}"),
                        )
                    )
    return checks


def key_check(contract: Contract) -> str | None:
    if not contract.key:
        return None
    key_list = ", ".join(contract.key)
    return _error(
        contract.key[0],
        "DUPLICATE_KEY",
        "duplicate_rank > 1",
        sql_literal(f"another row of this file has the same {key_list}"),
    )


def validation_sql(contract: Contract, context: BatchContext, source: str) -> str:
    """SELECT of the normalised batch with `errors`: a list of `column<US>REASON<US>message`."""
    normalised = ",\n  ".join(f"{normalised_expression(c)} AS {c.name}" for c in contract.columns)
    checks = [chk for column in contract.columns for chk in column_checks(column, context, contract.submitter_column)]
    checks += row_rule_checks(contract)
    duplicate = key_check(contract)
    if duplicate:
        checks.append(duplicate)
    partition = ", ".join([UNIT, *contract.key]) if contract.key else f"{UNIT}, record_number"
    key_present = " AND ".join(f"{k} IS NOT NULL" for k in contract.key) or "true"
    return f"""
WITH normalised AS (
  SELECT {UNIT}, {SUBMITTER}, {PERIOD_START}, {PERIOD_END}, record_number, line_number,
  {normalised}
  FROM {source}
), ranked AS (
  SELECT *, CASE WHEN {key_present}
    THEN row_number() OVER (PARTITION BY {partition} ORDER BY record_number) ELSE 1 END AS duplicate_rank
  FROM normalised
)
SELECT * EXCLUDE (duplicate_rank, {SUBMITTER}, {PERIOD_START}, {PERIOD_END}),
  list_filter([
    {("," + chr(10) + "    ").join(checks)}
  ], lambda x: x IS NOT NULL) AS errors
FROM ranked
"""
