"""Known answers: a hand-made dataset through the real pipeline, every referral measure checked by hand.

The fixture (tests/known_answer/) is one ICB (QKA) with three practices and one link-worker provider
(KLW01, link workers LW1 and LW2) over November 2025 – January 2026:

    practice  patients  PCN
    K81001    4,000     U81001 Riverside, all along
    K81002    2,500     U81001 Riverside until 31 Dec 2025, then U81002 Hilltop (moves mid-year)
    K81003    3,500     U81002 Hilltop, all along

Referrals in their final state (letters are people; NHS numbers from the 999 test range):

    ref   who  practice  referred    source             reasons
    R001  A    K81001    2025-11-03  gp                 mental_health;social_isolation
    R002  B    K81001    2025-11-05  practice_nurse     housing
    R005  B    K81001    2025-12-08  self               benefits_debt;housing
    R003  C    K81002    2025-11-18  gp                 long_term_condition
    R004  D    K81002    2025-12-04  gp (v1: hospital)  bereavement
    R006  F    K81003    2025-11-20  social_care        carer_support
    R007  G    K81002    2026-01-08  gp                 physical_activity;mental_health
    R008  H    K81003    2026-01-14  gp                 mental_health
    R099  E    K81003    2025-12-10  vcse               other  (only in December's first file)

    ref   LW   first contact (days)  care plan   discharged             edge case
    R001  LW1  2025-11-10 (7)        2025-11-24  2026-01-20 completed   spans three months
    R002  LW1  -                     -           2025-11-12 declined    declined ...
    R005  LW2  2025-12-15 (7)        2026-01-12  -                      ... then B is re-referred
    R003  LW2  2025-12-02 (14)       -           -                      open while K81002 changes PCN
    R004  LW1  2025-12-24 (20)       -           2026-01-15 disengaged  source corrected by the resubmission
    R006  LW2  2025-11-27 (7)        -           -                      missing follow-up: only in November's file
    R007  LW1  -                     -           -                      never contacted
    R008  LW2  2026-01-16 (2)        -           -
    R099  withdrawn by the resubmission of December's file

Contacts (attended Y / missed N): Nov R001 Y N, R006 Y; Dec R001 Y, R003 Y N, R005 Y, R004 Y; Jan R001 Y,
R005 Y Y, R003 N, R008 Y. Practice-coded signposting (SNOMED 1084281000000109): I and J at K81001 in
December, K twice at K81003 in January.

December's provider_referrals file is resubmitted: version 1 (with R099 and R004 from a hospital) is
ingested first, then replaced in the landing zone by version 2 under the same name, as a provider
would, and the monthly cycle takes it in as the next version. Every expected value below is worked out
by hand from these tables, and the comments say how.
"""

from __future__ import annotations

import csv
import shutil
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from extracts.identifiers import is_valid_nhs_number
from tests.conftest import TEST_KEY

FIXTURE = Path(__file__).parent / "known_answer"
RESUBMITTED = "provider_referrals_KLW01_202512.csv"
RANGE = {ASSET_PARTITION_RANGE_START_TAG: "2025-11-01", ASSET_PARTITION_RANGE_END_TAG: "2026-01-01"}
REFERRAL_MARTS = (
    "fct_referrals", "pcn_referrals_monthly", "referral_measures_monthly", "referral_measures_financial_year",
    "referral_measures_rolling_12m", "referral_source_mix", "referral_reason_mix",
)  # fmt: skip
NOV, DEC, JAN = date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1)

MEASURES = (
    "registered_patients", "referrals_received", "people_referred", "referrals_from_general_practice",
    "referrals_per_1000_patients", "referrals_declined", "people_signposted", "referrals_seen", "people_seen",
    "median_days_to_first_contact", "p90_days_to_first_contact", "contacts_offered", "contacts_attended",
    "contacts_did_not_attend", "people_attending", "contacts_per_person", "dna_rate", "care_plans_agreed",
    "discharges", "discharges_completed", "discharges_declined", "discharges_disengaged", "discharges_moved_away",
    "discharges_deceased", "discharges_transferred", "discharges_other", "caseload_at_start", "active_caseload",
    "link_workers_with_caseload", "caseload_per_link_worker",
)  # fmt: skip


