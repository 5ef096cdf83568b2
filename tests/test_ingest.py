"""Ingestion against hostile input: every file gets the expected outcome, nothing is lost."""

from __future__ import annotations

import codecs
import io
from datetime import date, datetime, time
from pathlib import Path

import duckdb
import openpyxl
import pytest

from orchestration.ingest.loader import FileOutcome, ingest_paths
from orchestration.ingest.pseudonym import pseudonymise
from orchestration.settings import SettingsError, pseudonym_key
from tests.conftest import TEST_KEY

TODAY = date(2026, 11, 24)
KEY = TEST_KEY.encode()
REFERRAL_HEADER = (
    "provider_code,referral_id,nhs_number,practice_code,referral_date,referral_source,referral_reasons,"
    "link_worker_id,first_contact_date,care_plan_agreed_date,discharge_date,discharge_reason"
)
GOOD_NHS = ["9990000018", "9990000026", "9990000034", "9990000042", "9990000050"]


def referral_row(index: int, **changes: str) -> str:
    values = {
        "provider_code": "NLW01",
        "referral_id": f"R{index}",
        "nhs_number": GOOD_NHS[index % len(GOOD_NHS)],
        "practice_code": "A81001",
        "referral_date": "2026-10-01",
        "referral_source": "gp",
        "referral_reasons": "mental_health",
        "link_worker_id": "LW1",
        "first_contact_date": "2026-10-05",
        "care_plan_agreed_date": "",
        "discharge_date": "",
        "discharge_reason": "",
    }
    values.update(changes)
    return ",".join(values[c] for c in REFERRAL_HEADER.split(","))


def referrals_csv(rows: list[str], header: str = REFERRAL_HEADER, newline: str = "\n") -> bytes:
    return (newline.join([header, *rows]) + newline).encode()


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(str(tmp_path / "wh.duckdb"))
    for schema in ("ref", "meta", "raw", "quarantine"):
        connection.execute(f"CREATE SCHEMA {schema}")
    connection.execute(
        "CREATE TABLE ref.practices AS SELECT * FROM (VALUES ('A81001', true), ('A81002', true)) "
        "t(practice_code, is_gp_practice)"
    )
    connection.execute("CREATE TABLE ref.providers AS SELECT 'NLW01' AS provider_code")
    connection.execute("CREATE TABLE ref.pcns AS SELECT 'U00070' AS pcn_code")
    connection.execute(
        "CREATE TABLE ref.snomed_codelist AS SELECT * FROM (VALUES ('871731000000106'), ('871711000000103')) t(code)"
    )
    yield connection
    connection.close()


def ingest(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    name: str,
    data: bytes,
    threshold: float = 0.5,
) -> list[FileOutcome]:
    path = folder / name
    path.write_bytes(data)
    return ingest_paths(con, [path], KEY, threshold, TODAY)


def one(outcomes: list[FileOutcome]) -> FileOutcome:
    assert len(outcomes) == 1, outcomes
    return outcomes[0]


def reasons(con: duckdb.DuckDBPyConnection, file_id: int) -> list[tuple[int, str, str]]:
    return con.execute(
        "SELECT record_number, column_name, reason_code FROM quarantine.rows WHERE file_id = ? ORDER BY record_number",
        [file_id],
    ).fetchall()


def assert_reconciles(con: duckdb.DuckDBPyConnection) -> None:
    """received = loaded + quarantined per file, and those counts match the rows actually stored."""
    rows = con.execute("""
        SELECT f.file_id, f.rows_received, f.rows_loaded, f.rows_quarantined,
          (SELECT count(*) FROM quarantine.rows q WHERE q.file_id = f.file_id),
          (SELECT count(*) FROM raw.provider_referrals r WHERE r.file_id = f.file_id)
          + (SELECT count(*) FROM raw.provider_contacts r WHERE r.file_id = f.file_id)
          + (SELECT count(*) FROM raw.outcome_measures r WHERE r.file_id = f.file_id)
          + (SELECT count(*) FROM raw.practice_events r WHERE r.file_id = f.file_id)
          + (SELECT count(*) FROM raw.provider_costs r WHERE r.file_id = f.file_id)
          + (SELECT count(*) FROM raw.practice_appointments r WHERE r.file_id = f.file_id)
        FROM meta.files f""").fetchall()
    for file_id, received, loaded, quarantined, in_quarantine, in_raw in rows:
        assert received == loaded + quarantined, file_id
        assert in_quarantine == quarantined, file_id
        assert in_raw == loaded, file_id


