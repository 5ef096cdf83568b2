"""The serving copy for Superset: disclosure control applied to the right figures, the filter columns on every
table, no person-level data, a read-only file swapped in atomically; and the publication assets and
`sprx publish` when Superset is not configured (no server needed here: see test_superset_integration.py)."""

from __future__ import annotations

import math
import stat
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from typer.testing import CliRunner

from orchestration.assets.publication import SERVING_COPY_KEY, serving_copy, superset_dashboard
from orchestration.cli import app
from orchestration.resources import WarehouseResource
from reports.superset.serving import (
    REFERRALS_PRACTICE_FINANCIAL_YEAR,
    SERVING_SCHEMA,
    SERVING_TABLES,
    SROI_PCN_FINANCIAL_YEAR,
    WELLBEING_CHANGE_PCN_FINANCIAL_YEAR,
    ServingCopy,
    financial_year_label,
    publish_serving_copy,
)

SUPERSET_VARIABLES = ("SUPERSET_URL", "SUPERSET_USERNAME", "SUPERSET_PASSWORD")


def protected_count(count: int) -> int | None:
    """The published form of a count, worked out here independently: 1–7 suppressed, others to the nearest 5."""
    if 1 <= count <= 7:
        return None
    return math.floor(count / 5 + 0.5) * 5


