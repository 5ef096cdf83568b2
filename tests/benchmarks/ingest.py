"""Ingest benchmark at national scale, one month: ours against DuckDB's own readers on the same files.

Run: `.venv/bin/python -m tests.benchmarks.ingest [--months 1] [--seed 1]`. Each stage runs in its own
process so its peak memory (max RSS) is its own. The generated files are cached by seed.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent / "output"
TABLES = (
    "practice_events",
    "practice_appointments",
    "provider_referrals",
    "provider_contacts",
    "provider_costs",
    "outcome_measures",
)


def stage_generate(landing: Path, months: int, seed: int, end: str) -> dict:
    from extracts.synthetic import generate

    summary = generate(scale="national", months=months, seed=seed, out_dir=landing, end_month=end)
    return {"files": summary.files, "rows": summary.rows, "referrals": summary.referrals}


def stage_floor(landing: Path, warehouse: Path) -> dict:
    """DuckDB alone at its best: each table's CSVs read into a table with the columns given (no sniffing),
    the XLSX sheets read with calamine (DuckDB's excel extension cannot be installed here), and one
    hand-written referrals-per-PCN query."""
    import duckdb
    from python_calamine import CalamineWorkbook

    from extracts.contract import load_contracts

    con = duckdb.connect(str(warehouse))
    timings = {}
    started = time.perf_counter()
    for table in TABLES:
        columns = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in load_contracts()[table].column_names) + "}"
        pattern = str(landing / f"{table}_*.csv")
        con.execute(
            f"CREATE TABLE {table} AS SELECT * FROM read_csv('{pattern}', columns = {columns}, "
            "header = true, auto_detect = false, filename = true)"
        )
    timings["csv_seconds"] = time.perf_counter() - started
    started = time.perf_counter()
    xlsx_rows = 0
    for path in sorted(landing.glob("provider_*.xlsx")):
        workbook = CalamineWorkbook.from_path(str(path))
        for sheet in workbook.sheet_names:
            xlsx_rows += len(workbook.get_sheet_by_name(sheet).to_python())
    timings["xlsx_seconds"] = time.perf_counter() - started
    started = time.perf_counter()
    con.execute(
        "CREATE TABLE membership AS SELECT * FROM read_csv(?, all_varchar = true)",
        [str(landing / "reference" / "epcncorepartnerdetails.csv")],
    )
    per_pcn = con.execute("""
        SELECT m."PCN Code", date_trunc('month', CAST(r.referral_date AS DATE)) AS month, count(DISTINCT
          r.provider_code || r.referral_id) FROM provider_referrals r
        JOIN membership m ON m."Partner Organisation Code" = r.practice_code GROUP BY ALL""").fetchall()
    timings["query_seconds"] = time.perf_counter() - started
    timings["csv_rows"] = sum(con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in TABLES)
    timings["xlsx_rows_read"] = xlsx_rows
    timings["pcn_month_rows"] = len(per_pcn)
    return timings


def stage_ingest(landing: Path, warehouse: Path) -> dict:
    import duckdb

    from orchestration.ingest.loader import ingest_paths, landed_files
    from orchestration.reference import load_reference_folder

    con = duckdb.connect(str(warehouse))
    for schema in ("ref", "meta", "raw", "quarantine"):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    started = time.perf_counter()
    load_reference_folder(con, landing / "reference")
    reference_seconds = time.perf_counter() - started
    paths = landed_files(landing)
    started = time.perf_counter()
    outcomes = ingest_paths(con, paths, b"benchmark-key-0123456789", 0.05)
    ingest_seconds = time.perf_counter() - started
    return {
        "reference_seconds": reference_seconds,
        "ingest_seconds": ingest_seconds,
        "files": len(paths),
        "rows_received": sum(o.rows_received for o in outcomes),
        "rows_loaded": sum(o.rows_loaded for o in outcomes),
        "rows_quarantined": sum(o.rows_quarantined for o in outcomes),
    }


STAGES = {"generate": stage_generate, "floor": stage_floor, "ingest": stage_ingest}


def run_stage(name: str, *args: str) -> dict:
    """Run one stage in a child process; its own wall time and peak RSS come back with its figures."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.ingest", "--stage", name, *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    if result.returncode != 0:
        raise RuntimeError(f"stage {name} failed:\n{result.stderr[-4000:]}")
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures["wall_seconds"] = time.perf_counter() - started
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--months", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--end", default="2026-09")
    parser.add_argument("--stage", choices=sorted(STAGES))
    parser.add_argument("paths", nargs="*")
    options = parser.parse_args()
    if options.stage:  # child process
        if options.stage == "generate":
            figures = stage_generate(Path(options.paths[0]), options.months, options.seed, options.end)
        else:
            figures = STAGES[options.stage](*(Path(p) for p in options.paths))
        figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(figures, default=str))
        return

    work = OUTPUT / f"national_{options.months}m_seed{options.seed}"
    landing = work / "landing"
    results: dict = {
        "benchmark": "ingest",
        "scale": "national",
        "months": options.months,
        "seed": options.seed,
        "machine": {
            "cpus": __import__("os").cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "versions": {name: version(name) for name in ("duckdb", "pyarrow", "python-calamine", "dagster", "dbt-core")},
    }
    if not (landing / "expected" / "files.txt").exists():
        results["generate"] = run_stage(
            "generate", "--months", str(options.months), "--seed", str(options.seed), "--end", options.end, str(landing)
        )
    for name in ("floor", "ingest"):
        warehouse = work / f"{name}.duckdb"
        warehouse.unlink(missing_ok=True)
        results[name] = run_stage(name, str(landing), str(warehouse))
    floor_total = results["floor"]["csv_seconds"] + results["floor"]["xlsx_seconds"]
    results["ratios"] = {
        "ingest_vs_floor_csv_plus_xlsx": results["ingest"]["ingest_seconds"] / floor_total,
        "ingest_vs_floor_csv_only": results["ingest"]["ingest_seconds"] / results["floor"]["csv_seconds"],
    }
    OUTPUT.mkdir(parents=True, exist_ok=True)
    out = OUTPUT / f"ingest_national_{options.months}m.json"
    out.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    print(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
