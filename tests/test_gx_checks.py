"""GX data-quality checks: suites from contracts, monthly validation, dq_results, Data Docs, Dagster checks.

A tiny warehouse is built once per session by SQL (meta.files rows plus raw rows derived from the
contracts' examples); validations are computed once per session, since importing GX costs seconds.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

from extracts.contract import load_contracts
from orchestration.checks.gx_suites import (
    PSEUDONYM_REGEX,
    ExpectationSpec,
    TableValidation,
    build_suite,
    current_rows,
    current_rows_sql,
    run_suite,
    suite_specs,
    validate_period,
    with_categorical_text,
    with_vectorised_dtypes,
)
from orchestration.ingest.schema import ensure_ingestion_schema, raw_column_name

OCT, SEP, AUG, JUL = date(2026, 10, 1), date(2026, 9, 1), date(2026, 8, 1), date(2026, 7, 1)
NHS_NUMBER = "9990000018"
PROJECT_ROOT = Path(__file__).resolve().parents[1]


# ---- building the warehouse ------------------------------------------------------------------------


def pseudonym(i: int) -> str:
    return hashlib.sha256(f"person-{i}".encode()).hexdigest()


def good_row(table: str, period: date, i: int, submitter: str) -> dict[str, Any]:
    """A valid row from the contract's examples, moved into the reporting month."""
    contract = load_contracts()[table]
    row: dict[str, Any] = {}
    for column in contract.columns:
        name = raw_column_name(column)
        example = column.example or None
        if column.type == "nhs_number":
            value: Any = pseudonym(i)
        elif column.type == "month":
            value = period
        elif column.type == "date" and example:
            value = (
                period + timedelta(days=i % 28)
                if column.date_rule == "in_period"
                else (period if column.date_rule == "not_after_period" else date.fromisoformat(example))
            )
        elif column.type in {"integer", "decimal"} and example:
            value = float(example) if column.type == "decimal" else int(example)
        else:
            value = example
        row[name] = value
    row[contract.submitter_column] = submitter
    if "referral_id" in row:
        row["referral_id"] = f"R{period:%Y%m}{i:05d}"
    return row


def items(instrument_items: list[int | None]) -> dict[str, int | None]:
    return {f"item_{n}": (instrument_items[n - 1] if n <= len(instrument_items) else None) for n in range(1, 8)}


