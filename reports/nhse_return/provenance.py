"""Where a month's return came from: source file versions, assumption versions and the code version.

Source files are read from meta.files (the ingestion manifest: one row per loaded file or workbook
sheet, with its sha256 and version); the catalogue's `fed_by` says which tables feed each mart and
whether only the reporting month's files count (contacts and practice events are dated inside their
file's month) or every period's (a referral's state is carried forward and updated by later returns).
"""

from __future__ import annotations

import subprocess
from datetime import date
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb
import yaml

from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT
from reports.nhse_return.catalogue import Catalogue
from reports.nhse_return.extract import existing_relations


def source_files(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, month: date) -> list[dict[str, Any]]:
    """The current (loaded, not superseded) extract file versions that fed the month's measures."""
    feeds: dict[str, str] = {}
    for mart in catalogue.marts_read():
        for feed in catalogue.sources[mart].fed_by:
            # a table fed in both ways counts with every period
            feeds[feed.table] = "all" if "all" in (feeds.get(feed.table), feed.periods) else feed.periods
    if not feeds:
        return []
    clauses, parameters = [], []
    for table, periods in sorted(feeds.items()):
        clauses.append("(table_name = ?" + (" AND period = ?)" if periods == "month" else ")"))
        parameters += [table, month] if periods == "month" else [table]
    cursor = con.execute(
        "SELECT table_name, submitter_code, strftime(period, '%Y-%m') AS period, file_name, "
        "coalesce(sheet_name, '') AS sheet_name, version, sha256, rows_loaded, "
        "strftime(received_at, '%Y-%m-%d') AS received "
        f"FROM meta.files WHERE status = 'loaded' AND ({' OR '.join(clauses)}) "
        "ORDER BY table_name, submitter_code, period, file_name, sheet_name",
        parameters,
    )
    names = [description[0] for description in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def reference_files(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The official reference files loaded into ref.* (ODS practices, PCN membership, list sizes, …)."""
    if "ref.reference_files" not in existing_relations(con):
        return []
    cursor = con.execute("SELECT kind, file_name, sha256, rows FROM ref.reference_files ORDER BY kind, file_name")
    names = [description[0] for description in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def warehouse_assumption_versions(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Every `assumption_version` held in the warehouse (versioned seeds and the marts built from them)."""
    tables = con.execute(
        "SELECT DISTINCT table_schema || '.' || table_name FROM information_schema.columns "
        "WHERE column_name = 'assumption_version' AND table_schema IN ('ref', 'marts') ORDER BY 1"
    ).fetchall()
    versions: dict[str, list[str]] = {}
    for (relation,) in tables:
        rows = con.execute(
            f"SELECT DISTINCT CAST(assumption_version AS VARCHAR) FROM {relation} "
            "WHERE assumption_version IS NOT NULL ORDER BY 1"
        ).fetchall()
        versions[relation] = [value for (value,) in rows]
    return versions


@cache
def dbt_measure_vars() -> dict[str, Any]:
    """The dbt project vars that define measures (e.g. the national referral code), as dbt_project.yml sets them."""
    document = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    variables = dict(document.get("vars") or {})
    return {key: value for key, value in variables.items() if key not in ("period_start", "period_end")}


def code_version(root: Path = PROJECT_ROOT) -> dict[str, Any]:
    """The git commit when the project is a checkout (and whether it has local changes), and the package version."""
    try:
        package = metadata.version("sprx")
    except metadata.PackageNotFoundError:
        package = "unknown"
    version: dict[str, Any] = {"package_version": package, "git_commit": None, "git_dirty": None}
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return version
    version.update(git_commit=commit, git_dirty=bool(dirty))
    return version


def source_key(entry: dict[str, Any]) -> tuple[str, str, str, str]:
    """What identifies a source slot across versions: table, submitter, month and workbook sheet."""
    return entry["table_name"], entry["submitter_code"], entry["period"], entry["sheet_name"]


def source_changes(previous: list[dict[str, Any]], current: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Source files added, replaced (a new version for the same table, submitter and month) or removed."""
    before = {source_key(entry): entry for entry in previous}
    after = {source_key(entry): entry for entry in current}
    replaced = [
        {
            "table_name": key[0],
            "submitter_code": key[1],
            "period": key[2],
            "sheet_name": key[3],
            "file_name": after[key]["file_name"],
            "version": after[key]["version"],
            "sha256": after[key]["sha256"],
            "previous_file_name": before[key]["file_name"],
            "previous_version": before[key]["version"],
            "previous_sha256": before[key]["sha256"],
        }
        for key in sorted(before.keys() & after.keys())
        if before[key]["sha256"] != after[key]["sha256"]
    ]
    return {
        "added": [after[key] for key in sorted(after.keys() - before.keys())],
        "replaced": replaced,
        "removed": [before[key] for key in sorted(before.keys() - after.keys())],
    }
