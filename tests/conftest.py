"""Shared fixtures: every test gets its own warehouse, landing and output folders, never the project's."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

TEST_KEY = "test-pseudonym-key-0123456789"
SHARED_REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
# Dagster's temporary SQLite instances are finalised after their folder is gone: SQLAlchemy's pool
# then logs a harmless rollback error at exit.
logging.getLogger("sqlalchemy.pool").setLevel(logging.CRITICAL)


@pytest.fixture
def sprx_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """SPRX_* paths inside a temporary folder, and a test pseudonym key."""
    paths = {
        "warehouse": tmp_path / "warehouse" / "warehouse.duckdb",
        "landing": tmp_path / "landing",
        "output": tmp_path / "output",
    }
    paths["landing"].mkdir(parents=True)
    monkeypatch.setenv("SPRX_WAREHOUSE", str(paths["warehouse"]))
    monkeypatch.setenv("SPRX_LANDING", str(paths["landing"]))
    monkeypatch.setenv("SPRX_OUTPUT", str(paths["output"]))
    monkeypatch.setenv("SPRX_PSEUDONYM_KEY", TEST_KEY)
    monkeypatch.delenv("SPRX_DEMO", raising=False)
    return paths


DEMO_END_MONTH = "2026-09"
DEMO_MONTHS = 12
DEMO_SEED = 11


@pytest.fixture(scope="session")
def demo_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """One 12-month demo warehouse per session, built through the real Dagster jobs.

    `reference_refresh`, then `monthly_cycle` over 2025-10..2026-09 as one backfill run. Read-only
    for tests: copy the warehouse before writing. The SPRX_* variables are set only while building,
    so other tests never write into it by accident.
    """
    import dagster as dg
    from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

    from extracts.synthetic import generate
    from orchestration.months import add_months

    root = tmp_path_factory.mktemp("demo_pipeline")
    paths = {
        "root": root,
        "landing": root / "landing",
        "warehouse": root / "warehouse.duckdb",
        "output": root / "output",
        "dagster_home": root / "dagster_home",
    }
    last = date.fromisoformat(f"{DEMO_END_MONTH}-01")
    first = add_months(last, -(DEMO_MONTHS - 1))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SPRX_WAREHOUSE", str(paths["warehouse"]))
        patch.setenv("SPRX_LANDING", str(paths["landing"]))
        patch.setenv("SPRX_OUTPUT", str(paths["output"]))
        patch.setenv("SPRX_PSEUDONYM_KEY", TEST_KEY)
        patch.setenv("DAGSTER_HOME", str(paths["dagster_home"]))
        patch.delenv("SPRX_DEMO", raising=False)
        for name in ("SUPERSET_URL", "SUPERSET_USERNAME", "SUPERSET_PASSWORD"):  # never publish a test build
            patch.delenv(name, raising=False)
        generate(scale="demo", months=DEMO_MONTHS, seed=DEMO_SEED, out_dir=paths["landing"], end_month=DEMO_END_MONTH)
        from orchestration.definitions import defs

        with dg.instance_for_test() as instance:
            reference = defs.get_job_def("reference_refresh").execute_in_process(instance=instance)
            assert reference.success, "reference_refresh failed while building the demo warehouse"
            tags = {ASSET_PARTITION_RANGE_START_TAG: first.isoformat(), ASSET_PARTITION_RANGE_END_TAG: last.isoformat()}
            cycle = defs.get_job_def("monthly_cycle").execute_in_process(instance=instance, tags=tags)
            assert cycle.success, "monthly_cycle failed while building the demo warehouse"
            materializations = {
                event.asset_key.to_user_string(): dict(event.step_materialization_data.materialization.metadata)
                for event in cycle.get_asset_materialization_events()
            }
    yield {
        **paths,
        "end_month": DEMO_END_MONTH,
        "months": DEMO_MONTHS,
        "seed": DEMO_SEED,
        "materializations": materializations,
    }
