"""DDL of the ingestion tables: meta.files (manifest), quarantine.rows, and raw.<table> from the contracts."""

from __future__ import annotations

import duckdb

from extracts.contract import Column, Contract, load_contracts

RAW_TYPES = {
    "string": "VARCHAR",
    "code": "VARCHAR",
    "snomed": "VARCHAR",
    "date": "DATE",
    "month": "DATE",
    "integer": "INTEGER",
    "decimal": "DECIMAL(14, 2)",
}


def raw_column_name(column: Column) -> str:
    """NHS numbers never reach raw: the column becomes `person_id`, a keyed pseudonym."""
    return "person_id" if column.type == "nhs_number" else column.name


def raw_column_type(column: Column) -> str:
    return "VARCHAR" if column.type == "nhs_number" else RAW_TYPES[column.type]


def raw_table_ddl(contract: Contract) -> str:
    columns = ",\n  ".join(f"{raw_column_name(c)} {raw_column_type(c)}" for c in contract.columns)
    return f"""CREATE TABLE IF NOT EXISTS raw.{contract.table} (
  file_id BIGINT NOT NULL,
  record_number INTEGER NOT NULL,
  {columns}
)"""


MANIFEST_DDL = """
CREATE SEQUENCE IF NOT EXISTS meta.file_id_seq START 1;
CREATE TABLE IF NOT EXISTS meta.files (
  file_id BIGINT PRIMARY KEY,
  file_name VARCHAR NOT NULL,
  sheet_name VARCHAR,
  sha256 VARCHAR NOT NULL,
  size_bytes BIGINT NOT NULL,
  table_name VARCHAR,
  submitter_code VARCHAR,
  period DATE,
  version INTEGER,
  status VARCHAR NOT NULL,          -- loaded | rejected | duplicate | superseded
  reason_code VARCHAR,              -- file-level reason when rejected or duplicate
  rows_received INTEGER NOT NULL,
  rows_loaded INTEGER NOT NULL,
  rows_quarantined INTEGER NOT NULL,
  received_at TIMESTAMP NOT NULL,
  loaded_at TIMESTAMP,
  converted_from VARCHAR,           -- original encoding when converted to UTF-8
  message VARCHAR,
  CHECK (rows_received = rows_loaded + rows_quarantined)
);
CREATE TABLE IF NOT EXISTS quarantine.rows (
  file_id BIGINT NOT NULL,
  file_name VARCHAR NOT NULL,
  table_name VARCHAR,
  record_number INTEGER NOT NULL,
  line_number INTEGER,
  column_name VARCHAR,
  reason_code VARCHAR NOT NULL,
  message VARCHAR NOT NULL,
  error_count INTEGER NOT NULL,
  record VARCHAR,                   -- the row as JSON, NHS number pseudonymised or masked
  quarantined_at TIMESTAMP NOT NULL
);
"""


def ensure_ingestion_schema(con: duckdb.DuckDBPyConnection) -> None:
    for statement in MANIFEST_DDL.split(";"):
        if statement.strip():
            con.execute(statement)
    for contract in load_contracts().values():
        con.execute(raw_table_ddl(contract))
