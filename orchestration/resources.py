"""Dagster resources: the warehouse (one writer at a time) and the dbt CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource, DbtProject

from orchestration.settings import DBT_PROJECT_DIR, get_settings
from orchestration.warehouse import read_connection, write_connection

WAREHOUSE_POOL = "warehouse"  # every asset that writes the DuckDB file runs in this pool (limit 1)


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file; connections are opened per use and closed straight after."""

    path: str = ""  # empty: $SPRX_WAREHOUSE (or its default) when the connection is opened

    @property
    def location(self) -> Path:
        return Path(self.path) if self.path else get_settings().warehouse

    @contextmanager
    def writer(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with write_connection(self.location) as connection:
            yield connection

    @contextmanager
    def reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with read_connection(self.location) as connection:
            yield connection


def dbt_executable() -> str:
    """dbt from this environment, so running without the venv on PATH still works (STACK_NOTES.md)."""
    candidate = Path(sys.prefix) / "bin" / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def dbt_environment() -> dict[str, str]:
    """dbt reads the warehouse path from SPRX_WAREHOUSE; make it absolute whatever the caller set."""
    environment = dict(os.environ)
    environment["SPRX_WAREHOUSE"] = str(get_settings().warehouse)
    return environment


dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def _dbt_sources_newest_mtime() -> float:
    paths = [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
    for folder in ("models", "macros", "seeds", "tests"):
        paths += [p for p in (DBT_PROJECT_DIR / folder).rglob("*") if p.is_file()]
    return max(p.stat().st_mtime for p in paths if p.exists())


def ensure_dbt_manifest(force: bool = False) -> Path:
    """Parse the dbt project when its manifest is missing or older than any project file.

    dagster-dbt builds the asset graph from the manifest, so a stale one would hide new models.
    """
    manifest = dbt_project.manifest_path
    if force or not manifest.exists() or manifest.stat().st_mtime < _dbt_sources_newest_mtime():
        result = subprocess.run(
            [
                dbt_executable(),
                "parse",
                "--quiet",
                "--project-dir",
                str(DBT_PROJECT_DIR),
                "--profiles-dir",
                str(DBT_PROJECT_DIR),
            ],
            env=dbt_environment(),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0 or not manifest.exists():
            raise RuntimeError(f"dbt parse failed:\n{result.stdout}\n{result.stderr}")
    return manifest


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(
        project_dir=dbt_project,
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=dbt_executable(),
    )
