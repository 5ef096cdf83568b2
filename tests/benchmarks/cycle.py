"""The whole monthly cycle at a chosen scale, stage by stage, against the DuckDB floor on the same files.

Run: `.venv/bin/python -m tests.benchmarks.cycle [--scales demo icb national] [--months 12] [--seed 1]`
(`make bench`). Generated files are cached by scale, months and seed under `tests/benchmarks/output/`.
Every stage runs in its own child process through the real Dagster jobs, so its wall time and peak
memory (max RSS) are its own. Results: `output/cycle_<scale>_<months>m.json`, and a table on stdout.

Two figures the issue asks for, and one more:
- monthly cycle = ingest one month + dbt build for that month + statistics + the return + the HTML reports of
  every PCN and ICB;
- full rebuild = ingest all months + dbt build over all months + the same statistics, return and reports;
- monthly_cycle job = everything the scheduled job runs for a month: the monthly cycle plus the PDFs, the
  submitters' feedback packs, the referrals CSV and the serving copy.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from datetime import date
from importlib.metadata import version
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent / "output"
PROJECT = Path(__file__).resolve().parents[2]
BENCH_KEY = "benchmark-key-0123456789"
TABLES = (
    "practice_events",
    "practice_appointments",
    "provider_referrals",
    "provider_contacts",
    "provider_costs",
    "outcome_measures",
)
# The monthly_cycle job's steps after the dbt build, timed as separate stages in the order the job runs them:
# an asset group or one asset (schema/name).
DOWNSTREAM_STAGES = {
    "statistics": "group:statistics",
    "nhse_return": "asset:reports/nhse_return",
    "reports_html": "asset:reports/pcn_monthly_reports",
    "report_pdfs": "asset:reports/pcn_report_pdfs",
    "submitter_feedback": "asset:reports/submitter_feedback",
    "referrals_per_pcn_csv": "asset:reports/referrals_per_pcn_csv",
    "publication": "group:publication",
}
# What the issue counts as the monthly cycle besides ingest and build: statistics, the return, reports for all PCNs.
CYCLE_STAGES = ("statistics", "nhse_return", "reports_html")


def month_range(end: str, months: int) -> tuple[date, date]:
    from orchestration.months import add_months

    last = date.fromisoformat(f"{end}-01")
    return add_months(last, -(months - 1)), last


# --- child-process stages -------------------------------------------------------------------------


def stage_generate(scale: str, months: str, seed: str, end: str, landing: str) -> dict:
    from extracts.synthetic import generate

    summary = generate(scale=scale, months=int(months), seed=int(seed), out_dir=Path(landing), end_month=end)
    return {"files": summary.files, "rows": summary.rows, "referrals": summary.referrals}


def stage_floor(landing: str, warehouse: str, month: str) -> dict:
    """DuckDB alone: every CSV read into a table with its columns given (no sniffing), the XLSX sheets
    read with calamine (DuckDB's excel extension cannot be installed here), and one hand-written query
    computing monthly referrals per PCN. `month` = YYYYMM limits it to one month's files; '' = all."""
    import duckdb
    from python_calamine import CalamineWorkbook

    from extracts.contract import load_contracts

    folder = Path(landing)
    suffix = f"_{month}" if month else ""
    Path(warehouse).unlink(missing_ok=True)  # a fresh file each time, so `--only floor_month` can re-measure
    con = duckdb.connect(warehouse)
    figures: dict = {}
    started = time.perf_counter()
    for table in TABLES:
        columns = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in load_contracts()[table].column_names) + "}"
        pattern = str(folder / f"{table}_*{suffix}.csv")
        con.execute(
            f"CREATE TABLE {table} AS SELECT * FROM read_csv('{pattern}', columns = {columns}, "
            "header = true, auto_detect = false, filename = true)"
        )
    figures["csv_seconds"] = time.perf_counter() - started
    started = time.perf_counter()
    xlsx_rows = 0
    for path in sorted(folder.glob(f"provider_*{suffix}.xlsx")):
        workbook = CalamineWorkbook.from_path(str(path))
        for sheet in workbook.sheet_names:
            xlsx_rows += len(workbook.get_sheet_by_name(sheet).to_python())
    figures["xlsx_seconds"] = time.perf_counter() - started
    started = time.perf_counter()
    con.execute(
        "CREATE TABLE membership AS SELECT * FROM read_csv(?, all_varchar = true)",
        [str(folder / "reference" / "epcncorepartnerdetails.csv")],
    )
    per_pcn = con.execute("""
        SELECT m."PCN Code", date_trunc('month', CAST(r.referral_date AS DATE)) AS month,
               count(DISTINCT r.provider_code || r.referral_id)
        FROM provider_referrals r
        JOIN membership m ON m."Partner Organisation Code" = r.practice_code
        GROUP BY ALL""").fetchall()
    figures["query_seconds"] = time.perf_counter() - started
    figures["csv_rows"] = sum(con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in TABLES)
    figures["xlsx_rows_read"] = xlsx_rows
    figures["pcn_month_rows"] = len(per_pcn)
    figures["floor_read_seconds"] = figures["csv_seconds"] + figures["xlsx_seconds"]
    return figures


