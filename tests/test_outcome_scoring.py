"""Outcome scoring and pairing: the seeds against their sources, the known-answer dbt unit tests (Warwick table,
EQ-5D value sets, ONS4 bands, UCLA3, not-scored reasons, pairing edge cases, change categories, SROI quantities)
run by a real dbt, and the demo warehouse's outcome marts."""

from __future__ import annotations

import csv
import re
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml

from orchestration.settings import DBT_PROJECT_DIR
from tests.conftest import SHARED_REFERENCE
from tests.dbt_runner import run_dbt, run_results

SEEDS = DBT_PROJECT_DIR / "seeds"
CONTRACT = DBT_PROJECT_DIR.parent / "extracts" / "contracts" / "outcome_measures.yml"
OUTCOME_UNIT_TESTS = {
    "int_outcome_administrations": ["outcome_administrations_not_scored_reasons_and_resubmission"],
    "int_outcome_pair_administrations": ["outcome_pairing_edge_cases"],
    "outcome_scores": [
        "outcome_scores_swemwbs_every_raw_score_warwick_table",
        "outcome_scores_eq5d_england_2018",
        "outcome_scores_eq5d_uk_2026",
        "outcome_scores_ons4_bands_at_boundaries_and_ucla3",
    ],
    "outcome_pairs": ["outcome_pairs_change_against_minimal_important_difference"],
    "int_sroi_outcome_quantities": ["sroi_quantities_from_pairs_and_gp_utilisation"],
}


def read_seed(name: str) -> list[dict[str, str]]:
    with (SEEDS / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.skipif(not (SHARED_REFERENCE / "swemwbs_rasch_conversion.csv").exists(), reason="no shared reference")
def test_swemwbs_seed_is_the_warwick_table():
    with (SHARED_REFERENCE / "swemwbs_rasch_conversion.csv").open(newline="", encoding="utf-8") as handle:
        warwick = {int(r["raw_score"]): Decimal(r["metric_score"]) for r in csv.DictReader(handle)}
    seed = {int(r["raw_score"]): Decimal(r["metric_score"]) for r in read_seed("swemwbs_conversion")}
    assert seed == warwick and sorted(seed) == list(range(7, 36))


def test_unit_test_expectations_copy_the_warwick_table_not_the_model():
    """The SWEMWBS unit test's expected metric scores are the seed's, raw 7 → 7.00 … 35 → 35.00, every one."""
    document = yaml.safe_load((DBT_PROJECT_DIR / "models" / "marts" / "outcomes" / "_models.yml").read_text())
    [unit_test] = [t for t in document["unit_tests"] if t["name"] == OUTCOME_UNIT_TESTS["outcome_scores"][0]]
    expected = list(csv.DictReader(unit_test["expect"]["rows"].strip().splitlines()))
    given = list(csv.DictReader(unit_test["given"][-1]["rows"].strip().splitlines()))
    seed = {r["raw_score"]: r["metric_score"] for r in read_seed("swemwbs_conversion")}
    assert [int(r["swemwbs_raw"]) for r in expected] == list(range(7, 36))
    assert all(r["swemwbs_metric"] == seed[r["swemwbs_raw"]] for r in expected)
    assert [sum(int(g[f"item_{i}"]) for i in range(1, 8)) for g in given] == list(range(7, 36))


def test_instrument_seed_agrees_with_the_contract():
    contract = yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))["instruments"]
    seed = {
        r["instrument"]: {
            "items": int(r["item_count"]),
            "min": int(r["item_min"]),
            "max": int(r["item_max"]),
            "vas": r["has_vas"] == "true",
        }
        for r in read_seed("outcome_instruments")
    }
    assert seed == contract