class Warehouse:
    """Inserts meta.files and raw rows the way ingestion leaves them."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.file_id = 0

    def file(
        self, table: str, submitter: str, period: date, rows: list[dict[str, Any]], status: str = "loaded"
    ) -> None:
        self.file_id += 1
        self.con.execute(
            "INSERT INTO meta.files (file_id, file_name, sha256, size_bytes, table_name, submitter_code, period, "
            "version, status, rows_received, rows_loaded, rows_quarantined, received_at, loaded_at) "
            "VALUES (?, ?, ?, 1, ?, ?, ?, 1, ?, ?, ?, 0, ?, ?)",
            [
                self.file_id,
                f"{table}_{submitter}_{period:%Y%m}.csv",
                f"sha{self.file_id}",
                table,
                submitter,
                period,
                status,
                len(rows),
                len(rows),
                datetime(2026, 11, 1),
                datetime(2026, 11, 1),
            ],
        )
        columns = ["file_id", "record_number", *rows[0]]
        self.con.executemany(
            f"INSERT INTO raw.{table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
            [[self.file_id, n, *row.values()] for n, row in enumerate(rows, start=1)],
        )

    def rows(
        self, table: str, period: date, submitter: str, count: int, start: int = 0, **overrides: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """`count` good rows; overrides maps a row index (as `r<index>`) to the values to change."""
        rows = [good_row(table, period, start + i, submitter) for i in range(count)]
        for key, values in overrides.items():
            rows[int(key[1:])].update(values)
        return rows


def build_warehouse(path: Path) -> None:
    con = duckdb.connect(str(path))
    for schema in ("meta", "raw", "quarantine", "ref"):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    ensure_ingestion_schema(con)
    w = Warehouse(con)
    contacts = "provider_contacts"
    w.file(contacts, "NLW01", JUL, w.rows(contacts, JUL, "NLW01", 100))
    w.file(contacts, "NLW01", AUG, w.rows(contacts, AUG, "NLW01", 100, r3={"duration_minutes": 600}))
    # September: a superseded first version with a bad code, then the loaded clean version
    w.file(contacts, "NLW01", SEP, w.rows(contacts, SEP, "NLW01", 100, r0={"mode": "carrier_pigeon"}), "superseded")
    w.file(contacts, "NLW01", SEP, w.rows(contacts, SEP, "NLW01", 100))
    w.file(contacts, "NLW02", SEP, w.rows(contacts, SEP, "NLW02", 50))
    w.file(contacts, "NLW01", OCT, w.rows(contacts, OCT, "NLW01", 5))  # 100, 100, 100 then 5
    w.file(contacts, "NLW02", OCT, w.rows(contacts, OCT, "NLW02", 20))  # one previous month: skipped

    appointments = "practice_appointments"
    w.file(
        appointments,
        "A81001",
        OCT,
        w.rows(
            appointments,
            OCT,
            "A81001",
            10,
            r1={"staff_role": "dentist"},
            r2={"status": None},
            r3={"appointment_date": date(2026, 9, 30)},
            r4={"person_id": NHS_NUMBER},
        ),
    )
    w.file(appointments, "A81002", OCT, w.rows(appointments, OCT, "A81002", 5, start=100))

    outcomes = "outcome_measures"
    w.file(
        outcomes,
        "NLW01",
        OCT,
        w.rows(
            outcomes,
            OCT,
            "NLW01",
            8,
            r1={"instrument": "ONS4", **items([7, 8, 9, 10])},
            r2={"instrument": "UCLA3", **items([1, 2, 3])},
            r3={"instrument": "EQ5D5L", **items([1, 2, 3, 4, 5]), "eq5d_vas": 80},
            r4={"instrument": "UCLA3", **items([7, 2, 3])},  # item out of UCLA3's 1–3
            r5={"instrument": "ONS4", **items([1, 2, 3, 4, 3])},  # ONS4 has 4 items
            r6={"instrument": "EQ5D5L", **items([1, 2, 3, 4, 5]), "eq5d_vas": 150},  # VAS out of 0–100
        ),
    )

    referrals = "provider_referrals"
    w.file(referrals, "NLW01", OCT, w.rows(referrals, OCT, "NLW01", 6, r2={"referral_reasons": "mental_health;aliens"}))
    w.file(referrals, "NLW01", SEP, w.rows(referrals, SEP, "NLW01", 6, r1={"referral_reasons": "housing"}))
    con.close()


@pytest.fixture(scope="session")
def warehouse_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gx") / "warehouse.duckdb"
    build_warehouse(path)
    return path


CASES = [
    ("provider_contacts", JUL),
    ("provider_contacts", AUG),
    ("provider_contacts", SEP),
    ("provider_contacts", OCT),
    ("practice_appointments", OCT),
    ("outcome_measures", OCT),
    ("provider_referrals", OCT),
    ("provider_referrals", SEP),
    ("provider_costs", OCT),
]


@pytest.fixture(scope="session")
def validations(warehouse_file: Path) -> dict[tuple[str, date], TableValidation]:
    con = duckdb.connect(str(warehouse_file), read_only=True)
    try:
        return {(t, p): validate_period(con, t, p, run_id="test-run") for t, p in CASES}
    finally:
        con.close()


def failed(validation: TableValidation) -> set[tuple[str, str | None, str | None]]:
    return {(o.expectation, o.column, o.details.get("row_condition")) for o in validation.failed}


# ---- suites ----------------------------------------------------------------------------------------


def test_suites_come_from_the_contracts() -> None:
    """Every required column gets a completeness expectation; pseudonym and multi-code rules are derived."""
    for table, contract in load_contracts().items():
        specs = suite_specs(contract, OCT)
        not_null = {
            s.kwargs["column"]
            for s in specs
            if s.expectation == "ExpectColumnValuesToNotBeNull" and s.condition is None
        }
        assert not_null == {raw_column_name(c) for c in contract.columns if c.required or c.name in contract.key}
        in_set = {s.kwargs["column"] for s in specs if s.expectation == "ExpectColumnValuesToBeInSet"}
        assert in_set == {c.name for c in contract.columns if c.allowed and not c.multi}, table
        if any(c.type == "nhs_number" for c in contract.columns):
            regexes = {s.kwargs.get("regex") for s in specs if s.kwargs.get("column") == "person_id"} - {None}
            assert regexes == {r"^[0-9a-f]{64}$", r"^\d{10}$"}
    reasons = next(
        s
        for s in suite_specs(load_contracts()["provider_referrals"], OCT)
        if s.kwargs.get("column") == "referral_reasons" and "regex" in s.kwargs
    )
    assert re.match(reasons.kwargs["regex"], "mental_health;social_isolation")
    assert not re.match(reasons.kwargs["regex"], "mental_health;aliens")
    assert not re.match(reasons.kwargs["regex"], "mental_health;")


# ---- validation ------------------------------------------------------------------------------------


def test_clean_month_passes_on_current_rows_only(validations: dict) -> None:
    september = validations[("provider_contacts", SEP)]
    assert september.success, september.failed
    assert september.rows_validated == 150  # the superseded version (with a bad code) is not validated
    assert september.evaluated_expectations == september.successful_expectations > 10
    assert validations[("provider_referrals", SEP)].success


@pytest.mark.parametrize(
    ("table", "period", "expected"),
    [
        (
            "practice_appointments",
            OCT,
            {
                ("expect_column_values_to_be_in_set", "staff_role", None),
                ("expect_column_values_to_not_be_null", "status", None),
                ("expect_column_values_to_be_between", "appointment_date", None),
                ("expect_column_values_to_not_match_regex", "person_id", None),
                ("expect_column_values_to_match_regex", "person_id", None),
            },
        ),
        (
            "outcome_measures",
            OCT,
            {
                ("expect_column_values_to_be_between", "item_1", "instrument == 'UCLA3'"),
                ("expect_column_values_to_be_null", "item_5", "instrument == 'ONS4'"),
                ("expect_column_values_to_be_between", "eq5d_vas", None),
            },
        ),
        ("provider_referrals", OCT, {("expect_column_values_to_match_regex", "referral_reasons", None)}),
        ("provider_contacts", AUG, {("expect_column_values_to_be_between", "duration_minutes", None)}),
    ],
)
def test_each_fault_fails_its_expectation(validations: dict, table: str, period: date, expected: set) -> None:
    validation = validations[(table, period)]
    assert not validation.success
    assert failed(validation) == expected
    assert all(o.unexpected_count == 1 for o in validation.failed)
    assert validation.blocking


def test_frames_take_gx_vectorised_dtypes_without_changing_a_verdict() -> None:
    """Dates become datetime64[ns] and integers int64 (float64 with nulls), so GX compares whole columns; a date
    outside datetime64[ns]'s range keeps its type and is still checked, on GX's row-by-row path."""
    import pandas as pd

    frame = pd.DataFrame(
        {
            "appointment_date": pd.Series([datetime(2026, 10, 5), datetime(2026, 9, 30)], dtype="datetime64[us]"),
            "ancient_date": pd.Series([datetime(1500, 1, 1), datetime(2026, 10, 5)], dtype="datetime64[us]"),
            "score": pd.Series([1, None], dtype="Int32"),
            "minutes": pd.Series([30, 45], dtype="int32"),
            "code": ["a", "b"],
        }
    )
    typed = with_vectorised_dtypes(frame)
    assert {name: str(dtype) for name, dtype in typed.dtypes.items()} == {
        "appointment_date": "datetime64[ns]",
        "ancient_date": "datetime64[us]",
        "score": "float64",
        "minutes": "int64",
        "code": str(frame["code"].dtype),
    }
    assert typed["score"].isna().tolist() == [False, True] and typed["minutes"].tolist() == [30, 45]
    in_october = {"min_value": datetime(2026, 10, 1), "max_value": datetime(2026, 10, 31)}
    suite = build_suite(
        "dtype_test",
        [
            ExpectationSpec("ExpectColumnValuesToBeBetween", {"column": column, **in_october}, "date", column)
            for column in ("appointment_date", "ancient_date")
        ]
        + [ExpectationSpec("ExpectColumnValuesToBeBetween", {"column": "score", "min_value": 2}, "range", "score")],
    )
    for validated in (frame, typed):
        result = run_suite(suite, validated, "dtype_test", OCT)
        assert [item.result["unexpected_count"] for item in result.results] == [1, 1, 1]


def test_current_rows_through_arrow_equal_duckdb_own_pandas_frame(tmp_path: Path) -> None:
    """The Arrow fetch gives exactly the frame DuckDB's `fetchdf` gives (after the dtype widening): dates,
    integers with and without nulls, decimals as DuckDB's doubles and text; a month with no rows is empty."""
    import pandas as pd

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    for schema in ("meta", "raw", "quarantine"):
        con.execute(f"CREATE SCHEMA {schema}")
    ensure_ingestion_schema(con)
    warehouse = Warehouse(con)
    for table in ("provider_costs", "outcome_measures"):
        rows = [good_row(table, OCT, i, "NLW01") for i in range(3)]
        if table == "provider_costs":
            for i, row in enumerate(rows):
                row["amount_gbp"] = [0.1, 1234.57, 99999.99][i]
        else:
            rows[1] |= items([3, None, 4])
        warehouse.file(table, "NLW01", OCT, rows)
        expected = with_vectorised_dtypes(con.execute(current_rows_sql(table), [table, OCT]).fetchdf())
        pd.testing.assert_frame_equal(current_rows(con, table, OCT), expected, check_exact=True)
        empty = current_rows(con, table, SEP)  # validate_period stops at an empty frame, whatever its dtypes
        assert empty.empty and list(empty.columns) == list(expected.columns)


