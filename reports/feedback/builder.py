"""Submitter data-quality feedback: what a practice or provider sent for a month, what loaded, and what to fix.

The pack is read only from meta.files and quarantine.rows, never from raw.* and never from
quarantine.rows.record (the row as JSON, with a pseudonym in it), so nothing that identifies a person
can reach it; messages are masked again on the way out as a second line of defence. Output depends
only on the warehouse state (no clock), so a rerun of an unchanged month is byte-identical.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import yaml
from jinja2 import Environment
from markupsafe import Markup, escape

from extracts.contract import CONTRACTS_DIR, load_contracts
from orchestration.months import MONTH_NAMES

TEMPLATES_DIR = Path(__file__).parent / "templates"
FIX_HINTS_PATH = TEMPLATES_DIR / "fix_hints.yml"
REASON_CODES_PATH = CONTRACTS_DIR / "reason_codes.yml"
MAX_EXAMPLES = 20
FILE_REJECTED = "FILE_REJECTED"  # a valid row of a file rejected whole (orchestration/ingest/loader.py)
ACCEPTED = ("loaded", "superseded")
# Columns whose submitted values are masked in messages even though the submitter sent them:
# reports get forwarded, and a date of birth or small area next to a row number is personal data.
PERSONAL_COLUMNS = ("nhs_number", "date_of_birth", "lsoa_code")
_NAME = re.compile(r"^[A-Za-z_]+?_(?P<submitter>[A-Za-z0-9]+)_(?P<period>\d{6})\.[A-Za-z0-9]+$")
_NHS_LIKE = re.compile(r"(?<!\d)\d{3}[ -]?\d{3}[ -]?\d{4}(?!\d)")
_STATUS_LABELS = {
    "loaded": "loaded",
    "partly loaded": "partly loaded",
    "superseded": "replaced by a later version",
    "rejected": "rejected",
    "duplicate": "already received (duplicate)",
}


# ---- results -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FeedbackCounts:
    """The headline figures; files are counted as submitted (a workbook is one file), rows over all sheets."""

    files_received: int = 0
    files_loaded: int = 0
    files_partly_loaded: int = 0
    files_superseded: int = 0
    files_rejected: int = 0
    files_duplicate: int = 0
    rows_received: int = 0
    rows_loaded: int = 0
    rows_not_loaded: int = 0
    rows_to_correct: int = 0  # rows with their own problem, in files not since replaced
    files_to_resend: int = 0  # rejected files (or sheets) not since replaced


@dataclass(frozen=True)
class FeedbackPack:
    """One submitter's feedback for one month: where the files are and the figures in their headline."""

    submitter: str
    period: date
    rows_csv: Path
    files_csv: Path
    html: Path
    counts: FeedbackCounts

    @property
    def csv_paths(self) -> list[Path]:
        return [self.rows_csv, self.files_csv]


# ---- internal records ----------------------------------------------------------------------------
@dataclass
class _Part:
    """One meta.files row: a CSV, one sheet of a workbook, or a file rejected or skipped whole."""

    file_id: int
    file_name: str
    sheet_name: str | None
    sha256: str
    table_name: str | None
    version: int | None
    status: str
    reason_code: str | None
    rows_received: int
    rows_loaded: int
    rows_quarantined: int
    received_at: datetime
    message: str
    replaced_by: _Part | None = None
    explanation: str = ""

    @property
    def replaced(self) -> bool:
        return self.status == "superseded" or self.replaced_by is not None

    @property
    def file_key(self) -> tuple[str, str]:
        return self.file_name, self.sha256


@dataclass
class _Row:
    """One quarantine.rows row, without its record."""

    part: _Part
    record_number: int
    line_number: int | None
    column: str | None
    reason_code: str
    message: str
    problems: int


# ---- reference texts -----------------------------------------------------------------------------
@cache
def reason_descriptions() -> dict[str, str]:
    """Plain description of every reason code (reason_codes.yml, plus the loader's FILE_REJECTED)."""
    codes = yaml.safe_load(REASON_CODES_PATH.read_text(encoding="utf-8"))
    extra = yaml.safe_load(FIX_HINTS_PATH.read_text(encoding="utf-8")).get("extra_reasons", {})
    return {**codes["row"], **codes["file"], **extra}


