"""Report assets: files written to $SPRX_OUTPUT from the marts."""

import csv
from datetime import date
from pathlib import Path

import dagster as dg

from orchestration.months import months_between
from orchestration.partitions import monthly_partitions, window_months
from orchestration.resources import WarehouseResource
from orchestration.settings import get_settings

REFERRALS_PER_PCN_COLUMNS = [
    "month_start",
    "pcn_code",
    "pcn_name",
    "referrals_received",
    "people_referred",
    "referrals_declined",
    "registered_patients",
    "referrals_per_1000_patients",
]


def write_referrals_per_pcn(rows: list[tuple], month: date, folder: Path) -> Path:
    """One CSV per month, sorted by PCN, so a rerun on unchanged data gives the same bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"referrals_per_pcn_{month:%Y%m}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(REFERRALS_PER_PCN_COLUMNS)
        for row in rows:
            writer.writerow(["" if value is None else value for value in row])
    return path


@dg.asset(
    key=dg.AssetKey(["reports", "referrals_per_pcn_csv"]),
    deps=[dg.AssetKey(["marts", "pcn_referrals_monthly"])],
    group_name="reports",
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    owners=["team:data-engineering"],
    description="Monthly referrals per PCN as CSV (exact counts: for the data team, not for publication).",
)
def referrals_per_pcn_csv(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    start, end = window_months(context)
    folder = get_settings().output / "referrals_per_pcn"
    written: list[str] = []
    rows_total = 0
    with warehouse.reader() as con:
        months = [
            m
            for (m,) in con.execute(
                "SELECT DISTINCT month_start FROM marts.pcn_referrals_monthly "
                "WHERE month_start >= ? AND month_start < ? "
                "ORDER BY month_start",
                [start, end],
            ).fetchall()
        ]
        for month in months:
            rows = con.execute(
                f"SELECT {', '.join(REFERRALS_PER_PCN_COLUMNS)} FROM marts.pcn_referrals_monthly "
                "WHERE month_start = ? ORDER BY pcn_code",
                [month],
            ).fetchall()
            written.append(str(write_referrals_per_pcn(rows, month, folder)))
            rows_total += len(rows)
    return dg.MaterializeResult(
        metadata={
            "files": dg.MetadataValue.json(written),
            "rows": rows_total,
            "folder": dg.MetadataValue.path(str(folder)),
        }
    )


@dg.asset(
    key=dg.AssetKey(["reports", "submitter_feedback"]),
    deps=[
        dg.AssetKey(["meta", "files"]),
        dg.AssetKey(["marts", "data_quality_submitter_monthly"]),
        dg.AssetKey(["marts", "data_quality_rejection_reasons"]),
        dg.AssetKey(["marts", "data_quality_field_completeness"]),
    ],
    group_name="reports",
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    owners=["team:data-engineering"],
    description="Per submitter and month: what was received, loaded and quarantined, and what to fix (CSV + HTML).",
)
def submitter_feedback(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    from reports.feedback import build_submitter_feedback

    start, end = window_months(context)
    output = get_settings().output
    packs = []
    with warehouse.reader() as con:
        for month in months_between(start, end):
            packs += build_submitter_feedback(con, month, output)
    to_fix = sum(pack.counts.rows_to_correct for pack in packs)
    return dg.MaterializeResult(
        metadata={
            "packs": len(packs),
            "rows_to_correct": to_fix,
            "folder": dg.MetadataValue.path(str(output / "feedback")),
        }
    )
