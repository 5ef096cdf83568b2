"""Compare every mart built on DuckDB with the same mart built on Spark, row for row.

The marts are the dbt models under models/marts (from the manifest, so a new mart is compared
without a change here). DuckDB's marts are read from the warehouse file. Spark's are unloaded to
Parquet through dbt's own connection to the spark target (`dbt run-operation unload_relations`, so
views are included and the profile is the only Spark configuration), then read by DuckDB too.
Values are compared, not types (the engines type the same expression
differently: DECIMAL on Spark where DuckDB has DOUBLE): every numeric value is rounded to
FLOAT_DECIMALS places as a double, dates and timestamps compare as such, everything else as text.
Rows are compared as multisets (EXCEPT ALL both ways); a difference is reported with the model,
the row's key (the columns of the mart's unique or unique_combination_of_columns test) and the
columns whose values differ.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

# Numbers are compared after rounding to this many decimal places (marts publish at most 4).
FLOAT_DECIMALS = 6
# Differing rows listed per mart before the rest are only counted.
MAX_REPORTED_ROWS = 20
KEY_TESTS = ("unique", "unique_combination_of_columns")
NUMERIC_TYPE_PREFIXES = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
    "FLOAT",
    "DOUBLE",
    "DECIMAL",
    "REAL",
)


class ComparisonError(RuntimeError):
    """The inputs of a comparison are missing or unreadable (not a difference between engines)."""


@dataclass(frozen=True)
class Mart:
    """A mart model: where it is built and the columns that identify one of its rows."""

    unique_id: str
    schema: str
    name: str
    key: tuple[str, ...]


@dataclass
class MartComparison:
    mart: Mart
    duckdb_rows: int = 0
    spark_rows: int = 0
    differences: list[str] = field(default_factory=list)


@dataclass
class ComparisonReport:
    marts: list[MartComparison]

    @property
    def ok(self) -> bool:
        return bool(self.marts) and not any(result.differences for result in self.marts)

    @property
    def differences(self) -> list[str]:
        return [difference for result in self.marts for difference in result.differences]

    def describe(self) -> str:
        lines = [
            f"{len(self.marts)} marts compared (numbers rounded to {FLOAT_DECIMALS} decimal places): "
            f"{sum(1 for result in self.marts if not result.differences)} equal, "
            f"{sum(1 for result in self.marts if result.differences)} different"
        ]
        for result in self.marts:
            status = "equal" if not result.differences else f"{len(result.differences)} difference(s)"
            lines.append(
                f"  {result.mart.schema}.{result.mart.name}: duckdb {result.duckdb_rows} rows, "
                f"spark {result.spark_rows} rows, {status}"
            )
            lines.extend(f"    {difference}" for difference in result.differences)
        return "\n".join(lines)


def load_manifest(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise ComparisonError(f"No dbt manifest at {path}: run `dbt parse` first")
    return json.loads(path.read_text(encoding="utf-8"))


def marts_in_manifest(manifest: dict[str, Any]) -> list[Mart]:
    """Every model under models/marts that is built as a relation, with its key from its uniqueness tests."""
    keys: dict[str, list[tuple[str, ...]]] = {}
    for node in manifest["nodes"].values():
        metadata = node.get("test_metadata") or {}
        if node["resource_type"] != "test" or metadata.get("name") not in KEY_TESTS or not node.get("attached_node"):
            continue
        if metadata["name"] == "unique" and node.get("column_name"):
            columns: tuple[str, ...] = (node["column_name"],)
        else:
            columns = tuple(metadata.get("kwargs", {}).get("combination_of_columns") or ())
        if columns and not (node.get("config", {}).get("where")):
            keys.setdefault(node["attached_node"], []).append(columns)
    marts = []
    for unique_id, node in manifest["nodes"].items():
        if node["resource_type"] != "model" or node["fqn"][1:2] != ["marts"]:
            continue
        if node["config"].get("materialized") == "ephemeral":
            continue
        candidates = sorted(keys.get(unique_id, []), key=len)
        key = candidates[0] if candidates else ()
        marts.append(Mart(unique_id, node["schema"], node.get("alias") or node["name"], key))
    return sorted(marts, key=lambda mart: (mart.schema, mart.name))


def unloaded_folder(unload_dir: Path, mart: Mart) -> Path:
    """Where `unload_relations` writes a relation: <unload dir>/<schema>.<name>/."""
    return unload_dir / f"{mart.schema}.{mart.name}"


def unload_spark_marts(marts: Sequence[Mart], unload_dir: Path, target: str = "spark") -> None:
    """Write each mart as Spark built it to Parquet in unload_dir, with dbt's `unload_relations` macro.

    Runs the project's dbt (the one beside this Python) on the given target, with its own target and
    log folders so the project's dbt_project/target is not touched. unload_dir is emptied first, so a
    mart the build did not create cannot be read from an earlier unload.
    """
    from orchestration.resources import dbt_environment, dbt_executable
    from orchestration.settings import DBT_PROJECT_DIR

    shutil.rmtree(unload_dir, ignore_errors=True)
    unload_dir.mkdir(parents=True)

    arguments = {"relations": [f"{mart.schema}.{mart.name}" for mart in marts], "path": str(unload_dir)}
    environment = {**dbt_environment(), "SPRX_DBT_TARGET": target}
    with tempfile.TemporaryDirectory(prefix="sprx-unload-") as scratch:
        command = [
            dbt_executable(),
            "run-operation",
            "unload_relations",
            "--args",
            json.dumps(arguments),
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            os.path.join(scratch, "target"),
            "--log-path",
            os.path.join(scratch, "logs"),
        ]
        result = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ComparisonError(
            f"Unloading the marts from {target} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )


def _quote(identifier: str) -> str:
    # DuckDB only, never in dbt SQL: the comparison reads whatever column names the engines wrote.
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    rows = con.execute(f"describe select * from {relation}").fetchall()
    return {name.lower(): data_type.upper() for name, data_type, *_ in rows}


def _normalised(column: str, duckdb_type: str, spark_type: str) -> str:
    """One column as both sides are compared: rounded doubles, dates, timestamps, booleans or text."""
    quoted = _quote(column)
    types = (duckdb_type, spark_type)
    if all(t.startswith(NUMERIC_TYPE_PREFIXES) for t in types):
        return f"round(cast({quoted} as double), {FLOAT_DECIMALS}) as {quoted}"
    if all(t == "DATE" for t in types):
        return quoted
    if all(t.startswith("TIMESTAMP") for t in types):
        return f"cast({quoted} as timestamp) as {quoted}"
    if all(t == "BOOLEAN" for t in types):
        return quoted
    return f"cast({quoted} as varchar) as {quoted}"


def _format(value: Any) -> str:
    return "null" if value is None else repr(value) if isinstance(value, str) else str(value)


def _row_differences(
    mart: Mart, columns: Sequence[str], only_duckdb: list[tuple], only_spark: list[tuple]
) -> list[str]:
    """Pair the differing rows by key and name the columns that differ; unpaired rows are missing ones."""
    key_columns = list(mart.key) or list(columns)
    key_positions = [columns.index(column) for column in key_columns]

    def key_of(row: tuple) -> tuple:
        return tuple(row[position] for position in key_positions)

    def key_text(key: tuple) -> str:
        pairs = zip(key_columns, key, strict=True)
        return "(" + ", ".join(f"{column}={_format(value)}" for column, value in pairs) + ")"

    spark_by_key: dict[tuple, list[tuple]] = {}
    for row in only_spark:
        spark_by_key.setdefault(key_of(row), []).append(row)
    messages = []
    for row in only_duckdb:
        key = key_of(row)
        if spark_by_key.get(key):
            other = spark_by_key[key].pop(0)
            differing = [
                f"{column}: duckdb={_format(left)} spark={_format(right)}"
                for column, left, right in zip(columns, row, other, strict=True)
                if left != right
            ]
            messages.append(f"{mart.name} key {key_text(key)}: " + "; ".join(differing))
        else:
            messages.append(f"{mart.name} key {key_text(key)}: row only in the DuckDB build")
    for key, rows in spark_by_key.items():
        messages.extend(f"{mart.name} key {key_text(key)}: row only in the Spark build" for _ in rows)
    return messages


def compare_mart(con: duckdb.DuckDBPyConnection, mart: Mart, unload_dir: Path) -> MartComparison:
    """Compare one mart: DuckDB's relation in the attached `duckdb_build` with Spark's unloaded Parquet."""
    result = MartComparison(mart)
    duckdb_relation = f"duckdb_build.{_quote(mart.schema)}.{_quote(mart.name)}"
    folder = unloaded_folder(unload_dir, mart)
    present = con.execute(
        "select count(*) from information_schema.tables "
        "where table_catalog = 'duckdb_build' and table_schema = ? and table_name = ?",
        [mart.schema, mart.name],
    ).fetchall()[0][0]
    if not present:
        result.differences.append(f"{mart.name}: not built on DuckDB ({mart.schema}.{mart.name} is missing)")
    files = sorted(folder.rglob("*.parquet")) if folder.is_dir() else []
    if not files:
        result.differences.append(f"{mart.name}: not built on Spark (no Parquet files in {folder})")
    if result.differences:
        return result
    spark_relation = f"read_parquet({_literal(str(folder / '**' / '*.parquet'))}, union_by_name = true)"
    duckdb_columns = _columns(con, duckdb_relation)
    spark_columns = _columns(con, spark_relation)
    missing = [column for column in duckdb_columns if column not in spark_columns]
    extra = [column for column in spark_columns if column not in duckdb_columns]
    if missing or extra:
        result.differences.append(
            f"{mart.name}: columns differ: only on DuckDB {missing or 'none'}, only on Spark {extra or 'none'}"
        )
        return result
    columns = list(duckdb_columns)
    select_list = ", ".join(_normalised(column, duckdb_columns[column], spark_columns[column]) for column in columns)
    result.duckdb_rows = con.execute(f"select count(*) from {duckdb_relation}").fetchall()[0][0]
    result.spark_rows = con.execute(f"select count(*) from {spark_relation}").fetchall()[0][0]
    duckdb_side = f"select {select_list} from {duckdb_relation}"
    spark_side = f"select {select_list} from {spark_relation}"
    only_duckdb = con.execute(f"{duckdb_side} except all {spark_side}").fetchall()
    only_spark = con.execute(f"{spark_side} except all {duckdb_side}").fetchall()
    messages = _row_differences(mart, columns, only_duckdb, only_spark)
    if len(messages) > MAX_REPORTED_ROWS:
        messages = [*messages[:MAX_REPORTED_ROWS], f"{mart.name}: … and {len(messages) - MAX_REPORTED_ROWS} more"]
    result.differences.extend(messages)
    return result


def compare_builds(duckdb_warehouse: Path, unload_dir: Path, marts: Iterable[Mart]) -> ComparisonReport:
    """Compare each mart of a DuckDB warehouse file with Spark's build of it, unloaded to unload_dir."""
    marts = list(marts)
    if not marts:
        raise ComparisonError("The dbt manifest has no marts to compare")
    if not duckdb_warehouse.exists():
        raise ComparisonError(f"No DuckDB warehouse at {duckdb_warehouse}")
    if not unload_dir.is_dir():
        raise ComparisonError(f"No unloaded Spark marts at {unload_dir}: run unload_spark_marts first")
    con = duckdb.connect()
    try:
        con.execute(f"attach {_literal(str(duckdb_warehouse))} as duckdb_build (read_only)")
        return ComparisonReport([compare_mart(con, mart, unload_dir) for mart in marts])
    finally:
        con.close()