@cache
def file_reason_codes() -> frozenset[str]:
    return frozenset(yaml.safe_load(REASON_CODES_PATH.read_text(encoding="utf-8"))["file"])


@cache
def fix_hints() -> dict[str, str]:
    """How to fix each reason code, kept in templates/fix_hints.yml next to the report template."""
    return dict(yaml.safe_load(FIX_HINTS_PATH.read_text(encoding="utf-8"))["hints"])


def describe(code: str | None) -> str:
    if not code:
        return ""
    return reason_descriptions().get(code, f"Reason {code}.")


def hint(code: str | None) -> str:
    if not code:
        return ""
    return fix_hints().get(code, "Check the message for this row, correct it and send the file again.")


def column_guidance(table: str | None, column: str | None) -> str:
    """What the contract expects in a column (allowed values or an example), so the fix is concrete."""
    contract = load_contracts().get(table or "")
    if contract is None or column not in contract.column_names:
        return ""
    spec = contract.column(column)
    text = spec.description.strip()
    if spec.allowed:
        separator = f" (several allowed, separated by {spec.multi})" if spec.multi else ""
        text += f" Allowed values{separator}: {', '.join(spec.allowed)}."
    elif spec.example and spec.type != "nhs_number" and column not in PERSONAL_COLUMNS:
        text += f" Example: {spec.example}."
    return text


# ---- safety --------------------------------------------------------------------------------------
def safe_code(submitter: str) -> str:
    """The submitter part of an output path: only [A-Z0-9]; a code that needed cleaning gets a hash suffix
    so two different codes can never share (and overwrite) one pack."""
    cleaned = re.sub(r"[^A-Z0-9]", "", submitter.upper())[:40]
    if cleaned and cleaned == submitter:
        return cleaned
    digest = hashlib.sha256(submitter.encode("utf-8")).hexdigest()[:8].upper()
    return f"{cleaned or 'UNKNOWN'}X{digest}"


@cache
def _personal_pattern() -> re.Pattern[str]:
    names = set(PERSONAL_COLUMNS)
    for contract in load_contracts().values():
        names |= {c.name for c in contract.columns if c.type == "nhs_number"}
    alternatives = "|".join(sorted(map(re.escape, names)))
    # validation.py quotes at most 40 characters of a value: `column 'value' is …` / `… [CODE]`
    return re.compile(rf"\b({alternatives}) '.{{0,40}}?'(?= is | does | has | \[|;|$)")


def redact(text: str | None) -> str:
    """Mask NHS-number-shaped digits and the values of personal columns in a message."""
    if not text:
        return ""
    text = _NHS_LIKE.sub("[masked]", text)
    return _personal_pattern().sub(r"\1 '[masked]'", text)


def _csv_cell(value: object) -> object:
    """Neutralise spreadsheet formulas: messages quote submitted values and Excel would run `=…`."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


# ---- formatting ----------------------------------------------------------------------------------
def month_label(period: date) -> str:
    """`October 2026`, without strftime so the locale cannot change the bytes."""
    return f"{MONTH_NAMES[period.month - 1]} {period.year}"


def moment_label(moment: datetime) -> str:
    return f"{moment.day} {MONTH_NAMES[moment.month - 1]} {moment.year}, {moment:%H:%M}"


def plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count:,} {word if count == 1 else (words or word + 's')}"


# ---- reading the warehouse -----------------------------------------------------------------------
_PARTS_SQL = """
SELECT f.file_id, f.file_name, f.sheet_name, f.sha256, f.table_name, f.version, f.status, f.reason_code,
  f.rows_received, f.rows_loaded, f.rows_quarantined, f.received_at, f.message,
  f.submitter_code, f.period, o.submitter_code, o.period