def measures(values: str) -> dict[str, float | int | None]:
    """One row of expected measures, written in MEASURES order ('-' for null) to keep the tables readable."""
    cells = values.split()
    assert len(cells) == len(MEASURES), values
    return {
        name: None if cell == "-" else float(cell) if "." in cell else int(cell)
        for name, cell in zip(MEASURES, cells, strict=True)
    }


m = measures


def plain(value: object) -> object:
    return float(value) if isinstance(value, Decimal | float) else value


def use_models_as_on_disk(patch: pytest.MonkeyPatch, target: Path) -> None:
    """Keep dbt's run artefacts in `target`, and, unless another test already loaded the Dagster
    definitions, have them parse the dbt project afresh there: the known answers test the models as
    they are on disk, not an older dbt_project/target/manifest.json (dagster-dbt fails on nodes its
    manifest does not know)."""
    patch.setenv("DBT_TARGET_PATH", str(target))
    # the cycle below builds the referral marts and what they depend on: run the dbt tests of those
    # models only, not tests of other marts that merely refer to them
    patch.setenv("DBT_INDIRECT_SELECTION", "cautious")
    if "orchestration.definitions" not in sys.modules:
        from dagster_dbt import DbtProject

        import orchestration.resources as resources
        from orchestration.settings import DBT_PROJECT_DIR

        fresh = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target_path=target)
        patch.setattr(resources, "dbt_project", fresh)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("known_answer")
    landing = root / "landing"
    shutil.copytree(FIXTURE / "landing", landing)
    shutil.copytree(FIXTURE / "reference", landing / "reference")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SPRX_WAREHOUSE", str(root / "warehouse.duckdb"))
        patch.setenv("SPRX_LANDING", str(landing))
        patch.setenv("SPRX_OUTPUT", str(root / "output"))
        patch.setenv("SPRX_PSEUDONYM_KEY", TEST_KEY)
        patch.setenv("DAGSTER_HOME", str(root / "dagster_home"))
        patch.delenv("SPRX_DEMO", raising=False)
        use_models_as_on_disk(patch, root / "dbt_target")
        import dagster as dg

        from orchestration.definitions import defs

        with dg.instance_for_test() as instance:
            assert defs.get_job_def("reference_refresh").execute_in_process(instance=instance).success
            # version 1 of December's referrals goes in first ...
            assert defs.get_job_def("ingest").execute_in_process(instance=instance, tags=RANGE).success
            # ... then the provider resubmits it under the same name; the monthly cycle loads it as version 2
            shutil.copyfile(FIXTURE / "resubmitted" / RESUBMITTED, landing / RESUBMITTED)
            # the monthly cycle (ingest, GX checks, dbt build with its tests, the PCN CSV report) for the
            # referral marts: the other marts are left out, which keeps this test to its subject and quick
            marts = dg.AssetSelection.assets(*(dg.AssetKey(["marts", name]) for name in REFERRAL_MARTS))
            selection = (
                (marts.upstream() - dg.AssetSelection.groups("reference"))
                | dg.AssetSelection.groups("ingestion")
                | dg.AssetSelection.assets(dg.AssetKey(["reports", "referrals_per_pcn_csv"]))
            )
            cycle = defs.get_job_def("monthly_cycle").execute_in_process(
                instance=instance, tags=RANGE, asset_selection=list(selection.resolve(defs.resolve_asset_graph()))
            )
            assert cycle.success
        yield {"path": root / "warehouse.duckdb", "output": root / "output"}


def query(warehouse, sql: str, parameters: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(warehouse["path"]), read_only=True)
    try:
        return [tuple(plain(v) for v in row) for row in con.execute(sql, parameters or []).fetchall()]
    finally:
        con.close()


