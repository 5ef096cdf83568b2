"""Read published CSV and XLSX files into all-string Arrow tables, never guessing silently.

Codes such as `00K` or `0_4` must survive as text, so every column is read as a string and the
readers convert explicitly. DuckDB parses CSV (fast on national files); Python's csv module is only
used on the error path, to name the exact line of a malformed record.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import logging
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import openpyxl
import pyarrow as pa
from openpyxl.utils.exceptions import InvalidFileException

from orchestration.reference.errors import ReferenceFileError

log = logging.getLogger(__name__)

csv.field_size_limit(1 << 20)

_CSV_OPTIONS = (
    "delim=',', quote='\"', escape='\"', auto_detect=false, strict_mode=true, null_padding=false, all_varchar=true"
)
_UTF8_ADVICE = "save it as CSV UTF-8"

REC = "_rec"  # column holding each record's 0-based index among the data records


@dataclass(frozen=True)
class TextFile:
    """A CSV ready for DuckDB: `readable` is the file itself, or a UTF-8 copy of a converted one."""

    original: Path
    readable: Path
    encoding: str
    first_record: list[str]


def normalise_header(value: str | None) -> str:
    """Header text compared case- and spacing-insensitively (published files vary in both)."""
    return " ".join((value or "").replace("\ufeff", "").split()).casefold()


def _decode(data: bytes, path: Path) -> tuple[str | None, str]:
    """The text when it needed converting (else None), and the encoding the file was in."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as error:
            raise ReferenceFileError(
                path,
                f"starts with a UTF-16 byte-order mark but is not valid UTF-16; {_UTF8_ADVICE}",
            ) from error
    if b"\x00" in data:
        raise ReferenceFileError(
            path,
            "contains NUL bytes, so it is not a text CSV (a binary file, or UTF-16 without a "
            f"byte-order mark); {_UTF8_ADVICE}",
        )
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        byte = data[error.start : error.start + 1].hex()
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise ReferenceFileError(
                path,
                f"line {line}: byte 0x{byte} is neither UTF-8 nor Windows-1252 text; " + _UTF8_ADVICE,
            ) from error
        controls = {c for c in text if unicodedata.category(c) == "Cc" and c not in "\t\r\n"}
        if controls:
            raise ReferenceFileError(
                path,
                f"line {line}: byte 0x{byte} is not UTF-8 and the file holds control characters, "
                f"so its encoding cannot be told; {_UTF8_ADVICE}",
            ) from error
        log.warning(
            "%s is not UTF-8 (byte 0x%s on line %d): read as Windows-1252 and converted",
            path.name,
            byte,
            line,
        )
        return text, "cp1252"
    return None, "utf-8"


def _first_record(text: str) -> list[str]:
    line = text.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")
    return next(csv.reader([line]), [])


@contextmanager
def open_text_csv(path: Path) -> Iterator[TextFile]:
    """Check a CSV is non-empty text; convert a detected non-UTF-8 encoding to a temporary copy."""
    data = path.read_bytes()
    blank = b" \t\r\n" + codecs.BOM_UTF8
    if not data[:65536].strip(blank) and not data.strip(blank):
        raise ReferenceFileError(path, "the file is empty")
    text, encoding = _decode(data, path)
    if text is None:
        head = data[: data.find(b"\n") if b"\n" in data else len(data)]
        yield TextFile(path, path, encoding, _first_record(head.decode("utf-8")))
        return
    with tempfile.TemporaryDirectory(prefix="sprx-ref-") as folder:
        copy = Path(folder) / path.name
        copy.write_text(text.lstrip("\ufeff"), encoding="utf-8", newline="")
        yield TextFile(path, copy, encoding, _first_record(text))


def _csv_rows(src: TextFile) -> Iterator[tuple[int, list[str]]]:
    """(physical line, fields) of each non-blank record, as DuckDB counts records."""
    with src.readable.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, strict=True)
        for row in reader:
            if row:
                yield reader.line_num, row


def record_line(src: TextFile, record: int, has_header: bool) -> int:
    """The line on which a data record ends (error path only: it rescans the file)."""
    target = record + (1 if has_header else 0)
    for index, (line, _row) in enumerate(_csv_rows(src)):
        if index == target:
            return line
    return target + 1


