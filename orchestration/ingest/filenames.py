"""Parse `{table}_{submitter}_{YYYYMM}.csv|xlsx` file names against the known tables and workbooks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from extracts.contract import load_contracts, load_workbooks
from orchestration.ingest.errors import FileRejected

_NAME = re.compile(r"^(?P<prefix>[A-Za-z_]+?)_(?P<submitter>[A-Za-z0-9]+)_(?P<period>\d{6})\.(?P<ext>[A-Za-z]+)$")
EXPECTED_FORM = "{table}_{submitter}_{YYYYMM}.csv (or .xlsx)"


@dataclass(frozen=True)
class SubmittedName:
    prefix: str  # a table name, or a workbook name such as `provider`
    submitter: str
    period: date  # first day of the reporting month
    extension: str

    @property
    def is_workbook_group(self) -> bool:
        return self.prefix in load_workbooks() and self.prefix not in load_contracts()


def parse_file_name(file_name: str, today: date) -> SubmittedName:
    """Resolve a file name, or reject it with the expected form and the known tables."""
    tables, workbooks = load_contracts(), load_workbooks()
    extension = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    if extension not in {"csv", "xlsx"}:
        raise FileRejected(
            "UNSUPPORTED_FORMAT",
            f"{file_name}: files must be CSV or XLSX named {EXPECTED_FORM}; got extension "
            f"{('.' + extension) if extension else '(none)'}",
        )
    match = _NAME.match(file_name)
    if not match:
        raise FileRejected(
            "BAD_FILE_NAME",
            f"{file_name}: the name must be {EXPECTED_FORM}, e.g. practice_events_A81001_202610.csv",
        )
    prefix = match["prefix"].lower()
    if prefix not in tables and prefix not in workbooks:
        raise FileRejected(
            "UNKNOWN_TABLE",
            f"{file_name}: {prefix!r} is not a known table; expected one of {', '.join(sorted(tables))} "
            f"(or an XLSX workbook named {', '.join(sorted(workbooks))})",
        )
    if prefix in workbooks and prefix not in tables and extension != "xlsx":
        raise FileRejected(
            "UNKNOWN_TABLE",
            f"{file_name}: {prefix!r} names a workbook of several tables, which must be .xlsx; "
            f"a CSV holds one table: one of {', '.join(sorted(tables))}",
        )
    period_text = match["period"]
    year, month = int(period_text[:4]), int(period_text[4:])
    if not 1 <= month <= 12 or year < 2019:
        raise FileRejected(
            "BAD_FILE_NAME",
            f"{file_name}: {period_text} is not a reporting month YYYYMM from 201907 onwards",
        )
    period = date(year, month, 1)
    if period > date(today.year, today.month, 1):
        raise FileRejected(
            "FUTURE_PERIOD",
            f"{file_name}: reporting month {period:%Y-%m} is in the future (today is {today:%Y-%m-%d})",
        )
    return SubmittedName(prefix=prefix, submitter=match["submitter"].upper(), period=period, extension=extension)