def measure_rows(warehouse, model: str, key: str) -> dict[tuple, dict]:
    rows = query(warehouse, f"SELECT org_type, org_code, {key}, {', '.join(MEASURES)} FROM marts.{model}")
    return {row[:3]: dict(zip(MEASURES, row[3:], strict=True)) for row in rows}


def test_fixture_uses_only_valid_test_range_nhs_numbers():
    for path in (FIXTURE / "landing").glob("*.csv"):
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if "nhs_number" in row:
                    assert row["nhs_number"].startswith("999") and is_valid_nhs_number(row["nhs_number"]), path


def test_resubmitted_file_is_version_2_and_supersedes_version_1(warehouse):
    versions = query(
        warehouse,
        "SELECT version, status FROM meta.files WHERE file_name = ? ORDER BY version",
        [RESUBMITTED],
    )
    assert versions == [(1, "superseded"), (2, "loaded")]
    assert query(warehouse, "SELECT count(*) FROM quarantine.rows") == [(0,)]


def test_referral_episodes(warehouse):
    rows = query(
        warehouse,
        "SELECT referral_id, pcn_code, referral_source, days_to_first_contact, contacts_offered, contacts_attended, "
        "referral_status, has_national_referral_code, last_reported_period FROM marts.fct_referrals "
        "ORDER BY referral_id",
    )
    assert rows == [
        # R001: contacts 2 + 1 + 1, 3 attended; the practice coded the national referral code on the referral date
        ("R001", "U81001", "gp", 7, 4, 3, "discharged", True, JAN),
        ("R002", "U81001", "practice_nurse", None, 0, 0, "declined", False, NOV),
        # R003 keeps the PCN of its referral date (U81001) although K81002 moved to U81002 in January
        ("R003", "U81001", "gp", 14, 3, 1, "active", False, JAN),
        # R004: version 2 corrected the source from hospital to gp
        ("R004", "U81001", "gp", 20, 1, 1, "discharged", False, JAN),
        ("R005", "U81001", "self", 7, 3, 3, "active", False, JAN),
        # R006: missing from December and January, so November's state stands (still open)
        ("R006", "U81002", "social_care", 7, 1, 1, "active", False, NOV),
        ("R007", "U81002", "gp", None, 0, 0, "awaiting_first_contact", False, JAN),
        # R008: K81003 coded the referral on the referral date
        ("R008", "U81002", "gp", 2, 1, 1, "active", True, JAN),
    ]  # R099, withdrawn by the resubmission, is nowhere


