"""Read one month of the return from the marts, as the catalogue says, with why any value is empty.

Every value comes from one mart column (catalogue `source`), read for the month's PCN, ICB and
England rows; nothing is recomputed here. A PCN with no row in a source mart, or whose source row
says the data was not received (no provider return, no practice records), gets an empty value
flagged as missing, which the completeness check turns into a blocking error.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import duckdb

from orchestration.months import month_end
from reports.nhse_return.catalogue import Catalogue, Measure, Source

NATIONAL_CODE = "ENG"
MISSING = "missing"
ORG_ORDER = {"england": 0, "icb": 1, "pcn": 2}


class ReturnSourceError(RuntimeError):
    """A mart the catalogue names is not in the warehouse, or lacks a column."""


@dataclass
class Cell:
    """One measure of one organisation: the mart value (None when empty) and flags saying why."""

    value: int | float | Decimal | None
    flags: list[str] = field(default_factory=list)

    @property
    def missing(self) -> bool:
        return MISSING in self.flags


@dataclass
class OrgRow:
    org_type: str
    org_code: str
    org_name: str | None
    parent_icb_code: str | None
    cells: dict[str, Cell] = field(default_factory=dict)

    @property
    def parent_national_code(self) -> str | None:
        return None if self.org_type == "england" else NATIONAL_CODE

    def value(self, measure_id: str) -> int | float | Decimal | None:
        return self.cells[measure_id].value

    @property
    def sort_key(self) -> tuple[int, str]:
        return ORG_ORDER[self.org_type], self.org_code


@dataclass
class MonthData:
    month: date
    orgs: list[OrgRow]

    def of_type(self, org_type: str) -> list[OrgRow]:
        return [org for org in self.orgs if org.org_type == org_type]

    def find(self, org_type: str, org_code: str) -> OrgRow | None:
        return next((org for org in self.orgs if org.org_type == org_type and org.org_code == org_code), None)


def existing_relations(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("SELECT table_schema || '.' || table_name FROM information_schema.tables").fetchall()
    return {name for (name,) in rows}


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> set[str]:
    schema, name = relation.split(".")
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?",
        [schema, name],
    ).fetchall()
    return {column for (column,) in rows}


def _query_source(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    filters: dict[str, Any],
    columns: set[str],
    month: date,
    org_types: tuple[str, ...],
) -> dict[tuple[str, str], dict[str, Any]]:
    """The source's rows for the month, keyed by (org type, org code)."""
    available = _columns(con, source.mart)
    wanted = sorted(columns | {source.org_type_column, source.org_code_column})
    absent = [column for column in [*wanted, source.period_column, *filters] if column not in available]
    if absent:
        raise ReturnSourceError(f"{source.mart} has no column(s) {', '.join(absent)} (named in the catalogue)")
    anchor = month if source.period_is == "month_start" else month_end(month)
    all_filters = {**source.filters, **filters}
    where = [f"{source.period_column} = ?", f"{source.org_type_column} IN ({', '.join('?' * len(org_types))})"]
    where += [f"{column} = ?" for column in all_filters]
    sql = f"SELECT {', '.join(wanted)} FROM {source.mart} WHERE {' AND '.join(where)}"
    cursor = con.execute(sql, [anchor, *org_types, *all_filters.values()])
    names = [description[0] for description in cursor.description]
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for values in cursor.fetchall():
        row = dict(zip(names, values, strict=True))
        key = (row[source.org_type_column], row[source.org_code_column])
        if key in rows:
            raise ReturnSourceError(
                f"{source.mart} has more than one row for {key[0]} {key[1]} in {month:%Y-%m} "
                f"(filters {all_filters}): the catalogue's filters do not pick one row"
            )
        rows[key] = row
    return rows


def _condition_columns(source: Source, measure: Measure) -> set[str]:
    columns = {measure.source_column}
    for condition in (source.received_when, source.partial_when, measure.null_allowed):
        if condition is not None:
            columns.add(condition.column)
            if condition.below_column:
                columns.add(condition.below_column)
    return columns


def _cell(source: Source, measure: Measure, row: dict[str, Any] | None) -> Cell:
    if row is None:
        reason = source.received_when.flag if source.received_when else source.absent_flag
        return Cell(None, [MISSING, reason])
    if source.received_when is not None and not source.received_when.holds(row):
        return Cell(None, [MISSING, source.received_when.flag])
    flags = []
    if source.partial_when is not None and source.partial_when.holds(row):
        flags.append(source.partial_when.flag)
    value = row[measure.source_column]
    if value is None:
        if measure.null_allowed is not None and measure.null_allowed.holds(row):
            flags.append(measure.null_allowed.flag)
        else:
            flags = [MISSING, "empty_in_source", *flags]
    return Cell(value, flags)


def read_month(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, month: date) -> MonthData:
    """Every catalogue measure for every organisation of the month (PCNs in scope, their ICBs, England)."""
    month = month.replace(day=1)
    relations = existing_relations(con)
    absent = [mart for mart in catalogue.marts_read() if mart not in relations]
    if absent:
        raise ReturnSourceError(
            f"the warehouse has no {', '.join(absent)}: build the marts (sprx run) before the return"
        )
    # one query per source mart and filter set
    groups: dict[tuple[str, tuple], list[Measure]] = defaultdict(list)
    for measure in catalogue.measures:
        groups[(measure.source_mart, tuple(sorted(measure.source_filters.items())))].append(measure)
    results: dict[tuple[str, tuple], dict[tuple[str, str], dict[str, Any]]] = {}
    for (mart, filter_items), measures in groups.items():
        source = catalogue.sources[mart]
        columns = set().union(*(_condition_columns(source, measure) for measure in measures))
        results[(mart, filter_items)] = _query_source(
            con, source, dict(filter_items), columns, month, catalogue.org_types
        )

    hierarchy_source = catalogue.sources[catalogue.hierarchy_mart]
    hierarchy = _query_source(con, hierarchy_source, {}, {"org_name", "parent_icb_code"}, month, catalogue.org_types)
    keys = set(hierarchy) | {key for rows in results.values() for key in rows}
    orgs = []
    for org_type, org_code in keys:
        info = hierarchy.get((org_type, org_code), {})
        org = OrgRow(org_type, org_code, info.get("org_name"), info.get("parent_icb_code"))
        for (mart, filter_items), measures in groups.items():
            row = results[(mart, filter_items)].get((org_type, org_code))
            for measure in measures:
                org.cells[measure.id] = _cell(catalogue.sources[mart], measure, row)
        orgs.append(org)
    orgs.sort(key=lambda org: org.sort_key)
    ordered = {measure.id: None for measure in catalogue.measures}
    for org in orgs:
        org.cells = {measure_id: org.cells[measure_id] for measure_id in ordered}
    return MonthData(month=month, orgs=orgs)