NAME = "provider_referrals_NLW01_202610.csv"


@pytest.mark.parametrize(
    ("changes", "column", "reason"),
    [
        ({"nhs_number": "9990000019"}, "nhs_number", "INVALID_NHS_NUMBER"),
        ({"nhs_number": "99900000"}, "nhs_number", "INVALID_NHS_NUMBER"),
        ({"nhs_number": ""}, "nhs_number", "MISSING_REQUIRED"),
        ({"referral_date": "31/10/2026", "first_contact_date": ""}, "referral_date", "BAD_DATE"),
        ({"referral_date": "2026-02-30", "first_contact_date": ""}, "referral_date", "BAD_DATE"),
        ({"referral_date": "2026-11-02", "first_contact_date": ""}, "referral_date", "DATE_OUTSIDE_PERIOD"),
        ({"referral_date": "2027-01-02", "first_contact_date": ""}, "referral_date", "FUTURE_DATE"),
        ({"referral_source": "doctor"}, "referral_source", "UNKNOWN_CODE"),
        ({"referral_reasons": "mental_health;money"}, "referral_reasons", "UNKNOWN_CODE"),
        ({"practice_code": "A8100"}, "practice_code", "PATTERN_MISMATCH"),
        ({"practice_code": "B99999"}, "practice_code", "UNKNOWN_PRACTICE"),
        ({"provider_code": "NLW02"}, "provider_code", "UNKNOWN_PROVIDER"),
        ({"first_contact_date": "2026-09-20"}, "first_contact_date", "DATE_ORDER"),
        ({"discharge_date": "2026-10-20"}, "discharge_reason", "MISSING_REQUIRED"),
        ({"discharge_reason": "bored", "discharge_date": "2026-10-20"}, "discharge_reason", "UNKNOWN_CODE"),
    ],
)
def test_bad_row_is_quarantined_with_reason(con, tmp_path, changes, column, reason):
    rows = [referral_row(i) for i in range(1, 4)] + [referral_row(9, **changes)]
    outcome = one(ingest(con, tmp_path, NAME, referrals_csv(rows)))
    assert outcome.status == "loaded"
    assert (outcome.rows_received, outcome.rows_loaded, outcome.rows_quarantined) == (4, 3, 1)
    assert reasons(con, outcome.file_id) == [(4, column, reason)]
    message = con.execute("SELECT message FROM quarantine.rows").fetchall()[0][0]
    assert NAME in message and "row 4 (line 5)" in message and reason in message
    assert_reconciles(con)


def test_duplicate_key_and_submitter_mismatch(con, tmp_path):
    rows = [
        referral_row(1),
        referral_row(1),
        referral_row(2),
        referral_row(3),
        referral_row(4),
        referral_row(5),
        referral_row(6),
        referral_row(7),
    ]
    outcome = one(ingest(con, tmp_path, "provider_referrals_NLW01_202610.csv", referrals_csv(rows)))
    assert reasons(con, outcome.file_id) == [(2, "referral_id", "DUPLICATE_KEY")]
    events_header = (
        "practice_code,nhs_number,date_of_birth,sex,ethnic_category,lsoa_code,event_date,snomed_code,snomed_term"
    )
    event_rows = [f"A81001,{GOOD_NHS[0]},1960-01-0{d},1,A,E01000001,2026-10-0{d},871731000000106," for d in range(1, 9)]
    event_rows.append(f"A81002,{GOOD_NHS[1]},1960-01-01,2,B,,2026-10-09,871731000000106,")
    event_rows.append(f"A81001,{GOOD_NHS[1]},1960-01-01,2,B,,2026-10-09,871731000000107,")
    event_rows.append(f"A81001,{GOOD_NHS[1]},1960-01-01,2,B,,2026-10-09,22298006,")
    data = "\n".join([events_header, *event_rows]).encode()
    outcome = one(ingest(con, tmp_path, "practice_events_A81001_202610.csv", data))
    assert reasons(con, outcome.file_id) == [
        (9, "practice_code", "SUBMITTER_MISMATCH"),
        (10, "snomed_code", "INVALID_SNOMED"),
        (11, "snomed_code", "NOT_IN_CODELIST"),
    ]
    assert_reconciles(con)


