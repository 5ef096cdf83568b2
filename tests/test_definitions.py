"""The Dagster definitions load, and the asset graph matches the checked-in snapshot.

Refresh the snapshot after an intended change with `SPRX_UPDATE_SNAPSHOT=1 pytest tests/test_definitions.py`.
"""

import json
import os
import time
from pathlib import Path

SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_graph.json"


def asset_graph_snapshot() -> dict:
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "partitions": type(node.partitions_def).__name__ if node.partitions_def else None,
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
        }
    checks = sorted(f"{check.asset_key.to_user_string()}:{check.name}" for check in graph.asset_check_keys)
    return {
        "assets": assets,
        "checks": checks,
        "jobs": sorted(job.name for job in defs.resolve_all_job_defs() if not job.name.startswith("__")),
        "sensors": sorted(sensor.name for sensor in defs.sensors or []),
    }


def test_definitions_load_quickly_enough_to_report():
    started = time.perf_counter()
    from orchestration.definitions import defs

    assert defs.resolve_job_def("monthly_cycle") is not None
    print(f"definitions loaded in {time.perf_counter() - started:.1f} s")


def test_asset_graph_matches_snapshot():
    current = asset_graph_snapshot()
    if os.environ.get("SPRX_UPDATE_SNAPSHOT") == "1":
        SNAPSHOT.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    assert current == json.loads(SNAPSHOT.read_text(encoding="utf-8"))


def test_every_raw_table_has_a_blocking_gx_check_and_every_asset_a_group():
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    checked = {check.asset_key.to_user_string() for check in graph.asset_check_keys}
    snapshot = asset_graph_snapshot()
    for key in snapshot["assets"]:
        assert snapshot["assets"][key]["group"], key
        if key.startswith("raw/"):
            assert key in checked
    assert {"marts/fct_referrals", "marts/pcn_referrals_monthly"} <= checked  # dbt tests as checks
