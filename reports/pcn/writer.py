"""Writers: one month's PCN reports and ICB summaries, HTML and PDF, into $SPRX_OUTPUT/reports/.

Layout: `reports/pcn/<YYYY-MM>/<pcn_code>.html|.pdf` and `reports/icb/<YYYY-MM>/<icb_code>.html|.pdf`.
Files are replaced atomically, and the HTML depends only on the warehouse (no clock), so an unchanged
month regenerates byte-identical. Progress goes to the `reports.pcn.progress` logger (one record per
document, with `done` and `total`), which the command line turns into a progress bar.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from reports.pcn.data import QualityGuidance, WarehouseMonth, icb_summary, pcn_report
from reports.pcn.render import icb_html, load_guidance, pcn_html, pdf_bytes

progress_log = logging.getLogger("reports.pcn.progress")
PCN_CODE = re.compile(r"^U[0-9]{5}$")
ICB_CODE = re.compile(r"^Q[A-Z0-9]{2}$")


@dataclass
class MonthReports:
    """What one month's run wrote."""

    month: date
    pcn_files: list[Path] = field(default_factory=list)
    icb_files: list[Path] = field(default_factory=list)
    pcn_codes: list[str] = field(default_factory=list)
    icb_codes: list[str] = field(default_factory=list)

    @property
    def files(self) -> list[Path]:
        return [*self.pcn_files, *self.icb_files]


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _safe(code: str, pattern: re.Pattern[str], kind: str) -> str:
    """Codes become file names: only well-formed ODS codes do."""
    if not pattern.match(code):
        raise ValueError(
            f"{kind} code {code!r} in the marts is not a valid ODS code ({pattern.pattern}): not writing it"
        )
    return code


def report_folders(output: Path, month: date) -> tuple[Path, Path]:
    return output / "reports" / "pcn" / f"{month:%Y-%m}", output / "reports" / "icb" / f"{month:%Y-%m}"


@dataclass(frozen=True)
class LoadedMonth:
    """A month read from the warehouse: rendering needs no connection, so the file is free for writers."""

    data: WarehouseMonth
    guidance: QualityGuidance


def load_month(con: duckdb.DuckDBPyConnection, month: date) -> LoadedMonth:
    return LoadedMonth(WarehouseMonth(con, month.replace(day=1)), load_guidance(con))


def write_month_reports(
    loaded: LoadedMonth, output: Path, pcn_codes: Sequence[str] | None = None, with_pdf: bool = True
) -> MonthReports:
    """Every PCN report and ICB summary of the month (or only the PCNs asked for, and then no ICB summary).

    An unknown PCN code is an error naming it and the PCNs that have data.
    """
    data, guidance = loaded.data, loaded.guidance
    month = data.month
    available = data.pcn_codes()
    if not pcn_codes:
        wanted = available
        icbs = data.icb_codes()
    else:
        wanted = sorted({code.strip().upper() for code in pcn_codes})
        unknown = sorted(set(wanted) - set(available))
        if unknown:
            raise ValueError(
                f"no data for PCN {', '.join(unknown)} in {month:%Y-%m}: marts.referral_measures_monthly has "
                f"{len(available)} PCN(s) that month{': ' + ', '.join(available[:10]) if available else ''}"
            )
        icbs = []
    result = MonthReports(month=month, pcn_codes=list(wanted), icb_codes=list(icbs))
    pcn_folder, icb_folder = report_folders(output, month)
    total = len(wanted) + len(icbs)
    documents = [("PCN", code) for code in wanted] + [("ICB", code) for code in icbs]
    for done, (kind, code) in enumerate(documents, start=1):
        if kind == "PCN":
            report = pcn_report(data, _safe(code, PCN_CODE, "PCN"), guidance)
            html, title, folder, files = (
                pcn_html(report),
                f"Social prescribing: {report.pcn_name}, {report.month_label}",
                pcn_folder,
                result.pcn_files,
            )
        else:
            summary = icb_summary(data, _safe(code, ICB_CODE, "ICB"), guidance)
            html, title, folder, files = (
                icb_html(summary),
                f"Social prescribing: ICB {summary.icb_name}, {summary.month_label}",
                icb_folder,
                result.icb_files,
            )
        _write_atomic(folder / f"{code}.html", html.encode("utf-8"))
        files.append(folder / f"{code}.html")
        if with_pdf:
            _write_atomic(folder / f"{code}.pdf", pdf_bytes(html, title))
            files.append(folder / f"{code}.pdf")
        progress_log.info("%s %s", kind, code, extra={"done": done, "total": total, "month": f"{month:%Y-%m}"})
    return result


def build_month_reports(
    con: duckdb.DuckDBPyConnection,
    month: date,
    output: Path,
    pcn_codes: Sequence[str] | None = None,
    with_pdf: bool = True,
) -> MonthReports:
    """Load and write in one call (tests, scripts); the Dagster asset closes the connection in between."""
    return write_month_reports(load_month(con, month), output, pcn_codes, with_pdf)
