"""The same dbt project on DuckDB and on Apache Spark (`local[*]`) gives the same marts, row for row.

Run by `make test-spark` (needs the `spark` extra and Java 17; never collected by `make test`). The
demo warehouse (tests/conftest.py `demo_pipeline`) is copied; then Dagster's dbt asset
(`warehouse_models`, unchanged) builds the copy once with SPRX_DBT_TARGET=duckdb and once with
SPRX_DBT_TARGET=spark (which first exports the raw layer to Parquet), over the demo's months, and every
mart is compared (orchestration/spark/compare.py: numbers rounded to FLOAT_DECIMALS places).
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from orchestration.months import add_months
from tests.conftest import TEST_KEY

pytestmark = pytest.mark.spark


def java_major_version() -> int | None:
    """The major version of `java` on PATH, or None when there is none."""
    if shutil.which("java") is None:
        return None
    output = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False).stderr
    match = re.search(r'version "(\d+)(?:\.(\d+))?', output)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2)) if major == 1 and match.group(2) else major


@pytest.fixture(scope="module")
def spark_prerequisites() -> None:
    """Fail (not skip) with what is missing: `make test-spark` must never pass without running Spark."""
    missing = [name for name in ("pyspark", "dbt.adapters.spark") if importlib.util.find_spec(name) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} not installed: run `make test-spark` (installs the `spark` extra)")
    version = java_major_version()
    if version is None or version < 17:
        pytest.fail(f"Spark 4 needs Java 17 or later on PATH; found {version or 'no java'}")


def build_with_dagster(target: str, warehouse: Path, spark_dir: Path, first: date, last: date, home: Path) -> float:
    """Materialise Dagster's dbt asset for the months first..last on one target; return the seconds taken."""
    import dagster as dg
    from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

    from orchestration.assets.dbt_models import warehouse_models
    from orchestration.resources import dbt_resource

    tags = {ASSET_PARTITION_RANGE_START_TAG: first.isoformat(), ASSET_PARTITION_RANGE_END_TAG: last.isoformat()}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SPRX_DBT_TARGET", target)
        patch.setenv("SPRX_WAREHOUSE", str(warehouse))
        patch.setenv("SPRX_SPARK_DIR", str(spark_dir))
        patch.setenv("SPRX_PSEUDONYM_KEY", TEST_KEY)
        patch.setenv("DAGSTER_HOME", str(home))
        started = time.perf_counter()
        with dg.instance_for_test() as instance:
            result = dg.materialize(
                [warehouse_models],
                resources={"dbt": dbt_resource()},
                instance=instance,
                tags=tags,
                raise_on_error=False,
            )
        seconds = time.perf_counter() - started
    failures = [event.message for event in result.all_events if event.is_failure]
    assert result.success, f"dbt build on {target} through Dagster failed: {failures}"
    return seconds


def test_every_mart_is_the_same_on_duckdb_and_spark(
    demo_pipeline: dict, spark_prerequisites: None, tmp_path: Path, record_timing: Callable[[str], None]
) -> None:
    from orchestration.resources import ensure_dbt_manifest
    from orchestration.spark.compare import compare_builds, load_manifest, marts_in_manifest, unload_spark_marts

    last = date.fromisoformat(f"{demo_pipeline['end_month']}-01")
    first = add_months(last, -(demo_pipeline["months"] - 1))
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_pipeline["warehouse"], warehouse)
    spark_dir = tmp_path / "spark"

    duckdb_seconds = build_with_dagster("duckdb", warehouse, spark_dir, first, last, tmp_path / "dagster_duckdb")
    spark_seconds = build_with_dagster("spark", warehouse, spark_dir, first, last, tmp_path / "dagster_spark")

    # the hand-over happened: one Parquet folder per dbt source
    manifest = load_manifest(ensure_dbt_manifest())
    exported = sorted(
        path.relative_to(spark_dir / "raw_parquet").as_posix() for path in spark_dir.glob("raw_parquet/*/*")
    )
    declared = sorted(f"{node['schema']}/{node['identifier']}" for node in manifest["sources"].values())
    assert exported == sorted(set(declared))

    marts = marts_in_manifest(manifest)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SPRX_SPARK_DIR", str(spark_dir))
        unload_spark_marts(marts, tmp_path / "unloaded")
    report = compare_builds(warehouse, tmp_path / "unloaded", marts)
    record_timing(f"demo ({demo_pipeline['months']} months), dbt build through Dagster's warehouse_models asset:")
    record_timing(f"  duckdb: {duckdb_seconds:.0f} s   spark local[*]: {spark_seconds:.0f} s")
    record_timing(f"  {report.describe()}")
    assert report.ok, report.describe()
    # every mart of the project was compared, and the comparison saw real rows
    assert {result.mart.unique_id for result in report.marts} == {mart.unique_id for mart in marts}
    assert sum(result.duckdb_rows for result in report.marts) > 1000
