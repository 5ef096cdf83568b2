"""Read a submitted CSV or XLSX into string columns, with record and line numbers, never guessing silently.

Every record of a file is accounted for: it becomes a row of a `ParsedTable` or a `malformed`
entry (wrong number of fields). Encodings other than UTF-8 are detected and converted only where
the conversion is certain (a BOM, or Windows-1252 text that is not valid UTF-8); anything else is
rejected with the line of the first undecodable byte.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from python_calamine import CalamineError, CalamineWorkbook

from extracts.contract import Contract, load_contracts, load_workbooks
from orchestration.ingest.errors import FileRejected
from orchestration.ingest.filenames import SubmittedName

csv.field_size_limit(1 << 20)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # encrypted XLSX and legacy .xls are OLE files
_OTHER_DELIMITERS = (";", "\t", "|")


@dataclass
class Malformed:
    record_number: int
    line_number: int
    text: str
    message: str


@dataclass
class ParsedTable:
    """One table's records from one file (a CSV, or one sheet of a workbook).

    `rows` is Arrow (record_number, line_number, then every contract column as text, absent ones null), built
    once per file, so the loader concatenates a chunk's files instead of flattening millions of Python strings.
    """

    table: str
    sheet_name: str | None
    rows: pa.Table
    malformed: list[Malformed] = field(default_factory=list)
    converted_from: str | None = None
    rejection: FileRejected | None = None  # a sheet-level problem: its records are quarantined

    @property
    def rows_received(self) -> int:
        return self.rows.num_rows + len(self.malformed)


def rows_schema(contract: Contract) -> pa.Schema:
    return pa.schema(
        [("record_number", pa.int32()), ("line_number", pa.int32())]
        + [(name, pa.string()) for name in contract.column_names]
    )


def rows_table(
    contract: Contract, record_numbers: pa.Array, line_numbers: pa.Array, columns: dict[str, pa.Array]
) -> pa.Table:
    """`ParsedTable.rows` from the columns a file had: the contract's columns in order, absent ones null."""
    absent = pa.nulls(len(record_numbers), pa.string())
    arrays = [record_numbers, line_numbers, *(columns.get(name, absent) for name in contract.column_names)]
    return pa.Table.from_arrays(arrays, schema=rows_schema(contract))


def decode_text(data: bytes, file_name: str) -> tuple[str, str | None]:
    """UTF-8 text of a CSV, and the encoding it was converted from (None when it was UTF-8)."""
    if not data:
        raise FileRejected("EMPTY_FILE", f"{file_name}: the file is empty (0 bytes)")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError as error:
            raise FileRejected(
                "BAD_ENCODING", f"{file_name}: starts with a UTF-16 mark but is not valid UTF-16"
            ) from error
    if b"\x00" in data:
        raise FileRejected(
            "BAD_ENCODING",
            f"{file_name}: contains NUL bytes, so it is not a text CSV (a binary file or UTF-16 "
            "without a byte-order mark); save it as CSV UTF-8",
        )
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise FileRejected(
                "BAD_ENCODING",
                f"{file_name}: line {line} has bytes that are neither UTF-8 nor Windows-1252; "
                "save the file as CSV UTF-8",
            ) from error
        return text, "Windows-1252"


def _clean(value: object) -> str | None:
    """A cell as text: trimmed, empty as None; XLSX dates as ISO dates; whole numbers without `.0`."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value).strip().strip("\ufeff").strip()
    return text or None


def _trimmed(text: pa.Array) -> pa.Array:
    """`_clean` of text cells in Arrow: Arrow's Unicode white space is Python's `str.strip` set."""
    text = pc.utf8_trim_whitespace(pc.utf8_trim(pc.utf8_trim_whitespace(text), "\ufeff"))
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)


def _whole_numbers(values: list[object]) -> pa.Array:
    """Number cells as `_clean` writes them: whole numbers without `.0`, others as Python's repr."""
    numbers = np.array(values, dtype=np.float64)  # None becomes NaN
    missing = np.array([value is None for value in values])
    whole = ~missing & np.isfinite(numbers) & (np.trunc(numbers) == numbers) & (np.abs(numbers) < 2**53)
    text = pa.array(np.where(whole, numbers, 0).astype(np.int64)).cast(pa.string())
    text = pc.if_else(pa.array(whole), text, pa.scalar(None, pa.string()))
    others = np.flatnonzero(~missing & ~whole)
    if len(others):  # fractions, and integers too large for an exact int64: rare, done per cell
        patched = text.to_pylist()
        for index in others:
            patched[index] = _clean(values[index])
        text = pa.array(patched, pa.string())
    return text