def rows(con: duckdb.DuckDBPyConnection, sql: str, parameters: list | None = None) -> list[dict]:
    cursor = con.execute(sql, parameters or [])
    names = [description[0] for description in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


@pytest.fixture(scope="module")
def serving(demo_pipeline: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> ServingCopy:
    """A serving copy of the session's demo warehouse (read with a read-only connection), in a temp folder."""
    return publish_serving_copy(
        demo_pipeline["warehouse"], tmp_path_factory.mktemp("serving") / "serving" / "sprx_serving.duckdb"
    )


@pytest.fixture(scope="module")
def warehouse(demo_pipeline: dict[str, Path]):
    con = duckdb.connect(str(demo_pipeline["warehouse"]), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def copy(serving: ServingCopy):
    con = duckdb.connect(str(serving.path), read_only=True)
    yield con
    con.close()


def test_the_referral_marts_are_published(serving: ServingCopy):
    for table in ("referrals_pcn_monthly", "referrals_practice_financial_year", "referral_reasons_pcn_financial_year"):
        assert serving.row_counts[table] > 0, table
    assert serving.row_counts["data_quality_submitter_monthly"] > 0


def test_pcn_monthly_figures_are_the_warehouse_figures_protected(warehouse, copy):
    source = {
        (row["org_code"], row["month_start"]): row
        for row in rows(warehouse, "SELECT * FROM marts.referral_measures_monthly WHERE org_type = 'pcn'")
    }
    published = rows(copy, "SELECT * FROM serving.referrals_pcn_monthly")
    assert {(row["pcn_code"], row["month_start"]) for row in published} == set(source)
    seen_suppressed = shown = 0
    for row in published:
        exact = source[(row["pcn_code"], row["month_start"])]
        assert row["referrals_received"] == protected_count(exact["referrals_received"])
        assert row["referrals_received_suppressed"] == (1 <= exact["referrals_received"] <= 7)
        assert row["registered_patients"] == protected_count(exact["registered_patients"])
        assert row["referrals_seen"] == protected_count(exact["referrals_seen"])
        if row["referrals_received"] is None or not row["registered_patients"]:
            assert row["referrals_per_1000_patients"] is None
        else:  # from the protected figures, not the exact ones
            assert row["referrals_per_1000_patients"] == round(
                1000 * row["referrals_received"] / row["registered_patients"], 1
            )
        if exact["referrals_seen"] <= 7:
            assert row["median_days_to_first_contact"] is None and row["p90_days_to_first_contact"] is None
            seen_suppressed += exact["referrals_seen"] > 0
        else:
            assert row["median_days_to_first_contact"] == exact["median_days_to_first_contact"]
            assert row["p90_days_to_first_contact"] == exact["p90_days_to_first_contact"]
            shown += 1
        assert row["financial_year"] == financial_year_label(row["month_start"])
        assert row["pcn_label"] == f"{exact['org_name']} ({exact['org_code']})"
    assert shown > 0


def test_practice_rates_come_from_protected_figures(warehouse, copy):
    source = {
        (row["org_code"], row["financial_year"]): row
        for row in rows(warehouse, "SELECT * FROM marts.referral_measures_financial_year WHERE org_type = 'practice'")
    }
    published = rows(copy, "SELECT * FROM serving.referrals_practice_financial_year")
    assert len(published) == len(source)
    suppressed = 0
    for row in published:
        exact = source[(row["practice_code"], row["financial_year"])]
        referrals, patients = (protected_count(exact[c]) for c in ("referrals_received", "registered_patients"))
        assert (row["referrals_received"], row["registered_patients"]) == (referrals, patients)
        expected = None if referrals is None or not patients else round(1000 * referrals / patients, 1)
        assert row["referrals_per_1000_patients"] == expected
        suppressed += row["referrals_received_suppressed"]
        assert row["pcn_code"] is not None and row["icb_code"] is not None
    assert suppressed > 0  # the demo has practices with 1–7 referrals in a year: the rule was exercised


def test_every_published_count_is_zero_suppressed_or_a_rounded_multiple_of_five(copy, serving: ServingCopy):
    checked = 0
    for table in serving.tables:
        columns = [
            name for (name,) in copy.execute(f"SELECT column_name FROM (DESCRIBE {SERVING_SCHEMA}.{table})").fetchall()
        ]
        for flag in (name for name in columns if name.endswith("_suppressed")):
            count = flag.removesuffix("_suppressed")
            for value, suppressed in copy.execute(f"SELECT {count}, {flag} FROM {SERVING_SCHEMA}.{table}").fetchall():
                if suppressed:
                    assert value is None, (table, count)
                else:
                    assert value == 0 or (value >= 10 and value % 5 == 0), (table, count, value)
                checked += 1
    assert checked > 100


def test_every_table_has_the_filter_columns_and_no_person_level_data(warehouse, copy, serving: ServingCopy):
    people = {
        person for (person,) in warehouse.execute("SELECT DISTINCT person_id FROM marts.fct_referrals").fetchall()
    }
    referrals = {key for (key,) in warehouse.execute("SELECT referral_key FROM marts.fct_referrals").fetchall()}
    assert people and referrals
    for table in serving.tables:
        described = copy.execute(f"DESCRIBE {SERVING_SCHEMA}.{table}").fetchall()
        columns = {name: kind for name, kind, *_ in described}
        assert {"icb_code", "pcn_code", "financial_year"} <= set(columns), table
        assert not {"person_id", "nhs_number", "referral_key", "referral_id"} & set(columns), table
        for column in (name for name, kind in columns.items() if kind == "VARCHAR"):
            values = {
                value for (value,) in copy.execute(f"SELECT DISTINCT {column} FROM {SERVING_SCHEMA}.{table}").fetchall()
            }
            assert not values & (people | referrals), (table, column)


def test_data_quality_rows_follow_the_submitters_pcns(warehouse, copy):
    practice_months, provider_months = (
        warehouse.execute(
            "SELECT count(*) FROM marts.data_quality_submitter_monthly WHERE submitter_type = ?", [kind]
        ).fetchall()[0][0]
        for kind in ("practice", "provider")
    )
    provider_rows = warehouse.execute(
        "SELECT count(*) FROM marts.data_quality_submitter_monthly AS quality "
        "JOIN ref.provider_pcns AS served ON quality.submitter_code = served.provider_code"
    ).fetchall()[0][0]
    published = dict(
        copy.execute(
            "SELECT submitter_type, count(*) FROM serving.data_quality_submitter_monthly GROUP BY 1"
        ).fetchall()
    )
    assert published == {"practice": practice_months, "provider": provider_rows}
    assert provider_rows > provider_months  # a provider serving two PCNs appears under each
    assert (
        copy.execute("SELECT count(*) FROM serving.data_quality_submitter_monthly WHERE pcn_code IS NULL").fetchall()[
            0
        ][0]
        == 0
    )


def test_the_copy_is_read_only_and_replaced_atomically(demo_pipeline: dict[str, Path], tmp_path: Path):
    destination = tmp_path / "serving" / "sprx_serving.duckdb"
    publish_serving_copy(demo_pipeline["warehouse"], destination)
    assert stat.S_IMODE(destination.stat().st_mode) == 0o444
    reader = duckdb.connect(str(destination), read_only=True)  # a Superset query in flight
    first = reader.execute("SELECT value FROM serving.about WHERE fact = 'published_at_utc'").fetchall()
    before = destination.stat().st_ino
    publish_serving_copy(demo_pipeline["warehouse"], destination)
    assert destination.stat().st_ino != before  # a new file renamed into place, not the old one rewritten
    assert reader.execute("SELECT count(*) FROM serving.referrals_pcn_monthly").fetchall()[0][0] > 0
    assert reader.execute("SELECT value FROM serving.about WHERE fact = 'published_at_utc'").fetchall() == first
    reader.close()
    assert sorted(path.name for path in destination.parent.iterdir()) == ["sprx_serving.duckdb"]
    with duckdb.connect(str(destination), read_only=True) as con, pytest.raises(duckdb.Error, match="read-only"):
        con.execute("CREATE TABLE serving.intruder AS SELECT 1")


def interface_warehouse(path: Path) -> Path:
    """A tiny warehouse holding only what the outcome/SROI serving tables read, in the agreed interface."""
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute(
            "CREATE TABLE marts.referral_measures_monthly AS SELECT * FROM (VALUES "
            "('practice', 'A00001', 'PRACTICE ONE', DATE '2026-03-01', 'U00001', 'QAA'), "
            "('pcn', 'U00001', 'PCN ONE', DATE '2026-03-01', NULL, NULL)) "
            "AS t(org_type, org_code, org_name, month_start, parent_pcn_code, parent_icb_code)"
        )
        con.execute(
            "CREATE TABLE marts.outcome_statistics AS SELECT * FROM (VALUES "
            "('pcn', 'U00001', 'financial_year', DATE '2025-04-01', DATE '2026-03-31', '2025-26', 'SWEMWBS', "
            " 'swemwbs_metric', 30, 7, 0.8, 20.1, 22.0, 1.9, 0.5, 3.3, 0.02, 0.03, 0.6, 0.5, 'too_few'), "
            "('pcn', 'U00001', 'financial_year', DATE '2025-04-01', DATE '2026-03-31', '2025-26', 'ONS4', "
            " 'ons4_life_satisfaction', 30, 12, 0.8, 5.0, 7.5, 2.5, 1.5, 3.5, 0.001, 0.002, 0.9, 0.5, 'computed'), "
            "('pcn', 'U00001', 'financial_year', DATE '2025-04-01', DATE '2026-03-31', '2025-26', 'UCLA3', "
            " 'ucla3_total', 60, 40, 0.8, 7.0, 5.5, -1.5, -2.0, -1.0, 0.001, 0.002, -0.9, 0.55, 'computed'), "
            "('icb', 'QAA', 'financial_year', DATE '2025-04-01', DATE '2026-03-31', '2025-26', 'UCLA3', "
            " 'ucla3_total', 60, 40, 0.8, 7.0, 5.5, -1.5, -2.0, -1.0, 0.001, 0.002, -0.9, 0.55, 'computed')) "
            "AS t(org_level, org_code, period_type, period_start, period_end, period_label, instrument, measure, "
            "baselines, pairs, follow_up_completion_rate, mean_baseline, mean_follow_up, mean_change, ci_lower, "
            "ci_upper, t_test_p_value, wilcoxon_p_value, cohens_dz, share_improved, status)"
        )
        con.execute(
            "CREATE TABLE marts.sroi_pcn_financial_year AS SELECT * FROM (VALUES "
            "('U00001', 'QAA', '2025-26', 'central', 100000.0, 350000.0, 250000.0, 3.5, 'v1')) "
            "AS t(pcn_code, icb_code, financial_year, scenario, input_value, present_value, net_present_value, "
            "sroi_ratio, assumption_version)"
        )
    return path


def test_outcome_and_sroi_tables_follow_the_agreed_interface(tmp_path: Path):
    tables = (WELLBEING_CHANGE_PCN_FINANCIAL_YEAR, SROI_PCN_FINANCIAL_YEAR, REFERRALS_PRACTICE_FINANCIAL_YEAR)
    result = publish_serving_copy(interface_warehouse(tmp_path / "w.duckdb"), tmp_path / "s.duckdb", tables=tables)
    assert result.row_counts == {"wellbeing_change_pcn_financial_year": 3, "sroi_pcn_financial_year": 1}
    # a serving table whose marts are not built yet is left out and named, and the rest still publishes
    assert result.missing == {"referrals_practice_financial_year": ["marts.referral_measures_financial_year"]}
    with duckdb.connect(str(result.path), read_only=True) as con:
        wellbeing = {
            row["measure"]: row for row in rows(con, "SELECT * FROM serving.wellbeing_change_pcn_financial_year")
        }
        sroi = rows(con, "SELECT * FROM serving.sroi_pcn_financial_year")
    few = wellbeing["swemwbs_metric"]  # 7 pairs: everything about them suppressed
    assert (few["pairs"], few["pairs_suppressed"], few["mean_change"], few["ci_lower"], few["percent_improved"]) == (
        None,
        True,
        None,
        None,
        None,
    )
    twelve = wellbeing["ons4_life_satisfaction"]  # 12 pairs: statistics shown; 6 improved is suppressed
    assert (twelve["pairs"], twelve["mean_change"], twelve["ci_lower"], twelve["ci_upper"]) == (10, 2.5, 1.5, 3.5)
    assert twelve["percent_improved"] is None
    forty = wellbeing["ucla3_total"]  # 22 of 40 improved: 20 of 40 after rounding, 50.0%
    assert (forty["pairs"], forty["percent_improved"], forty["icb_code"], forty["pcn_label"]) == (
        40,
        50.0,
        "QAA",
        "PCN ONE (U00001)",
    )
    assert sroi == [
        {
            "icb_code": "QAA",
            "pcn_code": "U00001",
            "financial_year": "2025-26",
            "scenario": "central",
            "input_value": 100000.0,
            "present_value": 350000.0,
            "net_present_value": 250000.0,
            "sroi_ratio": 3.5,
            "assumption_version": "v1",
            "pcn_label": "PCN ONE (U00001)",
        }
    ]


def test_financial_year_labels():
    assert [financial_year_label(date(2026, m, 1)) for m in (3, 4)] == ["2025-26", "2026-27"]
    assert financial_year_label(date(2099, 12, 31)) == "2099-00"


def test_every_serving_table_declares_the_columns_its_rows_have():
    for table in SERVING_TABLES:
        names = [column.name for column in table.columns]
        assert len(names) == len(set(names)), table.name
        assert {"icb_code", "pcn_code", "financial_year"} <= set(names), table.name


@pytest.fixture
def no_superset(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SUPERSET_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_publication_assets_without_superset(demo_pipeline, sprx_env, no_superset):
    """The serving copy materialises; the Superset asset is skipped cleanly (no materialisation, run green)."""
    with dg.instance_for_test() as instance:  # see tests/test_outcome_statistics.py
        result = dg.materialize(
            [serving_copy, superset_dashboard],
            resources={"warehouse": WarehouseResource(path=str(demo_pipeline["warehouse"]))},
            instance=instance,
            raise_on_error=False,
        )
        assert result.success
        materialised = {event.asset_key: event for event in result.get_asset_materialization_events()}
        assert set(materialised) == {SERVING_COPY_KEY}
        metadata = materialised[SERVING_COPY_KEY].materialization.metadata
        path = Path(metadata["path"].value)
        assert path == sprx_env["output"] / "serving" / "sprx_serving.duckdb" and path.exists()
        assert metadata["rows"].value == sum(metadata["rows_per_table"].value.values()) > 0
        assert "publication__superset_dashboard" in {event.step_key for event in result.get_step_success_events()}
        logs = " ".join(entry.user_message for entry in instance.all_logs(result.run_id))
        assert (
            "Superset publication skipped: SUPERSET_URL, SUPERSET_USERNAME and SUPERSET_PASSWORD are not all set"
            in logs
        )


def test_sprx_publish_without_superset_url_fails_clearly(sprx_env, no_superset):
    outcome = CliRunner().invoke(app, ["publish"])
    assert outcome.exit_code != 0
    assert "SUPERSET_URL, SUPERSET_USERNAME, SUPERSET_PASSWORD not set" in outcome.output
