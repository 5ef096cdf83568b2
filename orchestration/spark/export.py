"""Hand the raw layer to another engine as Parquet: every table the dbt project reads as a source.

Ingestion, validation and quarantine stay in Python and DuckDB; an engine such as Spark reads what
they produced from Parquet (one folder per table, the layout the `register_parquet_sources` dbt macro
registers). Only dbt sources are exported: seeds are loaded by dbt on each engine, and tables no
model reads (GX results, alerts) stay in the warehouse.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from orchestration.warehouse import read_connection


class ExportError(RuntimeError):
    """A source the dbt project declares cannot be exported."""


@dataclass(frozen=True, order=True)
class SourceTable:
    """A dbt source table as it sits in the DuckDB warehouse: schema and table name."""

    schema: str
    identifier: str

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.identifier}"

    def folder(self, root: Path) -> Path:
        return root / self.schema / self.identifier


def source_tables(manifest_path: Path) -> list[SourceTable]:
    """The source tables of the dbt project, from its manifest (the same list dbt registers on Spark)."""
    if not manifest_path.exists():
        raise ExportError(f"No dbt manifest at {manifest_path}: run `dbt parse` first")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    tables = {
        SourceTable(node["schema"], node.get("identifier") or node["name"]) for node in manifest["sources"].values()
    }
    return sorted(tables)


def export_sources(warehouse: Path, destination: Path, tables: Sequence[SourceTable]) -> dict[str, int]:
    """Write each table to <destination>/<schema>/<table>/part-0.parquet; return rows written per table.

    Each table is written to a new folder that then replaces the old one, so a reader never sees a
    half-written table. A declared source missing from the warehouse is an error naming it: dbt
    would fail on it later with a less direct message.
    """
    destination.mkdir(parents=True, exist_ok=True)
    rows: dict[str, int] = {}
    with read_connection(warehouse) as con:
        present = {
            (schema, name)
            for schema, name in con.execute("select table_schema, table_name from information_schema.tables").fetchall()
        }
        missing = [table.relation for table in tables if (table.schema, table.identifier) not in present]
        if missing:
            raise ExportError(f"dbt sources missing from the warehouse {warehouse}: {', '.join(missing)}")
        for table in tables:
            final = table.folder(destination)
            staging = final.with_name(f".{final.name}.{uuid.uuid4().hex}")
            staging.mkdir(parents=True)
            try:
                target_file = str(staging / "part-0.parquet").replace("'", "''")
                con.execute(f"copy (select * from {table.relation}) to '{target_file}' (format parquet)")
                rows[table.relation] = int(con.execute(f"select count(*) from {table.relation}").fetchall()[0][0])
                retired = final.with_name(f".{final.name}.retired.{uuid.uuid4().hex}")
                if final.exists():
                    final.rename(retired)
                staging.rename(final)
                shutil.rmtree(retired, ignore_errors=True)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    return rows
