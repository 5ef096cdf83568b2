"""The landing-zone sensor requests each new file's month once, and nothing for files it has seen."""

import json
import os
from pathlib import Path

import dagster as dg

from orchestration.definitions import defs


def land(folder: Path, name: str) -> Path:
    path = folder / name
    path.write_text("x\n")
    return path


def evaluate(cursor: str | None) -> tuple[list[dg.RunRequest], str | None]:
    sensor = defs.get_sensor_def("landing_zone_sensor")
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(cursor=cursor, instance=instance, definitions=defs)
        result = sensor.evaluate_tick(context)
    return list(result.run_requests or []), result.cursor


def test_sensor_requests_each_new_file_once(sprx_env):
    landing = sprx_env["landing"]
    (landing / "reference").mkdir()
    land(landing / "reference", "epraccur.csv")  # reference files are not extracts
    land(landing, "provider_referrals_NLW01_202609.csv")
    land(landing, "provider_contacts_NLW01_202609.csv")
    land(landing, "practice_events_A81001_202610.csv")
    requests, cursor = evaluate(None)
    assert sorted(r.partition_key for r in requests) == ["2026-09-01", "2026-10-01"]
    assert {r.job_name for r in requests} == {"monthly_cycle"}
    assert len({r.run_key for r in requests}) == 2

    again, cursor_again = evaluate(cursor)
    assert again == [] and cursor_again in (None, cursor)

    late = land(landing, "practice_events_A81002_202608.csv")
    os.utime(late, (1, 1))  # an old modification time must not hide a newly landed file
    newer, newer_cursor = evaluate(cursor)
    assert [r.partition_key for r in newer] == ["2026-08-01"]
    assert len(json.loads(newer_cursor)["names_at_ctime"]) >= 1


def test_sensor_sends_unreadable_names_to_ingestion(sprx_env):
    land(sprx_env["landing"], "referrals.csv")
    requests, _ = evaluate(None)
    assert [r.job_name for r in requests] == ["ingest"]
