"""Loads are atomic and serialised: kill -9 mid-load loses nothing, concurrent ingests load each file once."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from tests.conftest import TEST_KEY

HEADER = (
    "provider_code,referral_id,nhs_number,practice_code,referral_date,referral_source,referral_reasons,"
    "link_worker_id,first_contact_date,care_plan_agreed_date,discharge_date,discharge_reason"
)
NHS = ["9990000018", "9990000026", "9990000034", "9990000042", "9990000050"]

INGEST_SCRIPT = textwrap.dedent("""
    import sys
    from datetime import date
    from pathlib import Path
    from orchestration.ingest.loader import ingest_paths, landed_files
    from orchestration.warehouse import write_connection

    warehouse, landing, key = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3].encode()
    def progress(path, outcomes):
        print("done", path.name, flush=True)
    with write_connection(warehouse) as con:
        ingest_paths(con, landed_files(landing), key, 0.05, date(2026, 11, 24), on_file=progress, chunk_rows=1)
    print("finished", flush=True)
""")


def write_files(landing: Path, providers: int, rows: int) -> int:
    for index in range(providers):
        code = f"NLW{index:02d}"
        lines = [HEADER] + [f"{code},R{n},{NHS[n % 5]},A81001,2026-10-01,gp,mental_health,LW1,,,," for n in range(rows)]
        (landing / f"provider_referrals_{code}_202610.csv").write_text("\n".join(lines) + "\n")
    return providers * rows


def make_reference(warehouse: Path, providers: int) -> None:
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse))
    for schema in ("ref", "meta", "raw", "quarantine"):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    con.execute("CREATE TABLE ref.practices AS SELECT 'A81001' AS practice_code, true AS is_gp_practice")
    con.execute(
        "CREATE TABLE ref.providers AS SELECT 'NLW' || lpad(CAST(i AS VARCHAR), 2, '0') AS provider_code "
        f"FROM range({providers}) t(i)"
    )
    con.execute("CREATE TABLE ref.pcns AS SELECT 'U00070' AS pcn_code")
    con.execute("CREATE TABLE ref.snomed_codelist AS SELECT '871731000000106' AS code")
    con.close()


def start_ingest(warehouse: Path, landing: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", INGEST_SCRIPT, str(warehouse), str(landing), TEST_KEY],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )


def counts(warehouse: Path) -> tuple[int, int, int, int]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        files = con.execute(
            "SELECT count(*), count(DISTINCT sha256), sum(rows_loaded) FROM meta.files WHERE status = 'loaded'"
        ).fetchall()[0]
        raw = con.execute("SELECT count(*) FROM raw.provider_referrals").fetchall()[0][0]
        return int(files[0]), int(files[1]), int(files[2] or 0), int(raw)
    finally:
        con.close()


def test_kill_during_load_then_rerun_gives_exact_counts(tmp_path):
    landing, warehouse = tmp_path / "landing", tmp_path / "wh" / "warehouse.duckdb"
    landing.mkdir()
    total = write_files(landing, providers=6, rows=40_000)
    make_reference(warehouse, providers=6)
    process = start_ingest(warehouse, landing)
    first = process.stdout.readline()  # one file committed, the next one under way
    assert first.startswith("done"), process.stderr.read()
    time.sleep(0.3)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    loaded_files, _distinct, loaded_rows, raw_rows = counts(warehouse)
    assert 1 <= loaded_files < 6, "the kill should land before every file was loaded"
    assert loaded_rows == raw_rows == loaded_files * 40_000  # no partial file
    rerun = start_ingest(warehouse, landing)
    _out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    assert counts(warehouse) == (6, 6, total, total)


def test_two_concurrent_ingests_load_each_file_once(tmp_path):
    landing, warehouse = tmp_path / "landing", tmp_path / "wh" / "warehouse.duckdb"
    landing.mkdir()
    total = write_files(landing, providers=5, rows=5_000)
    make_reference(warehouse, providers=5)
    first, second = start_ingest(warehouse, landing), start_ingest(warehouse, landing)
    for process in (first, second):
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        assert "finished" in out
    assert counts(warehouse) == (5, 5, total, total)


@pytest.mark.parametrize("holder_mode", ["read_only"])
def test_writer_waits_for_a_reader_holding_the_file(tmp_path, holder_mode):
    """DuckDB refuses a writer while another process has the file open: the writer retries with backoff."""
    landing, warehouse = tmp_path / "landing", tmp_path / "wh" / "warehouse.duckdb"
    landing.mkdir()
    total = write_files(landing, providers=1, rows=100)
    make_reference(warehouse, providers=1)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1], read_only=True); "
            "print('open', flush=True); time.sleep(3)",
            str(warehouse),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "open"
    ingest = start_ingest(warehouse, landing)
    _out, err = ingest.communicate(timeout=120)
    holder.wait()
    assert ingest.returncode == 0, err
    assert counts(warehouse)[3] == total
