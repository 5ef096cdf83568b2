"""The generator's defect corpus: every injected bad row and bad file gets its expected reason, and
after the whole corpus the manifest reconciles to the row."""

import csv
from collections import Counter
from datetime import date
from pathlib import Path

import duckdb
import pytest

from extracts.synthetic import generate
from orchestration.ingest.loader import ingest_paths, landed_files
from orchestration.reference import load_reference_folder
from tests.conftest import TEST_KEY

THRESHOLD = 0.05


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("corpus")
    landing = root / "landing"
    summary = generate(scale="demo", months=2, seed=5, out_dir=landing, end_month="2026-09", defects=0.02)
    con = duckdb.connect(str(root / "warehouse.duckdb"))
    for schema in ("ref", "meta", "raw", "quarantine"):
        con.execute(f"CREATE SCHEMA {schema}")
    load_reference_folder(con, landing / "reference")
    outcomes = ingest_paths(con, landed_files(landing), TEST_KEY.encode(), THRESHOLD, date(2026, 11, 24))
    yield {"con": con, "landing": landing, "summary": summary, "outcomes": outcomes}
    con.close()


def read_expected(landing: Path, name: str) -> list[dict[str, str]]:
    with (landing / "expected" / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_corpus_is_large_and_varied(corpus):
    defects = read_expected(corpus["landing"], "defects.csv")
    bad_files = read_expected(corpus["landing"], "bad_files.csv")
    assert len(defects) + len(bad_files) >= 30
    assert len({d["reason_code"] for d in defects}) >= 12


def test_every_bad_row_is_quarantined_with_its_reason(corpus):
    con = corpus["con"]
    quarantined = {
        (file_name, table, record_number): (column or "", reason, message)
        for file_name, table, record_number, column, reason, message in con.execute(
            "SELECT file_name, table_name, record_number, column_name, reason_code, message FROM quarantine.rows"
        ).fetchall()
    }
    for defect in read_expected(corpus["landing"], "defects.csv"):
        key = (defect["file_name"], defect["table"], int(defect["row_number"]))
        assert key in quarantined, defect
        column, reason, message = quarantined[key]
        assert (column, reason) == (defect["column"], defect["reason_code"]), (defect, message)
        assert defect["file_name"] in message and f"row {defect['row_number']}" in message


def test_every_bad_file_is_rejected_with_its_reason(corpus):
    con = corpus["con"]
    rejected = dict(
        con.execute(
            "SELECT file_name, reason_code FROM meta.files WHERE status = 'rejected' AND reason_code IN "
            "(SELECT unnest(['BAD_FILE_NAME','UNKNOWN_TABLE','EMPTY_FILE','HEADER_ONLY','BAD_HEADER',"
            "'WRONG_DELIMITER','UNSUPPORTED_FORMAT']))"
        ).fetchall()
    )
    expected = {row["file_name"]: row["reason_code"] for row in read_expected(corpus["landing"], "bad_files.csv")}
    assert rejected == expected


def test_threshold_decides_rejection_per_file(corpus):
    con = corpus["con"]
    rows = con.execute(
        "SELECT f.file_id, f.status, f.reason_code, f.rows_received, "
        "count(q.record_number) FILTER (WHERE q.reason_code <> 'FILE_REJECTED') "
        "FROM meta.files f LEFT JOIN quarantine.rows q USING (file_id) "
        "WHERE f.table_name IS NOT NULL AND f.reason_code IS DISTINCT FROM 'BAD_HEADER' "
        "AND f.status IN ('loaded', 'rejected') GROUP BY ALL"
    ).fetchall()
    assert rows
    for _file_id, status, reason, received, bad in rows:
        if reason in (None, "TOO_MANY_BAD_ROWS"):
            assert (status == "rejected") == (bad / received > THRESHOLD)


def test_manifest_reconciles_to_the_row(corpus):
    con = corpus["con"]
    raw_by_file: Counter[int] = Counter()
    for table in (
        "practice_events",
        "practice_appointments",
        "provider_referrals",
        "provider_contacts",
        "provider_costs",
        "outcome_measures",
    ):
        raw_by_file.update(dict(con.execute(f"SELECT file_id, count(*) FROM raw.{table} GROUP BY 1").fetchall()))
    quarantine_by_file = Counter(
        dict(con.execute("SELECT file_id, count(*) FROM quarantine.rows GROUP BY 1").fetchall())
    )
    for file_id, received, loaded, quarantined in con.execute(
        "SELECT file_id, rows_received, rows_loaded, rows_quarantined FROM meta.files"
    ).fetchall():
        assert received == loaded + quarantined
        assert raw_by_file[file_id] == loaded and quarantine_by_file[file_id] == quarantined
    generated_rows = sum(corpus["summary"].rows.values())
    received_total = con.execute("SELECT sum(rows_received) FROM meta.files").fetchall()[0][0]
    assert received_total >= generated_rows  # bad files add their own records on top
