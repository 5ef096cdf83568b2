"""The Dagster code location: every asset, job and resource in one `Definitions`."""

from __future__ import annotations

import dagster as dg

from orchestration.alerts import run_failure_alert
from orchestration.assets.dbt_models import warehouse_models
from orchestration.assets.ingestion import ingest_landed_files
from orchestration.assets.outputs import referrals_per_pcn_csv, submitter_feedback
from orchestration.assets.reference import reference_data
from orchestration.checks.dagster_checks import gx_asset_checks
from orchestration.partitions import monthly_partitions
from orchestration.resources import WarehouseResource, dbt_resource
from orchestration.schedules import build_monthly_cycle_schedule
from orchestration.sensors import build_landing_sensor

reference_refresh_job = dg.define_asset_job(
    "reference_refresh",
    selection=dg.AssetSelection.groups("reference"),
    description="Reload ref.* from the official ODS and NHS Digital files.",
)

monthly_cycle_job = dg.define_asset_job(
    "monthly_cycle",
    selection=dg.AssetSelection.groups("ingestion", "warehouse", "reports"),
    partitions_def=monthly_partitions,
    description="Ingest what has landed for the month(s), build the warehouse with dbt, write the reports.",
)

ingest_job = dg.define_asset_job(
    "ingest",
    selection=dg.AssetSelection.groups("ingestion"),
    partitions_def=monthly_partitions,
    description="Ingest what has landed for the month(s) only (no dbt build).",
)

landing_zone_sensor = build_landing_sensor(monthly_cycle_job, ingest_job)
monthly_cycle_schedule = build_monthly_cycle_schedule(monthly_cycle_job)

defs = dg.Definitions(
    assets=[reference_data, ingest_landed_files, warehouse_models, referrals_per_pcn_csv, submitter_feedback],
    asset_checks=[*gx_asset_checks],
    jobs=[reference_refresh_job, monthly_cycle_job, ingest_job],
    schedules=[monthly_cycle_schedule],
    sensors=[landing_zone_sensor, run_failure_alert],
    resources={
        "warehouse": WarehouseResource(),
        "dbt": dbt_resource(),
    },
)