# Cell types a whole column of which converts in Arrow (calamine gives these); any other mix goes per cell.
_COLUMN_CONVERTERS: dict[type, Callable[[list[object]], pa.Array]] = {
    float: _whole_numbers,
    dt.date: lambda values: pa.array(values, pa.date32()).cast(pa.string()),
    dt.datetime: lambda values: pa.array(values, pa.timestamp("us")).cast(pa.date32()).cast(pa.string()),
}


def _clean_column(values: Sequence[object]) -> pa.Array:
    """`_clean` of every cell of one sheet column, a column at a time where its cell types allow: a national
    month is millions of cells, and per-cell Python cost more than calamine's own parsing."""
    kinds = set(map(type, values)) - {type(None)}
    if kinds <= {str}:
        return _trimmed(pa.array(values, pa.string()))
    typed = kinds - {str}
    converter = _COLUMN_CONVERTERS.get(typed.pop()) if len(typed) == 1 else None
    cells = list(values)
    if converter is not None and str in kinds:
        # calamine gives an empty cell as "": a typed column with blank text cells is still typed
        texts = [value for value in cells if type(value) is str]
        if _trimmed(pa.array(texts, pa.string())).null_count < len(texts):
            converter = None
        else:
            cells = [None if type(value) is str else value for value in cells]
    if converter is None:
        return pa.array([_clean(value) for value in cells], pa.string())
    return converter(cells)


def _map_header(header: list[str], contract: Contract, where: str) -> list[str]:
    """Header names in file order, checked against the contract; rejects with what was expected."""
    names = [(_clean(h) or "").lower() for h in header]
    if len(names) == 1 and any(d in header[0] for d in _OTHER_DELIMITERS):
        raise FileRejected(
            "WRONG_DELIMITER",
            f"{where}: the header is not comma-separated (found {header[0][:60]!r}); "
            "save the file as comma-separated CSV",
        )
    known = set(contract.column_names)
    missing = [c for c in contract.required_columns if c not in names]
    unknown = [n or "(blank)" for n in names if n not in known]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if missing or unknown or repeated:
        problems = []
        if missing:
            problems.append(f"missing required column(s) {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown column(s) {', '.join(unknown)}")
        if repeated:
            problems.append(f"repeated column(s) {', '.join(repeated)}")
        raise FileRejected(
            "BAD_HEADER",
            f"{where}: header has {'; '.join(problems)}. Expected columns for {contract.table}: "
            f"{', '.join(contract.column_names)} (optional: "
            f"{', '.join(c.name for c in contract.columns if not c.required) or 'none'})",
        )
    return names


def _csv_table(
    contract: Contract,
    names: list[str],
    where: str,
    records: list[tuple[int, int, list[str]]],
    converted_from: str | None,
) -> ParsedTable:
    """A CSV's records below the header as columns, transposed at C speed (trimming happens in SQL); a record
    with another field count than the header's is malformed."""
    width = len(names)
    good = [record for record in records if len(record[2]) == width]
    malformed = [
        _wrong_field_count(where, record_number, line_number, len(fields), width, ",".join(fields))
        for record_number, line_number, fields in records
        if len(fields) != width
    ]
    transposed = zip(*(fields for _, _, fields in good), strict=True) if good else [() for _ in names]
    return ParsedTable(
        table=contract.table,
        sheet_name=None,
        rows=rows_table(
            contract,
            pa.array([r[0] for r in good], pa.int32()),
            pa.array([r[1] for r in good], pa.int32()),
            {name: pa.array(values, pa.string()) for name, values in zip(names, transposed, strict=True)},
        ),
        malformed=malformed,
        converted_from=converted_from,
    )


