"""CSV, XLSX and manifest bytes, reproducible: the same rows always give the same bytes.

openpyxl stamps the workbook's created/modified properties and every zip entry with the current time;
here the properties are set to the end of the reporting period and the zip is rewritten with that date
on every entry, so an unchanged month regenerates byte for byte.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from reports.nhse_return.catalogue import Catalogue
from reports.nhse_return.variants import COLUMNS, ReturnRow, Variant

DICTIONARY_COLUMNS = [
    "measure_id",
    "name",
    "definition",
    "numerator",
    "denominator",
    "unit",
    "source_mart",
    "source_column",
    "disclosure_treatment",
]
SHEETS = ("Cover", "Data", "Data dictionary")


def plain_number(value: Any) -> str:
    """A number as plain text (no exponent, no trailing zeros), so the CSV reads the same everywhere."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        number = value if isinstance(value, Decimal) else Decimal(repr(value))
        text = format(number.normalize(), "f")
        return "0" if text in ("-0", "") else text
    return str(value)


def csv_bytes(rows: Iterable[ReturnRow], variant: Variant) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS[variant])
    for row in rows:
        writer.writerow([plain_number(cell) for cell in row.cells(variant)])
    return buffer.getvalue().encode("utf-8")


@dataclass(frozen=True)
class CoverFacts:
    """What the cover sheet says; nothing here may change between identical builds (no run time)."""

    title: str
    month: date
    month_end: date
    submission: str
    deadline: date
    version: int
    variant: Variant
    variant_statement: str
    organisations: dict[str, int]
    data_rows: int
    measures: int
    catalogue_version: str
    validation: str
    warnings: int
    suppressed: int
    source_files: int


def _cover_lines(facts: CoverFacts) -> list[tuple[str, object]]:
    return [
        ("Return", facts.title),
        ("Reporting period", f"{facts.month:%B %Y} ({facts.month:%Y-%m-%d} to {facts.month_end:%Y-%m-%d})"),
        ("Submission", f"{facts.submission}, version {facts.version}"),
        ("Submission deadline", facts.deadline.isoformat()),
        ("Variant", facts.variant.value.replace("_", " ")),
        ("About the figures", facts.variant_statement),
        ("Organisations", ", ".join(f"{count} {kind.upper()}" for kind, count in facts.organisations.items())),
        ("Rows in the data sheet", facts.data_rows),
        ("Measures", f"{facts.measures} (catalogue version {facts.catalogue_version}; see the data dictionary)"),
        ("Validation", f"{facts.validation}; {facts.warnings} month-on-month change(s) flagged for review"),
        ("Suppressed cells", facts.suppressed),
        ("Source files", f"{facts.source_files} extract file versions (each named with its sha256 in manifest.json)"),
        ("Reproducibility", "sha256 of each file, source file versions and code version: manifest.json"),
    ]


def _autosize(sheet, widths: dict[int, int]) -> None:
    for index, width in widths.items():
        sheet.column_dimensions[get_column_letter(index)].width = width


def _excel_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _normalised_zip(data: bytes, stamp: datetime) -> bytes:
    """Rewrite the archive with one fixed date on every entry (zip stores local time, 2-second steps)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.create_system = 0
            entry.external_attr = 0o600 << 16
            target.writestr(entry, source.read(info.filename))
    return output.getvalue()


def xlsx_bytes(rows: list[ReturnRow], variant: Variant, catalogue: Catalogue, facts: CoverFacts) -> bytes:
    """Cover, data and data dictionary sheets; created/modified set to the end of the period."""
    workbook = Workbook()
    cover = workbook.active
    cover.title = SHEETS[0]
    cover.append([facts.title])
    cover["A1"].font = Font(bold=True, size=14)
    cover.append([])
    for label, value in _cover_lines(facts):
        cover.append([label, value])
        cover.cell(row=cover.max_row, column=1).font = Font(bold=True)
        cover.cell(row=cover.max_row, column=2).alignment = Alignment(wrap_text=True, vertical="top")
    _autosize(cover, {1: 26, 2: 100})

    data = workbook.create_sheet(SHEETS[1])
    data.append(COLUMNS[variant])
    for row in rows:
        data.append([_excel_value(value) for value in row.cells(variant)])
    for cell in data[1]:
        cell.font = Font(bold=True)
    data.freeze_panes = "A2"
    data.auto_filter.ref = data.dimensions
    _autosize(data, {1: 10, 2: 10, 3: 10, 4: 40, 5: 16, 6: 20, 7: 34, 8: 14, 9: 18, 10: 30})

    dictionary = workbook.create_sheet(SHEETS[2])
    dictionary.append(DICTIONARY_COLUMNS)
    for measure in catalogue.measures:
        entry = measure.dictionary_row()
        dictionary.append([entry[column] for column in DICTIONARY_COLUMNS])
    for cell in dictionary[1]:
        cell.font = Font(bold=True)
    dictionary.freeze_panes = "A2"
    _autosize(dictionary, {1: 34, 2: 40, 3: 80, 4: 40, 5: 24, 6: 18, 7: 38, 8: 34, 9: 60})

    stamp = datetime(facts.month_end.year, facts.month_end.month, facts.month_end.day)
    workbook.properties.creator = "sprx"
    workbook.properties.title = f"{facts.title}, {facts.month:%Y-%m}"
    workbook.properties.created = stamp
    workbook.properties.modified = stamp
    buffer = io.BytesIO()
    archive = zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    ExcelWriter(workbook, archive).save()  # save_workbook() would stamp `modified` with the current time
    return _normalised_zip(buffer.getvalue(), stamp)


def json_bytes(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n").encode("utf-8")
