"""Shared fixtures: every test gets its own warehouse, landing and output folders, never the project's."""

from __future__ import annotations

import logging
import os
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