@pytest.mark.parametrize(("value_set", "worst"), [("england_2018", "-0.285"), ("uk_2026", "-0.567")])
def test_eq5d_value_sets_give_domain_checks(value_set: str, worst: str):
    """DOMAIN.md: 11111 → 1.000; 55555 → −0.285 (England 2018), −0.567 (UK 2026)."""
    rows = [r for r in read_seed("eq5d5l_value_sets") if r["value_set"] == value_set]
    decrement = {(r["dimension"], int(r["level"])): Decimal(r["decrement"]) for r in rows}
    dimensions = {dimension for dimension, _ in decrement}
    assert len(rows) == 25 and len(dimensions) == 5
    assert 1 - sum(decrement[(d, 1)] for d in dimensions) == Decimal("1.000")
    assert 1 - sum(decrement[(d, 5)] for d in dimensions) == Decimal(worst)
    for dimension in dimensions:  # decrements grow with the level
        assert [decrement[(dimension, level)] for level in range(1, 6)] == sorted(
            decrement[(dimension, level)] for level in range(1, 6)
        )


def test_measure_seed_lists_the_measures_the_models_pair():
    macro = (DBT_PROJECT_DIR / "macros" / "outcomes" / "outcome_measures.sql").read_text(encoding="utf-8")
    in_macro = re.findall(r"\('([a-z0-9_]+)', '([A-Z0-9]+)'\)", macro)
    seed = [
        (r["measure"], r["instrument"])
        for r in sorted(read_seed("outcome_measure_definitions"), key=lambda r: int(r["measure_order"]))
    ]
    assert in_macro == seed
    mids = {
        r["measure"]: (Decimal(r["minimal_important_difference"]), r["mid_source"])
        for r in read_seed("outcome_measure_definitions")
    }
    assert {m: mid for m, (mid, _) in mids.items()} == {
        "swemwbs_metric": Decimal("3"),
        "ons4_life_satisfaction": Decimal("1"),
        "ons4_worthwhile": Decimal("1"),
        "ons4_happiness": Decimal("1"),
        "ons4_anxiety": Decimal("1"),
        "ucla3_total": Decimal("1"),
        "eq5d_index": Decimal("0.05"),
    }
    assert all(source.strip() for _, source in mids.values())


@pytest.fixture(scope="module")
def outcome_warehouse(demo_pipeline: dict, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A copy of the session's demo warehouse and a private dbt work folder."""
    work = tmp_path_factory.mktemp("outcome_scoring")
    copy = work / "warehouse.duckdb"
    shutil.copy(demo_pipeline["warehouse"], copy)
    return copy, work


def test_outcome_known_answer_unit_tests_pass_in_dbt(outcome_warehouse: tuple[Path, Path]):
    warehouse, work = outcome_warehouse
    selectors = [f"test_type:unit,{model}" for model in OUTCOME_UNIT_TESTS]
    result = run_dbt(["test", "--select", *selectors], warehouse, work, check=False)
    statuses = {uid.rsplit(".", 1)[-1]: status for uid, status in run_results(work).items()}
    expected = {name for names in OUTCOME_UNIT_TESTS.values() for name in names}
    assert {name: statuses.get(name) for name in expected} == dict.fromkeys(expected, "pass"), result.stdout[-4000:]
    assert result.returncode == 0


def test_demo_outcome_marts(outcome_warehouse: tuple[Path, Path]):
    warehouse, _ = outcome_warehouse
    con = duckdb.connect(str(warehouse), read_only=True)
    submitted = con.execute(
        "SELECT count(DISTINCT (referral_key, instrument, assessment_date, timepoint)) "
        "FROM staging.stg_outcome__measures"
    ).fetchall()[0][0]
    scored = con.execute(
        "SELECT count(*), sum(CASE WHEN is_scored THEN 1 ELSE 0 END) FROM marts.outcome_scores"
    ).fetchall()[0]
    counted = con.execute("SELECT sum(administrations) FROM marts.outcome_scoring_monthly").fetchall()[0][0]
    per_pcn = con.execute(
        "SELECT pcn_code, count(*) AS baselines, sum(CASE WHEN has_follow_up THEN 1 ELSE 0 END) AS pairs "
        "FROM marts.outcome_pairs WHERE measure = 'swemwbs_metric' GROUP BY pcn_code ORDER BY pcn_code"
    ).fetchall()
    con.close()
    assert scored[0] == submitted == counted  # every administration is in the scores, counted once
    assert len(per_pcn) == 3
    for pcn, baselines, pairs in per_pcn:
        assert pairs >= 10, pcn
        assert 0.25 <= pairs / baselines <= 0.8, pcn  # realistic follow-up completion