FROM meta.files f
LEFT JOIN (
  SELECT sha256, arg_min(submitter_code, file_id) AS submitter_code, arg_min(period, file_id) AS period
  FROM meta.files WHERE status <> 'duplicate' GROUP BY sha256
) o ON f.status = 'duplicate' AND o.sha256 = f.sha256
WHERE f.period = ? OR f.period IS NULL
ORDER BY f.file_id
"""

_ROWS_SQL = """
SELECT q.file_id, q.record_number, q.line_number, q.column_name, q.reason_code, q.message, q.error_count
FROM quarantine.rows q
WHERE list_contains(CAST(? AS BIGINT[]), q.file_id)
ORDER BY q.file_name, q.file_id, q.record_number, q.reason_code, q.column_name NULLS FIRST, q.message
"""


def _period_of(text: str) -> date | None:
    year, month = int(text[:4]), int(text[4:])
    return date(year, month, 1) if 1 <= month <= 12 and year >= 1 else None


def attribute(
    file_name: str,
    submitter: str | None,
    period: date | None,
    original_submitter: str | None,
    original_period: date | None,
) -> tuple[str, date] | None:
    """Whose file and which month: the manifest's values, else the file name's (files rejected before
    parsing, duplicates), else those of the file a duplicate repeats. None when nobody can be told."""
    match = _NAME.match(file_name)
    if match:
        submitter = submitter or match["submitter"]
        period = period or _period_of(match["period"])
    submitter = (submitter or original_submitter or "").strip().upper()
    period = period or original_period
    return (submitter, period) if submitter and period else None


def _read_parts(con: duckdb.DuckDBPyConnection, period: date) -> dict[str, list[_Part]]:
    by_submitter: dict[str, list[_Part]] = defaultdict(list)
    for row in con.execute(_PARTS_SQL, [period]).fetchall():
        owner = attribute(row[1], row[13], row[14], row[15], row[16])
        if owner is None or owner[1] != period:
            continue
        by_submitter[owner[0]].append(_Part(*row[:13]))
    return by_submitter


def _read_rows(con: duckdb.DuckDBPyConnection, parts: list[_Part]) -> list[_Row]:
    by_id = {p.file_id: p for p in parts}
    result = con.execute(_ROWS_SQL, [sorted(by_id)]).fetchall()
    return [_Row(by_id[r[0]], r[1], r[2], r[3], r[4], redact(r[5]), r[6] or 1) for r in result]


def _submitter_names(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Organisation names from ref, where the reference data has them (optional: codes are enough)."""
    columns = set(
        con.execute(
            "SELECT table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = 'ref'"
        ).fetchall()
    )
    names: dict[str, str] = {}
    for table, key, name in (
        ("practices", "practice_code", "practice_name"),
        ("providers", "provider_code", "provider_name"),
    ):
        if (f"{table}.{key}",) in columns and (f"{table}.{name}",) in columns:
            for code, label in con.execute(
                f"SELECT {key}, {name} FROM ref.{table} WHERE {name} IS NOT NULL ORDER BY {key}"
            ).fetchall():
                names.setdefault(str(code).upper(), str(label))
    return names


# ---- shaping -------------------------------------------------------------------------------------
def _mark_replaced(parts: list[_Part]) -> None:
    """A part is replaced when a later file for the same table was accepted: its problems are history."""
    accepted: dict[str, list[_Part]] = defaultdict(list)
    for part in parts:
        if part.table_name and part.status in ACCEPTED:
            accepted[part.table_name].append(part)
    for part in parts:
        later = [q for q in accepted.get(part.table_name or "", []) if q.file_id > part.file_id]
        if part.status != "duplicate" and later:
            part.replaced_by = max(later, key=lambda q: q.file_id)


def _explain(part: _Part) -> str:
    """The status in plain English: what happened to the file and whether anything is left to do."""
    newer = part.replaced_by
    newer_text = f"version {newer.version} ({newer.file_name})" if newer and newer.version else "a later file"
    if part.status == "duplicate":
        return (
            "Not loaded again: we had already received exactly the same file. Nothing to do, unless you "
            "meant to send different data."
        )
    if part.status == "superseded":
        return f"Loaded, then replaced by {newer_text}, which is the one now used. Nothing to do."
    if part.status == "rejected":
        text = f"Rejected: nothing from it was used. {describe(part.reason_code)}"
        if part.replaced:
            return text + f" Since replaced by {newer_text}, which is the one now used."
        return text + " Correct it and send the whole file again."
    if part.rows_quarantined:
        verb = "needs" if part.rows_quarantined == 1 else "need"
        return f"Loaded, except {plural(part.rows_quarantined, 'row')} that {verb} correcting; the rest is in use."
    return "Loaded in full. Nothing to do."


def _file_status(parts: list[_Part]) -> str:
    """One status per submitted file; a workbook's sheets can differ."""
    statuses = {p.status for p in parts}
    if len(statuses) == 1:
        return statuses.pop()
    if "rejected" in statuses and statuses & set(ACCEPTED):
        return "partly loaded"
    if statuses <= set(ACCEPTED):
        return "loaded" if "loaded" in statuses else "superseded"
    return "rejected" if "rejected" in statuses else sorted(statuses)[0]


