"""The landing-zone sensor: each newly landed file triggers its reporting month's cycle, once."""

import json
from datetime import date
from pathlib import Path

import dagster as dg

from orchestration.ingest.errors import FileRejected
from orchestration.ingest.filenames import parse_file_name
from orchestration.ingest.loader import landed_files
from orchestration.settings import get_settings


def new_landed_files(landing: Path, cursor: dict) -> tuple[list[Path], dict]:
    """Files that arrived since the cursor, and the next cursor.

    The cursor is the newest inode change time seen (ctime, which copying with preserved
    modification times cannot fake) plus the names seen at exactly that time, so it stays small
    however many files have landed.
    """
    last_ns = int(cursor.get("ctime_ns", 0))
    seen_at_last = set(cursor.get("names_at_ctime", []))
    arrived: list[tuple[int, Path]] = []
    for path in landed_files(landing):
        changed_ns = path.stat().st_ctime_ns
        if changed_ns > last_ns or (changed_ns == last_ns and path.name not in seen_at_last):
            arrived.append((changed_ns, path))
    if not arrived:
        return [], cursor
    newest = max(ns for ns, _ in arrived)
    names = sorted({p.name for ns, p in arrived if ns == newest} | (seen_at_last if newest == last_ns else set()))
    return [p for _, p in sorted(arrived, key=lambda item: item[1].name)], {"ctime_ns": newest, "names_at_ctime": names}


def partition_keys_for(paths: list[Path], today: date) -> tuple[list[str], list[str]]:
    """Monthly partition keys the files belong to, and the names of files whose name has no valid month."""
    keys: set[str] = set()
    unreadable: list[str] = []
    for path in paths:
        try:
            keys.add(parse_file_name(path.name, today).period.isoformat())
        except FileRejected:
            unreadable.append(path.name)
    return sorted(keys), unreadable


def build_landing_sensor(monthly_job, ingest_job) -> dg.SensorDefinition:
    """The sensor for the given jobs (asset jobs, both partitioned monthly)."""

    @dg.sensor(
        name="landing_zone_sensor",
        jobs=[monthly_job, ingest_job],
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Watches $SPRX_LANDING; new files start the monthly cycle for their month, once each.",
    )
    def landing_zone_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        settings = get_settings()
        cursor = json.loads(context.cursor) if context.cursor else {}
        paths, next_cursor = new_landed_files(settings.landing, cursor)
        if not paths:
            return dg.SensorResult(skip_reason=f"no new files in {settings.landing}")
        keys, unreadable = partition_keys_for(paths, date.today())
        stamp = next_cursor["ctime_ns"]
        requests = [
            dg.RunRequest(
                job_name=monthly_job.name,
                partition_key=key,
                run_key=f"{key}:{stamp}",
                tags={"sprx/trigger": "landing_zone_sensor", "sprx/new_files": str(len(paths))},
            )
            for key in keys
        ]
        if unreadable and not keys:
            # files whose names carry no month are recorded as rejected by an ingest run
            latest = monthly_job.partitions_def.get_last_partition_key() if monthly_job.partitions_def else None
            if latest:
                requests.append(
                    dg.RunRequest(job_name=ingest_job.name, partition_key=latest, run_key=f"unreadable:{stamp}")
                )
        context.log.info(f"{len(paths)} new file(s) → partitions {keys}; unreadable names: {unreadable}")
        return dg.SensorResult(run_requests=requests, cursor=json.dumps(next_cursor))

    return landing_zone_sensor
