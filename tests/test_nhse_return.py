"""The NHS England return: every number equals its mart value (after disclosure control in the published
variant), regeneration is byte-identical, a changed source file makes a new version that names it, and a
failed validation blocks the write naming the PCN, the measure and the rule."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import shutil
import time
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pytest

from orchestration.months import month_end
from reports.disclosure import DisclosureRule, protect_count, protect_ratio, protect_statistic
from reports.nhse_return import (
    ReturnBlockedError,
    Variant,
    build_month,
    load_catalogue,
    read_submission_log,
)
from reports.nhse_return.catalogue import CatalogueError
from reports.nhse_return.writers import DICTIONARY_COLUMNS, SHEETS

MONTH = date(2026, 9, 1)
ON_TIME = date(2026, 10, 8)  # before the Primary deadline of September 2026 (14 October)
CATALOGUE = load_catalogue()


def mart_value(con: duckdb.DuckDBPyConnection, measure_id: str, org_type: str, org_code: str, month: date):
    """The measure straight from its mart, by an independent query written from the catalogue entry."""
    measure = CATALOGUE.measure(measure_id)
    source = CATALOGUE.sources[measure.source_mart]
    anchor = month if source.period_is == "month_start" else month_end(month)
    filters = {**source.filters, **measure.source_filters}
    sql = (
        f"SELECT {measure.source_column} FROM {measure.source_mart} WHERE {source.org_type_column} = ? "
        f"AND {source.org_code_column} = ? AND {source.period_column} = ?"
        + "".join(f" AND {column} = ?" for column in filters)
    )
    rows = con.execute(sql, [org_type, org_code, anchor, *filters.values()]).fetchall()
    assert len(rows) == 1, (measure_id, org_type, org_code)
    return rows[0][0]


def same_number(text: str, expected) -> bool:
    if expected is None:
        return text == ""
    return text != "" and Decimal(text) == Decimal(str(expected))


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def org_values(rows: list[dict[str, str]]) -> dict[tuple[str, str], dict[str, str]]:
    values: dict[tuple[str, str], dict[str, str]] = {}
    for row in rows:
        values.setdefault((row["org_type"], row["org_code"]), {})[row["measure_id"]] = row["value"]
    return values


@pytest.fixture
def warehouse_copy(demo_pipeline, tmp_path) -> Path:
    """A private copy of the session's demo warehouse, so a test may change it or hold it open."""
    target = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_pipeline["warehouse"], target)
    return target


@pytest.fixture
def built(warehouse_copy, tmp_path):
    """September 2026 built on time as the Primary, both variants."""
    output = tmp_path / "output" / "nhse_return"
    inputs, submission, results = build_month(warehouse_copy, MONTH, output, as_of=ON_TIME, published=True)
    return {
        "warehouse": warehouse_copy,
        "output": output,
        "inputs": inputs,
        "submission": submission,
        "results": {result.variant: result for result in results},
    }


def test_every_catalogue_measure_is_produced_for_every_organisation_and_documented(built):
    rows = read_csv(built["results"][Variant.MANAGEMENT_INFORMATION].files["csv"])
    organisations = org_values(rows)
    assert {org_type for org_type, _ in organisations} == {"england", "icb", "pcn"}
    expected = [measure.id for measure in CATALOGUE.measures]
    for (org_type, org_code), values in organisations.items():
        assert list(values) == expected, f"{org_type} {org_code} lacks or reorders measures"
    for measure in CATALOGUE.measures:
        entry = measure.dictionary_row()
        for column in ("name", "definition", "numerator", "unit", "source_mart", "source_column"):
            assert entry[column].strip(), f"{measure.id} has no {column}"
        assert measure.disclosure.describe()
    # every PCN of the month in the mart is in the return
    con = duckdb.connect(str(built["warehouse"]), read_only=True)
    pcns = {code for (code,) in con.execute(
        "SELECT org_code FROM marts.referral_measures_monthly WHERE org_type = 'pcn' AND month_start = ?", [MONTH]
    ).fetchall()}  # fmt: skip
    con.close()
    assert pcns and pcns == {code for org_type, code in organisations if org_type == "pcn"}