def _explain_csv_error(
    src: TextFile, width: int, has_header: bool, expected: str, error: Exception
) -> ReferenceFileError:
    try:
        for index, (line, row) in enumerate(_csv_rows(src)):
            if index == 0 and has_header:
                continue
            if len(row) != width:
                return ReferenceFileError(
                    src.original, f"line {line}: {len(row)} columns, expected {width} ({expected})"
                )
    except csv.Error as csv_error:
        return ReferenceFileError(src.original, f"malformed CSV ({csv_error}); expected {expected}")
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return ReferenceFileError(src.original, f"cannot be read as CSV ({first}); expected {expected}")


def read_csv_strings(src: TextFile, names: list[str], *, has_header: bool, expected: str) -> pa.Table:
    """All records as string columns named `names`, plus `_rec`; a ragged record names its line."""
    columns = "{" + ", ".join(f"'{name}': 'VARCHAR'" for name in names) + "}"
    sql = f"SELECT * FROM read_csv(?, header={str(has_header).lower()}, columns={columns}, "
    sql += _CSV_OPTIONS + ")"
    con = duckdb.connect()
    try:
        table = con.sql(sql, params=[str(src.readable)]).to_arrow_table()
    except duckdb.Error as error:
        raise _explain_csv_error(src, len(names), has_header, expected, error) from error
    finally:
        con.close()
    return table.append_column(REC, pa.array(np.arange(table.num_rows, dtype=np.int64)))


def cell_text(value: object) -> str | None:
    """An XLSX cell as the text a CSV would hold (dates ISO, whole numbers without `.0`)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value).strip()
    return text or None


@dataclass(frozen=True)
class Sheet:
    """The data under a recognised header: string columns c0…cN-1 and `_rec` = Excel row number."""

    name: str
    header: list[str]
    table: pa.Table


def read_xlsx_sheet(path: Path, accept: Callable[[list[str]], bool], expected: str, scan_rows: int = 20) -> Sheet:
    """The first sheet with a header row (within its first rows) that `accept` recognises."""
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise ReferenceFileError(path, f"not a readable XLSX workbook ({error})") from error
    try:
        for sheet in workbook.worksheets:
            rows = sheet.iter_rows(values_only=True)
            header: list[str] | None = None
            for number, row in enumerate(rows, start=1):
                cells = [cell_text(value) or "" for value in row]
                while cells and not cells[-1]:
                    cells.pop()
                if accept(cells):
                    header, header_row = cells, number
                    break
                if number >= scan_rows:
                    break
            if header is None:
                continue
            width = len(header)
            values: list[list[str | None]] = [[] for _ in range(width)]
            records: list[int] = []
            for number, row in enumerate(rows, start=header_row + 1):
                cells_or_none = [cell_text(value) for value in row]
                if not any(cells_or_none):
                    continue
                extra = [c for c in cells_or_none[width:] if c is not None]
                if extra:
                    raise ReferenceFileError(
                        path,
                        f"sheet '{sheet.title}' row {number}: values beyond the header's "
                        f"{width} columns ({extra[0]!r}); expected {expected}",
                    )
                cells_or_none += [None] * (width - len(cells_or_none))
                for column, cell in zip(values, cells_or_none, strict=False):
                    column.append(cell)
                records.append(number)
            arrays = {f"c{i}": pa.array(column, type=pa.string()) for i, column in enumerate(values)}
            arrays[REC] = pa.array(records, type=pa.int64())
            return Sheet(sheet.title, header, pa.table(arrays))
    finally:
        workbook.close()
    sheets = ", ".join(f"'{s}'" for s in workbook.sheetnames)
    raise ReferenceFileError(path, f"no sheet has the expected header row (sheets: {sheets}); expected {expected}")


def is_xlsx(path: Path) -> bool:
    return path.suffix.lower() in (".xlsx", ".xlsm")


DATE_SQL = (
    "CASE WHEN regexp_full_match({x}, '[0-9]{{8}}') THEN try_strptime({x}, '%Y%m%d')::DATE "
    "WHEN regexp_full_match({x}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') "
    "THEN try_strptime({x}, '%Y-%m-%d')::DATE END"
)


def date_sql(expression: str) -> str:
    """SQL turning YYYYMMDD or YYYY-MM-DD text into a DATE (NULL when it is neither)."""
    return DATE_SQL.format(x=expression)
