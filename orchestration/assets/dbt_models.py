"""dbt models, seeds and tests as Dagster assets and asset checks (dagster-dbt)."""

import json
import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration.partitions import monthly_partitions, window_months
from orchestration.resources import WAREHOUSE_POOL, dbt_project, ensure_dbt_manifest
from orchestration.settings import get_settings
from orchestration.spark import dbt_target, pin_spark_dir, uses_parquet_handover
from orchestration.spark.export import export_sources, source_tables
from orchestration.warehouse import read_connection

logger = logging.getLogger(__name__)
COUNTED_MATERIALIZATIONS = {"table", "incremental", "seed", "snapshot"}


class SprxDbtTranslator(DagsterDbtTranslator):
    """Asset keys are [schema, table], so dbt sources line up with the ingestion and reference assets."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey(
                [dbt_resource_props["schema"], dbt_resource_props.get("identifier") or dbt_resource_props["name"]]
            )
        return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str:
        return "warehouse"

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return ["team:data-engineering"]


@dbt_assets(
    manifest=ensure_dbt_manifest(),
    project=dbt_project,
    dagster_dbt_translator=SprxDbtTranslator(),
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=WAREHOUSE_POOL,
)
def warehouse_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """One `dbt build` for the partition or range: models, seeds and their tests."""
    start, end = window_months(context)
    os.environ["SPRX_WAREHOUSE"] = str(get_settings().warehouse)
    if uses_parquet_handover():
        # Spark reads the raw layer as Parquet: export the dbt sources first (orchestration/spark).
        sources = source_tables(ensure_dbt_manifest())
        exported = export_sources(get_settings().warehouse, pin_spark_dir() / "raw_parquet", sources)
        context.log.info(f"raw layer exported to Parquet for the {dbt_target()} target: {exported}")
    dbt_vars = {"period_start": start.isoformat(), "period_end": end.isoformat()}
    invocation = dbt.cli(["build", "--vars", json.dumps(dbt_vars)], context=context)
    yield from with_row_counts(invocation.stream(), invocation.manifest)


def with_row_counts(events: Iterable[Any], manifest: Mapping[str, Any]) -> Iterator[Any]:
    """Attach `dagster/row_count` to each built table once dbt has finished.

    dagster-dbt's own `fetch_row_counts()` queries while dbt still holds DuckDB's single writer
    lock, so the events are held back until dbt exits and the file can be opened read-only. Views
    are not counted (that would run their query). On other targets (Spark) the counts are skipped.
    """
    buffered = list(events)
    relations: dict[int, str] = {}
    for index, event in enumerate(buffered):
        if isinstance(event, (dg.Output, dg.AssetMaterialization)) and "unique_id" in event.metadata:
            node = manifest["nodes"].get(event.metadata["unique_id"].value) or {}
            if node.get("config", {}).get("materialized") in COUNTED_MATERIALIZATIONS and node.get("relation_name"):
                relations[index] = node["relation_name"]
    counts: dict[int, int] = {}
    warehouse = get_settings().warehouse
    if relations and os.environ.get("SPRX_DBT_TARGET", "duckdb") == "duckdb" and warehouse.exists():
        with read_connection(warehouse) as con:
            for index, relation in relations.items():
                try:
                    counts[index] = int(con.execute(f"SELECT count(*) FROM {relation}").fetchall()[0][0])
                except Exception as error:  # a missing relation must not fail a build that succeeded
                    logger.warning("row count of %s not recorded: %s", relation, error)
    for index, event in enumerate(buffered):
        if index in counts:
            yield event.with_metadata({**event.metadata, "dagster/row_count": counts[index]})
        else:
            yield event
