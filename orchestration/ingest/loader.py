"""Load submitted files into raw.* and quarantine.rows, one transaction per file, with a manifest.

Rules (DESIGN.md, "Ingestion rules"): landing is never modified; a file is loaded at most once
(sha256); a different file for the same table, submitter and month is the next version and
supersedes the last loaded one; every record ends in raw or quarantine, counted in meta.files;
a file with more than the threshold share of bad rows is rejected whole.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from extracts.contract import Contract, load_contracts
from extracts.identifiers import is_valid_sctid
from orchestration.ingest.errors import FileRejected
from orchestration.ingest.filenames import SubmittedName, parse_file_name
from orchestration.ingest.pseudonym import hmac_pads, pseudonym_sql
from orchestration.ingest.reading import (
    Malformed,
    ParsedTable,
    decode_text,
    read_csv,
    read_csv_records,
    read_xlsx,
)
from orchestration.ingest.schema import ensure_ingestion_schema, raw_column_name
from orchestration.ingest.validation import (
    PERIOD_END,
    PERIOD_START,
    SEPARATOR,
    SUBMITTER,
    UNIT,
    BatchContext,
    nhs_number_is_valid,
    sql_literal,
    validation_sql,
)
from orchestration.months import month_end

log = logging.getLogger(__name__)
REQUIRED_REFERENCE = ("ref.practices", "ref.providers", "ref.pcns", "ref.snomed_codelist")
_NHS_LIKE = re.compile(r"(?<!\d)\d{3}[ -]?\d{3}[ -]?\d{4}(?!\d)")


class IngestError(RuntimeError):
    """Ingestion cannot run at all (for example, no reference data yet)."""


@dataclass(frozen=True)
class FileOutcome:
    file_id: int | None
    file_name: str
    sheet_name: str | None
    table_name: str | None
    submitter_code: str | None
    period: date | None
    version: int | None
    status: str
    reason_code: str | None
    rows_received: int
    rows_loaded: int
    rows_quarantined: int
    message: str


def mask_identifiers(text: str) -> str:
    """Hide anything shaped like an NHS number in free text kept for a human to read."""
    return _NHS_LIKE.sub("[masked]", text)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_reference_loaded(con: duckdb.DuckDBPyConnection) -> None:
    existing = {
        f"{schema}.{name}"
        for schema, name in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema = 'ref'"
        ).fetchall()
    }
    missing = [t for t in REQUIRED_REFERENCE if t not in existing]
    if missing:
        raise IngestError(
            f"Reference data is not loaded ({', '.join(missing)} missing): run `sprx reference load` "
            "with the ODS and NHS Digital files in $SPRX_LANDING/reference first"
        )


@dataclass
class Unit:
    """One row of meta.files: a CSV, one sheet of a workbook, or a file refused before its tables were read."""

    file_name: str
    digest: str
    size: int
    submitted: SubmittedName | None = None
    parsed: ParsedTable | None = None
    rejection: FileRejected | None = None
    duplicate_of: str | None = None
    malformed: list[Malformed] = field(default_factory=list)
    converted_from: str | None = None
    file_id: int = 0
    version: int | None = None

    @property
    def table(self) -> str | None:
        if self.parsed is not None:
            return self.parsed.table
        if self.submitted and self.submitted.prefix in load_contracts():
            return self.submitted.prefix
        return None

    @property
    def submitter_code(self) -> str | None:
        return self.submitted.submitter if self.submitted else None

    @property
    def label(self) -> str:
        sheet = self.parsed.sheet_name if self.parsed else None
        return self.file_name + (f" sheet {sheet}" if sheet else "")

    @property
    def rows_received(self) -> int:
        return self.parsed.rows_received if self.parsed is not None else len(self.malformed)

    @property
    def loadable(self) -> bool:
        return self.parsed is not None and self.parsed.rejection is None and self.duplicate_of is None


class Ingestor:
    """Ingests files through one open write connection (the caller holds the writer lock).

    Files are read one by one and committed in chunks: each chunk is one transaction in which every
    table is validated and loaded by a handful of set-based statements, whatever the number of files
    (per-file statements cost more than the rows in them at national scale, 12,000+ files a month).
    """

    def __init__(
        self, con: duckdb.DuckDBPyConnection, key: bytes, threshold: float, today: date, chunk_rows: int = 250_000
    ) -> None:
        self.con = con
        self.key = key
        self.threshold = threshold
        self.today = today
        self.chunk_rows = chunk_rows
        ensure_ingestion_schema(con)
        check_reference_loaded(con)
        manifest = con.execute(
            "SELECT file_name, sha256, status, table_name, submitter_code, period, version FROM meta.files "
            "ORDER BY file_id"
        ).fetchall()
        self._seen = {(name, digest) for name, digest, *_ in manifest}
        self._first_name: dict[str, str] = {}
        self._versions: dict[tuple[str, str, date], int] = {}
        for name, digest, status, table, submitter, period, version in manifest:
            if status != "duplicate":
                self._first_name.setdefault(digest, name)
            if status != "duplicate" and table and submitter and period and version:
                key_ = (table, submitter, period)
                self._versions[key_] = max(self._versions.get(key_, 0), version)

    # ---- reading ---------------------------------------------------------------------------
    def read_path(self, path: Path) -> list[Unit] | None:
        """The units of a landed file, or None when this exact file was processed before."""
        data = path.read_bytes()
        digest = sha256_of(data)
        if (path.name, digest) in self._seen:
            return None
        self._seen.add((path.name, digest))
        if digest in self._first_name:
            return [Unit(path.name, digest, len(data), duplicate_of=self._first_name[digest])]
        self._first_name[digest] = path.name
        submitted: SubmittedName | None = None
        try:
            submitted = parse_file_name(path.name, self.today)
            tables = (
                [read_csv(data, submitted, path.name)]
                if submitted.extension == "csv"
                else read_xlsx(data, submitted, path.name)
            )
        except FileRejected as rejection:
            return [self._rejected_unit(path.name, data, digest, submitted, rejection)]
        units = []
        for table in tables:
            malformed = table.malformed
            units.append(
                Unit(
                    path.name,
                    digest,
                    len(data),
                    submitted,
                    parsed=table,
                    malformed=malformed,
                    converted_from=table.converted_from,
                )
            )
        return units

    def _rejected_unit(
        self, file_name: str, data: bytes, digest: str, submitted: SubmittedName | None, rejection: FileRejected
    ) -> Unit:
        """A whole-file problem: every record that can still be read goes to quarantine with the reason."""
        malformed: list[Malformed] = []
        converted_from = None
        if file_name.lower().endswith(".csv") and rejection.reason_code not in {"EMPTY_FILE", "BAD_ENCODING"}:
            try:
                text, converted_from = decode_text(data, file_name)
                records = read_csv_records(text)
            except FileRejected:
                records = []
            malformed = [Malformed(n, line, ",".join(f), rejection.message) for n, line, f in records[1:]]
        return Unit(
            file_name,
            digest,
            len(data),
            submitted,
            rejection=rejection,
            malformed=malformed,
            converted_from=converted_from,
        )

    def ingest(
        self, paths: Iterable[Path], on_file: Callable[[Path, list[FileOutcome]], None] | None = None
    ) -> list[FileOutcome]:
        """Read files in order and commit them chunk by chunk. A chunk's SQL runs on a second thread while the
        next chunk is read: DuckDB releases the GIL, so parsing (Python, one core) and loading (DuckDB) overlap.
        Chunks still commit one at a time and in order, so the connection is used by one thread at a time (the
        commit thread, then this one for the last chunk); `on_file` is called from whichever committed the file."""
        outcomes: list[FileOutcome] = []
        pending: list[tuple[Path, list[Unit]]] = []
        rows = 0
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sprx-ingest-commit") as committer:
            in_flight: Future[list[FileOutcome]] | None = None
            for path in paths:
                units = self.read_path(path)
                if units is None:
                    if on_file:
                        on_file(path, [])
                    continue
                pending.append((path, units))
                rows += sum(u.rows_received for u in units)
                if rows >= self.chunk_rows:
                    if in_flight is not None:
                        outcomes += in_flight.result()
                    in_flight = committer.submit(self._commit_chunk, pending, on_file)
                    pending, rows = [], 0
            if in_flight is not None:
                outcomes += in_flight.result()
        if pending:
            outcomes += self._commit_chunk(pending, on_file)
        return outcomes

    # ---- one chunk, one transaction ---------------------------------------------------------
    def _commit_chunk(
        self, pending: list[tuple[Path, list[Unit]]], on_file: Callable[[Path, list[FileOutcome]], None] | None
    ) -> list[FileOutcome]:
        units = [unit for _, file_units in pending for unit in file_units]
        ids = [
            row[0]
            for row in self.con.execute(f"SELECT nextval('meta.file_id_seq') FROM range({len(units)})").fetchall()
        ]
        for unit, file_id in zip(units, ids, strict=True):
            unit.file_id = int(file_id)
            if unit.duplicate_of is None and unit.table and unit.submitted:
                key_ = (unit.table, unit.submitter_code, unit.submitted.period)
                unit.version = self._versions[key_] = self._versions.get(key_, 0) + 1
        self.con.execute("BEGIN TRANSACTION")
        try:
            results: dict[int, tuple[int, bool]] = {}
            for table in load_contracts():
                batch = [u for u in units if u.loadable and u.table == table]
                if batch:
                    results.update(self._load_table(load_contracts()[table], batch))
            outcomes = [self._outcome(unit, results) for unit in units]
            self._quarantine_malformed(units)
            self._record(units, outcomes)
            self._supersede(outcomes)
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        by_id = {o.file_id: o for o in outcomes}
        if on_file:
            for path, file_units in pending:
                on_file(path, [by_id[u.file_id] for u in file_units])
        return outcomes

    def _outcome(self, unit: Unit, results: dict[int, tuple[int, bool]]) -> FileOutcome:
        common = dict(
            file_id=unit.file_id,
            file_name=unit.file_name,
            sheet_name=unit.parsed.sheet_name if unit.parsed else None,
            table_name=unit.table,
            submitter_code=unit.submitter_code,
            period=unit.submitted.period if unit.submitted else None,
            version=unit.version,
        )
        received = unit.rows_received
        if unit.duplicate_of is not None:
            return FileOutcome(
                **common,
                status="duplicate",
                reason_code="DUPLICATE_FILE",
                rows_received=0,
                rows_loaded=0,
                rows_quarantined=0,
                message=f"{unit.file_name}: the same bytes were already received as "
                f"{unit.duplicate_of}; nothing loaded again",
            )
        rejection = unit.rejection or (unit.parsed.rejection if unit.parsed else None)
        if rejection is not None:
            return FileOutcome(
                **common,
                status="rejected",
                reason_code=rejection.reason_code,
                rows_received=received,
                rows_loaded=0,
                rows_quarantined=received,
                message=rejection.message,
            )
        bad_rows, rejected = results[unit.file_id]
        bad_total = bad_rows + len(unit.malformed)
        if rejected:
            return FileOutcome(
                **common,
                status="rejected",
                reason_code="TOO_MANY_BAD_ROWS",
                rows_received=received,
                rows_loaded=0,
                rows_quarantined=received,
                message=(
                    f"{unit.label}: {bad_total} of {received} rows ({bad_total / received:.1%}) failed validation, "
                    f"more than the {self.threshold:.0%} allowed: the file was rejected whole and nothing was "
                    "loaded; see quarantine.rows (or the submitter feedback report) for each row's reason"
                ),
            )
        message = f"{unit.label}: {received - bad_total} rows loaded, {bad_total} quarantined (version {unit.version})"
        if unit.converted_from:
            message += f"; converted from {unit.converted_from} to UTF-8"
        return FileOutcome(
            **common,
            status="loaded",
            reason_code=None,
            rows_received=received,
            rows_loaded=received - bad_total,
            rows_quarantined=bad_total,
            message=message,
        )

    def _load_table(self, contract: Contract, batch: list[Unit]) -> dict[int, tuple[int, bool]]:
        """Validate and load every unit of one table in the chunk; (bad rows, rejected) per file id."""
        self._register_batch(contract, batch)
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE checked AS {validation_sql(contract, BatchContext(self.today), 'batch')}"
        )
        bad = dict(
            self.con.execute(f"SELECT {UNIT}, count(*) FROM checked WHERE len(errors) > 0 GROUP BY {UNIT}").fetchall()
        )
        results: dict[int, tuple[int, bool]] = {}
        for unit in batch:
            bad_total = bad.get(unit.file_id, 0) + len(unit.malformed)
            received = unit.rows_received
            results[unit.file_id] = (bad.get(unit.file_id, 0), received > 0 and bad_total / received > self.threshold)
        self.con.register(
            "units",
            pa.table(
                {
                    UNIT: pa.array([u.file_id for u in batch], pa.int64()),
                    "file_name": pa.array([u.file_name for u in batch], pa.string()),
                    "label": pa.array([u.label for u in batch], pa.string()),
                    "rejected": pa.array([results[u.file_id][1] for u in batch], pa.bool_()),
                }
            ),
        )
        self._register_pseudonyms(contract)
        self._quarantine_checked(contract)
        self._insert_raw(contract)
        self.con.execute("DROP TABLE IF EXISTS checked")
        for view in ("batch", "units"):
            self.con.unregister(view)
        self.con.execute("DROP TABLE IF EXISTS pseudonyms")
        return results

    def _register_batch(self, contract: Contract, batch: list[Unit]) -> None:
        """All units of a table as one Arrow table of strings, with each file's context as columns."""
        rows = pa.concat_tables([u.parsed.rows for u in batch])
        # position of each row's unit in the batch, to repeat the unit's context along its rows
        unit_of_row = pa.array(np.repeat(np.arange(len(batch)), [u.parsed.rows.num_rows for u in batch]))
        context = {
            UNIT: pa.array([u.file_id for u in batch], pa.int64()),
            SUBMITTER: pa.array([u.submitter_code for u in batch], pa.string()),
            PERIOD_START: pa.array([u.submitted.period for u in batch], pa.date32()),
            PERIOD_END: pa.array([month_end(u.submitted.period) for u in batch], pa.date32()),
        }
        columns = {name: values.take(unit_of_row) for name, values in context.items()}
        columns.update({name: rows[name] for name in rows.column_names})
        self.con.register("batch", pa.table(columns))
        codes: set[str] = set()
        for column in (c.name for c in contract.columns if c.type == "snomed"):
            codes |= {
                row[0]
                for row in self.con.execute(
                    f"SELECT DISTINCT upper({column}) FROM batch WHERE {column} IS NOT NULL "
                    f"AND upper({column}) NOT IN (SELECT code FROM ref.snomed_codelist)"
                ).fetchall()
            }
        checked = sorted(codes)
        self.con.register(
            "sctid_checked",
            pa.table(
                {
                    "code": pa.array(checked, pa.string()),
                    "valid": pa.array([is_valid_sctid(c) for c in checked], pa.bool_()),
                }
            ),
        )
        self.con.execute("CREATE OR REPLACE TEMP TABLE sctid_check AS SELECT code, valid FROM sctid_checked")
        self.con.unregister("sctid_checked")

    def _register_pseudonyms(self, contract: Contract) -> None:
        """Pseudonyms for the distinct NHS numbers that passed the modulus 11 check, computed in SQL."""
        distinct = [
            f"SELECT {name} AS nhs_number FROM checked WHERE {nhs_number_is_valid(name)}"
            for name in (c.name for c in contract.columns if c.type == "nhs_number")
        ] or ["SELECT CAST(NULL AS VARCHAR) AS nhs_number WHERE false"]
        inner, outer = hmac_pads(self.key)
        self.con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE pseudonyms AS
            SELECT DISTINCT nhs_number, {pseudonym_sql("nhs_number", "$inner", "$outer")} AS person_id
            FROM ({" UNION ".join(distinct)})
            """,
            {"inner": inner, "outer": outer},
        )

    def _quarantine_checked(self, contract: Contract) -> None:
        """Bad rows, and every row of a rejected file, with the NHS number pseudonymised or masked."""
        sep = sql_literal(SEPARATOR)
        nhs = [c.name for c in contract.columns if c.type == "nhs_number"]
        values = []
        for column in contract.columns:
            if column.type == "nhs_number":
                value = f"coalesce(p.person_id, CASE WHEN c.{column.name} IS NULL THEN NULL ELSE '[masked]' END)"
            else:
                value = f"c.{column.name}"
            values.append(f"{sql_literal(raw_column_name(column))}, {value}")
        join = f"LEFT JOIN pseudonyms p ON p.nhs_number = c.{nhs[0]}" if nhs else ""
        self.con.execute(f"""
            INSERT INTO quarantine.rows
            SELECT u.{UNIT}, u.file_name, {sql_literal(contract.table)}, c.record_number, c.line_number,
              CASE WHEN len(c.errors) > 0 THEN split_part(c.errors[1], {sep}, 1) END,
              CASE WHEN len(c.errors) > 0 THEN split_part(c.errors[1], {sep}, 2) ELSE 'FILE_REJECTED' END,
              CASE WHEN len(c.errors) > 0
                THEN u.label || ': row ' || c.record_number || ' (line ' || c.line_number || '): '
                  || array_to_string(list_transform(c.errors,
                     lambda e: split_part(e, {sep}, 1) || ' ' || split_part(e, {sep}, 3)
                     || ' [' || split_part(e, {sep}, 2) || ']'), '; ')
                ELSE u.label || ': the file was rejected whole (too many bad rows); this row was valid' END,
              greatest(len(c.errors), 1),
              CAST(json_object({", ".join(values)}) AS VARCHAR),
              now()
            FROM checked c JOIN units u USING ({UNIT}) {join}
            WHERE len(c.errors) > 0 OR u.rejected
        """)

    def _insert_raw(self, contract: Contract) -> None:
        selected = []
        for column in contract.columns:
            if column.type == "nhs_number":
                selected.append("p.person_id")
            elif column.type == "month":
                selected.append(f"CAST(c.{column.name} || '-01' AS DATE)")
            elif column.type in {"date", "integer", "decimal"}:
                target = {"date": "DATE", "integer": "INTEGER", "decimal": "DECIMAL(14, 2)"}[column.type]
                selected.append(f"CAST(c.{column.name} AS {target})")
            else:
                selected.append(f"c.{column.name}")
        nhs = [c.name for c in contract.columns if c.type == "nhs_number"]
        join = f"LEFT JOIN pseudonyms p ON p.nhs_number = c.{nhs[0]}" if nhs else ""
        self.con.execute(
            f"INSERT INTO raw.{contract.table} SELECT c.{UNIT}, c.record_number, {', '.join(selected)} "
            f"FROM checked c JOIN units u USING ({UNIT}) {join} "
            f"WHERE len(c.errors) = 0 AND NOT u.rejected ORDER BY c.{UNIT}, c.record_number"
        )

    def _quarantine_malformed(self, units: list[Unit]) -> None:
        """Records that could not be mapped to columns (wrong field count, or a refused file's records)."""
        now = datetime.now()
        rows = []
        for unit in units:
            rejection = unit.rejection or (unit.parsed.rejection if unit.parsed else None)
            reason = rejection.reason_code if rejection else "WRONG_FIELD_COUNT"
            rows += [
                [
                    unit.file_id,
                    unit.file_name,
                    unit.table,
                    m.record_number,
                    m.line_number,
                    reason,
                    mask_identifiers(m.message),
                    mask_identifiers(m.text)[:2000],
                    now,
                ]
                for m in unit.malformed
            ]
        if rows:
            self.con.executemany("INSERT INTO quarantine.rows VALUES (?, ?, ?, ?, ?, NULL, ?, ?, 1, ?, ?)", rows)

    def _record(self, units: list[Unit], outcomes: list[FileOutcome]) -> None:
        now = datetime.now()
        loaded = [now if o.status == "loaded" else None for o in outcomes]
        manifest = pa.table(
            {
                "file_id": pa.array([o.file_id for o in outcomes], pa.int64()),
                "file_name": pa.array([o.file_name for o in outcomes], pa.string()),
                "sheet_name": pa.array([o.sheet_name for o in outcomes], pa.string()),
                "sha256": pa.array([u.digest for u in units], pa.string()),
                "size_bytes": pa.array([u.size for u in units], pa.int64()),
                "table_name": pa.array([o.table_name for o in outcomes], pa.string()),
                "submitter_code": pa.array([o.submitter_code for o in outcomes], pa.string()),
                "period": pa.array([o.period for o in outcomes], pa.date32()),
                "version": pa.array([o.version for o in outcomes], pa.int32()),
                "status": pa.array([o.status for o in outcomes], pa.string()),
                "reason_code": pa.array([o.reason_code for o in outcomes], pa.string()),
                "rows_received": pa.array([o.rows_received for o in outcomes], pa.int32()),
                "rows_loaded": pa.array([o.rows_loaded for o in outcomes], pa.int32()),
                "rows_quarantined": pa.array([o.rows_quarantined for o in outcomes], pa.int32()),
                "received_at": pa.array([now] * len(outcomes), pa.timestamp("us")),
                "loaded_at": pa.array(loaded, pa.timestamp("us")),
                "converted_from": pa.array([u.converted_from for u in units], pa.string()),
                "message": pa.array([o.message for o in outcomes], pa.string()),
            }
        )
        self.con.register("manifest_rows", manifest)
        self.con.execute("INSERT INTO meta.files SELECT * FROM manifest_rows")
        self.con.unregister("manifest_rows")

    def _supersede(self, outcomes: list[FileOutcome]) -> None:
        """The newest loaded version of each table, submitter and month is current; older loaded ones are superseded."""
        keys = sorted({(o.table_name, o.submitter_code, o.period) for o in outcomes if o.status == "loaded"})
        if not keys:
            return
        tables, submitters, periods = zip(*keys, strict=True)
        self.con.register(
            "loaded_keys",
            pa.table(
                {
                    "table_name": pa.array(tables, pa.string()),
                    "submitter_code": pa.array(submitters, pa.string()),
                    "period": pa.array(periods, pa.date32()),
                }
            ),
        )
        self.con.execute("""
            UPDATE meta.files SET status = 'superseded'
            FROM (
                SELECT f.table_name, f.submitter_code, f.period, max(f.version) AS latest
                FROM meta.files f JOIN loaded_keys k USING (table_name, submitter_code, period)
                WHERE f.status = 'loaded' GROUP BY ALL
            ) AS current
            WHERE meta.files.table_name = current.table_name AND meta.files.submitter_code = current.submitter_code
              AND meta.files.period = current.period AND meta.files.status = 'loaded'
              AND meta.files.version < current.latest
        """)
        self.con.unregister("loaded_keys")


def landed_names(landing: Path) -> list[str]:
    """Names of the files submitted to the landing zone: top-level, not hidden; sub-folders (reference/) are not
    extracts. scandir's entry types, not a stat per file: a national year is 160,000 files, listed every run."""
    if not landing.exists():
        return []
    with os.scandir(landing) as entries:
        return sorted(entry.name for entry in entries if entry.is_file() and not entry.name.startswith("."))


def landed_files(landing: Path) -> list[Path]:
    """The landed files (`landed_names`) as paths, in name order."""
    return [landing / name for name in landed_names(landing)]


def ingest_paths(
    con: duckdb.DuckDBPyConnection,
    paths: Iterable[Path],
    key: bytes,
    threshold: float,
    today: date | None = None,
    on_file: Callable[[Path, list[FileOutcome]], None] | None = None,
    chunk_rows: int = 250_000,
) -> list[FileOutcome]:
    """Ingest files in order; every `chunk_rows` rows (at least one file) are committed together."""
    ingestor = Ingestor(con, key, threshold, today or date.today(), chunk_rows)
    return ingestor.ingest(paths, on_file)