def _counts(parts: list[_Part], rows: list[_Row], files_to_resend: int) -> tuple[FeedbackCounts, dict[str, int]]:
    files: dict[tuple[str, str], list[_Part]] = defaultdict(list)
    for part in parts:
        files[part.file_key].append(part)
    by_status = Counter(_file_status(group) for group in files.values())
    received = sum(p.rows_received for p in parts)
    loaded = sum(p.rows_loaded for p in parts)
    counts = FeedbackCounts(
        files_received=len(files),
        files_loaded=by_status["loaded"],
        files_partly_loaded=by_status["partly loaded"],
        files_superseded=by_status["superseded"],
        files_rejected=by_status["rejected"],
        files_duplicate=by_status["duplicate"],
        rows_received=received,
        rows_loaded=loaded,
        rows_not_loaded=received - loaded,
        rows_to_correct=sum(1 for r in rows if _is_row_problem(r) and not r.part.replaced),
        files_to_resend=files_to_resend,
    )
    return counts, dict(by_status)


def _is_row_problem(row: _Row) -> bool:
    return row.reason_code != FILE_REJECTED and row.reason_code not in file_reason_codes()


def headline(counts: FeedbackCounts, by_status: dict[str, int]) -> str:
    """`3 files received: 2 loaded, 1 rejected; 1,204 rows received, 1,190 loaded, 14 not loaded.`"""
    breakdown = ", ".join(f"{by_status[s]:,} {label}" for s, label in _STATUS_LABELS.items() if by_status.get(s))
    return (
        f"{plural(counts.files_received, 'file')} received: {breakdown}; "
        f"{plural(counts.rows_received, 'row')} received, {counts.rows_loaded:,} loaded, "
        f"{counts.rows_not_loaded:,} not loaded."
    )


def action_line(counts: FeedbackCounts) -> str:
    todo = []
    if counts.files_to_resend:
        todo.append(f"send {plural(counts.files_to_resend, 'file')} again")
    if counts.rows_to_correct:
        todo.append(f"correct {plural(counts.rows_to_correct, 'row')}")
    if not todo:
        return "Nothing to correct for this month: thank you."
    return "To do: " + " and ".join(todo) + " (details below)."


def _what_to_do(row: _Row) -> str:
    if row.part.replaced:
        return "nothing: this file has been replaced by a later version"
    if row.reason_code == FILE_REJECTED:
        return "nothing in this row: send it again with the corrected file"
    if row.reason_code in file_reason_codes():
        return "fix the file (see reason) and send it again"
    return "correct this row and send the file again"


def short_message(row: _Row) -> str:
    """The message without its `file: row n (line m): ` prefix, which the report shows in its own columns."""
    prefix = re.escape(row.part.file_name) + r"(?: sheet [^:]+)?: row \d+(?: \(line \d+\))?: "
    return re.sub("^" + prefix, "", row.message, count=1)


def _reason_groups(rows: list[_Row]) -> list[dict[str, Any]]:
    """Row problems still to fix, grouped by reason, most frequent first, with examples and guidance."""
    grouped: dict[str, list[_Row]] = defaultdict(list)
    for row in rows:
        if _is_row_problem(row) and not row.part.replaced:
            grouped[row.reason_code].append(row)
    groups = []
    for code, members in sorted(grouped.items(), key=lambda item: (-len(item[1]), item[0])):
        columns = Counter((r.part.table_name, r.column) for r in members)
        groups.append(
            {
                "code": code,
                "description": describe(code),
                "hint": hint(code),
                "count": len(members),
                "columns": [
                    {
                        "table": table or "",
                        "column": column or "(whole row)",
                        "count": n,
                        "guidance": column_guidance(table, column),
                    }
                    for (table, column), n in sorted(
                        columns.items(), key=lambda i: (-i[1], i[0][0] or "", i[0][1] or "")
                    )
                ],
                "examples": [
                    {
                        "file": r.part.file_name,
                        "sheet": r.part.sheet_name or "",
                        "line": r.line_number,
                        "row": r.record_number,
                        "column": r.column or "",
                        "message": short_message(r),
                    }
                    for r in members[:MAX_EXAMPLES]
                ],
                "more": max(0, len(members) - MAX_EXAMPLES),
            }
        )
    return groups


