"""Run the project's dbt against a test's own warehouse, with a private target and log folder.

Tests never use dbt_project/target or the project's data/ folder: another process may be using them.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from orchestration.resources import dbt_executable
from orchestration.settings import DBT_PROJECT_DIR


def run_dbt(args: list[str], warehouse: Path, work: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """`dbt <args>` on `warehouse`, writing target/ and logs/ under `work`; fails with dbt's output."""
    environment = {
        **os.environ,
        "SPRX_WAREHOUSE": str(warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }
    environment.pop("SPRX_DBT_TARGET", None)  # always the DuckDB target
    command = [
        dbt_executable(),
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
    ]
    result = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed ({result.returncode}):\n{result.stdout[-6000:]}")
    return result


def run_results(work: Path) -> dict[str, str]:
    """unique_id → status of the last dbt invocation that wrote under `work`."""
    results = json.loads((work / "target" / "run_results.json").read_text(encoding="utf-8"))
    return {result["unique_id"]: result["status"] for result in results["results"]}
