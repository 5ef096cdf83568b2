"""Write extract rows to CSV and XLSX exactly in each contract's column order.

XLSX files are made byte-reproducible: fixed document properties and fixed zip entry times
(openpyxl stamps both with the wall clock otherwise).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from operator import itemgetter
from pathlib import Path

from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

from ..contract import Contract
from .periods import as_date, iso

Row = Sequence[object]
Converter = Callable[[object], object]


class Layout:
    """Maps the generator's field order for a table onto the contract's columns."""

    def __init__(self, contract: Contract, fields: tuple[str, ...]) -> None:
        self.contract = contract
        self.columns = contract.column_names
        missing = [c for c in contract.required_columns if c not in fields]
        if missing:
            raise RuntimeError(f"generator does not produce required {contract.table} columns {missing}")
        positions = [fields.index(c) if c in fields else None for c in self.columns]
        if all(p is not None for p in positions) and len(positions) > 1:
            getter = itemgetter(*positions)
            self.reorder: Callable[[Row], list[object]] = lambda row: list(getter(row))
        else:
            self.reorder = lambda row: [None if p is None else row[p] for p in positions]
        types = [c.type for c in contract.columns]
        self.csv = [_csv_converter(t) for t in types]
        self.xlsx = [_xlsx_converter(t) for t in types]


def _text(value: object) -> object:
    return "" if value is None else value


def _csv_date(value: object) -> object:
    return iso(value) if isinstance(value, int) else _text(value)


def _csv_int(value: object) -> object:
    return "" if value is None else str(value)


def _csv_decimal(value: object) -> object:
    return f"{value:.2f}" if isinstance(value, float) else _text(value)


def _csv_converter(kind: str) -> Converter:
    return {"date": _csv_date, "integer": _csv_int, "decimal": _csv_decimal}.get(kind, _text)


def _xlsx_date(value: object) -> object:
    return as_date(value) if isinstance(value, int) else value


def _identity(value: object) -> object:
    return value


def _xlsx_converter(kind: str) -> Converter:
    return _xlsx_date if kind == "date" else _identity


def csv_rows(layout: Layout, rows: Iterable[Row]) -> Iterable[list[object]]:
    """Contract-ordered rows as CSV text fields. Extra trailing values (a WRONG_FIELD_COUNT
    defect) are kept as extra fields."""
    convs = layout.csv
    n = len(convs)
    for row in rows:
        out = [f(v) for f, v in zip(convs, row, strict=False)]
        if len(row) > n:
            out.extend(str(v) for v in row[n:])
        yield out


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]], delimiter: str = ",") -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter=delimiter, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_workbook(
    path: Path,
    sheets: Sequence[tuple[str, Layout, Sequence[Row]]],
    stamp: datetime,
    creator: str,
) -> None:
    """One streaming (write-only) workbook, sheets named after tables, header row first."""
    wb = Workbook(write_only=True)
    for name, layout, rows in sheets:
        ws = wb.create_sheet(name)
        ws.append(layout.columns)
        convs = layout.xlsx
        for row in rows:
            ws.append([f(v) for f, v in zip(convs, row, strict=False)])
    wb.properties.creator = creator
    wb.properties.created = stamp
    wb.properties.modified = stamp
    buffer = io.BytesIO()
    archive = zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    ExcelWriter(wb, archive).save()  # closes the archive; save_workbook would reset `modified`
    repack_zip(buffer.getvalue(), path, stamp)


def repack_zip(data: bytes, path: Path, stamp: datetime) -> None:
    """Copy a zip with every entry's timestamp and attributes fixed, for reproducible bytes."""
    when = (stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=when)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            target.writestr(entry, source.read(info.filename))