def test_management_information_numbers_equal_the_mart_values(built):
    result = built["results"][Variant.MANAGEMENT_INFORMATION]
    rows = read_csv(result.files["csv"])
    workbook = openpyxl.load_workbook(result.files["xlsx"], read_only=True)
    sheet_rows = list(workbook["Data"].iter_rows(values_only=True))
    workbook.close()
    header = list(sheet_rows[0])
    assert header == list(rows[0].keys())
    con = duckdb.connect(str(built["warehouse"]), read_only=True)
    try:
        for row, cells in zip(rows, sheet_rows[1:], strict=True):
            expected = mart_value(con, row["measure_id"], row["org_type"], row["org_code"], MONTH)
            assert same_number(row["value"], expected), row
            from_excel = cells[header.index("value")]
            if expected is None or isinstance(expected, int):
                assert from_excel == expected, row
            else:  # an Excel number holds 15 significant digits; the CSV keeps every digit of the mart value
                assert math.isclose(from_excel, float(expected), rel_tol=1e-14, abs_tol=0), row
            assert row["period"] == "2026-09" and (row["parent_icb_code"] != "") == (row["org_type"] == "pcn")
    finally:
        con.close()
    assert len(rows) == result.rows == len(built["inputs"].data.orgs) * len(CATALOGUE.measures)


def published_expectation(con, measure_id: str, org_type: str, org_code: str, rule: DisclosureRule):
    """The mart value after the disclosure rule, applied here from the catalogue's stated treatment."""
    value = mart_value(con, measure_id, org_type, org_code, MONTH)
    if org_type == "england" or value is None:
        return value, False
    treatment = CATALOGUE.measure(measure_id).disclosure

    def other(name):
        return int(mart_value(con, name, org_type, org_code, MONTH))

    if treatment.treatment == "count":
        protected = protect_count(int(value), rule)
    elif treatment.treatment == "total":
        parts = [protect_count(other(name), rule) for name in treatment.of]
        return sum(part.value for part in parts if not part.suppressed), False
    elif treatment.treatment == "ratio":
        protected = protect_ratio(
            other(treatment.numerator), other(treatment.denominator), treatment.scale, treatment.places, rule
        )
    elif treatment.treatment == "share":
        base = other(treatment.of[0])
        protected = protect_ratio(round(float(value) * base), base, treatment.scale, treatment.places, rule)
    else:
        protected = protect_statistic(value, other(treatment.n), rule)
    return protected.value, protected.suppressed


def test_published_numbers_equal_the_mart_values_after_disclosure_control(built):
    result = built["results"][Variant.PUBLISHED]
    rows = read_csv(result.files["csv"])
    rule = DisclosureRule()
    con = duckdb.connect(str(built["warehouse"]), read_only=True)
    try:
        for row in rows:
            expected, suppressed = published_expectation(con, row["measure_id"], row["org_type"], row["org_code"], rule)
            assert row["value_suppressed"] == ("true" if suppressed else "false"), row
            assert same_number(row["value"], expected), (row, expected)
            assert "*" not in row["value"]
            assert ("suppressed" in row["flags"].split(";")) == suppressed
    finally:
        con.close()
    assert result.suppressed > 0, "the demo month should exercise suppression"
    discharges = [r for r in rows if r["measure_id"] == "discharges" and r["org_type"] == "pcn"]
    reasons = [r for r in rows if r["measure_id"].startswith("discharges_") and r["org_type"] == "pcn"]
    for total in discharges:
        visible = sum(int(r["value"]) for r in reasons if r["org_code"] == total["org_code"] and r["value"])
        assert int(total["value"]) == visible  # no suppressed reason can be recovered from the total