def test_whitespace_and_case_are_normalised_not_rejected(con, tmp_path):
    rows = [
        referral_row(
            1,
            referral_source="\u00a0GP\t",
            referral_reasons="Mental_Health ; social_isolation",
            practice_code="a81001",
            nhs_number="999 000 0018",
        )
    ]
    outcome = one(ingest(con, tmp_path, NAME, referrals_csv(rows)))
    assert outcome.rows_loaded == 1, reasons(con, outcome.file_id)
    stored = con.execute(
        "SELECT referral_source, referral_reasons, practice_code, person_id FROM raw.provider_referrals"
    ).fetchall()
    assert stored == [("gp", "mental_health;social_isolation", "A81001", pseudonymise("9990000018", KEY))]


def test_bom_crlf_and_quoted_fields_are_accepted(con, tmp_path):
    rows = [referral_row(1), referral_row(2, link_worker_id='"LW2"')]
    data = codecs.BOM_UTF8 + referrals_csv(rows, newline="\r\n")
    contacts = (
        b"provider_code,referral_id,contact_date,mode,duration_minutes,attended,activity_category,activity_provider\n"
        b'NLW01,R1,2026-10-05,face_to_face,45,Y,arts,"Smith, Jones & Co\nCommunity Arts"\n'
        b"NLW01,R1,2026-10-12,telephone,20,N,,\n"
    )
    assert one(ingest(con, tmp_path, NAME, data)).rows_loaded == 2
    outcome = one(ingest(con, tmp_path, "provider_contacts_NLW01_202610.csv", contacts))
    assert outcome.rows_loaded == 2
    provider = con.execute("SELECT activity_provider FROM raw.provider_contacts WHERE record_number = 1").fetchall()
    assert provider == [("Smith, Jones & Co\nCommunity Arts",)]
    # the second record starts on line 4 because the first spans two lines
    assert con.execute("SELECT count(*) FROM meta.files WHERE status = 'loaded'").fetchall() == [(2,)]


def test_windows_1252_is_converted_not_garbled(con, tmp_path):
    contacts = (
        "provider_code,referral_id,contact_date,mode,duration_minutes,attended,activity_category,activity_provider\n"
        "NLW01,R1,2026-10-05,face_to_face,45,Y,arts,Caf\u00e9 Society\n"
    ).encode("cp1252")
    outcome = one(ingest(con, tmp_path, "provider_contacts_NLW01_202610.csv", contacts))
    assert outcome.status == "loaded" and "Windows-1252" in outcome.message
    assert con.execute("SELECT activity_provider FROM raw.provider_contacts").fetchall() == [("Caf\u00e9 Society",)]


@pytest.mark.parametrize(
    ("name", "data", "reason", "received"),
    [
        ("provider_referrals_NLW01.csv", b"x\n", "BAD_FILE_NAME", 0),
        ("provider_referals_NLW01_202610.csv", referrals_csv([referral_row(1)]), "UNKNOWN_TABLE", 1),
        ("provider_referrals_NLW01_202610.txt", b"x", "UNSUPPORTED_FORMAT", 0),
        ("provider_referrals_NLW01_202612.csv", referrals_csv([referral_row(1)]), "FUTURE_PERIOD", 1),
        ("provider_referrals_NLW01_202610.csv", b"", "EMPTY_FILE", 0),
        ("provider_referrals_NLW01_202610.csv", (REFERRAL_HEADER + "\n").encode(), "HEADER_ONLY", 0),
        ("provider_referrals_NLW01_202610.csv", b"\n\n", "NO_HEADER", 0),
        (
            "provider_referrals_NLW01_202610.csv",
            referrals_csv([referral_row(1).replace(",", ";")], header=REFERRAL_HEADER.replace(",", ";")),
            "WRONG_DELIMITER",
            1,
        ),
        (
            "provider_referrals_NLW01_202610.csv",
            referrals_csv([referral_row(1)], header=REFERRAL_HEADER.replace("referral_date", "date_referred")),
            "BAD_HEADER",
            1,
        ),
        (
            "provider_referrals_NLW01_202610.csv",
            referrals_csv([referral_row(1) + ",x"], header=REFERRAL_HEADER + ",notes"),
            "BAD_HEADER",
            1,
        ),
        ("provider_referrals_NLW01_202610.csv", b"provider_code\n\x81\x8d\x90\n", "BAD_ENCODING", 0),
        ("provider_referrals_NLW01_202610.csv", b"provider_code\x00,x\n", "BAD_ENCODING", 0),
    ],
)
def test_whole_file_problems_are_rejected_with_a_clear_message(con, tmp_path, name, data, reason, received):
    outcome = one(ingest(con, tmp_path, name, data))
    assert (outcome.status, outcome.reason_code) == ("rejected", reason)
    assert name in outcome.message
    assert outcome.rows_received == received == outcome.rows_quarantined
    assert_reconciles(con)


