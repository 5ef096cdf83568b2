"""End to end at a tiny scale, through Dagster: every generated referral reaches the marts, and the
per-PCN monthly counts equal those computed directly from the generated files."""

import csv
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import duckdb
import openpyxl
import pytest

from tests.conftest import TEST_KEY

END_MONTH = "2026-09"
MONTHS = 12  # a 12-month backfill, in one Dagster run (one dbt build for the range)


def referral_rows_from_files(landing: Path) -> list[dict[str, str]]:
    """Every provider_referrals row in the generated CSV files and XLSX workbooks, as text."""
    rows: list[dict[str, str]] = []
    for path in sorted(landing.glob("provider_referrals_*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            rows += list(csv.DictReader(handle))
    for path in sorted(landing.glob("provider_*.xlsx")):
        workbook = openpyxl.load_workbook(path, read_only=True)
        if "provider_referrals" in workbook.sheetnames:
            values = list(workbook["provider_referrals"].iter_rows(values_only=True))
            header = [str(h) for h in values[0]]
            for row in values[1:]:
                rows.append(
                    {
                        h: (
                            v.date().isoformat()
                            if isinstance(v, datetime)
                            else v.isoformat()
                            if isinstance(v, date)
                            else ""
                            if v is None
                            else str(v)
                        )
                        for h, v in zip(header, row, strict=False)
                    }
                )
        workbook.close()
    return rows


def pcn_on(memberships: list[dict[str, str]], practice: str, day: str) -> str | None:
    def parse(text: str) -> str:
        text = text.strip()
        return f"{text[:4]}-{text[4:6]}-{text[6:]}" if len(text) == 8 and text.isdigit() else text

    for row in memberships:
        start = parse(row["Practice to PCN Relationship Start Date"])
        end = parse(row["Practice to PCN Relationship End Date"]) or "9999-12-31"
        if row["Partner Organisation Code"] == practice and start <= day <= end:
            return row["PCN Code"]
    return None


@pytest.fixture(scope="module")
def pipeline(demo_pipeline: dict[str, Path]) -> dict[str, Path]:
    """The session's demo warehouse (tests/conftest.py): 12 months to END_MONTH, built through Dagster."""
    assert demo_pipeline["end_month"] == END_MONTH and demo_pipeline["months"] == MONTHS
    return demo_pipeline


def test_every_generated_referral_reaches_fct_referrals(pipeline):
    expected = {f"{r['provider_code']}-{r['referral_id']}" for r in referral_rows_from_files(pipeline["landing"])}
    con = duckdb.connect(str(pipeline["warehouse"]), read_only=True)
    actual = {key for (key,) in con.execute("SELECT referral_key FROM marts.fct_referrals").fetchall()}
    rejected = con.execute("SELECT count(*) FROM meta.files WHERE status <> 'loaded'").fetchall()[0][0]
    quarantined = con.execute("SELECT count(*) FROM quarantine.rows").fetchall()[0][0]
    con.close()
    assert expected and actual == expected
    assert (rejected, quarantined) == (0, 0)


def test_pcn_monthly_counts_equal_counts_from_the_files(pipeline):
    landing = pipeline["landing"]
    with (landing / "reference" / "epcncorepartnerdetails.csv").open(newline="", encoding="utf-8") as handle:
        memberships = list(csv.DictReader(handle))
    latest: dict[str, dict[str, str]] = {}
    for row in referral_rows_from_files(landing):
        latest[f"{row['provider_code']}-{row['referral_id']}"] = row
    expected = Counter(
        (pcn_on(memberships, row["practice_code"], row["referral_date"]), row["referral_date"][:7] + "-01")
        for row in latest.values()
    )
    con = duckdb.connect(str(pipeline["warehouse"]), read_only=True)
    actual = {
        (pcn, month.isoformat()): count
        for pcn, month, count in con.execute(
            "SELECT pcn_code, month_start, referrals_received FROM marts.pcn_referrals_monthly "
            "WHERE referrals_received > 0"
        ).fetchall()
    }
    con.close()
    assert actual == dict(expected)


def test_monthly_csv_written_per_month(pipeline):
    files = sorted((pipeline["output"] / "referrals_per_pcn").glob("*.csv"))
    expected = [f"referrals_per_pcn_2025{m:02d}.csv" for m in (10, 11, 12)]
    expected += [f"referrals_per_pcn_2026{m:02d}.csv" for m in range(1, 10)]
    assert [f.name for f in files] == expected
    with files[-1].open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 3 and all(int(r["referrals_received"]) > 0 for r in rows)


def test_no_raw_nhs_number_anywhere(pipeline):
    """Scan every table of the warehouse and every output file for the NHS numbers that were submitted."""
    numbers: set[str] = set()
    for row in referral_rows_from_files(pipeline["landing"]):
        numbers.add(row["nhs_number"])
    assert numbers
    con = duckdb.connect(str(pipeline["warehouse"]), read_only=True)
    tables = con.execute("SELECT table_schema, table_name FROM information_schema.tables").fetchall()
    for schema, table in tables:
        for (column,) in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
            "AND data_type = 'VARCHAR'",
            [schema, table],
        ).fetchall():
            found = con.execute(
                f"SELECT count(*) FROM (SELECT unnest(regexp_extract_all({column}, '[0-9]{{10}}')) AS digits "
                f"FROM {schema}.{table}) WHERE digits IN (SELECT unnest(?::VARCHAR[]))",
                [sorted(numbers)],
            ).fetchall()[0][0]
            assert found == 0, f"{schema}.{table}.{column} holds NHS numbers"
    con.close()
    for path in pipeline["output"].rglob("*"):
        if path.is_file():
            text = path.read_bytes().decode("utf-8", errors="ignore")
            assert not any(n in text for n in numbers), path


def test_feedback_pack_per_submitter_and_month(pipeline):
    folder = pipeline["output"] / "feedback" / "202609"
    con = duckdb.connect(str(pipeline["warehouse"]), read_only=True)
    submitters = {
        code
        for (code,) in con.execute(
            "SELECT DISTINCT submitter_code FROM meta.files WHERE period = DATE '2026-09-01'"
        ).fetchall()
    }
    con.close()
    html = {page.name.split("_feedback_")[0] for page in folder.glob("*_feedback_202609.html")}
    assert len(submitters) > 20 and html == submitters


def test_same_person_same_pseudonym_across_practice_provider_and_outcome_files(pipeline):
    """A person's NHS number gives one pseudonym in practice events, provider referrals and outcome measures."""
    from orchestration.ingest.pseudonym import pseudonymise

    landing = pipeline["landing"]
    referred = {row["nhs_number"] for row in referral_rows_from_files(landing)}
    measured: set[str] = set()
    for path in landing.glob("outcome_measures_*.csv"):
        with path.open(newline="", encoding="utf-8") as handle:
            measured |= {row["nhs_number"] for row in csv.DictReader(handle)}
    coded: set[str] = set()
    for path in landing.glob("practice_events_*.csv"):
        with path.open(newline="", encoding="utf-8") as handle:
            coded |= {row["nhs_number"] for row in csv.DictReader(handle)}
    people = sorted(referred & measured & coded)
    assert people, "the demo data should have people in all three sources"
    con = duckdb.connect(str(pipeline["warehouse"]), read_only=True)
    for number in people[:25]:
        pseudonym = pseudonymise(number, TEST_KEY.encode())
        for table in ("practice_events", "provider_referrals", "outcome_measures"):
            found = con.execute(f"SELECT count(*) FROM raw.{table} WHERE person_id = ?", [pseudonym]).fetchall()[0][0]
            assert found > 0, (table, pseudonym)
    con.close()


def test_dbt_tables_carry_row_counts_equal_to_the_warehouse(pipeline):
    """Row counts are attached after dbt exits (it holds the writer lock while it runs)."""
    materializations = pipeline["materializations"]
    con = duckdb.connect(str(pipeline["warehouse"]), read_only=True)
    for key in ("marts/fct_referrals", "marts/referral_measures_monthly", "intermediate/int_referrals_latest"):
        schema, table = key.split("/")
        expected = con.execute(f"SELECT count(*) FROM {schema}.{table}").fetchall()[0][0]
        assert materializations[key]["dagster/row_count"].value == expected, key
    con.close()
    views = [k for k, m in materializations.items() if k == "marts/pcn_referrals_monthly"]
    assert views and "dagster/row_count" not in materializations["marts/pcn_referrals_monthly"]
