"""Load submitted files into raw.* and quarantine.rows, one transaction per file, with a manifest.

Rules (DESIGN.md, "Ingestion rules"): landing is never modified; a file is loaded at most once
(sha256); a different file for the same table, submitter and month is the next version and
supersedes the last loaded one; every record ends in raw or quarantine, counted in meta.files;
a file with more than the threshold share of bad rows is rejected whole.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

from extracts.contract import Contract, load_contracts
from extracts.identifiers import is_valid_nhs_number, is_valid_sctid
from orchestration.ingest.errors import FileRejected
from orchestration.ingest.filenames import SubmittedName, parse_file_name
from orchestration.ingest.pseudonym import pseudonym_table
from orchestration.ingest.reading import (
    Malformed,
    ParsedTable,
    decode_text,
    read_csv,
    read_csv_records,
    read_xlsx,
)
from orchestration.ingest.schema import ensure_ingestion_schema, raw_column_name
from orchestration.ingest.validation import SEPARATOR, BatchContext, sql_literal, validation_sql

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


def month_end(period: date) -> date:
    return (period.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    """First value of the first row, with the result fully consumed (DuckDB 2.0 requires it)."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None


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


class Ingestor:
    """Ingests files through one open write connection (the caller holds the writer lock)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, key: bytes, threshold: float, today: date) -> None:
        self.con = con
        self.key = key
        self.threshold = threshold
        self.today = today
        ensure_ingestion_schema(con)
        check_reference_loaded(con)

    # ---- manifest -------------------------------------------------------------------------
    def already_processed(self, file_name: str, sha256: str) -> bool:
        return bool(
            scalar(self.con, "SELECT count(*) FROM meta.files WHERE file_name = ? AND sha256 = ?", [file_name, sha256])
        )

    def _next_file_id(self) -> int:
        return int(scalar(self.con, "SELECT nextval('meta.file_id_seq')"))

    def _next_version(self, table: str, submitter: str, period: date) -> int:
        latest = scalar(
            self.con,
            "SELECT coalesce(max(version), 0) FROM meta.files WHERE table_name = ? AND submitter_code = ? "
            "AND period = ? AND status <> 'duplicate'",
            [table, submitter, period],
        )
        return int(latest) + 1

    def _record(self, outcome: FileOutcome, sha256: str, size: int, converted_from: str | None) -> None:
        now = datetime.now()
        self.con.execute(
            "INSERT INTO meta.files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                outcome.file_id,
                outcome.file_name,
                outcome.sheet_name,
                sha256,
                size,
                outcome.table_name,
                outcome.submitter_code,
                outcome.period,
                outcome.version,
                outcome.status,
                outcome.reason_code,
                outcome.rows_received,
                outcome.rows_loaded,
                outcome.rows_quarantined,
                now,
                now if outcome.status == "loaded" else None,
                converted_from,
                outcome.message,
            ],
        )

    # ---- whole files ----------------------------------------------------------------------
    def ingest_path(self, path: Path) -> list[FileOutcome]:
        """Ingest one landed file in one transaction; [] when this exact file was processed before."""
        data = path.read_bytes()
        digest = sha256_of(data)
        if self.already_processed(path.name, digest):
            return []
        self.con.execute("BEGIN TRANSACTION")
        try:
            outcomes = self._ingest_bytes(path.name, data, digest)
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        return outcomes

    def _ingest_bytes(self, file_name: str, data: bytes, digest: str) -> list[FileOutcome]:
        earlier = scalar(
            self.con,
            "SELECT file_name FROM meta.files WHERE sha256 = ? AND status <> 'duplicate' ORDER BY file_id LIMIT 1",
            [digest],
        )
        if earlier:
            outcome = FileOutcome(
                self._next_file_id(),
                file_name,
                None,
                None,
                None,
                None,
                None,
                "duplicate",
                "DUPLICATE_FILE",
                0,
                0,
                0,
                f"{file_name}: the same bytes were already received as {earlier}; nothing loaded again",
            )
            self._record(outcome, digest, len(data), None)
            return [outcome]
        submitted: SubmittedName | None = None
        try:
            submitted = parse_file_name(file_name, self.today)
            if submitted.extension == "csv":
                tables = [read_csv(data, submitted, file_name)]
            else:
                tables = read_xlsx(data, submitted, file_name)
        except FileRejected as rejection:
            return [self._reject_file(file_name, data, digest, submitted, rejection)]
        return [self._ingest_table(file_name, digest, len(data), submitted, t) for t in tables]

    def _reject_file(
        self, file_name: str, data: bytes, digest: str, submitted: SubmittedName | None, rejection: FileRejected
    ) -> FileOutcome:
        """A whole-file problem: every record we can still read goes to quarantine with the reason."""
        malformed: list[Malformed] = []
        converted_from = None
        if file_name.lower().endswith(".csv") and rejection.reason_code not in {"EMPTY_FILE", "BAD_ENCODING"}:
            try:
                text, converted_from = decode_text(data, file_name)
                records = read_csv_records(text)
            except FileRejected:
                records = []
            malformed = [Malformed(n, line, ",".join(f), rejection.message) for n, line, f in records[1:]]
        table = submitted.prefix if submitted and submitted.prefix in load_contracts() else None
        file_id = self._next_file_id()
        self._quarantine_malformed(file_id, file_name, table, malformed, rejection.reason_code)
        outcome = FileOutcome(
            file_id,
            file_name,
            None,
            table,
            submitted.submitter if submitted else None,
            submitted.period if submitted else None,
            None,
            "rejected",
            rejection.reason_code,
            len(malformed),
            0,
            len(malformed),
            rejection.message,
        )
        self._record(outcome, digest, len(data), converted_from)
        return outcome

    def _quarantine_malformed(
        self, file_id: int, file_name: str, table: str | None, malformed: list[Malformed], reason_code: str
    ) -> None:
        if not malformed:
            return
        now = datetime.now()
        self.con.executemany(
            "INSERT INTO quarantine.rows VALUES (?, ?, ?, ?, ?, NULL, ?, ?, 1, ?, ?)",
            [
                [
                    file_id,
                    file_name,
                    table,
                    m.record_number,
                    m.line_number,
                    reason_code,
                    mask_identifiers(m.message),
                    mask_identifiers(m.text)[:2000],
                    now,
                ]
                for m in malformed
            ],
        )

    # ---- one table of one file -------------------------------------------------------------
    def _ingest_table(
        self, file_name: str, digest: str, size: int, submitted: SubmittedName, parsed: ParsedTable
    ) -> FileOutcome:
        contract = load_contracts()[parsed.table]
        where = file_name + (f" sheet {parsed.sheet_name}" if parsed.sheet_name else "")
        file_id = self._next_file_id()
        version = self._next_version(contract.table, submitted.submitter, submitted.period)
        base = dict(
            file_id=file_id,
            file_name=file_name,
            sheet_name=parsed.sheet_name,
            table_name=contract.table,
            submitter_code=submitted.submitter,
            period=submitted.period,
            version=version,
        )
        if parsed.rejection is not None:
            self._quarantine_malformed(
                file_id, file_name, contract.table, parsed.malformed, parsed.rejection.reason_code
            )
            outcome = FileOutcome(
                **base,
                status="rejected",
                reason_code=parsed.rejection.reason_code,
                rows_received=len(parsed.malformed),
                rows_loaded=0,
                rows_quarantined=len(parsed.malformed),
                message=parsed.rejection.message,
            )
            self._record(outcome, digest, size, parsed.converted_from)
            return outcome

        context = BatchContext(
            file_name=where,
            submitter=submitted.submitter,
            period_start=submitted.period,
            period_end=month_end(submitted.period),
            today=self.today,
        )
        bad_rows = self._validate(contract, parsed, context)
        received = parsed.rows_received
        bad_total = bad_rows + len(parsed.malformed)
        rejected = received > 0 and bad_total / received > self.threshold
        self._register_pseudonyms(contract)
        if bad_rows or rejected:
            self._quarantine_checked(file_id, file_name, where, contract, all_rows=rejected)
        self._quarantine_malformed(file_id, file_name, contract.table, parsed.malformed, "WRONG_FIELD_COUNT")
        if rejected:
            loaded = 0
            message = (
                f"{where}: {bad_total} of {received} rows ({bad_total / received:.1%}) failed validation, "
                f"more than the {self.threshold:.0%} allowed: the file was rejected whole and nothing was "
                "loaded; see quarantine.rows (or the submitter feedback report) for each row's reason"
            )
            status, reason = "rejected", "TOO_MANY_BAD_ROWS"
        else:
            loaded = self._insert_raw(file_id, contract)
            status, reason = "loaded", None
            message = f"{where}: {loaded} rows loaded, {bad_total} quarantined (version {version})"
            if parsed.converted_from:
                message += f"; converted from {parsed.converted_from} to UTF-8"
        self.con.execute("DROP TABLE IF EXISTS checked")
        self.con.unregister("batch")
        self.con.unregister("pseudonyms")
        outcome = FileOutcome(
            **base,
            status=status,
            reason_code=reason,
            rows_received=received,
            rows_loaded=loaded,
            rows_quarantined=received - loaded,
            message=message,
        )
        self._record(outcome, digest, size, parsed.converted_from)
        if status == "loaded":
            self.con.execute(
                "UPDATE meta.files SET status = 'superseded' WHERE table_name = ? AND submitter_code = ? "
                "AND period = ? AND status = 'loaded' AND file_id <> ?",
                [contract.table, submitted.submitter, submitted.period, file_id],
            )
        return outcome

    def _validate(self, contract: Contract, parsed: ParsedTable, context: BatchContext) -> int:
        columns: dict[str, pa.Array] = {
            "record_number": pa.array(parsed.record_numbers, pa.int32()),
            "line_number": pa.array(parsed.line_numbers, pa.int32()),
        }
        for name in contract.column_names:
            columns[name] = pa.array(parsed.columns[name], pa.string())
        self.con.register("batch", pa.table(columns))
        snomed_columns = [c.name for c in contract.columns if c.type == "snomed"]
        codes: set[str] = set()
        for name in snomed_columns:
            codes |= {
                row[0]
                for row in self.con.execute(
                    f"SELECT DISTINCT upper({name}) FROM batch WHERE {name} IS NOT NULL "
                    f"AND upper({name}) NOT IN (SELECT code FROM ref.snomed_codelist)"
                ).fetchall()
            }
        self.con.execute("CREATE OR REPLACE TEMP TABLE sctid_check (code VARCHAR, valid BOOLEAN)")
        if codes:
            self.con.executemany(
                "INSERT INTO sctid_check VALUES (?, ?)", [[c, is_valid_sctid(c)] for c in sorted(codes)]
            )
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE checked AS {validation_sql(contract, context, 'batch')}")
        return int(scalar(self.con, "SELECT count(*) FROM checked WHERE len(errors) > 0"))

    def _register_pseudonyms(self, contract: Contract) -> None:
        nhs_columns = [c.name for c in contract.columns if c.type == "nhs_number"]
        numbers: list[str] = []
        for name in nhs_columns:
            numbers += [
                row[0]
                for row in self.con.execute(
                    f"SELECT DISTINCT {name} FROM checked WHERE regexp_full_match({name}, '[0-9]{{10}}')"
                ).fetchall()
            ]
        table = pseudonym_table((n for n in numbers if is_valid_nhs_number(n)), self.key)
        self.con.register("pseudonyms", pa.table({k: pa.array(v, pa.string()) for k, v in table.items()}))

    def _safe_value(self, contract: Contract, column_name: str) -> str:
        """A column's value for quarantine: NHS numbers become their pseudonym, or are masked."""
        column = contract.column(column_name)
        if column.type == "nhs_number":
            return (
                f"coalesce((SELECT p.person_id FROM pseudonyms p WHERE p.nhs_number = checked.{column_name}), "
                f"CASE WHEN checked.{column_name} IS NULL THEN NULL ELSE '[masked]' END)"
            )
        return f"checked.{column_name}"

    def _quarantine_checked(self, file_id: int, file_name: str, where: str, contract: Contract, all_rows: bool) -> None:
        sep = sql_literal(SEPARATOR)
        record = ", ".join(
            f"{sql_literal(raw_column_name(c))}, {self._safe_value(contract, c.name)}" for c in contract.columns
        )
        first = "errors[1]"
        condition = "true" if all_rows else "len(errors) > 0"
        rejected_message = sql_literal(f"{where}: the file was rejected whole (too many bad rows); this row was valid")
        self.con.execute(
            f"""
            INSERT INTO quarantine.rows
            SELECT {file_id}, {sql_literal(file_name)}, {sql_literal(contract.table)}, record_number, line_number,
              CASE WHEN len(errors) > 0 THEN split_part({first}, {sep}, 1) END,
              CASE WHEN len(errors) > 0 THEN split_part({first}, {sep}, 2) ELSE 'FILE_REJECTED' END,
              CASE WHEN len(errors) > 0
                THEN {sql_literal(where)} || ': row ' || record_number || ' (line ' || line_number || '): '
                || array_to_string(list_transform(errors,
                   lambda e: split_part(e, {sep}, 1) || ' ' || split_part(e, {sep}, 3)
                   || ' [' || split_part(e, {sep}, 2) || ']'), '; ')
                ELSE {rejected_message} END,
              greatest(len(errors), 1),
              CAST(json_object({record}) AS VARCHAR),
              now()
            FROM checked WHERE {condition}
            """
        )

    def _insert_raw(self, file_id: int, contract: Contract) -> int:
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
            f"INSERT INTO raw.{contract.table} SELECT {file_id}, c.record_number, {', '.join(selected)} "
            f"FROM checked c {join} WHERE len(c.errors) = 0 ORDER BY c.record_number"
        )
        return int(scalar(self.con, f"SELECT count(*) FROM raw.{contract.table} WHERE file_id = ?", [file_id]))


def landed_files(landing: Path) -> list[Path]:
    """Files submitted to the landing zone: top-level, not hidden; sub-folders (reference/) are not extracts."""
    if not landing.exists():
        return []
    return sorted(p for p in landing.iterdir() if p.is_file() and not p.name.startswith("."))


def ingest_paths(
    con: duckdb.DuckDBPyConnection,
    paths: Iterable[Path],
    key: bytes,
    threshold: float,
    today: date | None = None,
    on_file: Callable[[Path, list[FileOutcome]], None] | None = None,
) -> list[FileOutcome]:
    ingestor = Ingestor(con, key, threshold, today or date.today())
    outcomes: list[FileOutcome] = []
    for path in paths:
        result = ingestor.ingest_path(path)
        outcomes += result
        if on_file:
            on_file(path, result)
    return outcomes