def test_xlsx_has_cover_data_and_dictionary_from_the_catalogue(built):
    for variant, wording in ((Variant.MANAGEMENT_INFORMATION, "exact counts"), (Variant.PUBLISHED, "suppressed")):
        path = built["results"][variant].files["xlsx"]
        workbook = openpyxl.load_workbook(path)
        assert tuple(workbook.sheetnames) == SHEETS
        cover = {row[0]: row[1] for row in workbook["Cover"].iter_rows(values_only=True) if row[0]}
        assert wording in cover["About the figures"]
        assert cover["Submission"] == "Primary, version 1" and cover["Submission deadline"] == "2026-10-14"
        dictionary = list(workbook["Data dictionary"].iter_rows(values_only=True))
        assert list(dictionary[0]) == DICTIONARY_COLUMNS
        expected = [[measure.dictionary_row()[c] or None for c in DICTIONARY_COLUMNS] for measure in CATALOGUE.measures]
        assert [list(row) for row in dictionary[1:]] == expected
        assert workbook.properties.created.date() == workbook.properties.modified.date() == date(2026, 9, 30)
        with zipfile.ZipFile(path) as archive:
            assert {info.date_time for info in archive.infolist()} == {(2026, 9, 30, 0, 0, 0)}


def test_manifest_names_files_rows_sources_assumptions_and_code(built):
    result = built["results"][Variant.MANAGEMENT_INFORMATION]
    manifest = json.loads(result.files["manifest"].read_text(encoding="utf-8"))
    for entry in manifest["files"]:
        data = (result.folder / entry["name"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest() and entry["bytes"] == len(data)
    assert manifest["row_counts"]["data_rows"] == result.rows
    assert manifest["submission"] == "primary" and manifest["version"] == 1
    sources = manifest["sources"]["extract_files"]
    feeds = [feed for mart in CATALOGUE.marts_read() for feed in CATALOGUE.sources[mart].fed_by]
    every_period = {feed.table for feed in feeds if feed.periods == "all"}
    month_only = {feed.table for feed in feeds} - every_period
    con = duckdb.connect(str(built["warehouse"]), read_only=True)
    expected = con.execute(
        "SELECT table_name, submitter_code, strftime(period, '%Y-%m'), sha256 FROM meta.files WHERE status = 'loaded' "
        "AND (list_contains(?, table_name) OR (list_contains(?, table_name) AND period = ?))",
        [sorted(every_period), sorted(month_only), MONTH],
    ).fetchall()
    con.close()
    assert sorted((s["table_name"], s["submitter_code"], s["period"], s["sha256"]) for s in sources) == sorted(expected)
    assert {s["table_name"] for s in sources} >= {"provider_referrals", "provider_contacts", "practice_events"}
    assert all(s["period"] == "2026-09" for s in sources if s["table_name"] in month_only)
    assert any(s["period"] < "2026-09" for s in sources if s["table_name"] == "provider_referrals")
    assert manifest["sources"]["reference_files"] and manifest["assumptions"]["catalogue_version"] == CATALOGUE.version
    assert manifest["assumptions"]["dbt_vars"]["national_referral_code"] == "871731000000106"
    assert manifest["code_version"]["package_version"]


def test_regenerating_is_byte_identical_and_no_new_version(built):
    output, warehouse = built["output"], built["warehouse"]
    first = built["results"]
    before = {p: p.read_bytes() for p in output.rglob("*") if p.is_file() and p.name != "submission_log.jsonl"}
    time.sleep(2.1)  # zip entries carry 2-second timestamps: a second later would show if they leaked in
    _, _, again = build_month(warehouse, MONTH, output, as_of=date(2026, 10, 9), published=True)
    for result in again:
        assert result.status == "unchanged" and result.version == 1
        assert result.sha256 == first[result.variant].sha256
    after = {p: p.read_bytes() for p in output.rglob("*") if p.is_file() and p.name != "submission_log.jsonl"}
    assert after == before  # nothing written, nothing rewritten
    log = read_submission_log(output)
    assert [entry["status"] for entry in log] == ["written", "written", "unchanged", "unchanged"]
    assert all(entry["submission"] == "Primary" and entry["on_time"] for entry in log)


def test_refresh_is_its_own_submission_after_the_primary_deadline(built):
    output = built["output"]
    _, submission, results = build_month(built["warehouse"], MONTH, output, as_of=date(2026, 10, 15))
    assert submission.type.value == "refresh" and submission.deadline == date(2026, 11, 13)
    assert results[0].status == "written" and results[0].folder == output / "outbox" / "2026-09" / "refresh" / "v1"
    primary = built["results"][Variant.MANAGEMENT_INFORMATION]
    assert results[0].files["csv"].read_bytes() == primary.files["csv"].read_bytes()  # same data, own submission


def _break(warehouse: Path, sql: str, parameters: list) -> None:
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(sql, parameters)
    finally:
        con.close()


def first_pcn(warehouse: Path) -> str:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            "SELECT min(org_code) FROM marts.referral_measures_monthly WHERE org_type = 'pcn' AND month_start = ?",
            [MONTH],
        ).fetchall()[0][0]
    finally:
        con.close()


def test_inconsistent_discharges_block_the_write_naming_pcn_measure_and_rule(warehouse_copy, tmp_path):
    pcn = first_pcn(warehouse_copy)
    _break(
        warehouse_copy,
        "UPDATE marts.referral_measures_monthly SET discharges_other = discharges_other + 3 "
        "WHERE org_type = 'pcn' AND org_code = ? AND month_start = ?",
        [pcn, MONTH],
    )
    output = tmp_path / "nhse_return"
    with pytest.raises(ReturnBlockedError) as raised:
        build_month(warehouse_copy, MONTH, output, as_of=ON_TIME, published=True)
    message = str(raised.value)
    assert f"PCN {pcn}" in message and "discharges_other" in message
    assert "discharge_reasons_sum_to_discharges" in message and "nothing written" in message
    assert not (output / "outbox").exists() and not (output / "published").exists()
    log = read_submission_log(output)
    assert [(entry["status"], entry["validation"]) for entry in log] == [("blocked", "failed")] * 2
    assert any("discharge_reasons_sum_to_discharges" in error for error in log[0]["errors"])


def test_a_pcn_without_practice_records_fails_completeness(warehouse_copy, tmp_path):
    pcn = first_pcn(warehouse_copy)
    _break(
        warehouse_copy,
        "UPDATE marts.coded_social_prescribing_monthly SET practices_with_records = 0 "
        "WHERE org_type = 'pcn' AND org_code = ? AND month_start = ?",
        [pcn, MONTH],
    )
    with pytest.raises(ReturnBlockedError) as raised:
        build_month(warehouse_copy, MONTH, tmp_path / "nhse_return", as_of=ON_TIME)
    message = str(raised.value)
    assert f"[completeness] PCN {pcn}, people_referred_national_code: no value (no_practice_records)" in message
    assert "people_offered_coded" in message and "referrals_received" not in message


def test_a_month_that_has_not_ended_is_refused(warehouse_copy, tmp_path):
    from reports.nhse_return import SubmissionError

    with pytest.raises(SubmissionError, match="month ends on 2026-09-30"):
        build_month(warehouse_copy, MONTH, tmp_path, as_of=date(2026, 9, 30))


def test_malformed_catalogue_is_refused_naming_the_entry(tmp_path):
    from reports.nhse_return.catalogue import CATALOGUE_PATH

    text = CATALOGUE_PATH.read_text(encoding="utf-8")
    broken = tmp_path / "catalogue.yml"
    broken.write_text(text.replace("treatment: statistic, n: referrals_seen", "treatment: statistic"), "utf-8")
    with pytest.raises(CatalogueError, match=r"median_days_to_first_contact.*treatment statistic needs 'n'"):
        load_catalogue(broken)
    broken.write_text(text.replace("right: [referrals_received]\n", "right: [referrals_recieved]\n", 1), "utf-8")
    with pytest.raises(CatalogueError, match=r"people_referred_within_referrals: unknown measure.*referrals_recieved"):
        load_catalogue(broken)


def test_xlsx_bytes_do_not_depend_on_the_clock(built, monkeypatch):
    from reports.nhse_return.build import _cover
    from reports.nhse_return.variants import build_rows
    from reports.nhse_return.writers import xlsx_bytes

    inputs, submission = built["inputs"], built["submission"]
    rows = build_rows(inputs.data, CATALOGUE, Variant.MANAGEMENT_INFORMATION)
    facts = _cover(inputs, submission, Variant.MANAGEMENT_INFORMATION, 1, rows, DisclosureRule())
    now = xlsx_bytes(rows, Variant.MANAGEMENT_INFORMATION, CATALOGUE, facts)
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 400 * 24 * 3600)  # a year and more later
    later = xlsx_bytes(rows, Variant.MANAGEMENT_INFORMATION, CATALOGUE, facts)
    assert later == now
    assert later == built["results"][Variant.MANAGEMENT_INFORMATION].files["xlsx"].read_bytes()