# ---- writing -------------------------------------------------------------------------------------
ROWS_CSV_COLUMNS = (
    "file_name",
    "sheet_name",
    "table_name",
    "file_version",
    "row_number",
    "line_number",
    "column",
    "reason_code",
    "reason",
    "message",
    "problems_in_row",
    "what_to_do",
)
FILES_CSV_COLUMNS = (
    "file_name",
    "sheet_name",
    "table_name",
    "version",
    "status",
    "what_it_means",
    "received_at",
    "rows_received",
    "rows_loaded",
    "rows_quarantined",
    "reason_code",
    "reason",
    "message",
)


def _csv_bytes(columns: tuple[str, ...], records: list[list[object]]) -> bytes:
    """UTF-8 with a BOM so Excel shows accents and dashes correctly; CRLF as RFC 4180 has it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([[_csv_cell(v) for v in record] for record in records])
    return buffer.getvalue().encode("utf-8-sig")


def _write_atomic(path: Path, data: bytes) -> None:
    """Readers never see half a file, and a crash leaves the previous pack."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def wbr(text: object) -> Markup:
    """Escape, then allow line breaks after underscores: long file names must not widen a phone screen."""
    return escape(str(text)).replace("_", Markup("_<wbr>"))


@cache
def _environment() -> Environment:
    """The house style shared with the PCN reports (autoescaped: messages quote submitted values)."""
    from reports.pcn.render import template_environment

    environment = template_environment(TEMPLATES_DIR)
    environment.filters["wbr"] = wbr
    return environment


def _quality(con: duckdb.DuckDBPyConnection, submitter: str, period: date) -> dict[str, Any] | None:
    """The month's score from the data-quality mart, its components and what would raise it most.

    None when the warehouse has no data-quality mart yet (only ingested, not built) or no row for the
    submitter. Exact figures: the pack goes to the submitter about its own submission.
    """
    from reports.pcn.data import COMPONENT_LABELS, quality_fixes
    from reports.pcn.render import load_guidance

    tables = {
        f"{schema}.{name}"
        for schema, name in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN ('marts', 'ref')"
        ).fetchall()
    }
    needed = {"marts.data_quality_submitter_monthly", "ref.data_quality_weights", "ref.data_quality_settings"}
    if not needed <= tables:
        return None
    cursor = con.execute(
        "SELECT * FROM marts.data_quality_submitter_monthly WHERE submitter_code = ? AND period = ?",
        [submitter, period],
    )
    names = [d[0] for d in cursor.description]
    found = cursor.fetchall()
    if not found:
        return None
    row = dict(zip(names, found[0], strict=True))
    guidance = load_guidance(con)
    rejections, completeness = [], []
    for table, order, target in (
        ("data_quality_rejection_reasons", "rows_quarantined DESC, reason_code, table_name", rejections),
        ("data_quality_field_completeness", "completeness_share, table_name, field_name", completeness),
    ):
        if f"marts.{table}" in tables:
            cursor = con.execute(
                f"SELECT * FROM marts.{table} WHERE submitter_code = ? AND period = ? ORDER BY {order}",
                [submitter, period],
            )
            columns = [d[0] for d in cursor.description]
            target += [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]
    return {
        "score": float(row["data_quality_score"]),
        "components": [
            {
                "label": label,
                "weight": int(guidance.weights.get(component, 0)),
                "score": None if row[f"{component}_score"] is None else float(row[f"{component}_score"]),
            }
            for component, label in COMPONENT_LABELS.items()
        ],
        "fixes": quality_fixes(row, rejections, completeness, guidance),
    }


