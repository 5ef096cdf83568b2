"""Validation results in the warehouse (meta.dq_results), one row per expectation, for reports and audit."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import duckdb
import pyarrow as pa

from orchestration.checks.gx_suites import TableValidation

DQ_RESULTS_DDL = """
CREATE TABLE IF NOT EXISTS meta.dq_results (
  run_id VARCHAR NOT NULL,            -- Dagster run id (or a generated id outside Dagster)
  validated_at TIMESTAMP NOT NULL,
  table_name VARCHAR NOT NULL,
  period DATE NOT NULL,               -- reporting month (first day)
  expectation VARCHAR NOT NULL,       -- GX expectation type, or batch_has_rows for an empty month
  column_name VARCHAR,                -- column(s), comma-separated for multi-column expectations
  success BOOLEAN,                    -- NULL: not evaluated (volume without 3 previous months, empty month)
  unexpected_count BIGINT,
  unexpected_percent DOUBLE,
  observed VARCHAR,
  details VARCHAR                     -- JSON: label, kind, severity, kwargs, row condition, masked samples
)
"""

SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("validated_at", pa.timestamp("us")),
        ("table_name", pa.string()),
        ("period", pa.date32()),
        ("expectation", pa.string()),
        ("column_name", pa.string()),
        ("success", pa.bool_()),
        ("unexpected_count", pa.int64()),
        ("unexpected_percent", pa.float64()),
        ("observed", pa.string()),
        ("details", pa.string()),
    ]
)


def ensure_dq_results(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS meta")
    con.execute(DQ_RESULTS_DDL)


def _rows(validation: TableValidation, run_id: str) -> list[list[Any]]:
    return [
        [
            run_id,
            validation.validated_at,
            validation.table,
            validation.period,
            outcome.expectation,
            outcome.column,
            outcome.success,
            outcome.unexpected_count,
            outcome.unexpected_percent,
            outcome.observed,
            json.dumps(
                {"label": outcome.label, "kind": outcome.kind, "severity": outcome.severity, **outcome.details},
                default=str,
                sort_keys=True,
            ),
        ]
        for outcome in validation.results
    ]


def record_results(
    con: duckdb.DuckDBPyConnection, results: Iterable[TableValidation], run_id: str | None = None
) -> int:
    """Write the validations' rows, replacing earlier rows of the same (run_id, table, period): a retried
    run step records its results once. Returns the number of rows written."""
    ensure_dq_results(con)
    written = 0
    con.execute("BEGIN TRANSACTION")
    try:
        for validation in results:
            run = run_id or validation.run_id
            con.execute(
                "DELETE FROM meta.dq_results WHERE run_id = ? AND table_name = ? AND period = ?",
                [run, validation.table, validation.period],
            )
            rows = _rows(validation, run)
            if rows:
                # one Arrow table per validation: executemany costs about 0.5 ms a row, and a national month has
                # 13,000+ rows (one volume outcome per submitter)
                con.register(
                    "dq_rows", pa.Table.from_pylist([dict(zip(SCHEMA.names, row, strict=True)) for row in rows], SCHEMA)
                )
                con.execute(f"INSERT INTO meta.dq_results ({', '.join(SCHEMA.names)}) SELECT * FROM dq_rows")
                con.unregister("dq_rows")
            written += len(rows)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return written