def test_utf16_with_byte_order_mark_is_converted(con, tmp_path):
    data = referrals_csv([referral_row(1)]).decode().encode("utf-16")
    outcome = one(ingest(con, tmp_path, NAME, data))
    assert (outcome.status, outcome.rows_loaded) == ("loaded", 1)
    assert "UTF-16" in outcome.message


def test_truncated_last_line_is_quarantined(con, tmp_path):
    rows = [referral_row(i) for i in range(1, 6)]
    data = referrals_csv(rows)[:-40]  # cut the last line short, as an interrupted upload does
    outcome = one(ingest(con, tmp_path, NAME, data, threshold=0.5))
    assert (outcome.rows_received, outcome.rows_loaded) == (5, 4)
    assert reasons(con, outcome.file_id) == [(5, None, "WRONG_FIELD_COUNT")]
    record = con.execute("SELECT record FROM quarantine.rows").fetchall()[0][0]
    assert GOOD_NHS[0] not in record and GOOD_NHS[5 % 5] not in record


def test_too_many_bad_rows_rejects_the_whole_file(con, tmp_path):
    rows = [referral_row(i) for i in range(1, 20)] + [referral_row(20, referral_source="doctor")]
    assert one(ingest(con, tmp_path, NAME, referrals_csv(rows), threshold=0.05)).status == "loaded"  # 5% is allowed
    rows.append(referral_row(21, referral_source="doctor"))
    outcome = one(ingest(con, tmp_path, NAME.replace(".csv", ".csv"), referrals_csv(rows) + b"\n", threshold=0.05))
    assert (outcome.status, outcome.reason_code) == ("rejected", "TOO_MANY_BAD_ROWS")
    assert (outcome.rows_received, outcome.rows_loaded, outcome.rows_quarantined) == (21, 0, 21)
    codes = dict(
        con.execute(
            "SELECT reason_code, count(*) FROM quarantine.rows WHERE file_id = ? GROUP BY 1", [outcome.file_id]
        ).fetchall()
    )
    assert codes == {"UNKNOWN_CODE": 2, "FILE_REJECTED": 19}
    # the earlier loaded version stays current: a rejected resubmission does not supersede it
    assert con.execute("SELECT status FROM meta.files ORDER BY file_id").fetchall() == [("loaded",), ("rejected",)]
    assert_reconciles(con)


def test_duplicate_file_and_resubmission_versions(con, tmp_path):
    first = referrals_csv([referral_row(1), referral_row(2)])
    assert one(ingest(con, tmp_path, NAME, first)).version == 1
    assert ingest(con, tmp_path, NAME, first) == []  # the same file seen again: nothing happens
    copy = one(ingest(con, tmp_path, "copy_" + NAME, first))
    assert (copy.status, copy.reason_code) == ("duplicate", "DUPLICATE_FILE")
    (tmp_path / "v2").mkdir()
    second = one(ingest(con, tmp_path / "v2", NAME, referrals_csv([referral_row(1, referral_source="self")])))
    assert (second.status, second.version) == ("loaded", 2)
    statuses = con.execute(
        "SELECT version, status FROM meta.files WHERE status <> 'duplicate' ORDER BY file_id"
    ).fetchall()
    assert statuses == [(1, "superseded"), (2, "loaded")]
    assert con.execute("SELECT count(*) FROM raw.provider_referrals").fetchall() == [(3,)]  # old version kept
    assert_reconciles(con)


