"""The Dagster code location: every asset, job and resource in one `Definitions`."""

from __future__ import annotations

import dagster as dg

from orchestration.alerts import run_failure_alert
from orchestration.assets.dbt_models import warehouse_models
from orchestration.assets.ingestion import ingest_landed_files
from orchestration.assets.nhse_return import build_nhse_return_job, build_nhse_return_schedule, nhse_return
from orchestration.assets.outputs import referrals_per_pcn_csv, submitter_feedback
from orchestration.assets.pcn_reports import pcn_monthly_reports, pcn_report_pdfs
from orchestration.assets.publication import serving_copy, superset_dashboard
from orchestration.assets.reference import reference_data
from orchestration.assets.statistics import outcome_statistics
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
    selection=dg.AssetSelection.groups("ingestion", "warehouse", "statistics", "reports", "publication")
    | dg.AssetSelection.assets(nhse_return),
    partitions_def=monthly_partitions,
    description="Ingest what has landed for the month(s), build the warehouse with dbt, write the reports.",
)

ingest_job = dg.define_asset_job(
    "ingest",
    selection=dg.AssetSelection.groups("ingestion"),
    partitions_def=monthly_partitions,
    description="Ingest what has landed for the month(s) only (no dbt build).",
)

pcn_reports_job = dg.define_asset_job(
    "pcn_reports",
    selection=dg.AssetSelection.assets(pcn_monthly_reports, pcn_report_pdfs),
    partitions_def=monthly_partitions,
    description="The month's PCN reports and ICB summaries (HTML, then PDF) from the built marts (`sprx report`).",
)

publish_job = dg.define_asset_job(
    "publish",
    selection=dg.AssetSelection.groups("publication"),
    description="Refresh the serving copy of the disclosure-controlled marts and publish the Superset dashboard.",
)

landing_zone_sensor = build_landing_sensor(monthly_cycle_job, ingest_job)
monthly_cycle_schedule = build_monthly_cycle_schedule(monthly_cycle_job)
nhse_return_job = build_nhse_return_job()
nhse_return_schedule = build_nhse_return_schedule(nhse_return_job)

defs = dg.Definitions(
    assets=[
        reference_data,
        ingest_landed_files,
        warehouse_models,
        outcome_statistics,
        referrals_per_pcn_csv,
        submitter_feedback,
        pcn_monthly_reports,
        pcn_report_pdfs,
        nhse_return,
        serving_copy,
        superset_dashboard,
    ],
    asset_checks=[*gx_asset_checks],
    jobs=[reference_refresh_job, monthly_cycle_job, ingest_job, nhse_return_job, publish_job, pcn_reports_job],
    schedules=[monthly_cycle_schedule, nhse_return_schedule],
    sensors=[landing_zone_sensor, run_failure_alert],
    resources={
        "warehouse": WarehouseResource(),
        "dbt": dbt_resource(),
    },
)