# Monthly measures, in MEASURES order:
#   registered  received people fromGP per1000 declined signposted seen peopleSeen median p90
#   offered attended dna peopleAttending perPerson dnaRate carePlans
#   discharges completed declined disengaged moved_away deceased transferred other
#   caseloadAtStart activeCaseload linkWorkers perLinkWorker
MONTHLY = {
    # ---- K81001: R001, R002 (declined) in Nov; R005 (B again) in Dec; signposting of I and J in Dec
    # Nov: 2 referrals of A and B, both from practice staff, 2 per 1,000 of 4,000 = 0.5; R001 seen after 7 days;
    # R001's contacts: 1 of 2 attended (DNA 0.5); R001's care plan; R002 discharged (declined); R001 open at the end.
    ("practice", "K81001", NOV): m("4000 2 2 2 0.5 1 0 1 1 7.0 7.0 2 1 1 1 1.0 0.5 1 1 0 1 0 0 0 0 0 0 1 1 1.0"),
    # Dec: R005 self-referred (0.25 per 1,000), seen after 7 days; R001 and R005 each attend one contact;
    # open at the start: R001; at the end: R001 (LW1) and R005 (LW2).
    ("practice", "K81001", DEC): m("4000 1 1 0 0.25 0 2 1 1 7.0 7.0 2 2 0 2 1.0 0.0 0 0 0 0 0 0 0 0 0 1 2 2 1.0"),
    # Jan: no referrals; contacts R001 1 + R005 2, all attended, by A and B (1.5 each); R005's care plan;
    # R001 discharged (completed); open at the start R001, R005; at the end R005 (LW2).
    ("practice", "K81001", JAN): m("4000 0 0 0 0.0 0 0 0 0 - - 3 3 0 2 1.5 0.0 1 1 1 0 0 0 0 0 0 2 1 1 1.0"),
    # ---- K81002: R003 in Nov, R004 in Dec (gp after the resubmission), R007 in Jan
    # Nov: 1 per 1,000 of 2,500 = 0.4; nobody seen, no contacts; R003 open at the end (LW2).
    ("practice", "K81002", NOV): m("2500 1 1 1 0.4 0 0 0 0 - - 0 0 0 0 - - 0 0 0 0 0 0 0 0 0 0 1 1 1.0"),
    # Dec: R003 seen after 14 days and R004 after 20: median 17.0, 90th centile 14 + 0.9 x 6 = 19.4;
    # contacts R003 1 of 2 and R004 1 of 1: 3 offered, 1 missed (0.3333); open at the end R003 (LW2), R004 (LW1).
    ("practice", "K81002", DEC): m("2500 1 1 1 0.4 0 0 2 2 17.0 19.4 3 2 1 2 1.0 0.3333 0 0 0 0 0 0 0 0 0 1 2 2 1.0"),
    # Jan: R007 never contacted; R003's only contact missed (DNA 1.0, nobody attending); R004 discharged
    # (disengaged); open at the start R003, R004; at the end R003 (LW2), R007 (LW1).
    ("practice", "K81002", JAN): m("2500 1 1 1 0.4 0 0 0 0 - - 1 0 1 0 - 1.0 0 1 0 0 1 0 0 0 0 2 2 2 1.0"),
    # ---- K81003: R006 in Nov (then never reported again), R099 withdrawn, R008 in Jan
    # Nov: 1 per 1,000 of 3,500 = 0.286; R006 seen after 7 days and attends its one contact; open at the end.
    ("practice", "K81003", NOV): m("3500 1 1 0 0.286 0 0 1 1 7.0 7.0 1 1 0 1 1.0 0.0 0 0 0 0 0 0 0 0 0 0 1 1 1.0"),
    # Dec: nothing received (R099 is gone); R006 stays open (missing follow-up).
    ("practice", "K81003", DEC): m("3500 0 0 0 0.0 0 0 0 0 - - 0 0 0 0 - - 0 0 0 0 0 0 0 0 0 1 1 1 1.0"),
    # Jan: R008 from a GP, seen after 2 days, attends; K signposted twice (one person); open at the end
    # R006 and R008, both with LW2: 2.0 per link worker.
    ("practice", "K81003", JAN): m("3500 1 1 1 0.286 0 1 1 1 2.0 2.0 1 1 0 1 1.0 0.0 0 0 0 0 0 0 0 0 0 1 2 1 2.0"),
    # ---- U81001 Riverside: K81001 + K81002 in Nov and Dec, K81001 alone in Jan
    # Nov: R001, R002, R003 (3 per 1,000 of 6,500 = 0.462); seen R001 only; open at the end R001 (LW1), R003 (LW2).
    ("pcn", "U81001", NOV): m("6500 3 3 3 0.462 1 0 1 1 7.0 7.0 2 1 1 1 1.0 0.5 1 1 0 1 0 0 0 0 0 0 2 2 1.0"),
    # Dec: R004, R005 (2 per 6,500 = 0.308); waits 7, 14, 20: median 14.0, 90th 14 + 0.8 x 6 = 18.8;
    # contacts 5, 4 attended by A, B, C, D; open at the start R001, R003; at the end R001, R003, R004, R005 (2 LWs).
    ("pcn", "U81001", DEC): m("6500 2 2 1 0.308 0 2 3 3 14.0 18.8 5 4 1 4 1.0 0.2 0 0 0 0 0 0 0 0 0 2 4 2 2.0"),
    # Jan: K81002 has gone to U81002, so Riverside is K81001's January (4,000 patients).
    ("pcn", "U81001", JAN): m("4000 0 0 0 0.0 0 0 0 0 - - 3 3 0 2 1.5 0.0 1 1 1 0 0 0 0 0 0 2 1 1 1.0"),
    # ---- U81002 Hilltop: K81003 in Nov and Dec (the same figures as K81003's), K81002 + K81003 in Jan
    ("pcn", "U81002", NOV): m("3500 1 1 0 0.286 0 0 1 1 7.0 7.0 1 1 0 1 1.0 0.0 0 0 0 0 0 0 0 0 0 0 1 1 1.0"),
    ("pcn", "U81002", DEC): m("3500 0 0 0 0.0 0 0 0 0 - - 0 0 0 0 - - 0 0 0 0 0 0 0 0 0 1 1 1 1.0"),
    # Jan: R007 + R008 (2 per 6,000 = 0.333); contacts R003 missed, R008 attended (0.5); R004's discharge counts
    # here; open at the start R003, R004 (K81002) and R006; at the end R003 (LW2), R007 (LW1), R006, R008 (LW2).
    ("pcn", "U81002", JAN): m("6000 2 2 2 0.333 0 1 1 1 2.0 2.0 2 1 1 1 1.0 0.5 0 1 0 0 1 0 0 0 0 3 4 2 2.0"),
    # ---- ICB QKA and England: all three practices (10,000 patients)
    # Nov: R001, R002, R003, R006 (4 people, 3 from practice staff, 0.4 per 1,000); waits 7, 7; contacts 3, 2
    # attended by A and F; open at the end R001 (LW1), R003, R006 (LW2): 1.5 per link worker.
    ("icb", "QKA", NOV): m("10000 4 4 3 0.4 1 0 2 2 7.0 7.0 3 2 1 2 1.0 0.3333 1 1 0 1 0 0 0 0 0 0 3 2 1.5"),
    # Dec: R004, R005; signposted I, J; waits 7, 14, 20; open at the start 3, at the end 5 (2.5 per link worker).
    ("icb", "QKA", DEC): m("10000 2 2 1 0.2 0 2 3 3 14.0 18.8 5 4 1 4 1.0 0.2 0 0 0 0 0 0 0 0 0 3 5 2 2.5"),
    # Jan: R007, R008; signposted K; contacts 5, 4 attended by A, B, H: 1.33 each; R001 and R004 discharged;
    # open at the start 5 (R001, R003, R004, R005, R006), at the end 5 (R003, R005, R006, R007, R008).
    ("icb", "QKA", JAN): m("10000 2 2 2 0.2 0 1 1 1 2.0 2.0 5 4 1 3 1.33 0.2 1 2 1 0 1 0 0 0 0 5 5 2 2.5"),
}
MONTHLY.update({("england", "ENG", month): MONTHLY[("icb", "QKA", month)] for month in (NOV, DEC, JAN)})

