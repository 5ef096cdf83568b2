"""Submitter feedback packs: right files per submitter, right numbers, nothing personal, safe HTML, reproducible."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
import yaml
from markupsafe import escape

from orchestration.ingest.schema import ensure_ingestion_schema
from reports.feedback import FeedbackPack, build_submitter_feedback
from reports.feedback.builder import REASON_CODES_PATH, fix_hints, reason_descriptions, redact, safe_code
from tests.conftest import TEST_KEY

OCTOBER = date(2026, 10, 1)
SCRIPT = "<script>alert(1)</script>"
PSEUDONYM = "P5EUD0NYM0f00ba4"
NHS = "9990000018"
DOB = "1961-13-14"


def add_file(
    con: duckdb.DuckDBPyConnection,
    file_id: int,
    file_name: str,
    status: str,
    received: int,
    loaded: int,
    *,
    sheet: str | None = None,
    sha: str | None = None,
    table: str | None = None,
    submitter: str | None = None,
    period: date | None = OCTOBER,
    version: int | None = None,
    reason: str | None = None,
    message: str = "",
    day: int = 3,
) -> None:
    con.execute(
        "INSERT INTO meta.files VALUES (?, ?, ?, ?, 100, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?)",
        [
            file_id,
            file_name,
            sheet,
            sha or f"sha{file_id}",
            table,
            submitter,
            period,
            version,
            status,
            reason,
            received,
            loaded,
            received - loaded,
            datetime(2026, 11, day, 9, file_id),
            message or f"{file_name}: ok",
        ],
    )


def add_row(
    con: duckdb.DuckDBPyConnection,
    file_id: int,
    file_name: str,
    table: str | None,
    record: int,
    column: str | None,
    reason: str,
    message: str,
) -> None:
    record_json = f'{{"person_id": "{PSEUDONYM}", "nhs_number": "{NHS}", "referral_id": "R{record}"}}'
    con.execute(
        "INSERT INTO quarantine.rows VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, TIMESTAMP '2026-11-03 09:00:00')",
        [file_id, file_name, table, record, record + 1, column, reason, message, record_json],
    )


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """Two providers and a practice for October 2026, plus files that belong to nobody or another month."""
    connection = duckdb.connect(str(tmp_path / "wh.duckdb"))
    for schema in ("meta", "raw", "quarantine", "ref"):
        connection.execute(f"CREATE SCHEMA {schema}")
    ensure_ingestion_schema(connection)
    c = connection
    # NLW01: a loaded CSV with 2 bad rows, a rejected CSV (BAD_HEADER), a renamed duplicate of the first,
    # costs sent twice (v1 superseded), a misspelt table name, and a September file
    ref = "provider_referrals_NLW01_202610.csv"
    add_file(c, 1, ref, "loaded", 10, 8, table="provider_referrals", submitter="NLW01", version=1)
    add_row(
        c,
        1,
        ref,
        "provider_referrals",
        4,
        "referral_source",
        "UNKNOWN_CODE",
        f"{ref}: row 4 (line 5): referral_source '{SCRIPT}' is not one of: gp, self [UNKNOWN_CODE]",
    )
    add_row(
        c,
        1,
        ref,
        "provider_referrals",
        7,
        "nhs_number",
        "INVALID_NHS_NUMBER",
        f"{ref}: row 7 (line 8): nhs_number not a valid NHS number (10 digits, modulus 11 check digit) "
        "[INVALID_NHS_NUMBER]",
    )
    contacts = "provider_contacts_NLW01_202610.csv"
    header_message = f"{contacts}: header has unknown column(s) notes. Expected columns for provider_contacts: …"
    add_file(
        c,
        2,
        contacts,
        "rejected",
        3,
        0,
        table="provider_contacts",
        submitter="NLW01",
        reason="BAD_HEADER",
        message=header_message,
    )
    for record in (1, 2, 3):
        add_row(c, 2, contacts, "provider_contacts", record, None, "BAD_HEADER", header_message)
    add_file(
        c,
        3,
        "provider_referrals_NLW01_202610 (1).csv",
        "duplicate",
        0,
        0,
        sha="sha1",
        period=None,
        reason="DUPLICATE_FILE",
        message=f"same bytes were already received as {ref}",
    )
    costs = "provider_costs_NLW01_202610.csv"
    add_file(c, 5, costs, "superseded", 2, 1, table="provider_costs", submitter="NLW01", version=1)
    add_row(
        c,
        5,
        costs,
        "provider_costs",
        2,
        "amount_gbp",
        "BAD_TYPE",
        f"{costs}: row 2 (line 3): amount_gbp '£12' is not an amount like 1234.50 (no commas or £) [BAD_TYPE]",
    )
    add_file(c, 6, costs, "loaded", 2, 2, table="provider_costs", submitter="NLW01", version=2, day=5)
    add_file(
        c,
        7,
        "provider_referals_NLW01_202610.csv",
        "rejected",
        0,
        0,
        period=None,
        reason="UNKNOWN_TABLE",
        message="'provider_referals' is not a known table",
    )
    add_file(
        c,
        8,
        "provider_referrals_NLW01_202609.csv",
        "loaded",
        4,
        3,
        table="provider_referrals",
        submitter="NLW01",
        period=date(2026, 9, 1),
        version=1,
    )
    add_row(
        c,
        8,
        "provider_referrals_NLW01_202609.csv",
        "provider_referrals",
        1,
        "link_worker_id",
        "PATTERN_MISMATCH",
        "September problem",
    )
    add_file(c, 9, "random name.csv", "rejected", 0, 0, period=None, reason="BAD_FILE_NAME")
    # NLW02: one workbook, two sheets: referrals loaded with 1 bad row, contacts rejected (too many bad rows)
    book = "provider_NLW02_202610.xlsx"
    add_file(
        c,
        10,
        book,
        "loaded",
        5,
        4,
        sheet="provider_referrals",
        sha="book",
        table="provider_referrals",
        submitter="NLW02",
        version=1,
    )
    add_row(
        c,
        10,
        book,
        "provider_referrals",
        3,
        "first_contact_date",
        "DATE_ORDER",
        f"{book} sheet provider_referrals: row 3 (line 4): first_contact_date '2026-09-20' is before "
        "referral_date '2026-10-01' [DATE_ORDER]",
    )
    add_file(
        c,
        11,
        book,
        "rejected",
        4,
        0,
        sheet="provider_contacts",
        sha="book",
        table="provider_contacts",
        submitter="NLW02",
        version=1,
        reason="TOO_MANY_BAD_ROWS",
        message="2 of 4 rows failed validation",
    )
    for record, reason in ((1, "OUT_OF_RANGE"), (2, "FILE_REJECTED"), (3, "OUT_OF_RANGE"), (4, "FILE_REJECTED")):
        add_row(
            c,
            11,
            book,
            "provider_contacts",
            record,
            "duration_minutes" if reason != "FILE_REJECTED" else None,
            reason,
            f"{book} sheet provider_contacts: row {record}: duration_minutes '999' is outside 1–480",
        )
    # A81001: a practice whose message quotes a date of birth and an NHS-number-shaped value
    events = "practice_events_A81001_202610.csv"
    add_file(c, 12, events, "loaded", 3, 2, table="practice_events", submitter="A81001", version=1)
    add_row(
        c,
        12,
        events,
        "practice_events",
        2,
        "date_of_birth",
        "BAD_DATE",
        f"{events}: row 2 (line 3): date_of_birth '{DOB}' is not a date YYYY-MM-DD [BAD_DATE]; "
        f"snomed_term '{NHS}' is longer than 255 characters [TOO_LONG]",
    )
    yield connection
    connection.close()


def by_submitter(packs: list[FeedbackPack]) -> dict[str, FeedbackPack]:
    return {p.submitter: p for p in packs}


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def output_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_one_pack_per_submitter_with_files_for_the_month(con, tmp_path):
    packs = build_submitter_feedback(con, OCTOBER, tmp_path / "out")
    assert [p.submitter for p in packs] == ["A81001", "NLW01", "NLW02"]
    folder = tmp_path / "out" / "feedback" / "202610"
    assert [p.name for p in output_files(tmp_path / "out")] == sorted(
        f"{code}_{kind}_202610.{ext}"
        for code in ("A81001", "NLW01", "NLW02")
        for kind, ext in (("feedback", "csv"), ("files", "csv"), ("feedback", "html"))
    )
    nlw01 = by_submitter(packs)["NLW01"]
    assert nlw01.rows_csv == folder / "NLW01_feedback_202610.csv"
    assert nlw01.files_csv == folder / "NLW01_files_202610.csv"
    assert nlw01.html == folder / "NLW01_feedback_202610.html"
    assert nlw01.period == OCTOBER
    only = build_submitter_feedback(con, date(2026, 10, 17), tmp_path / "only", submitters=["nlw02"])
    assert [p.submitter for p in only] == ["NLW02"]


def test_csv_rows_are_the_quarantined_rows_of_the_submitter_and_month(con, tmp_path):
    packs = by_submitter(build_submitter_feedback(con, OCTOBER, tmp_path))
    for submitter, file_ids in (("NLW01", [1, 2, 5]), ("NLW02", [10, 11]), ("A81001", [12])):
        expected = con.execute(
            "SELECT file_name, record_number, line_number, coalesce(column_name, ''), reason_code FROM quarantine.rows "
            "WHERE list_contains(?, file_id) ORDER BY file_name, file_id, record_number",
            [file_ids],
        ).fetchall()
        rows = read_csv(packs[submitter].rows_csv)
        got = [
            (r["file_name"], int(r["row_number"]), int(r["line_number"]), r["column"], r["reason_code"]) for r in rows
        ]
        assert got == expected, submitter
        assert all(r["reason"] == reason_descriptions()[r["reason_code"]] for r in rows)
    nlw02 = read_csv(packs["NLW02"].rows_csv)
    assert {r["sheet_name"] for r in nlw02} == {"provider_referrals", "provider_contacts"}
    files = read_csv(packs["NLW01"].files_csv)
    assert [(f["file_name"], f["status"]) for f in files] == [
        ("provider_contacts_NLW01_202610.csv", "rejected"),
        ("provider_costs_NLW01_202610.csv", "superseded"),
        ("provider_costs_NLW01_202610.csv", "loaded"),
        ("provider_referals_NLW01_202610.csv", "rejected"),
        ("provider_referrals_NLW01_202610 (1).csv", "duplicate"),
        ("provider_referrals_NLW01_202610.csv", "loaded"),
    ]
    superseded_row = next(r for r in read_csv(packs["NLW01"].rows_csv) if r["reason_code"] == "BAD_TYPE")
    assert superseded_row["what_to_do"].startswith("nothing")


def test_headline_numbers(con, tmp_path):
    packs = by_submitter(build_submitter_feedback(con, OCTOBER, tmp_path))
    nlw01, nlw02 = packs["NLW01"].counts, packs["NLW02"].counts
    assert (
        nlw01.files_received,
        nlw01.files_loaded,
        nlw01.files_superseded,
        nlw01.files_rejected,
        nlw01.files_duplicate,
    ) == (6, 2, 1, 2, 1)
    assert (nlw01.rows_received, nlw01.rows_loaded, nlw01.rows_not_loaded) == (17, 11, 6)
    assert (nlw01.rows_to_correct, nlw01.files_to_resend) == (2, 2)  # the superseded costs row is history
    assert (nlw02.files_received, nlw02.files_partly_loaded, nlw02.rows_received, nlw02.rows_loaded) == (1, 1, 9, 4)
    assert (nlw02.rows_to_correct, nlw02.files_to_resend) == (3, 1)  # FILE_REJECTED rows were fine
    html = packs["NLW01"].html.read_text(encoding="utf-8")
    assert (
        "6 files received: 2 loaded, 1 replaced by a later version, 2 rejected, 1 already received (duplicate); "
        "17 rows received, 11 loaded, 6 not loaded."
    ) in html
    assert "To do: send 2 files again and correct 2 rows" in html
    assert "1 file received: 1 partly loaded; 9 rows received, 4 loaded, 5 not loaded." in (
        packs["NLW02"].html.read_text(encoding="utf-8")
    )
    assert "Based on files we received up to 5 November 2026, 09:06." in html  # latest received_at, not the clock


def test_html_escapes_submitted_values_and_is_self_contained(con, tmp_path):
    html = by_submitter(build_submitter_feedback(con, OCTOBER, tmp_path))["NLW01"].html.read_text(encoding="utf-8")
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert not re.search(r"<(script|link|img|iframe)\b|\bsrc=|https?://|@import", html, re.IGNORECASE)
    assert '<meta name="viewport"' in html and "@media print" in html
    # what to fix: grouped by reason with the plain description and a hint; files to send again
    assert str(escape(reason_descriptions()["UNKNOWN_CODE"])) in html
    assert fix_hints()["BAD_HEADER"].split(".")[0] in html
    assert "provider_contacts_NLW01_202610.csv" in html


def test_nothing_that_identifies_a_person_leaves(con, tmp_path):
    build_submitter_feedback(con, OCTOBER, tmp_path / "out")
    for path in output_files(tmp_path / "out"):
        text = path.read_text(encoding="utf-8-sig")
        for forbidden in (PSEUDONYM, "person_id", NHS, DOB, '{"', "R4"):
            assert forbidden not in text, (path.name, forbidden)
    practice_csv = tmp_path / "out" / "feedback" / "202610" / "A81001_feedback_202610.csv"
    assert "date_of_birth '[masked]'" in practice_csv.read_text("utf-8-sig")


def test_rerun_is_byte_identical(con, tmp_path):
    build_submitter_feedback(con, OCTOBER, tmp_path / "a")
    first = {p.relative_to(tmp_path / "a"): p.read_bytes() for p in output_files(tmp_path / "a")}
    build_submitter_feedback(con, OCTOBER, tmp_path / "a")
    build_submitter_feedback(con, OCTOBER, tmp_path / "b")
    assert {p.relative_to(tmp_path / "a"): p.read_bytes() for p in output_files(tmp_path / "a")} == first
    assert {p.relative_to(tmp_path / "b"): p.read_bytes() for p in output_files(tmp_path / "b")} == first


def test_untrusted_submitter_codes_make_safe_paths(con, tmp_path):
    add_file(
        con,
        20,
        "provider_costs_EVIL_202610.csv",
        "loaded",
        1,
        1,
        table="provider_costs",
        submitter="../../etc/x<b>",
        version=1,
    )
    packs = build_submitter_feedback(con, OCTOBER, tmp_path / "out", submitters=["../../etc/x<b>"])
    assert len(packs) == 1
    folder = (tmp_path / "out" / "feedback" / "202610").resolve()
    for path in (packs[0].rows_csv, packs[0].files_csv, packs[0].html):
        assert path.resolve().parent == folder
        assert re.fullmatch(r"[A-Z0-9]+_(feedback|files)_202610\.(csv|html)", path.name)
    assert safe_code("NLW01") == "NLW01"
    assert safe_code("NLW-01") != safe_code("NLW01") and re.fullmatch("[A-Z0-9]+", safe_code("NLW-01"))
    assert safe_code("").startswith("UNKNOWN")


def test_spreadsheet_formulas_are_neutralised(con, tmp_path):
    add_file(
        con, 21, "provider_costs_NLW03_202610.csv", "loaded", 1, 0, table="provider_costs", submitter="NLW03", version=1
    )
    add_row(
        con, 21, "provider_costs_NLW03_202610.csv", "provider_costs", 1, "cost_type", "UNKNOWN_CODE", '=HYPERLINK("x")'
    )
    pack = build_submitter_feedback(con, OCTOBER, tmp_path, submitters=["NLW03"])[0]
    assert read_csv(pack.rows_csv)[0]["message"] == '\'=HYPERLINK("x")'


def test_every_reason_code_has_a_fix_hint():
    codes = yaml.safe_load(REASON_CODES_PATH.read_text(encoding="utf-8"))
    all_codes = set(codes["row"]) | set(codes["file"]) | {"FILE_REJECTED"}
    hints = fix_hints()
    assert sorted(c for c in all_codes if not hints.get(c, "").strip()) == []
    assert sorted(set(hints) - all_codes) == []  # no hint for a code that no longer exists
    assert all(reason_descriptions().get(c) for c in all_codes)


def test_redact_masks_personal_values_only():
    text = "x.csv: row 1 (line 2): date_of_birth 'it's 1961' is not a date [BAD_DATE]; sex 'Q' is not one of: 1, 2"
    assert redact(text) == (
        "x.csv: row 1 (line 2): date_of_birth '[masked]' is not a date [BAD_DATE]; sex 'Q' is not one of: 1, 2"
    )
    assert redact("nhs 999 000 0018 here") == "nhs [masked] here"


def test_end_to_end_with_real_ingestion(tmp_path):
    """A small bad CSV through the real loader: the pack matches what ingestion recorded."""
    from orchestration.ingest.loader import ingest_paths
    from tests.test_ingest import NAME, referral_row, referrals_csv

    con = duckdb.connect(str(tmp_path / "e2e.duckdb"))
    for schema in ("ref", "meta", "raw", "quarantine"):
        con.execute(f"CREATE SCHEMA {schema}")
    con.execute("CREATE TABLE ref.practices AS SELECT 'A81001' AS practice_code, true AS is_gp_practice")
    con.execute("CREATE TABLE ref.providers AS SELECT 'NLW01' AS provider_code")
    con.execute("CREATE TABLE ref.pcns AS SELECT 'U00070' AS pcn_code")
    con.execute("CREATE TABLE ref.snomed_codelist AS SELECT '871731000000106' AS code")
    rows = [referral_row(i) for i in range(1, 9)] + [
        referral_row(9, referral_source=SCRIPT),
        referral_row(10, nhs_number="9990000019"),
    ]
    path = tmp_path / NAME
    path.write_bytes(referrals_csv(rows))
    ingest_paths(con, [path], TEST_KEY.encode(), 0.5, date(2026, 11, 24))
    try:
        packs = build_submitter_feedback(con, OCTOBER, tmp_path / "out")
        assert [p.submitter for p in packs] == ["NLW01"]
        counts = packs[0].counts
        assert (counts.rows_received, counts.rows_loaded, counts.rows_to_correct) == (10, 8, 2)
        rows_out = read_csv(packs[0].rows_csv)
        assert [(r["row_number"], r["column"], r["reason_code"]) for r in rows_out] == [
            ("9", "referral_source", "UNKNOWN_CODE"),
            ("10", "nhs_number", "INVALID_NHS_NUMBER"),
        ]
        person_ids = [r[0] for r in con.execute("SELECT person_id FROM raw.provider_referrals").fetchall()]
        for out in output_files(tmp_path / "out"):
            text = out.read_text(encoding="utf-8-sig")
            assert "9990000019" not in text
            assert out.suffix != ".html" or SCRIPT not in text
            assert not any(pid in text for pid in person_ids)
    finally:
        con.close()


def test_examples_are_capped_and_the_rest_pointed_to(con, tmp_path):
    name = "provider_contacts_NLW04_202610.csv"
    add_file(con, 30, name, "loaded", 500, 475, table="provider_contacts", submitter="NLW04", version=1)
    for record in range(1, 26):
        add_row(
            con,
            30,
            name,
            "provider_contacts",
            record,
            "mode",
            "UNKNOWN_CODE",
            f"{name}: row {record} (line {record + 1}): mode 'phone' is not one of: telephone [UNKNOWN_CODE]",
        )
    pack = build_submitter_feedback(con, OCTOBER, tmp_path, submitters=["NLW04"])[0]
    html = pack.html.read_text(encoding="utf-8")
    assert html.count('<td data-label="Problem"') == 20
    assert "…and 5 more rows with this problem" in html
    assert "1 file received: 1 loaded; 500 rows received, 475 loaded, 25 not loaded." in html
    assert len(read_csv(pack.rows_csv)) == 25
