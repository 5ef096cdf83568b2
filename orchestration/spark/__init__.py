"""The same dbt project on Apache Spark: which engine dbt builds on, and where Spark keeps its files.

DuckDB is the default engine. SPRX_DBT_TARGET names the dbt profile target (dbt_project/profiles.yml);
any target other than `duckdb` reads the raw layer as Parquet, exported from the DuckDB warehouse
(ingestion, validation and quarantine stay in Python and DuckDB).
"""

from __future__ import annotations

import os
from pathlib import Path

from orchestration.settings import get_settings

DUCKDB_TARGET = "duckdb"


def dbt_target() -> str:
    """The dbt profile target in force: SPRX_DBT_TARGET, default duckdb."""
    return os.environ.get("SPRX_DBT_TARGET", "").strip() or DUCKDB_TARGET


def uses_parquet_handover() -> bool:
    """Every engine but DuckDB reads the raw layer from the Parquet export, not the warehouse file."""
    return dbt_target() != DUCKDB_TARGET


def spark_dir() -> Path:
    """SPRX_SPARK_DIR, default a `spark/` folder beside the warehouse: Parquet export, tables, metastore."""
    value = os.environ.get("SPRX_SPARK_DIR")
    return Path(value).expanduser().resolve() if value else get_settings().warehouse.parent / "spark"


def parquet_dir() -> Path:
    """Where the raw layer is handed over: <spark dir>/raw_parquet/<schema>/<table>/ (profiles.yml agrees)."""
    return spark_dir() / "raw_parquet"


def unload_dir() -> Path:
    """Where the comparison unloads the marts Spark built (orchestration/spark/compare.py)."""
    return spark_dir() / "unloaded_marts"


def pin_spark_dir() -> Path:
    """Set SPRX_SPARK_DIR to an absolute path, so dbt (a subprocess) and Spark see the same folder."""
    folder = spark_dir()
    os.environ["SPRX_SPARK_DIR"] = str(folder)
    return folder