# Financial year 2025-26 (November to January covered) and the 12 months ending January 2026 (the same months).
WHOLE_PERIOD = {
    # England: 8 referrals of 7 people (B twice); 6 from practice staff; 0.8 per 1,000; signposted I, J, K;
    # waits 2, 7, 7, 7, 14, 20: median 7.0, 90th centile 14 + 0.5 x 6 = 17.0; contacts 13, 10 attended by
    # A, B, C, D, F, H (1.67 each), 3 missed (0.2308); care plans R001, R005; discharged R002 (declined),
    # R001 (completed), R004 (disengaged); open at November's start none, at January's end 5 with 2 link workers.
    ("england", "ENG"): m("10000 8 7 6 0.8 1 3 6 6 7.0 17.0 13 10 3 6 1.67 0.2308 2 3 1 1 1 0 0 0 0 0 5 2 2.5"),
    ("icb", "QKA"): m("10000 8 7 6 0.8 1 3 6 6 7.0 17.0 13 10 3 6 1.67 0.2308 2 3 1 1 1 0 0 0 0 0 5 2 2.5"),
    # Riverside: R001, R002, R005 (K81001) and R003, R004 (K81002 before its move): 5 referrals of A, B, C, D; mean
    # patients (6,500 + 6,500 + 4,000) / 3 = 5,667, so 5 per 1,000 of 5,667 = 0.882; waits 7, 7, 14, 20: median 10.5,
    # 90th 14 + 0.7 x 6 = 18.2; contacts 2 + 5 + 3 = 10, 8 attended by A, B, C, D; open at the end R005 only
    # (R003 went with K81002 to Hilltop).
    ("pcn", "U81001"): m("5667 5 4 4 0.882 1 2 4 4 10.5 18.2 10 8 2 4 2.0 0.2 2 2 1 1 0 0 0 0 0 0 1 1 1.0"),
    # Hilltop: R006, R007, R008; mean patients (3,500 + 3,500 + 6,000) / 3 = 4,333: 3 per 1,000 = 0.692; waits 7, 2:
    # median 4.5, 90th 2 + 0.9 x 5 = 6.5; contacts 3, 2 attended by F and H; R004's discharge (January);
    # open at the end R003, R006, R007, R008.
    ("pcn", "U81002"): m("4333 3 3 2 0.692 0 1 2 2 4.5 6.5 3 2 1 2 1.0 0.3333 0 1 0 0 1 0 0 0 0 0 4 2 2.0"),
    # K81001: R001, R002, R005 of A and B; waits 7, 7; contacts 2 + 2 + 3 = 7, 6 attended (1 missed: 0.1429).
    ("practice", "K81001"): m("4000 3 2 2 0.75 1 2 2 2 7.0 7.0 7 6 1 2 3.0 0.1429 2 2 1 1 0 0 0 0 0 0 1 1 1.0"),
    # K81002: R003, R004, R007; waits 14, 20: median 17.0, 90th 19.4; contacts 3 + 1 = 4, 2 attended by C, D.
    ("practice", "K81002"): m("2500 3 3 3 1.2 0 0 2 2 17.0 19.4 4 2 2 2 1.0 0.5 0 1 0 0 1 0 0 0 0 0 2 2 1.0"),
    # K81003: R006, R008; signposted K; waits 7, 2: median 4.5, 90th 6.5.
    ("practice", "K81003"): m("3500 2 2 1 0.571 0 1 2 2 4.5 6.5 2 2 0 2 1.0 0.0 0 0 0 0 0 0 0 0 0 0 2 1 2.0"),
}