def test_monthly_cycle_wrote_a_return_for_every_demo_month(demo_pipeline):
    """The shared demo warehouse was built by the monthly cycle, which includes the return asset."""
    output = demo_pipeline["output"] / "nhse_return"
    log = read_submission_log(output)
    periods = sorted({entry["period"] for entry in log if entry["status"] == "written"})
    assert len(periods) == demo_pipeline["months"] and periods[-1] == demo_pipeline["end_month"]
    for period in periods:
        (folder,) = [p for p in (output / "outbox" / period).iterdir() if p.is_dir()]
        assert (folder / "v1" / "manifest.json").exists()


def changed_referrals_file(landing: Path) -> tuple[str, str]:
    """Resubmit September's AUK02 referrals with one discharge reason corrected (completed → other)."""
    path = landing / "provider_referrals_AUK02_202609.csv"
    text = path.read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    target = next(r for r in rows if r["discharge_reason"] == "completed" and r["discharge_date"].startswith("2026-09"))
    target["discharge_reason"] = "other"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0].keys()), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path.name, target["practice_code"]


@pytest.mark.slow
def test_a_resubmitted_source_file_makes_a_new_version_naming_it(demo_pipeline, tmp_path, monkeypatch):
    """Re-ingest a changed provider file for the month into a copy, rebuild the marts through Dagster (the
    monthly cycle limited to what the return reads), and the return asset writes v2 naming the file."""
    import dagster as dg
    from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

    from orchestration.assets.nhse_return import NHSE_RETURN_KEY
    from tests.test_known_answers import use_models_as_on_disk

    root = tmp_path
    landing, warehouse, output = root / "landing", root / "warehouse.duckdb", root / "output"
    shutil.copytree(demo_pipeline["landing"], landing)
    shutil.copyfile(demo_pipeline["warehouse"], warehouse)
    for name, value in (("SPRX_WAREHOUSE", warehouse), ("SPRX_LANDING", landing), ("SPRX_OUTPUT", output)):
        monkeypatch.setenv(name, str(value))
    monkeypatch.setenv("SPRX_PSEUDONYM_KEY", "test-pseudonym-key-0123456789")
    use_models_as_on_disk(monkeypatch, root / "dbt_target")
    returns = output / "nhse_return"
    as_of = date.today()
    _, first_submission, first = build_month(warehouse, MONTH, returns, as_of=as_of)
    assert first[0].version == 1
    v1_bytes = {p.name: p.read_bytes() for p in first[0].folder.iterdir()}

    file_name, _ = changed_referrals_file(landing)
    from orchestration.definitions import defs

    selection = (
        dg.AssetSelection.assets(NHSE_RETURN_KEY).upstream() - dg.AssetSelection.groups("reference")
    ) | dg.AssetSelection.groups("ingestion")
    tags = {ASSET_PARTITION_RANGE_START_TAG: MONTH.isoformat(), ASSET_PARTITION_RANGE_END_TAG: MONTH.isoformat()}
    with dg.instance_for_test() as instance:
        cycle = defs.get_job_def("monthly_cycle").execute_in_process(
            instance=instance, tags=tags, asset_selection=list(selection.resolve(defs.resolve_asset_graph()))
        )
    assert cycle.success
    folder = returns / "outbox" / "2026-09" / first_submission.type.value
    assert sorted(p.name for p in folder.iterdir()) == ["v1", "v2"]
    assert {p.name: p.read_bytes() for p in (folder / "v1").iterdir()} == v1_bytes  # the old version is kept
    manifest = json.loads((folder / "v2" / "manifest.json").read_text(encoding="utf-8"))
    changes = manifest["changes_from_previous_version"]
    assert changes["previous_version"] == 1 and manifest["version"] == 2
    replaced = changes["source_files"]["replaced"]
    assert [(r["file_name"], r["previous_version"], r["version"]) for r in replaced] == [(file_name, 1, 2)]
    assert changes["source_files"]["added"] == [] and changes["source_files"]["removed"] == []
    changed = {example["measure_id"] for example in changes["examples"]}
    assert {"discharges_completed", "discharges_other"} <= changed and changes["cells_changed"] >= 2
    log = read_submission_log(returns)
    assert [(entry["status"], entry["version"]) for entry in log] == [("written", 1), ("written", 2)]


