"""Ingestion assets: landed extract files → raw.* and quarantine.rows, recorded in meta.files."""

from datetime import date
from pathlib import Path

import dagster as dg

from extracts.contract import load_contracts
from orchestration.ingest.errors import FileRejected
from orchestration.ingest.filenames import parse_file_name
from orchestration.ingest.loader import FileOutcome, ingest_paths, landed_names
from orchestration.partitions import monthly_partitions, window_months
from orchestration.resources import WAREHOUSE_POOL, WarehouseResource
from orchestration.settings import get_settings, pseudonym_key
from orchestration.warehouse import WarehouseBusyError

RAW_KEYS = {table: dg.AssetKey(["raw", table]) for table in load_contracts()}
MANIFEST_KEY = dg.AssetKey(["meta", "files"])
REFERENCE_DEPS = [dg.AssetKey(["ref", name]) for name in ("practices", "providers", "pcns")]


def files_for_window(landing: Path, start: date, end: date, today: date) -> list[Path]:
    """Landed files whose reporting month is in [start, end), plus any whose name cannot be read
    (those are recorded as rejected by whichever run sees them first)."""
    selected = []
    for name in landed_names(landing):
        try:
            period = parse_file_name(name, today).period
        except FileRejected:
            selected.append(landing / name)
            continue
        if start <= period < end:
            selected.append(landing / name)
    return selected


def summarise(outcomes: list[FileOutcome]) -> dict[str, dict[str, int]]:
    by_table: dict[str, dict[str, int]] = {}
    for outcome in outcomes:
        counts = by_table.setdefault(
            outcome.table_name or "(unknown)",
            {
                "files": 0,
                "loaded_files": 0,
                "rejected_files": 0,
                "rows_received": 0,
                "rows_loaded": 0,
                "rows_quarantined": 0,
            },
        )
        counts["files"] += 1
        counts["loaded_files"] += outcome.status == "loaded"
        counts["rejected_files"] += outcome.status == "rejected"
        counts["rows_received"] += outcome.rows_received
        counts["rows_loaded"] += outcome.rows_loaded
        counts["rows_quarantined"] += outcome.rows_quarantined
    return by_table


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            MANIFEST_KEY,
            description="Manifest of every file seen: sha256, version, status, row counts.",
            deps=REFERENCE_DEPS,
            owners=["team:data-engineering"],
        ),
        *[
            dg.AssetSpec(
                key,
                description=f"Loaded rows of {table} (all versions), NHS numbers pseudonymised.",
                deps=REFERENCE_DEPS,
                owners=["team:data-engineering"],
            )
            for table, key in RAW_KEYS.items()
        ],
    ],
    name="ingest_landed_files",
    group_name="ingestion",
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=WAREHOUSE_POOL,
)
def ingest_landed_files(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Validate, pseudonymise and load the landed files of the partition's months, once each."""
    settings = get_settings()
    start, end = window_months(context)
    today = date.today()
    paths = files_for_window(settings.landing, start, end, today)
    context.log.info(f"{len(paths)} landed file(s) for {start:%Y-%m} to before {end:%Y-%m}")
    try:
        with warehouse.writer() as con:
            outcomes = ingest_paths(con, paths, pseudonym_key(), settings.reject_threshold, today)
    except WarehouseBusyError as error:  # transient: another process held the file for too long
        raise dg.RetryRequested(max_retries=3, seconds_to_wait=30) from error
    for outcome in outcomes:
        if outcome.status in {"rejected", "duplicate"}:
            context.log.warning(outcome.message)
    by_table = summarise(outcomes)
    yield dg.MaterializeResult(
        asset_key=MANIFEST_KEY,
        metadata={
            "files_processed": len(outcomes),
            "files_loaded": sum(o.status == "loaded" for o in outcomes),
            "files_rejected": sum(o.status == "rejected" for o in outcomes),
            "files_duplicate": sum(o.status == "duplicate" for o in outcomes),
        },
    )
    for table, key in RAW_KEYS.items():
        counts = by_table.get(table, {})
        yield dg.MaterializeResult(
            asset_key=key, metadata={name: dg.MetadataValue.int(value) for name, value in counts.items()}
        )