def xlsx_bytes(sheets: dict[str, list[list[object]]]) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_workbook_with_date_cells_and_numbers(con, tmp_path):
    header = REFERRAL_HEADER.split(",")
    referral = [
        "NLW01",
        "R1",
        9990000018,
        "A81001",
        date(2026, 10, 1),
        "gp",
        "mental_health",
        "LW1",
        date(2026, 10, 5),
        None,
        None,
        None,
    ]
    contacts = [
        ["provider_code", "referral_id", "contact_date", "mode", "duration_minutes", "attended"],
        ["NLW01", "R1", date(2026, 10, 5), "telephone", "30", "Y"],
        [None] * 6,
    ]
    data = xlsx_bytes({"provider_referrals": [header, referral], "provider_contacts": contacts})
    outcomes = ingest(con, tmp_path, "provider_NLW01_202610.xlsx", data)
    assert [(o.table_name, o.sheet_name, o.status, o.rows_loaded) for o in outcomes] == [
        ("provider_referrals", "provider_referrals", "loaded", 1),
        ("provider_contacts", "provider_contacts", "loaded", 1),
    ]
    assert con.execute("SELECT person_id, referral_date FROM raw.provider_referrals").fetchall() == [
        (pseudonymise("9990000018", KEY), date(2026, 10, 1))
    ]


@pytest.mark.parametrize(
    ("sheets", "reason"),
    [
        ({"provider_contacts": [["provider_code"]]}, "BAD_SHEETS"),
        (
            {"provider_referrals": [REFERRAL_HEADER.split(",")], "provider_contacts": [["x"]], "notes": [["x"]]},
            "BAD_SHEETS",
        ),
    ],
)
def test_xlsx_missing_or_extra_sheets(con, tmp_path, sheets, reason):
    outcome = one(ingest(con, tmp_path, "provider_NLW01_202610.xlsx", xlsx_bytes(sheets)))
    assert (outcome.status, outcome.reason_code) == ("rejected", reason)
    assert "sheet" in outcome.message


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"PK\x03\x04 not really a zip", "corrupt"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "password-protected"),
    ],
)
def test_corrupt_or_protected_xlsx(con, tmp_path, data, fragment):
    outcome = one(ingest(con, tmp_path, "provider_NLW01_202610.xlsx", data))
    assert (outcome.status, outcome.reason_code) == ("rejected", "BAD_WORKBOOK")
    assert fragment in outcome.message


def test_outcome_items_follow_the_instrument(con, tmp_path):
    header = (
        "provider_code,referral_id,nhs_number,assessment_date,timepoint,instrument,"
        "item_1,item_2,item_3,item_4,item_5,item_6,item_7,eq5d_vas"
    )
    rows = [
        f"NLW01,R1,{GOOD_NHS[0]},2026-10-05,baseline,SWEMWBS,3,3,3,3,3,3,3,",
        f"NLW01,R1,{GOOD_NHS[0]},2026-10-05,baseline,UCLA3,1,2,3,,,,,",
        f"NLW01,R1,{GOOD_NHS[0]},2026-10-05,baseline,EQ5D5L,1,1,2,1,5,,,80",
        f"NLW01,R1,{GOOD_NHS[0]},2026-10-05,baseline,ONS4,7,7,6,3,,,,",
        f"NLW01,R2,{GOOD_NHS[1]},2026-10-05,baseline,SWEMWBS,3,3,3,3,3,6,3,",
        f"NLW01,R3,{GOOD_NHS[1]},2026-10-05,baseline,UCLA3,1,2,3,1,,,,",
        f"NLW01,R4,{GOOD_NHS[1]},2026-10-05,baseline,ONS4,7,7,6,3,,,,50",
        f"NLW01,R5,{GOOD_NHS[1]},2026-10-05,baseline,SWEMWBS,3,3,3,,3,3,3,",
    ]
    outcome = one(ingest(con, tmp_path, "outcome_measures_NLW01_202610.csv", "\n".join([header, *rows]).encode()))
    assert reasons(con, outcome.file_id) == [
        (5, "item_6", "OUT_OF_RANGE_SCORE"),
        (6, "item_4", "ITEM_NOT_IN_INSTRUMENT"),
        (7, "eq5d_vas", "ITEM_NOT_IN_INSTRUMENT"),
    ]
    assert outcome.rows_loaded == 5  # a missing item is loaded and later counted as not scorable