def _run_job(job_name: str, start: str, end: str, selections: tuple[str, ...] = ()) -> dict:
    """Run a Dagster job over a partition range, as `sprx run` does; optionally only some of its assets
    (`group:<name>` or `asset:<schema>/<name>`)."""
    import dagster as dg
    from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

    from orchestration.definitions import defs

    job = defs.get_job_def(job_name)
    selection = None
    if selections:
        groups = {item.removeprefix("group:") for item in selections if item.startswith("group:")}
        assets = {item.removeprefix("asset:") for item in selections if item.startswith("asset:")}
        selection = [
            key
            for key in defs.resolve_all_asset_keys()
            if defs.get_assets_def(key).group_names_by_key.get(key) in groups or key.to_user_string() in assets
        ]
        if not selection:
            raise ValueError(f"nothing in the job matches {selections}")
    tags = {ASSET_PARTITION_RANGE_START_TAG: start, ASSET_PARTITION_RANGE_END_TAG: end} if start else {}
    started = time.perf_counter()
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance, tags=tags, asset_selection=selection)
        seconds = time.perf_counter() - started
        # Each asset and each asset check is its own step: the ingest step apart from its GX checks, for example.
        steps = {
            stats.step_key: stats.end_time - stats.start_time
            for stats in instance.get_run_step_stats(result.run_id)
            if stats.start_time and stats.end_time
        }
    if not result.success:
        raise RuntimeError(f"{job_name} {selections} failed")
    materializations = result.get_asset_materialization_events()
    return {"seconds": seconds, "steps": steps, "assets_materialized": len(materializations)}


def stage_job(job_name: str, start: str, end: str, selections: str) -> dict:
    return _run_job(job_name, start, end, tuple(item for item in selections.split(",") if item))


def stage_counts(warehouse: str) -> dict:
    import duckdb

    con = duckdb.connect(warehouse, read_only=True)
    counts = {
        f"{schema}.{name}": con.execute(f"SELECT count(*) FROM {schema}.{name}").fetchall()[0][0]
        for schema, name in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ('raw', 'quarantine', 'marts') AND table_type = 'BASE TABLE'"
        ).fetchall()
    }
    return {"rows": counts, "warehouse_mb": Path(warehouse).stat().st_size / 2**20}


STAGES = {"generate": stage_generate, "floor": stage_floor, "job": stage_job, "counts": stage_counts}


# --- parent ----------------------------------------------------------------------------------------


def save(results: dict) -> None:
    """Write what has been measured so far, so a long run that is stopped still leaves its figures."""
    out = OUTPUT / f"cycle_{results['scale']}_{results['months']}m.json"
    out.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")


