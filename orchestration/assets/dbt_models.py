"""dbt models, seeds and tests as Dagster assets and asset checks (dagster-dbt)."""

import json
import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration.partitions import monthly_partitions, window_months
from orchestration.resources import WAREHOUSE_POOL, dbt_project, ensure_dbt_manifest
from orchestration.settings import get_settings


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
    dbt_vars = {"period_start": start.isoformat(), "period_end": end.isoformat()}
    yield from dbt.cli(["build", "--vars", json.dumps(dbt_vars)], context=context).stream()