def _build_one(
    submitter: str,
    period: date,
    parts: list[_Part],
    rows: list[_Row],
    folder: Path,
    name: str | None,
    quality: dict[str, Any] | None = None,
) -> FeedbackPack:
    code = safe_code(submitter)
    stamp = f"{period:%Y%m}"
    rows_csv = folder / f"{code}_feedback_{stamp}.csv"
    files_csv = folder / f"{code}_files_{stamp}.csv"
    html = folder / f"{code}_feedback_{stamp}.html"

    _mark_replaced(parts)
    for part in parts:
        part.message = redact(part.message)
        part.explanation = _explain(part)
    parts.sort(key=lambda p: (p.file_name, p.file_id))
    to_resend = [p for p in parts if p.status == "rejected" and not p.replaced]
    counts, by_status = _counts(parts, rows, len(to_resend))

    _write_atomic(
        rows_csv,
        _csv_bytes(
            ROWS_CSV_COLUMNS,
            [
                [
                    r.part.file_name,
                    r.part.sheet_name,
                    r.part.table_name,
                    r.part.version,
                    r.record_number,
                    r.line_number,
                    r.column,
                    r.reason_code,
                    describe(r.reason_code),
                    r.message,
                    r.problems,
                    _what_to_do(r),
                ]
                for r in rows
            ],
        ),
    )
    _write_atomic(
        files_csv,
        _csv_bytes(
            FILES_CSV_COLUMNS,
            [
                [
                    p.file_name,
                    p.sheet_name,
                    p.table_name,
                    p.version,
                    p.status,
                    p.explanation,
                    p.received_at.isoformat(sep=" ", timespec="seconds"),
                    p.rows_received,
                    p.rows_loaded,
                    p.rows_quarantined,
                    p.reason_code,
                    describe(p.reason_code),
                    p.message,
                ]
                for p in parts
            ],
        ),
    )
    resubmit_names = sorted(
        {
            p.file_name
            for p in parts
            if p.status != "duplicate"
            and not p.replaced
            and (p.status == "rejected" or p.rows_quarantined)
            and _NAME.match(p.file_name)
        }
    )
    context = {
        "submitter": submitter,
        "submitter_name": name,
        "month": month_label(period),
        "period_code": stamp,
        "received_up_to": moment_label(max(p.received_at for p in parts)),
        "headline": headline(counts, by_status),
        "action": action_line(counts),
        "counts": counts,
        "files_to_resend": [
            {
                "file": p.file_name,
                "sheet": p.sheet_name or "",
                "code": p.reason_code or "",
                "description": describe(p.reason_code),
                "message": p.message,
                "hint": hint(p.reason_code),
            }
            for p in to_resend
        ],
        "reason_groups": _reason_groups(rows),
        "parts": [
            {
                "file": p.file_name,
                "sheet": p.sheet_name or "",
                "table": p.table_name or "",
                "version": p.version,
                "status": _STATUS_LABELS.get(p.status, p.status),
                "status_class": p.status,
                "explanation": p.explanation,
                "received": p.rows_received,
                "loaded": p.rows_loaded,
                "quarantined": p.rows_quarantined,
                "received_at": moment_label(p.received_at),
            }
            for p in parts
        ],
        "resubmit_names": resubmit_names,
        "example_name": next((p.file_name for p in parts if _NAME.match(p.file_name)), f"table_{code}_{stamp}.csv"),
        "rows_csv": rows_csv.name,
        "files_csv": files_csv.name,
        "max_examples": MAX_EXAMPLES,
        "quality": quality,
    }
    _write_atomic(html, _environment().get_template("feedback.html.j2").render(**context).encode("utf-8"))
    return FeedbackPack(
        submitter=submitter, period=period, rows_csv=rows_csv, files_csv=files_csv, html=html, counts=counts
    )


def build_submitter_feedback(
    con: duckdb.DuckDBPyConnection,
    period_start: date,
    output_dir: Path,
    submitters: list[str] | None = None,
) -> list[FeedbackPack]:
    """Write a feedback pack (two CSVs and an HTML page) for each submitter with files for the month.

    Packs go to `<output_dir>/feedback/<YYYYMM>/`; `submitters` limits the run to those codes. Only
    reads the warehouse, so it can run on a read-only connection or a copy.
    """
    period = period_start.replace(day=1)
    wanted = {s.strip().upper() for s in submitters} if submitters is not None else None
    by_submitter = _read_parts(con, period)
    names = _submitter_names(con)
    folder = Path(output_dir) / "feedback" / f"{period:%Y%m}"
    packs: list[FeedbackPack] = []
    for submitter in sorted(by_submitter):
        if wanted is not None and submitter not in wanted:
            continue
        parts = by_submitter[submitter]
        rows = _read_rows(con, parts)
        folder.mkdir(parents=True, exist_ok=True)
        quality = _quality(con, submitter, period)
        packs.append(_build_one(submitter, period, parts, rows, folder, names.get(submitter), quality))
    return packs
