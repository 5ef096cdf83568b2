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
        "schedules": sorted(schedule.name for schedule in defs.schedules or []),
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


def test_every_asset_has_a_description_and_an_owner():
    """Issue #6: a data team reading the graph sees what each asset is and who looks after it."""
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    missing = []
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.is_external:
            continue  # dbt sources and other assets defined elsewhere
        spec = node.assets_def.specs_by_key[key]
        if not (spec.description or "").strip() or not spec.owners:
            missing.append(key.to_user_string())
    assert not missing, f"assets without a description or owner: {sorted(missing)}"


def test_stages_are_groups_of_the_monthly_cycle():
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    groups = {graph.get(key).group_name for key in graph.get_all_asset_keys() if not graph.get(key).is_external}
    assert {"reference", "ingestion", "warehouse", "statistics", "reports", "publication"} <= groups
    cycle = defs.resolve_job_def("monthly_cycle")
    selected = {graph.get(key).group_name for key in cycle.asset_layer.selected_asset_keys}
    assert {"ingestion", "warehouse", "statistics", "reports", "publication"} <= selected