def test_monthly_measures(warehouse):
    actual = measure_rows(warehouse, "referral_measures_monthly", "month_start")
    assert set(actual) == set(MONTHLY)
    for key, expected in MONTHLY.items():
        assert actual[key] == expected, key


def test_financial_year_measures(warehouse):
    rows = query(
        warehouse,
        "SELECT DISTINCT financial_year, period_start, period_end, months_covered "
        "FROM marts.referral_measures_financial_year",
    )
    assert rows == [("2025-26", date(2025, 4, 1), date(2026, 1, 31), 3)]
    actual = measure_rows(warehouse, "referral_measures_financial_year", "financial_year")
    assert {key[:2]: value for key, value in actual.items()} == WHOLE_PERIOD


def test_rolling_12_month_measures(warehouse):
    actual = measure_rows(warehouse, "referral_measures_rolling_12m", "month_start")
    # the window ending January covers the same three months as the financial year
    assert {key[:2]: value for key, value in actual.items() if key[2] == JAN} == WHOLE_PERIOD
    # the window ending December (November and December): England received R001–R006 from 5 people;
    # waits 7, 7, 7, 14, 20: 90th centile 14 + 0.6 x 6 = 17.6; contacts 8, 6 attended by A, B, C, D, F (1.2 each);
    # only R002 discharged; open at December's end 5.
    assert actual[("england", "ENG", DEC)] == measures(
        "10000 6 5 4 0.6 1 2 5 5 7.0 17.6 8 6 2 5 1.2 0.25 1 1 0 1 0 0 0 0 0 0 5 2 2.5"
    )
    # the window ending November is November
    assert actual[("pcn", "U81001", NOV)] == MONTHLY[("pcn", "U81001", NOV)]


