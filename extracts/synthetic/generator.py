"""generate(): one synthetic England written as monthly extracts plus reference data.

Streaming: providers are processed one at a time. For each provider every practice it serves is
simulated (all its referred people for the whole window, burn-in included), the practice's files
are written at once, and the provider's own files follow; then everything is dropped. Memory
therefore depends on the largest provider, not on the scale. Providers are independent (own RNGs,
own files), so they can run in forked worker processes; results are merged in provider order,
which keeps the output identical whatever the number of workers.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from operator import itemgetter
from pathlib import Path

from ..contract import Workbook, load_contracts, load_workbooks
from . import config
from .defects import DefectInjector, DefectRecord, Sample, write_bad_files, write_expected
from .organisations import England, Provider, build_england
from .periods import Month, Window, as_date, last_complete_month, make_month, shift_month
from .reference import write_reference
from .simulate import FIELDS, PracticeSimulation, Row, cost_rows, referral_rows
from .writers import Layout, csv_rows, write_csv, write_workbook

MANIFEST = "files.txt"  # expected/files.txt: what the last run wrote, removed by the next run


@dataclass
class GenerationSummary:
    """What one generate() call wrote."""

    scale: str
    seed: int
    months: list[str]  # YYYY-MM, oldest first
    out_dir: Path
    icbs: int = 0
    pcns: int = 0
    practices: int = 0  # open practices (closed ones are only in the reference data)
    closed_practices: int = 0
    providers: int = 0
    people: int = 0  # distinct people in any extract row
    referrals: int = 0  # distinct referrals in any provider_referrals file
    files: dict[str, int] = field(default_factory=dict)  # per table: CSV files + XLSX sheets
    rows: dict[str, int] = field(default_factory=dict)  # per table, data rows written
    workbooks: int = 0
    defect_rows: int = 0
    bad_files: int = 0
    paths: list[Path] = field(default_factory=list)


class _Sink:
    """Writes one table-file (or workbook) at a time and keeps the counts."""

    def __init__(
        self,
        out: Path,
        layouts: dict[str, Layout],
        sheets: Sequence[str],
        workbook_name: str,
        defects: DefectInjector | None,
    ) -> None:
        self.out = out
        self.layouts = layouts
        self.sheets = sheets
        self.workbook_name = workbook_name
        self.defects = defects
        self.paths: list[Path] = []
        self.workbooks = 0
        self.files: Counter[str] = Counter()
        self.rows: Counter[str] = Counter()
        self.provider_tables = [t for t, layout in layouts.items() if layout.contract.submitter_type == "provider"]
        self.keys = {t: [x.columns.index(k) for k in x.contract.key] for t, x in layouts.items()}

    def _prepare(self, table: str, rows: list[Row], file_name: str, month: Month, as_csv: bool) -> list[list[object]]:
        layout = self.layouts[table]
        ordered = [layout.reorder(r) for r in rows]
        key = self.keys[table]
        if key:  # reused NHS numbers (national scale) could repeat a key: keep the first
            seen: set[tuple[object, ...]] = set()
            unique = []
            for row in ordered:
                k = tuple(row[i] for i in key)
                if k not in seen:
                    seen.add(k)
                    unique.append(row)
            ordered = unique
        if self.defects is not None:
            ordered = self.defects.apply(layout, ordered, file_name, month, as_csv=as_csv)
        self.files[table] += 1
        self.rows[table] += len(ordered)
        return ordered

    def csv(self, table: str, submitter: str, month: Month, rows: list[Row]) -> None:
        if not rows:
            return  # a header-only file is itself a defect (HEADER_ONLY)
        name = f"{table}_{submitter}_{month.label}.csv"
        prepared = self._prepare(table, rows, name, month, as_csv=True)
        path = self.out / name
        write_csv(path, self.layouts[table].columns, csv_rows(self.layouts[table], prepared))
        self.paths.append(path)

    def workbook(self, provider: Provider, month: Month, tables: dict[str, list[Row]], required: set[str]) -> None:
        if not any(tables.values()):
            return
        name = f"{self.workbook_name}_{provider.code}_{month.label}.xlsx"
        sheets = []
        for table in self.sheets:
            rows = tables.get(table, [])
            if rows or table in required:
                prepared = self._prepare(table, rows, name, month, as_csv=False)
                sheets.append((table, self.layouts[table], prepared))
        stamp = datetime.combine(as_date(month.end + 5), time(9, 0))
        path = self.out / name
        write_workbook(path, sheets, stamp, provider.name)
        self.paths.append(path)
        self.workbooks += 1


def _clear_previous(out: Path) -> None:
    """Remove what an earlier run listed in expected/files.txt (and nothing else)."""
    manifest = out / "expected" / MANIFEST
    if not manifest.exists():
        return
    root = out.resolve()
    for line in manifest.read_text(encoding="utf-8").splitlines():
        path = (out / line).resolve()
        if line and path.is_relative_to(root) and path.is_file():
            path.unlink()
    manifest.unlink()


@contextlib.contextmanager
def _progress(enabled: bool, total: int) -> Iterator[object]:
    if not enabled:
        yield None
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task("providers", total=total)
        yield lambda: bar.advance(task)


def generate(
    scale: str,
    months: int,
    seed: int,
    out_dir: Path,
    end_month: str | None = None,
    defects: float = 0.0,
    progress: bool = False,
    *,
    workers: int | None = None,
) -> GenerationSummary:
    """Write `months` months of synthetic extracts ending with `end_month` into out_dir.

    Same arguments give byte-identical files. end_month defaults to the last complete calendar
    month; defects is the share of rows spoiled (0 = clean data, no bad files). workers: provider
    processes run in parallel (forked; output does not depend on it); by default one, or up to
    four at national scale.
    """
    if scale not in config.SCALES:
        raise ValueError(f"scale must be one of {sorted(config.SCALES)}, got {scale!r}")
    if not 0 <= defects <= 0.5:
        raise ValueError("defects must be a share of rows between 0 and 0.5")
    cfg = config.SCALES[scale]
    window = Window.ending(end_month or last_complete_month(), months, config.BURN_IN_MONTHS)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _clear_previous(out)

    contracts = load_contracts()
    unknown = set(contracts) - set(FIELDS)
    if unknown:
        raise RuntimeError(f"the generator does not know how to fill tables {sorted(unknown)}")
    layouts = {table: Layout(contracts[table], FIELDS[table]) for table in contracts}
    spec = next(w for w in load_workbooks().values() if w.submitter_type == "provider")

    england = build_england(cfg, seed, window)
    summary = GenerationSummary(
        scale=scale,
        seed=seed,
        months=[m.period for m in window.months],
        out_dir=out,
        icbs=len(england.icbs),
        pcns=len(england.pcns),
        practices=len(england.practices),
        closed_practices=len(england.closed_practices),
        providers=len(england.providers),
    )
    summary.paths += write_reference(england, window, out / "reference")

    job = _Job(england, window, seed, out, layouts, spec, defects)
    if workers is None:
        workers = min(4, os.cpu_count() or 1) if scale == "national" else 1
    files: Counter[str] = Counter()
    rows: Counter[str] = Counter()
    records: list[DefectRecord] = []
    samples: list[Sample] = []
    with _progress(progress, len(england.providers)) as advance:
        for result in _run(job, workers):
            files.update(result.files)
            rows.update(result.rows)
            records += result.records
            samples += result.samples
            summary.paths += result.paths
            summary.workbooks += result.workbooks
            summary.referrals += result.referrals
            summary.people += result.people
            if advance is not None:
                advance()  # type: ignore[operator]

    bad: list[tuple[str, str]] = []
    if defects > 0 and len(samples) >= 2:
        previous = make_month(*shift_month(window.months[0].year, window.months[0].month, -1))
        bad = write_bad_files(out, layouts, samples[:2], window.months[0], previous)
        summary.paths += [out / name for name, _ in bad]
    summary.paths += write_expected(out / "expected", records, bad)
    summary.files = dict(sorted(files.items()))
    summary.rows = dict(sorted(rows.items()))
    summary.defect_rows = len(records)
    summary.bad_files = len(bad)
    listed = sorted(str(p.relative_to(out)) for p in summary.paths)
    (out / "expected" / MANIFEST).write_text("\n".join(listed) + "\n", encoding="utf-8")
    return summary


@dataclass
class _Job:
    """Everything a provider run needs (inherited by forked workers)."""

    england: England
    window: Window
    seed: int
    out: Path
    layouts: dict[str, Layout]
    spec: Workbook
    defects: float


@dataclass
class _Result:
    files: Counter[str]
    rows: Counter[str]
    records: list[DefectRecord]
    samples: list[Sample]
    paths: list[Path]
    workbooks: int
    referrals: int
    people: int


_JOB: _Job | None = None  # set before forking workers, read by _provider_in_worker


def _run(job: _Job, workers: int) -> Iterator[_Result]:
    """Provider results in provider order, from this process or from forked workers."""
    n = len(job.england.providers)
    methods = multiprocessing.get_all_start_methods()
    if workers <= 1 or n < 2 or "fork" not in methods:
        for i in range(n):
            yield _run_provider(job, i)
        return
    global _JOB
    _JOB = job
    try:
        with multiprocessing.get_context("fork").Pool(min(workers, n)) as pool:
            yield from pool.imap(_provider_in_worker, range(n), chunksize=1)
    finally:
        _JOB = None


def _provider_in_worker(index: int) -> _Result:
    assert _JOB is not None
    return _run_provider(_JOB, index)


def _run_provider(job: _Job, index: int) -> _Result:
    """Simulate one provider's practices and write all their files and the provider's own."""
    england, window, seed = job.england, job.window, job.seed
    provider = england.providers[index]
    injector = None
    if job.defects > 0:
        injector = DefectInjector(
            job.defects,
            seed,
            {
                "practice": [p.code for p in england.practices],
                "provider": [p.code for p in england.providers],
            },
        )
    sheets = (*job.spec.required_sheets, *job.spec.optional_sheets)
    sink = _Sink(job.out, job.layouts, sheets, job.spec.name, injector)
    samples: list[Sample] = []
    event_order = itemgetter(6, 1, 7)  # event_date, nhs_number, snomed_code (FIELDS order)
    appointment_order = itemgetter(2, 1, 3)
    referrals = []
    people = 0
    simulations = []
    for practice in provider.practices:
        sim = PracticeSimulation(practice, provider, window, seed, len(england.practices))
        sim.run()
        events = [sorted(rows, key=event_order) for rows in sim.events]
        appointments = [sorted(rows, key=appointment_order) for rows in sim.appointments]
        for m, month in enumerate(window.months):
            sink.csv("practice_events", practice.code, month, events[m])
            sink.csv("practice_appointments", practice.code, month, appointments[m])
        if injector is not None and len(samples) < 2 and events[0] and appointments[0]:
            samples.append(
                Sample(
                    practice.code,
                    [job.layouts["practice_events"].reorder(r) for r in events[0]],
                    [job.layouts["practice_appointments"].reorder(r) for r in appointments[0]],
                )
            )
        referrals.extend(sim.referrals)
        sim.events = sim.appointments = []
        sim.referrals = []
        simulations.append(sim)
    tables, visible = referral_rows(provider, referrals, window)
    tables["provider_costs"] = cost_rows(provider, window, seed)
    tables["provider_contacts"] = [sorted(rows, key=itemgetter(2, 1)) for rows in tables["provider_contacts"]]
    tables["outcome_measures"] = [sorted(rows, key=itemgetter(3, 1)) for rows in tables["outcome_measures"]]
    for m, month in enumerate(window.months):
        month_tables = {t: rows[m] for t, rows in tables.items()}
        if provider.workbook:
            sink.workbook(provider, month, month_tables, set(job.spec.required_sheets))
        else:
            for table in sink.provider_tables:
                sink.csv(table, provider.code, month, month_tables[table])
    people = sum(p.seen for s in simulations for p in s.people.values())
    return _Result(
        files=sink.files,
        rows=sink.rows,
        records=injector.records if injector else [],
        samples=samples,
        paths=sink.paths,
        workbooks=sink.workbooks,
        referrals=visible,
        people=people,
    )