def _wrong_field_count(
    where: str, record_number: int, line_number: int, count: int, expected: int, text: str
) -> Malformed:
    """A record whose fields cannot be matched to the header's columns (CSV field count; XLSX cells beyond)."""
    return Malformed(
        record_number,
        line_number,
        text,
        f"{where}: row {record_number} (line {line_number}) has {count} "
        f"field(s) where the header has {expected} (a truncated line, or an "
        "unquoted comma in a value)",
    )


def read_csv_records(text: str) -> list[tuple[int, int, list[str]]]:
    """(record number, line number, fields) for every non-blank record; record 0 is the header."""
    reader = csv.reader(io.StringIO(text, newline=""))
    records: list[tuple[int, int, list[str]]] = []
    first_line = 1
    for fields in reader:
        if fields and any(f.strip() for f in fields):
            records.append((len(records), first_line, fields))
        first_line = reader.line_num + 1
    return records


def read_csv(data: bytes, submitted: SubmittedName, file_name: str) -> ParsedTable:
    contract = load_contracts()[submitted.prefix]
    text, converted_from = decode_text(data, file_name)
    records = read_csv_records(text)
    if not records:
        raise FileRejected("NO_HEADER", f"{file_name}: the file has no header row (only blank lines)")
    _, _, header = records[0]
    names = _map_header(header, contract, file_name)
    table = _csv_table(contract, names, file_name, records[1:], converted_from)
    if table.rows_received == 0:
        raise FileRejected(
            "HEADER_ONLY",
            f"{file_name}: the file has a header but no data rows; send a file only when there are rows for the month",
        )
    return table


def _sheet_plan(submitted: SubmittedName, sheet_names: list[str], file_name: str) -> list[tuple[str, str]]:
    """(table, sheet name) pairs to read, or a BAD_SHEETS rejection saying which sheets are expected."""
    by_name = {s.strip().lower(): s for s in sheet_names}
    if not submitted.is_workbook_group:
        table = submitted.prefix
        if table in by_name and len(sheet_names) == 1:
            return [(table, by_name[table])]
        if len(sheet_names) == 1:
            return [(table, sheet_names[0])]
        extra = [s for s in sheet_names if s.strip().lower() != table]
        raise FileRejected(
            "BAD_SHEETS",
            f"{file_name}: a workbook named for {table} must hold one sheet ({table}); "
            f"found extra sheet(s) {', '.join(extra)}",
        )
    workbook = load_workbooks()[submitted.prefix]
    allowed = set(workbook.required_sheets) | set(workbook.optional_sheets)
    missing = [s for s in workbook.required_sheets if s not in by_name]
    extra = [s for s in sheet_names if s.strip().lower() not in allowed]
    if missing or extra:
        problems = []
        if missing:
            problems.append(f"missing sheet(s) {', '.join(missing)}")
        if extra:
            problems.append(f"unknown sheet(s) {', '.join(extra)}")
        raise FileRejected(
            "BAD_SHEETS",
            f"{file_name}: workbook has {'; '.join(problems)}. Expected sheets "
            f"{', '.join(workbook.required_sheets)} (optional: {', '.join(workbook.optional_sheets)})",
        )
    order = [*workbook.required_sheets, *workbook.optional_sheets]
    return [(t, by_name[t]) for t in order if t in by_name]


