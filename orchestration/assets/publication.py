"""Publication assets: the read-only serving copy of the disclosure-controlled marts, and the Superset dashboard.

Both are unpartitioned: the serving copy is one snapshot of the whole marts, rebuilt after every build (the
monthly cycle selects the `publication` group), and the dashboard reads it. The Superset asset runs only
when SUPERSET_URL, SUPERSET_USERNAME and SUPERSET_PASSWORD are set. Otherwise it returns no output, so
Dagster records the step as run but the asset as not materialised (shown as skipped, with a log line saying
why): the monthly cycle stays green on machines without Superset, and no materialisation claims a
publication that did not happen. The serving copy is useful without Superset (SQL clients, other BI tools).
"""

from collections.abc import Iterator

import dagster as dg

from orchestration.resources import WarehouseResource
from orchestration.settings import get_settings

SERVING_COPY_KEY = dg.AssetKey(["publication", "serving_copy"])
SUPERSET_DASHBOARD_KEY = dg.AssetKey(["publication", "superset_dashboard"])
# What the serving tables read (reports/superset/serving.py): dbt marts, the statistics group's
# outcome_statistics, and the PCNs each provider serves.
SERVING_SOURCES = [
    *(
        dg.AssetKey(["marts", name])
        for name in (
            "referral_measures_monthly",
            "referral_measures_financial_year",
            "referral_reason_mix",
            "data_quality_submitter_monthly",
            "outcome_statistics",
            "sroi_pcn_financial_year",
        )
    ),
    dg.AssetKey(["ref", "provider_pcns"]),
]


@dg.asset(
    key=SERVING_COPY_KEY,
    deps=SERVING_SOURCES,
    group_name="publication",
    owners=["team:data-engineering"],
    kinds={"duckdb"},
    description="A separate read-only DuckDB file of the disclosure-controlled marts for Superset and other "
    "readers ($SPRX_OUTPUT/serving/sprx_serving.duckdb), swapped in atomically, so no reader touches the "
    "live warehouse.",
)
def serving_copy(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    from reports.superset.serving import publish_serving_copy, serving_path

    copy = publish_serving_copy(warehouse.location, serving_path(get_settings().output))
    for table, absent in copy.missing.items():
        context.log.warning(f"serving table {table} left out: the warehouse has no {', '.join(absent)} yet")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(copy.path)),
            "rows": sum(copy.row_counts.values()),
            "rows_per_table": dg.MetadataValue.json(copy.row_counts),
            "tables_not_yet_available": dg.MetadataValue.json(copy.missing),
            "disclosure_rule": dg.MetadataValue.json(
                {
                    "suppress_up_to": copy.rule.suppress_up_to,
                    "rounding_base": copy.rule.rounding_base,
                    "statistic_minimum_n": copy.rule.statistic_minimum_n,
                }
            ),
        }
    )


@dg.asset(
    key=SUPERSET_DASHBOARD_KEY,
    deps=[SERVING_COPY_KEY],
    group_name="publication",
    owners=["team:data-engineering"],
    kinds={"superset"},
    output_required=False,
    description='The Superset dashboard "Social prescribing — PCN overview" over the serving copy, upserted '
    "through Superset's REST API. Runs only when SUPERSET_URL, SUPERSET_USERNAME and SUPERSET_PASSWORD are set; "
    "otherwise skipped.",
)
def superset_dashboard(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult]:
    from reports.superset.client import SupersetClient, SupersetCredentials, configured_in_environment
    from reports.superset.dashboard import publish_dashboard
    from reports.superset.serving import serving_path

    if not configured_in_environment():
        context.log.info(
            "Superset publication skipped: SUPERSET_URL, SUPERSET_USERNAME and SUPERSET_PASSWORD are not all set"
        )
        return
    client = SupersetClient(SupersetCredentials.from_environment())
    published = publish_dashboard(client, serving_path(get_settings().output))
    for chart, reason in published.charts_left_out.items():
        context.log.warning(f"chart {chart} left out: {reason}")
    yield dg.MaterializeResult(
        metadata={
            "dashboard_url": dg.MetadataValue.url(published.url),
            "dashboard_id": published.dashboard.id,
            "charts": dg.MetadataValue.json(sorted(published.charts)),
            "charts_left_out": dg.MetadataValue.json(published.charts_left_out),
            "datasets": len(published.datasets),
            "objects_created": published.created,
            "publish_seconds": round(published.seconds, 1),
        }
    )