def test_conditional_suite_gives_the_same_results_on_categorical_text() -> None:
    """Text columns as categoricals (for suites with row conditions) change no verdict, count or sample value."""
    import pandas as pd

    frame = pd.DataFrame(
        {
            "instrument": pd.array(["ons4", "ons4", "swemwbs", None, "ons4"], dtype="str"),
            "timepoint": pd.array(["baseline", "later", "baseline", "baseline", None], dtype="str"),
            "person_id": pd.array(["a" * 64, "bad", "b" * 64, "c" * 64, "d" * 64], dtype="str"),
            "item_1": [3, 11, 20, 5, None],
        }
    )
    categorical = with_categorical_text(frame)
    assert [str(dtype) for dtype in categorical.dtypes] == ["category", "category", "category", "float64"]
    ons4 = ("eq", "instrument", "ons4")
    suite = build_suite(
        "categorical_test",
        [
            ExpectationSpec("ExpectColumnValuesToBeBetween", {"column": "item_1", "max_value": 10}, "score", "i", ons4),
            ExpectationSpec(
                "ExpectColumnValuesToBeInSet", {"column": "timepoint", "value_set": ["baseline"]}, "code", "t", ons4
            ),
            ExpectationSpec("ExpectColumnValuesToNotBeNull", {"column": "timepoint"}, "completeness", "n", ons4),
            ExpectationSpec(
                "ExpectColumnValuesToMatchRegex", {"column": "person_id", "regex": PSEUDONYM_REGEX}, "pseudonym", "p"
            ),
            ExpectationSpec(
                "ExpectColumnValuesToBeInSet", {"column": "instrument", "value_set": ["ons4"]}, "code", "s"
            ),
        ],
    )
    results = [
        [(item.success, item.result) for item in run_suite(suite, validated, "categorical_test", OCT).results]
        for validated in (frame, categorical)
    ]
    assert results[0] == results[1]
    assert [result["unexpected_count"] for _, result in results[0]] == [1, 1, 1, 1, 1]