def test_source_and_reason_mix(warehouse):
    sources = query(
        warehouse,
        "SELECT referral_source, referrals, referrals_received, share_of_referrals FROM marts.referral_source_mix "
        "WHERE period_type = 'financial_year' AND org_type = 'england' ORDER BY referral_source",
    )
    # 8 referrals: gp R001, R003, R004, R007, R008; nurse R002; self R005; social care R006 (no vcse: R099 is gone)
    assert sources == [
        ("gp", 5, 8, 0.625),
        ("practice_nurse", 1, 8, 0.125),
        ("self", 1, 8, 0.125),
        ("social_care", 1, 8, 0.125),
    ]
    reasons = query(
        warehouse,
        "SELECT referral_reason, referrals_with_reason, reasons_given, share_of_referrals, share_of_reasons "
        "FROM marts.referral_reason_mix WHERE period_type = 'financial_year' AND org_type = 'england' "
        "ORDER BY referral_reason",
    )
    # 11 reasons from 8 referrals: mental health R001, R007, R008; housing R002, R005; one each for the rest
    assert reasons == [
        ("benefits_debt", 1, 11, 0.125, 0.0909),
        ("bereavement", 1, 11, 0.125, 0.0909),
        ("carer_support", 1, 11, 0.125, 0.0909),
        ("housing", 2, 11, 0.25, 0.1818),
        ("long_term_condition", 1, 11, 0.125, 0.0909),
        ("mental_health", 3, 11, 0.375, 0.2727),
        ("physical_activity", 1, 11, 0.125, 0.0909),
        ("social_isolation", 1, 11, 0.125, 0.0909),
    ]
    # January at Hilltop: R007 (physical activity, mental health) and R008 (mental health)
    hilltop = query(
        warehouse,
        "SELECT referral_reason, referrals_with_reason, share_of_referrals FROM marts.referral_reason_mix "
        "WHERE period_type = 'month' AND period_start = ? AND org_code = 'U81002' ORDER BY referral_reason",
        [JAN],
    )
    assert hilltop == [("mental_health", 2, 1.0), ("physical_activity", 1, 0.5)]


def test_pcn_monthly_report(warehouse):
    rows = query(
        warehouse,
        "SELECT month_start, pcn_code, referrals_received, people_referred, referrals_declined, "
        "registered_patients, referrals_per_1000_patients FROM marts.pcn_referrals_monthly ORDER BY 1, 2",
    )
    assert rows == [
        (NOV, "U81001", 3, 3, 1, 6500, 0.462),
        (NOV, "U81002", 1, 1, 0, 3500, 0.286),
        (DEC, "U81001", 2, 2, 0, 6500, 0.308),
        (DEC, "U81002", 0, 0, 0, 3500, 0.0),
        (JAN, "U81001", 0, 0, 0, 4000, 0.0),
        (JAN, "U81002", 2, 2, 0, 6000, 0.333),
    ]
    with (warehouse["output"] / "referrals_per_pcn" / "referrals_per_pcn_202601.csv").open(encoding="utf-8") as handle:
        report = list(csv.DictReader(handle))
    assert [(r["pcn_code"], r["referrals_received"], r["registered_patients"]) for r in report] == [
        ("U81001", "0", "4000"),
        ("U81002", "2", "6000"),
    ]
