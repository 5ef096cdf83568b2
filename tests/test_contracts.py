"""Contracts are well-formed, their docs are current, and each column's example passes the real validator."""

from datetime import date
from pathlib import Path

import duckdb
import pytest
import yaml

from extracts.contract import CONTRACTS_DIR, ContractError, load_contracts, load_reason_codes, parse_contract
from extracts.docs import DOCS_FILE_NAME, contracts_markdown
from extracts.identifiers import is_valid_nhs_number, is_valid_sctid
from orchestration.ingest.loader import ingest_paths
from tests.conftest import TEST_KEY

TABLES = {
    "practice_events",
    "practice_appointments",
    "provider_referrals",
    "provider_contacts",
    "provider_costs",
    "outcome_measures",
}


def test_one_contract_per_design_table():
    assert set(load_contracts()) == TABLES


def test_docs_are_generated_from_the_contracts():
    assert (CONTRACTS_DIR / DOCS_FILE_NAME).read_text(encoding="utf-8") == contracts_markdown(), (
        "run `sprx contracts docs`"
    )


def test_malformed_contracts_are_refused():
    good = yaml.safe_load((CONTRACTS_DIR / "provider_costs.yml").read_text())
    for change in ({"type": "float"}, {"date_rule": "soon"}, {"colour": "red"}):
        broken = {**good, "columns": [{**good["columns"][0], **change}, *good["columns"][1:]]}
        with pytest.raises(ContractError):
            parse_contract(broken)
    with pytest.raises(ContractError):
        parse_contract({**good, "key": ["no_such_column"]})


def test_identifier_check_digits():
    assert is_valid_nhs_number("9434765919") and is_valid_nhs_number("4010232137")
    assert not is_valid_nhs_number("9876544321") and not is_valid_nhs_number("94347659")
    assert is_valid_sctid("871731000000106") and not is_valid_sctid("871731000000107")


def test_reason_codes_cover_the_issue():
    row_codes = set(load_reason_codes()["row"])
    assert {
        "MISSING_REQUIRED",
        "BAD_TYPE",
        "BAD_DATE",
        "DATE_OUTSIDE_PERIOD",
        "FUTURE_DATE",
        "UNKNOWN_CODE",
        "PATTERN_MISMATCH",
        "OUT_OF_RANGE_SCORE",
        "INVALID_NHS_NUMBER",
        "UNKNOWN_PRACTICE",
        "UNKNOWN_PCN",
        "DUPLICATE_KEY",
        "SUBMITTER_MISMATCH",
    } <= row_codes


@pytest.mark.parametrize("table", sorted(TABLES))
def test_examples_pass_the_validator(table: str, tmp_path: Path):
    """A file built from the contract's own examples loads with no quarantined row."""
    contract = load_contracts()[table]
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    for schema in ("ref", "meta", "raw", "quarantine"):
        con.execute(f"CREATE SCHEMA {schema}")
    con.execute("CREATE TABLE ref.practices AS SELECT 'A81001' AS practice_code, true AS is_gp_practice")
    con.execute("CREATE TABLE ref.providers AS SELECT 'NLW01' AS provider_code")
    con.execute("CREATE TABLE ref.pcns AS SELECT 'U00070' AS pcn_code")
    con.execute("CREATE TABLE ref.snomed_codelist AS SELECT '871731000000106' AS code")
    submitter = contract.column(contract.submitter_column).example
    values = [c.example for c in contract.columns]
    if table == "outcome_measures":  # examples fill all seven items: use the seven-item instrument
        values = [c.example if not c.name.startswith("item_") else "3" for c in contract.columns]
    path = tmp_path / f"{table}_{submitter}_202610.csv"
    path.write_text(",".join(contract.column_names) + "\n" + ",".join(values) + "\n", encoding="utf-8")
    (outcome,) = ingest_paths(con, [path], TEST_KEY.encode(), 0.05, date(2026, 11, 24))
    quarantined = con.execute("SELECT message FROM quarantine.rows").fetchall()
    assert (outcome.status, outcome.rows_loaded) == ("loaded", 1), quarantined


def test_dbt_seeds_that_copy_contract_facts_match_the_contracts():
    """The dbt project cannot read YAML contracts, so two seeds restate them: they must not drift."""
    import csv

    seeds = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds"
    with (seeds / "rejection_reasons.csv").open(newline="", encoding="utf-8") as handle:
        seeded = {row["reason_code"] for row in csv.DictReader(handle)}
    codes = load_reason_codes()
    assert set(codes["row"]) | set(codes["file"]) <= seeded
    assert seeded - set(codes["row"]) - set(codes["file"]) <= {"UNRECORDED"}
    with (seeds / "extract_tables.csv").open(newline="", encoding="utf-8") as handle:
        tables = {row["table_name"]: row for row in csv.DictReader(handle)}
    assert set(tables) == TABLES
    for name, row in tables.items():
        assert row["submitter_type"] == load_contracts()[name].submitter_type