def test_volume_fails_against_previous_months_and_is_skipped_without_three(validations: dict) -> None:
    october = validations[("provider_contacts", OCT)]
    volume = [o for o in october.results if o.kind == "volume"]
    nlw01 = next(o for o in volume if o.details["volume"]["submitter"] == "NLW01")
    nlw02 = next(o for o in volume if o.details["volume"]["submitter"] == "NLW02")
    assert nlw01.success is False and nlw01.observed == "5"
    assert nlw01.details["volume"]["median"] == 100 and nlw01.details["volume"]["bounds"] == [20, 500]
    assert nlw02.success is None and nlw02.observed.startswith("skipped: 1 previous month")
    assert not october.success and not october.blocking  # volume is a warning: it does not block
    assert failed(october) == {("expect_column_values_to_be_between", "rows_to_median", "provider_code == 'NLW01'")}
    assert all(o.success is None for o in validations[("provider_contacts", SEP)].results if o.kind == "volume")


def test_empty_month_is_a_success_with_a_note(validations: dict) -> None:
    empty = validations[("provider_costs", OCT)]
    assert empty.success and empty.rows_validated == 0 and empty.evaluated_expectations == 0
    assert "no loaded rows" in (empty.note or "")


def test_results_are_recorded_once_per_run_table_and_month(
    validations: dict, warehouse_file: Path, tmp_path: Path
) -> None:
    from orchestration.checks.results import record_results

    path = tmp_path / "warehouse.duckdb"
    shutil.copy(warehouse_file, path)
    con = duckdb.connect(str(path))
    try:
        written = record_results(con, validations.values())
        assert written == sum(len(v.results) for v in validations.values())
        record_results(con, validations.values())  # a retry replaces, never duplicates
        assert con.execute("SELECT count(*) FROM meta.dq_results").fetchall()[0][0] == written
        rows = con.execute(
            "SELECT expectation, column_name, success, unexpected_count, details FROM meta.dq_results "
            "WHERE table_name = 'practice_appointments' AND period = ? AND NOT success ORDER BY 1, 2",
            [OCT],
        ).fetchall()
        expected = {(e, c) for e, c, _ in failed(validations[("practice_appointments", OCT)])}
        assert {(r[0], r[1]) for r in rows} == expected
        assert all(r[3] == 1 and json.loads(r[4])["severity"] == "critical" for r in rows)
        dump = con.execute("SELECT string_agg(observed || details, '') FROM meta.dq_results").fetchall()[0][0]
        assert NHS_NUMBER not in dump  # identifiers never reach the results
        skipped = con.execute(
            "SELECT count(*) FROM meta.dq_results WHERE success IS NULL AND observed LIKE 'skipped%'"
        ).fetchall()[0][0]
        assert skipped >= 1
    finally:
        con.close()