def test_no_raw_nhs_number_is_stored(con, tmp_path):
    rows = [referral_row(i) for i in range(5)] + [referral_row(7, referral_source="x")]
    ingest(con, tmp_path, NAME, referrals_csv(rows))
    dump = " ".join(
        str(v)
        for table in ("raw.provider_referrals", "quarantine.rows", "meta.files")
        for row in con.execute(f"SELECT * FROM {table}").fetchall()
        for v in row
    )
    for number in GOOD_NHS:
        assert number not in dump


def test_missing_key_outside_demo_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("SPRX_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("SPRX_DEMO", raising=False)
    with pytest.raises(SettingsError, match="SPRX_PSEUDONYM_KEY is not set"):
        pseudonym_key()
    monkeypatch.setenv("SPRX_DEMO", "1")
    assert b"demo" in pseudonym_key()


def test_reference_must_be_loaded_first(tmp_path):
    connection = duckdb.connect(str(tmp_path / "empty.duckdb"))
    for schema in ("ref", "meta", "raw", "quarantine"):
        connection.execute(f"CREATE SCHEMA {schema}")
    with pytest.raises(Exception, match="sprx reference load"):
        ingest_paths(connection, [], KEY, 0.05, TODAY)


def test_costs_and_contacts_rules(con, tmp_path):
    costs = "\n".join(
        [
            "provider_code,pcn_code,period,cost_type,amount_gbp",
            "NLW01,U00070,2026-10,staff,12450.00",
            "NLW01,U00070,2026-10-01,overheads,100",  # an XLSX date cell for the month is accepted
            "NLW01,U99999,2026-10,activities,10.5",
            'NLW01,U00070,2026-10,activities,"1,200.00"',
            "NLW01,U00070,2026-09,volunteer_time,5",
            "NLW01,U00070,2026-10,volunteer_time,-5",
        ]
    ).encode()
    outcome = one(ingest(con, tmp_path, "provider_costs_NLW01_202610.csv", costs, threshold=0.9))
    assert reasons(con, outcome.file_id) == [
        (3, "pcn_code", "UNKNOWN_PCN"),
        (4, "amount_gbp", "BAD_TYPE"),
        (5, "period", "DATE_OUTSIDE_PERIOD"),
        (6, "amount_gbp", "OUT_OF_RANGE"),
    ]
    assert con.execute("SELECT period, amount_gbp FROM raw.provider_costs ORDER BY record_number").fetchall()[0] == (
        date(2026, 10, 1),
        pytest.approx(12450),
    )
    contacts = "\n".join(
        [
            "provider_code,referral_id,contact_date,mode,duration_minutes,attended,activity_category,activity_provider",
            "NLW01,R1,2026-10-05,face_to_face,0,Y,,",
            "NLW01,R1,2026-10-05,face_to_face,4.5,Y,,",
            "NLW01,R1,2026-10-05,face_to_face,45,yes,,",
            f"NLW01,R1,2026-10-05,face_to_face,45,Y,,{'x' * 201}",
            "NLW01,R1,2026-10-05,face_to_face,45,Y,,",
        ]
    ).encode()
    outcome = one(ingest(con, tmp_path, "provider_contacts_NLW01_202610.csv", contacts, threshold=0.9))
    assert reasons(con, outcome.file_id) == [
        (1, "duration_minutes", "OUT_OF_RANGE"),
        (2, "duration_minutes", "BAD_TYPE"),
        (3, "attended", "UNKNOWN_CODE"),
        (4, "activity_provider", "TOO_LONG"),
    ]
    assert_reconciles(con)


def test_xlsx_rows_with_absent_trailing_cells_are_complete(con, tmp_path):
    """Writers (openpyxl write-only, Excel) omit trailing empty cells; those rows still load."""
    header = REFERRAL_HEADER.split(",")
    short = ["NLW01", "R1", "9990000018", "A81001", date(2026, 10, 1), "gp", "mental_health"]
    outcome = one(
        ingest(
            con, tmp_path, "provider_referrals_NLW01_202610.xlsx", xlsx_bytes({"provider_referrals": [header, short]})
        )
    )
    assert (outcome.status, outcome.rows_loaded) == ("loaded", 1), reasons(con, outcome.file_id)
    too_long = xlsx_bytes({"provider_referrals": [header, [*short, *[None] * 5, "extra"]]})
    outcome = one(ingest(con, tmp_path, "provider_referrals_NLW01_202609.xlsx", too_long, threshold=1.0))
    assert reasons(con, outcome.file_id) == [(1, None, "WRONG_FIELD_COUNT")]


@pytest.mark.parametrize("key", [b"k", b"test-pseudonym-key-0123456789", bytes(range(64)), b"long-key-" * 20])
def test_pseudonyms_in_sql_equal_python_hmac(key: bytes):
    """The loader's set-based HMAC-SHA256 in DuckDB equals Python's hmac for short, block-sized and long keys."""
    from orchestration.ingest.pseudonym import hmac_pads, pseudonym_sql

    numbers = [f"999{n:07d}" for n in range(0, 10_000_000, 99_991)]
    inner, outer = hmac_pads(key)
    con = duckdb.connect()
    rows = con.execute(
        f"SELECT n, {pseudonym_sql('n', '$inner', '$outer')} FROM unnest($numbers) AS t(n)",
        {"inner": inner, "outer": outer, "numbers": numbers},
    ).fetchall()
    assert len(rows) == len(numbers)
    assert all(digest == pseudonymise(number, key) for number, digest in rows)


AWKWARD_COLUMNS = [
    ["abc", " x ", "\ufeff y", "\u2003z\u2003", "", " ", None, "a,b"],  # text: trimmed as str.strip, blank as NULL
    [1.0, 2.5, -0.0, 1e20, 2.0**60, 1e-7, "", None, 7.0],  # numbers, with blank cells as calamine gives them
    [date(2026, 9, 1), "", None, date(1900, 1, 1)],
    [datetime(2026, 9, 1, 13, 5), "", datetime(1999, 12, 31, 23, 59, 59)],
    [1.0, "12", date(2026, 9, 1), True, None],  # a mixed column: cell by cell
    [True, False, None],
    [time(10, 30), ""],
    [None, None],
]


@pytest.mark.parametrize("column", AWKWARD_COLUMNS)
def test_xlsx_cells_cleaned_a_column_at_a_time_as_cell_by_cell(column):
    """The column-at-a-time path (Arrow) gives exactly the text the per-cell rule `_clean` gives."""
    from orchestration.ingest.reading import _clean, _clean_column

    assert _clean_column(column).to_pylist() == [_clean(value) for value in column]


def test_xlsx_blank_rows_extra_cells_and_line_numbers(con, tmp_path):
    """Blank rows take no record number, line numbers are the sheet's, a value beyond the header is malformed."""
    header = REFERRAL_HEADER.split(",")
    row = ["NLW01", "R1", "9990000018", "A81001", date(2026, 10, 1), "gp", "mental_health", "LW1", None, None, None]
    sheet = [
        [None],
        header,
        [*row, None],
        [" ", "\ufeff", None],  # blank: white space and a byte-order mark only
        [*row[:1], "R2", *row[2:], None],
        [*row[:1], "R3", *row[2:], None, None, "extra"],
    ]
    outcome = one(
        ingest(con, tmp_path, "provider_referrals_NLW01_202610.xlsx", xlsx_bytes({"provider_referrals": sheet}), 1.0)
    )
    assert (outcome.rows_received, outcome.rows_loaded) == (3, 2)
    loaded = con.execute("SELECT record_number, referral_id FROM raw.provider_referrals ORDER BY 1").fetchall()
    assert loaded == [(1, "R1"), (2, "R2")]
    quarantined = con.execute("SELECT record_number, line_number, reason_code FROM quarantine.rows").fetchall()
    assert quarantined == [(3, 6, "WRONG_FIELD_COUNT")]
