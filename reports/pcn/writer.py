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
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from multiprocessing import get_context
from pathlib import Path
from typing import Any

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


def report_workers(documents: int) -> int:
    """Worker processes for rendering and printing: $SPRX_WORKERS if set, else one per core once there are
    enough documents to repay starting them (a few seconds of imports each); never more than the documents."""
    text = os.environ.get("SPRX_WORKERS", "")
    if not text:
        cores = os.cpu_count() or 1
        return cores if documents >= 8 * cores else 1
    try:
        wanted = int(text)
    except ValueError as error:
        raise ValueError(f"SPRX_WORKERS must be a whole number of processes, got {text!r}") from error
    if wanted < 1:
        raise ValueError(f"SPRX_WORKERS must be at least 1, got {wanted}")
    return max(1, min(wanted, documents))


_worker_month: LoadedMonth | None = None


def _start_worker(loaded: LoadedMonth) -> None:
    global _worker_month
    _worker_month = loaded


def _render(loaded: LoadedMonth, kind: str, code: str, folder: Path) -> Path:
    """One document: its figures, charts and HTML, written to `folder`."""
    if kind == "PCN":
        html = pcn_html(pcn_report(loaded.data, _safe(code, PCN_CODE, "PCN"), loaded.guidance))
    else:
        html = icb_html(icb_summary(loaded.data, _safe(code, ICB_CODE, "ICB"), loaded.guidance))
    path = folder / f"{code}.html"
    _write_atomic(path, html.encode("utf-8"))
    return path


def _render_in_worker(kind: str, code: str, folder: Path) -> Path:
    assert _worker_month is not None, "worker started without its month"
    return _render(_worker_month, kind, code, folder)


def _print(html_path: Path) -> Path:
    """The PDF of a written report, next to it; its title comes from the HTML's <title>."""
    path = html_path.with_suffix(".pdf")
    _write_atomic(path, pdf_bytes(html_path.read_text(encoding="utf-8")))
    return path


def _in_parallel(function: Any, tasks: list[tuple], workers: int, initargs: tuple = ()) -> Iterator[Any]:
    """Results in task order, from `workers` spawned processes (spawn: Dagster's threads make fork unsafe)."""
    if workers == 1:
        yield from (function(*task) for task in tasks)
        return
    initializer = _start_worker if initargs else None
    chunk = max(1, min(16, len(tasks) // (workers * 8)))
    context = get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=initializer, initargs=initargs) as pool:
        yield from pool.map(function, *zip(*tasks, strict=True), chunksize=chunk)


def write_month_reports(
    loaded: LoadedMonth, output: Path, pcn_codes: Sequence[str] | None = None, with_pdf: bool = True
) -> MonthReports:
    """Every PCN report and ICB summary of the month (or only the PCNs asked for, and then no ICB summary),
    rendered across $SPRX_WORKERS processes; with `with_pdf`, printed too (`print_reports`).

    An unknown PCN code is an error naming it and the PCNs that have data.
    """
    data = loaded.data
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
    tasks = [("PCN", code, pcn_folder) for code in wanted] + [("ICB", code, icb_folder) for code in icbs]
    workers = report_workers(len(tasks))
    rendered = (
        (_render(loaded, *task) for task in tasks)
        if workers == 1
        else _in_parallel(_render_in_worker, tasks, workers, initargs=(loaded,))
    )
    for done, ((kind, code, _folder), path) in enumerate(zip(tasks, rendered, strict=True), start=1):
        (result.pcn_files if kind == "PCN" else result.icb_files).append(path)
        progress_log.info("%s %s", kind, code, extra={"done": done, "total": len(tasks), "month": f"{month:%Y-%m}"})
    if with_pdf:
        pdfs = print_reports(result.files)
        result.pcn_files += [p for p in pdfs if p.parent == pcn_folder]
        result.icb_files += [p for p in pdfs if p.parent == icb_folder]
    return result


def print_reports(html_files: Sequence[Path]) -> list[Path]:
    """The PDF of each written report (WeasyPrint, seconds each), across $SPRX_WORKERS processes.

    Printing is the slowest step of the reports, so it is kept apart from rendering: the monthly cycle's HTML is
    ready before the PDFs are, and PDFs can be printed again from the HTML without reading the warehouse.
    """
    tasks = [(Path(path),) for path in html_files]
    printed = []
    for done, path in enumerate(_in_parallel(_print, tasks, report_workers(len(tasks))), start=1):
        printed.append(path)
        progress_log.info("PDF %s", path.stem, extra={"done": done, "total": len(tasks), "month": path.parent.name})
    return printed


def build_month_reports(
    con: duckdb.DuckDBPyConnection,
    month: date,
    output: Path,
    pcn_codes: Sequence[str] | None = None,
    with_pdf: bool = True,
) -> MonthReports:
    """Load and write in one call (tests, scripts); the Dagster asset closes the connection in between."""
    return write_month_reports(load_month(con, month), output, pcn_codes, with_pdf)