@pytest.fixture(scope="session")
def data_docs(validations: dict, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from orchestration.checks.data_docs import build_data_docs

    return build_data_docs(tmp_path_factory.mktemp("output"), list(validations.values()))


def test_data_docs_site_is_written(data_docs: Path, validations: dict) -> None:
    assert data_docs.name == "index.html" and data_docs.parent.name == "data_docs"
    index = data_docs.read_text(encoding="utf-8")
    assert "raw.practice_appointments" in index and "raw.provider_contacts" in index
    assert "raw.provider_contacts.volume" in index  # the one month with three previous months of history
    pages = list((data_docs.parent / "validations").rglob("*.html"))
    # a page per table-month with rows, and one more where the volume suite ran
    assert len(pages) == sum(1 for t, p in CASES if (t, p) != ("provider_costs", OCT)) + 1
    assert len(pages) == sum(len(v.gx_runs) for v in validations.values())
    stored = [f for f in data_docs.parent.parent.rglob("*") if f.suffix in {".html", ".json"}]
    assert not any(NHS_NUMBER in f.read_text(encoding="utf-8") for f in stored)  # pages and GX results


def test_data_docs_keep_one_page_per_run_table_and_month(data_docs: Path, validations: dict) -> None:
    from orchestration.checks.data_docs import build_data_docs

    build_data_docs(data_docs.parent.parent, [validations[("provider_contacts", OCT)]])
    pages = list((data_docs.parent / "validations").rglob("*.html"))
    assert len(pages) == sum(len(v.gx_runs) for v in validations.values())


# ---- Dagster ---------------------------------------------------------------------------------------


def test_asset_checks_run_in_a_partitioned_materialization(
    warehouse_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stub of ingest_landed_files (same keys, monthly partitions) plus the checks, on a temp warehouse:
    a critical failure blocks the downstream asset, a volume-only failure (WARN) does not."""
    from orchestration.checks.dagster_checks import CHECK_NAME, gx_asset_checks
    from orchestration.partitions import monthly_partitions
    from orchestration.resources import WarehouseResource

    path = tmp_path / "warehouse.duckdb"
    shutil.copy(warehouse_file, path)
    monkeypatch.setenv("SPRX_OUTPUT", str(tmp_path / "output"))
    raw_keys = [dg.AssetKey(["raw", t]) for t in load_contracts()]

    @dg.multi_asset(
        specs=[dg.AssetSpec(["meta", "files"]), *[dg.AssetSpec(k) for k in raw_keys]],
        name="ingest_landed_files",
        partitions_def=monthly_partitions,
    )
    def stub_ingest() -> Iterator[dg.MaterializeResult]:
        yield dg.MaterializeResult(asset_key=["meta", "files"])
        for key in raw_keys:
            yield dg.MaterializeResult(asset_key=key)

    @dg.asset(deps=[["raw", "practice_appointments"]], partitions_def=monthly_partitions)
    def appointments_mart() -> None:
        return None

    @dg.asset(deps=[["raw", "provider_contacts"]], partitions_def=monthly_partitions)
    def contacts_mart() -> None:
        return None

    result = dg.materialize(
        [stub_ingest, appointments_mart, contacts_mart, *gx_asset_checks],
        partition_key="2026-10-01",
        resources={"warehouse": WarehouseResource(path=str(path))},
        raise_on_error=False,
    )
    evaluations = {e.asset_key.path[1]: e for e in result.get_asset_check_evaluations()}
    assert set(evaluations) == set(load_contracts())
    assert all(e.check_name == CHECK_NAME for e in evaluations.values())
    appointments = evaluations["practice_appointments"]
    assert not appointments.passed and appointments.severity == dg.AssetCheckSeverity.ERROR
    assert appointments.metadata["rows"].value == 15
    assert len(appointments.metadata["failed_expectations"].value) == 5
    assert Path(appointments.metadata["data_docs"].value).exists()
    contacts = evaluations["provider_contacts"]
    assert not contacts.passed and contacts.severity == dg.AssetCheckSeverity.WARN
    assert evaluations["provider_costs"].passed and evaluations["practice_events"].passed
    # a blocking ERROR fails the check step, so every step downstream of it waits (dbt is one step anyway)
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert not result.success and not {dg.AssetKey("contacts_mart"), dg.AssetKey("appointments_mart")} & materialized

    con = duckdb.connect(str(path))
    try:
        recorded = con.execute(
            "SELECT DISTINCT table_name, period FROM meta.dq_results WHERE run_id = ?", [result.run_id]
        ).fetchall()
        assert {t for t, _ in recorded} == set(load_contracts()) and {p for _, p in recorded} == {OCT}
        # leave October with only the volume warning: the run succeeds and downstream assets materialize
        con.execute(
            "UPDATE meta.files SET status = 'superseded' WHERE period = ? AND table_name <> 'provider_contacts'", [OCT]
        )
    finally:
        con.close()
    again = dg.materialize(
        [stub_ingest, appointments_mart, contacts_mart, *gx_asset_checks],
        partition_key="2026-10-01",
        resources={"warehouse": WarehouseResource(path=str(path))},
    )
    contacts = next(e for e in again.get_asset_check_evaluations() if e.asset_key.path[1] == "provider_contacts")
    assert not contacts.passed and contacts.severity == dg.AssetCheckSeverity.WARN
    materialized = {e.asset_key for e in again.get_asset_materialization_events()}
    assert {dg.AssetKey("contacts_mart"), dg.AssetKey("appointments_mart")} <= materialized


def test_unpartitioned_check_validates_months_loaded_since_last_check(
    warehouse_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run on its own (no partition), each table's months with files loaded since its last results."""
    from orchestration.checks.dagster_checks import RAW_CHECK_KEYS, gx_asset_checks
    from orchestration.resources import WarehouseResource

    path = tmp_path / "warehouse.duckdb"
    shutil.copy(warehouse_file, path)
    monkeypatch.setenv("SPRX_OUTPUT", str(tmp_path / "output"))
    checks = gx_asset_checks[0]
    context = dg.build_asset_check_context(resources={"warehouse": WarehouseResource(path=str(path))})
    first = {r.asset_key.path[1]: r for r in checks(context)}
    assert first["provider_contacts"].metadata["months"].value == "2026-07, 2026-08, 2026-09, 2026-10"
    assert first["practice_events"].metadata["months"].value == "(none)" and first["practice_events"].passed
    second = {
        r.asset_key.path[1]: r
        for r in checks(dg.build_asset_check_context(resources={"warehouse": WarehouseResource(path=str(path))}))
    }
    assert second["provider_contacts"].metadata["months"].value == "2026-10"  # nothing new: the latest month
    assert set(first) == set(second) == set(RAW_CHECK_KEYS)


def test_definitions_do_not_import_great_expectations() -> None:
    code = (
        "import sys; import orchestration.checks.dagster_checks as m; assert m.gx_asset_checks; "
        "print('great_expectations' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