@pytest.fixture
def cli_env(warehouse_copy, tmp_path, monkeypatch) -> dict[str, Path]:
    output = tmp_path / "cli_output"
    monkeypatch.setenv("SPRX_WAREHOUSE", str(warehouse_copy))
    monkeypatch.setenv("SPRX_OUTPUT", str(output))
    monkeypatch.setenv("SPRX_LANDING", str(tmp_path / "landing"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    return {"warehouse": warehouse_copy, "returns": output / "nhse_return"}


def test_sprx_return_runs_through_dagster_and_recognises_an_unchanged_month(cli_env):
    from typer.testing import CliRunner

    from orchestration.cli import app

    runner = CliRunner()
    arguments = ["return", "--period", "2026-09", "--as-of", "2026-10-08", "--published"]
    first = runner.invoke(app, arguments)
    assert first.exit_code == 0, first.output
    assert "2026-09 Primary" in first.output and "v1 written" in first.output and "published" in first.output
    again = runner.invoke(app, arguments)
    assert again.exit_code == 0, again.output
    assert "v1 unchanged (no new version)" in again.output
    log = read_submission_log(cli_env["returns"])
    assert [entry["status"] for entry in log] == ["written", "written", "unchanged", "unchanged"]
    assert len({entry["run_id"] for entry in log}) == 2 and all(entry["run_id"] for entry in log)


def test_sprx_return_fails_with_the_rule_when_validation_blocks(cli_env):
    from typer.testing import CliRunner

    from orchestration.cli import app

    pcn = first_pcn(cli_env["warehouse"])
    _break(
        cli_env["warehouse"],
        "UPDATE marts.referral_measures_monthly SET people_seen = referrals_seen + 1 "
        "WHERE org_type = 'pcn' AND org_code = ? AND month_start = ?",
        [pcn, MONTH],
    )
    result = CliRunner().invoke(app, ["return", "--period", "2026-09", "--as-of", "2026-10-08"])
    assert result.exit_code == 1
    output = " ".join(result.output.split())  # rich wraps long lines
    assert "the return was not written" in output and "people_seen_within_referrals_seen" in output
    assert f"PCN {pcn}" in output
    assert not (cli_env["returns"] / "outbox").exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["return"], "Missing option '--period'"),
        (["return", "--period", "2026-13"], "not a month"),
        (["return", "--period", "2026-09", "--submission", "final"], "auto, primary or refresh"),
        (["return", "--period", "2026-09", "--as-of", "8 Oct"], "not a date"),
    ],
)
def test_sprx_return_bad_arguments(arguments, message, sprx_env):
    from typer.testing import CliRunner

    from orchestration.cli import app

    result = CliRunner().invoke(app, arguments)
    assert result.exit_code != 0 and message in " ".join(result.output.split())
    assert "Usage" in CliRunner().invoke(app, ["return", "--help"]).output
