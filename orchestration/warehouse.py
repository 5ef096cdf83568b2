"""Short-lived DuckDB connections with one writer at a time.

DuckDB allows one writing process per file, and any other open connection blocks it. Writers
take a file lock first (so writers queue instead of failing) and retry with backoff on DuckDB's
own lock error (for processes outside this project, such as a reader holding the file).
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from filelock import FileLock

log = logging.getLogger(__name__)

SCHEMAS = ("meta", "raw", "quarantine", "ref")


class WarehouseBusyError(RuntimeError):
    """The warehouse stayed locked by another process for longer than the timeout."""


def _is_lock_error(error: Exception) -> bool:
    text = str(error).lower()
    return "lock" in text and ("could not set" in text or "conflicting" in text or "held" in text)


DEFAULT_DUCKDB_MEMORY_LIMIT = "4GB"  # the same default as dbt_project/profiles.yml


def duckdb_memory_limit() -> str:
    """DuckDB's memory cap for every warehouse connection (dbt's too, in profiles.yml): $SPRX_DUCKDB_MEMORY_LIMIT,
    default 4GB, which the national-scale build fits in; above it DuckDB spills to disk next to the warehouse."""
    return os.environ.get("SPRX_DUCKDB_MEMORY_LIMIT", DEFAULT_DUCKDB_MEMORY_LIMIT)


def connect_with_retry(
    path: Path, read_only: bool = False, timeout_seconds: float = 300.0
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, retrying with jittered exponential backoff while another process holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout_seconds
    delay = 0.05
    while True:
        try:
            connection = duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as error:
            if not _is_lock_error(error) or time.monotonic() > deadline:
                if _is_lock_error(error):
                    raise WarehouseBusyError(
                        f"{path} stayed locked by another process for {timeout_seconds:.0f} s: {error}"
                    ) from error
                raise
            log.info("warehouse %s is locked; retrying in %.2f s", path, delay)
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 2.0)
            continue
        # a SET rather than connect(config=...): DuckDB refuses a second connection to an open file whose
        # configuration differs, and tests and tools open the same file plainly
        connection.execute("SET memory_limit = ?", [duckdb_memory_limit()])
        return connection


@contextmanager
def write_connection(path: Path, timeout_seconds: float = 600.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """The one writer: a file lock serialises writers of this project, then DuckDB's lock is retried."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path) + ".writer.lock", timeout=timeout_seconds)
    with lock:
        connection = connect_with_retry(path, timeout_seconds=timeout_seconds)
        try:
            for schema in SCHEMAS:
                connection.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            yield connection
        finally:
            connection.close()


@contextmanager
def read_connection(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection, held only for as long as the caller needs it."""
    if not path.exists():
        raise FileNotFoundError(f"No warehouse at {path}: run `sprx run` (or `make demo`) first")
    connection = connect_with_retry(path, read_only=True)
    try:
        yield connection
    finally:
        connection.close()