def run_stage(name: str, *args: str, env: dict[str, str] | None = None) -> dict:
    """Run one stage in a child process; its own wall time and peak RSS come back with its figures."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.cycle", "--stage", name, *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=PROJECT,
        env={**os.environ, **(env or {})},
    )
    if result.returncode != 0:
        raise RuntimeError(f"stage {name} {args} failed:\n{result.stderr[-6000:]}")
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures["wall_seconds"] = time.perf_counter() - started
    label = f"{name} {' '.join(args)[-60:]}"
    print(f"  {label}: {figures['wall_seconds']:.1f} s, {figures['peak_rss_mb']:.0f} MB", flush=True)
    return figures


def bench_scale(results: dict, scale: str, months: int, seed: int, end: str, only: set[str] | None = None) -> dict:
    """Every stage in order on fresh warehouses; with `only`, just those stages again on the warehouses of the
    last run (after a change to one stage), the other figures kept from its JSON."""
    work = OUTPUT / f"{scale}_{months}m_seed{seed}"
    landing = work / "landing"
    first, last = month_range(end, months)
    results.update({"scale": scale, "months": months, "seed": seed, "end_month": end})
    print(f"{scale}, {months} months to {end} (seed {seed})", flush=True)
    if not (landing / "expected" / "files.txt").exists():
        shutil.rmtree(landing, ignore_errors=True)
        results["generate"] = run_stage("generate", scale, str(months), str(seed), end, str(landing))
        save(results)
    results["landing_mb"] = sum(p.stat().st_size for p in landing.rglob("*") if p.is_file()) / 2**20

    runs = work / "runs"
    if only is None:
        shutil.rmtree(runs, ignore_errors=True)
    runs.mkdir(parents=True, exist_ok=True)

    def environment(name: str) -> dict[str, str]:
        folder = runs / name
        (folder / "dagster_home").mkdir(parents=True, exist_ok=True)
        return {
            "SPRX_WAREHOUSE": str(folder / "warehouse.duckdb"),
            "SPRX_LANDING": str(landing),
            "SPRX_OUTPUT": str(folder / "output"),
            "SPRX_PSEUDONYM_KEY": BENCH_KEY,
            "DAGSTER_HOME": str(folder / "dagster_home"),
            "SPRX_LOG_LEVEL": "WARNING",
        }

    month, whole = environment("one_month"), environment("all_months")
    span = (first.isoformat(), last.isoformat())
    only_last = (last.isoformat(), last.isoformat())
    # One month is what a monthly cycle ingests (the other months came in earlier cycles); all months go to
    # the other warehouse, then the full build over them, then the monthly cycle's build: the last month's
    # partition on a warehouse that holds every month.
    stages: list[tuple[str, tuple[str, ...], dict[str, str] | None]] = [
        ("floor_month", ("floor", str(landing), str(runs / "floor_month.duckdb"), f"{last:%Y%m}"), None),
        ("floor_all", ("floor", str(landing), str(runs / "floor_all.duckdb"), ""), None),
        ("reference", ("job", "reference_refresh", "", "", ""), whole),
        ("ingest_month", ("job", "monthly_cycle", *only_last, "group:ingestion"), month),
        ("ingest_all", ("job", "monthly_cycle", *span, "group:ingestion"), whole),
        ("build_all", ("job", "monthly_cycle", *span, "group:warehouse"), whole),
        ("build_month", ("job", "monthly_cycle", *only_last, "group:warehouse"), whole),
        *(
            (stage, ("job", "monthly_cycle", *only_last, selection), whole)
            for stage, selection in DOWNSTREAM_STAGES.items()
        ),
        ("warehouse", ("counts", whole["SPRX_WAREHOUSE"]), whole),
    ]
    unknown = (only or set()) - {name for name, _, _ in stages}
    if unknown:
        raise SystemExit(f"unknown stage(s) {sorted(unknown)}; stages: {', '.join(name for name, _, _ in stages)}")
    for name, arguments, env in stages:
        if only is not None and name not in only:
            continue
        results[name] = run_stage(*arguments, env=env)
        save(results)
        if name == "reference":
            shutil.copyfile(whole["SPRX_WAREHOUSE"], month["SPRX_WAREHOUSE"])

    needed = ("floor_month", "floor_all", "ingest_month", "ingest_all", "build_all", "build_month", *DOWNSTREAM_STAGES)
    missing = [stage for stage in needed if stage not in results]
    if missing:
        print(f"  not yet measured: {', '.join(missing)}; totals and ratios wait for them", flush=True)
        return results
    cycle_rest = sum(results[stage]["seconds"] for stage in CYCLE_STAGES)
    job_rest = sum(results[stage]["seconds"] for stage in DOWNSTREAM_STAGES)
    ingest_month, build_month = results["ingest_month"]["seconds"], results["build_month"]["seconds"]
    results["monthly_cycle_seconds"] = ingest_month + build_month + cycle_rest
    results["full_rebuild_seconds"] = results["ingest_all"]["seconds"] + results["build_all"]["seconds"] + cycle_rest
    # Everything the scheduled monthly_cycle job runs for a month, PDFs, feedback packs and publication included.
    results["monthly_cycle_job_seconds"] = ingest_month + build_month + job_rest
    measured = [figures for figures in results.values() if isinstance(figures, dict) and "peak_rss_mb" in figures]
    results["peak_rss_mb"] = max(figures["peak_rss_mb"] for figures in measured)
    floor_month, floor_all = results["floor_month"], results["floor_all"]
    results["ratios"] = {
        # the ingest step alone (read, validate, pseudonymise, load, quarantine, manifest) ...
        "load_month_vs_floor": results["ingest_month"]["steps"]["ingest_landed_files"]
        / floor_month["floor_read_seconds"],
        "load_all_vs_floor": results["ingest_all"]["steps"]["ingest_landed_files"] / floor_all["floor_read_seconds"],
        # ... and with the GX suites run on what was loaded (the ingestion group as the job runs it)
        "ingest_month_vs_floor": results["ingest_month"]["seconds"] / floor_month["floor_read_seconds"],
        "ingest_all_vs_floor": results["ingest_all"]["seconds"] / floor_all["floor_read_seconds"],
        "ingest_and_build_all_vs_floor": (results["ingest_all"]["seconds"] + results["build_all"]["seconds"])
        / (floor_all["floor_read_seconds"] + floor_all["query_seconds"]),
    }
    return results


def summary_rows(results: dict) -> list[tuple[str, str, str]]:
    rows = []
    for stage in (
        "generate",
        "floor_month",
        "floor_all",
        "reference",
        "ingest_month",
        "ingest_all",
        "build_all",
        "build_month",
        *DOWNSTREAM_STAGES,
    ):
        if stage in results:
            figures = results[stage]
            seconds = figures.get("seconds", figures.get("floor_read_seconds", figures["wall_seconds"]))
            rows.append((stage, f"{seconds:.1f}", f"{figures['peak_rss_mb']:.0f}"))
    rows.append(("monthly cycle", f"{results['monthly_cycle_seconds']:.1f}", ""))
    rows.append(("monthly_cycle job, all steps", f"{results['monthly_cycle_job_seconds']:.1f}", ""))
    rows.append(("full rebuild", f"{results['full_rebuild_seconds']:.1f}", f"{results['peak_rss_mb']:.0f}"))
    rows += [(name, f"{ratio:.2f}x", "") for name, ratio in results["ratios"].items()]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", nargs="+", default=["demo", "icb", "national"])
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--end", default="2026-09")
    parser.add_argument("--only", nargs="+", help="re-measure just these stages on the last run's warehouses")
    parser.add_argument("--stage", choices=sorted(STAGES))
    parser.add_argument("args", nargs="*")
    options = parser.parse_args()
    if options.stage:  # child process
        figures = STAGES[options.stage](*options.args)
        # dbt runs as a child of the Dagster process: its peak counts too. Self + largest child is an
        # upper bound on what the stage held at once.
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        figures["peak_rss_mb"] = own + children
        figures["peak_rss_own_mb"] = own
        figures["peak_rss_largest_child_mb"] = children
        print(json.dumps(figures, default=str))
        return

    machine = {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()}
    versions = {name: version(name) for name in ("duckdb", "dagster", "dbt-core", "dbt-duckdb", "python-calamine")}
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for scale in options.scales:
        results = {"benchmark": "cycle", "machine": machine, "versions": versions}
        previous = OUTPUT / f"cycle_{scale}_{options.months}m.json"
        if options.only and previous.exists():
            results = {**json.loads(previous.read_text(encoding="utf-8")), **results}
        bench_scale(
            results, scale, options.months, options.seed, options.end, set(options.only) if options.only else None
        )
        save(results)
        print(f"\n{scale}: results in {OUTPUT / f'cycle_{scale}_{options.months}m.json'}")
        if "ratios" not in results:
            continue
        for stage, seconds, rss in summary_rows(results):
            print(f"  {stage:<32} {seconds:>10} {rss:>8}")


if __name__ == "__main__":
    main()