def read_xlsx(data: bytes, submitted: SubmittedName, file_name: str) -> list[ParsedTable]:
    """Each expected sheet as a ParsedTable; a sheet's own problem is kept on it, not raised."""
    if not data:
        raise FileRejected("EMPTY_FILE", f"{file_name}: the file is empty (0 bytes)")
    if data.startswith(_OLE_MAGIC):
        raise FileRejected(
            "BAD_WORKBOOK",
            f"{file_name}: the workbook is password-protected (or an old .xls file); "
            "save it as .xlsx without a password",
        )
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except (CalamineError, ValueError, OSError) as error:
        raise FileRejected(
            "BAD_WORKBOOK", f"{file_name}: not a readable XLSX workbook (corrupt or truncated): {error}"
        ) from error
    tables = []
    for table_name, sheet_name in _sheet_plan(submitted, workbook.sheet_names, file_name):
        contract = load_contracts()[table_name]
        where = f"{file_name} sheet {sheet_name}"
        try:
            # skip_empty_area=False keeps rows at their sheet positions, so line numbers are Excel's
            sheet_rows = workbook.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
        except (CalamineError, ValueError) as error:
            tables.append(
                _rejected_sheet(
                    table_name, sheet_name, FileRejected("BAD_WORKBOOK", f"{where}: the sheet cannot be read: {error}")
                )
            )
            continue
        rows = iter(enumerate(sheet_rows, start=1))
        header_line = next((line for line, row in rows if any(_clean(v) is not None for v in row)), None)
        if header_line is None:
            tables.append(
                _rejected_sheet(
                    table_name, sheet_name, FileRejected("NO_HEADER", f"{where}: the sheet is empty (no header row)")
                )
            )
            continue
        header = list(sheet_rows[header_line - 1])
        while header and _clean(header[-1]) is None:  # trailing empty header cells
            header.pop()
        try:
            names = _map_header([_clean(h) or "" for h in header], contract, where)
        except FileRejected as rejection:
            sheet = _rejected_sheet(table_name, sheet_name, rejection)
            number = 0
            for line_number, row in rows:
                if any(_clean(v) is not None for v in row):
                    number += 1
                    text = ",".join(_clean(v) or "" for v in row)
                    sheet.malformed.append(Malformed(number, line_number, text, rejection.message))
            tables.append(sheet)
            continue
        tables.append(_sheet_table(contract, names, where, sheet_name, sheet_rows[header_line:], header_line + 1))
    return tables


def _sheet_table(
    contract: Contract, names: list[str], where: str, sheet: str, body: list[list[object]], first_line: int
) -> ParsedTable:
    """The records below a sheet's header, cleaned a column at a time. Blank rows are skipped (they get no
    record number); a row with a value beyond the header's columns is malformed; line numbers are Excel's."""
    width = max(len(names), *map(len, body)) if body else len(names)
    cells = [_clean_column(column) for column in itertools.zip_longest(*body)] if body else []
    cells += [pa.nulls(len(body), pa.string())] * (width - len(cells))
    present = [column.is_valid().to_numpy(zero_copy_only=False) for column in cells]
    nonblank = np.logical_or.reduce(present) if present else np.zeros(len(body), dtype=bool)
    record_numbers = np.cumsum(nonblank)
    line_numbers = first_line + np.arange(len(body))
    beyond = np.logical_or.reduce(present[len(names) :]) if width > len(names) else np.zeros(len(body), dtype=bool)
    malformed = []
    for index in np.flatnonzero(beyond):
        values = [column[index].as_py() for column in cells]
        while len(values) > len(names) and values[-1] is None:
            values.pop()
        text = ",".join(value or "" for value in values)
        record, line = int(record_numbers[index]), int(line_numbers[index])
        malformed.append(_wrong_field_count(where, record, line, len(values), len(names), text))
    good = pa.array(np.flatnonzero(nonblank & ~beyond))
    rows = rows_table(
        contract,
        pa.array(record_numbers, pa.int32()).take(good),
        pa.array(line_numbers, pa.int32()).take(good),
        {name: column.take(good) for name, column in zip(names, cells, strict=False)},  # cells beyond: malformed
    )
    rejection = None
    if not rows.num_rows and not malformed:
        rejection = FileRejected("HEADER_ONLY", f"{where}: the sheet has a header but no data rows")
    return ParsedTable(
        table=contract.table,
        sheet_name=sheet,
        rows=rows,
        malformed=malformed,
        rejection=rejection,
    )


def _rejected_sheet(table: str, sheet: str, rejection: FileRejected) -> ParsedTable:
    return ParsedTable(
        table=table, sheet_name=sheet, rows=rows_schema(load_contracts()[table]).empty_table(), rejection=rejection
    )
