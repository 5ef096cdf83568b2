"""`sprx spark …`: hand the raw layer to Spark as Parquet, and compare Spark's marts with DuckDB's."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from orchestration.settings import get_settings
from orchestration.spark import parquet_dir, pin_spark_dir, unload_dir

spark_app = typer.Typer(
    help="The same dbt project on Apache Spark (README: Scaling out). Build with SPRX_DBT_TARGET=spark sprx run ….",
    no_args_is_help=True,
)
console = Console()
err = Console(stderr=True)


@spark_app.command("export")
def export_command() -> None:
    """Write every dbt source table of the warehouse to Parquet in $SPRX_SPARK_DIR/raw_parquet."""
    from orchestration.resources import ensure_dbt_manifest
    from orchestration.spark.export import ExportError, export_sources, source_tables

    pin_spark_dir()
    try:
        rows = export_sources(get_settings().warehouse, parquet_dir(), source_tables(ensure_dbt_manifest()))
    except (ExportError, FileNotFoundError) as error:
        err.print(f"[bold red]error:[/] {error}")
        raise typer.Exit(1) from error
    for relation, count in rows.items():
        console.print(f"{relation}: {count} rows")
    console.print(f"{len(rows)} tables written to {parquet_dir()}")


@spark_app.command("compare")
def compare_command(
    warehouse: Annotated[
        Path | None, typer.Option(help="DuckDB warehouse with the marts (default $SPRX_WAREHOUSE)")
    ] = None,
) -> None:
    """Compare every mart of the DuckDB build with the spark target's build, row for row; exit 1 on a difference.

    Build both first (e.g. `sprx run …` then `SPRX_DBT_TARGET=spark sprx run …` on a copy of the warehouse);
    $SPRX_SPARK_DIR names the spark target's folder.
    """
    from orchestration.resources import ensure_dbt_manifest
    from orchestration.spark.compare import (
        ComparisonError,
        compare_builds,
        load_manifest,
        marts_in_manifest,
        unload_spark_marts,
    )

    pin_spark_dir()
    try:
        marts = marts_in_manifest(load_manifest(ensure_dbt_manifest()))
        unload_spark_marts(marts, unload_dir())
        report = compare_builds((warehouse or get_settings().warehouse).resolve(), unload_dir(), marts)
    except ComparisonError as error:
        err.print(f"[bold red]error:[/] {error}")
        raise typer.Exit(1) from error
    console.print(report.describe(), markup=False, highlight=False)
    if not report.ok:
        raise typer.Exit(1)
