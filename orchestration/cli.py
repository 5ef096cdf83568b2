"""`sprx`: the command line for people who don't use the Dagster UI; it runs the same jobs."""

from __future__ import annotations

import os
import shutil
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from orchestration.months import add_months, previous_month
from orchestration.settings import PROJECT_ROOT, SettingsError, get_settings
from orchestration.spark.cli import spark_app

app = typer.Typer(help="Social prescribing returns warehouse.", no_args_is_help=True, add_completion=False)
contracts_app = typer.Typer(help="Extract contracts.", no_args_is_help=True)
reference_app = typer.Typer(help="Reference data (ODS practices, PCN membership, list sizes).", no_args_is_help=True)
app.add_typer(reference_app, name="reference")
app.add_typer(contracts_app, name="contracts")
app.add_typer(spark_app, name="spark")
console = Console()
err = Console(stderr=True)


def _fail(message: str, code: int = 1) -> None:
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def _month(text: str) -> date:
    try:
        year, month = text.split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        _fail(f"{text!r} is not a month YYYY-MM")
        raise  # unreachable


def dagster_instance():
    """The persistent Dagster instance in $DAGSTER_HOME (default .dagster_home/), so runs show in the UI."""
    from dagster import DagsterInstance

    home = Path(os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT / ".dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copy(PROJECT_ROOT / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    return DagsterInstance.get()


def _absolute_paths() -> None:
    """Pin SPRX_* paths as absolute so every subprocess (dbt) sees the same files."""
    settings = get_settings()
    os.environ["SPRX_WAREHOUSE"] = str(settings.warehouse)
    os.environ["SPRX_LANDING"] = str(settings.landing)
    os.environ["SPRX_OUTPUT"] = str(settings.output)


def quiet_run_config() -> dict:
    """Dagster's console logger at SPRX_LOG_LEVEL (default WARNING): the UI keeps the full event log."""
    level = os.environ.get("SPRX_LOG_LEVEL", "WARNING").upper()
    return {"loggers": {"console": {"config": {"log_level": level}}}}


def run_reference_job() -> None:
    _absolute_paths()
    from orchestration.definitions import defs

    result = defs.resolve_job_def("reference_refresh").execute_in_process(
        instance=dagster_instance(), run_config=quiet_run_config(), raise_on_error=False
    )
    if not result.success:
        _fail("reference_refresh failed; see the messages above (or the run in `make ui`)")


def run_monthly_cycle(first: date, last: date, job_name: str = "monthly_cycle") -> None:
    """A monthly job over [first, last] in one Dagster run (one dbt build for the whole range)."""
    _absolute_paths()
    from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

    from orchestration.definitions import defs

    tags = {ASSET_PARTITION_RANGE_START_TAG: first.isoformat(), ASSET_PARTITION_RANGE_END_TAG: last.isoformat()}
    job = defs.resolve_job_def(job_name)
    with console.status(f"Running {job_name} for {first:%Y-%m} to {last:%Y-%m} …"):
        result = job.execute_in_process(
            instance=dagster_instance(), tags=tags, run_config=quiet_run_config(), raise_on_error=False
        )
    if not result.success:
        _fail(f"{job_name} for {first:%Y-%m} to {last:%Y-%m} failed; see the messages above")


@app.command()
def generate(
    scale: Annotated[str, typer.Option(help="demo, icb or national")] = "demo",
    months: Annotated[int, typer.Option(min=1, max=120, help="How many months, ending with --end")] = 18,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same files")] = 42,
    out: Annotated[Path | None, typer.Option(help="Folder to write to (default $SPRX_LANDING)")] = None,
    end: Annotated[str | None, typer.Option(help="Last month YYYY-MM (default: last complete month)")] = None,
    defects: Annotated[float, typer.Option(min=0.0, max=0.5, help="Share of rows made bad, plus bad files")] = 0.0,
) -> None:
    """Write synthetic extracts and reference files (NHS numbers from the 999 test range only)."""
    from extracts.synthetic import generate as run_generator

    if scale not in {"demo", "icb", "national"}:
        _fail(f"--scale must be demo, icb or national, not {scale!r}")
    target = out or get_settings().landing
    summary = run_generator(
        scale=scale, months=months, seed=seed, out_dir=target, end_month=end, defects=defects, progress=True
    )
    console.print(
        f"[green]Generated[/] {scale} scale, {months} month(s) into {target}: {summary.practices} practices, "
        f"{summary.pcns} PCNs, {summary.providers} providers, {summary.referrals} referrals"
    )
    table = Table(title="Rows written per table")
    table.add_column("table")
    table.add_column("files", justify="right")
    table.add_column("rows", justify="right")
    for name in sorted(summary.rows):
        table.add_row(name, str(summary.files.get(name, 0)), f"{summary.rows[name]:,}")
    console.print(table)


@contracts_app.command("docs")
def contracts_docs() -> None:
    """Rebuild extracts/contracts/tables.md from the contract YAML files."""
    from extracts.contract import CONTRACTS_DIR
    from extracts.docs import DOCS_FILE_NAME, contracts_markdown

    path = CONTRACTS_DIR / DOCS_FILE_NAME
    path.write_text(contracts_markdown(), encoding="utf-8")
    console.print(f"Wrote {path}")


@reference_app.command("load")
def reference_load() -> None:
    """Load the official reference files in $SPRX_LANDING/reference into ref.* (through Dagster)."""
    run_reference_job()
    console.print("[green]Reference data loaded.[/]")


def _window(period: str | None, from_: str | None, to: str | None) -> tuple[date, date] | None:
    if period and (from_ or to):
        _fail("give either --period or --from/--to, not both")
    if period:
        return _month(period), _month(period)
    if from_ and to:
        first, last = _month(from_), _month(to)
        if last < first:
            _fail("--to is before --from")
        return first, last
    if from_ or to:
        _fail("give both --from and --to")
    return None


@app.command()
def ingest(
    period: Annotated[str | None, typer.Option(help="One month YYYY-MM")] = None,
    from_: Annotated[str | None, typer.Option("--from", help="First month YYYY-MM of a range")] = None,
    to: Annotated[str | None, typer.Option(help="Last month YYYY-MM of a range")] = None,
) -> None:
    """Ingest landed files (validate, pseudonymise, load or quarantine) without building the warehouse.

    With no month given, every month that has files in $SPRX_LANDING is ingested.
    """
    from orchestration.ingest.loader import landed_files
    from orchestration.sensors import partition_keys_for

    window = _window(period, from_, to)
    if window is None:
        keys, unreadable = partition_keys_for(landed_files(get_settings().landing), date.today())
        if not keys:
            _fail(
                f"no extract files with a reporting month in {get_settings().landing}"
                + (f" (unreadable names: {', '.join(unreadable)})" if unreadable else "")
            )
        window = date.fromisoformat(keys[0]), date.fromisoformat(keys[-1])
    run_monthly_cycle(*window, job_name="ingest")
    console.print(f"[green]Ingested[/] {window[0]:%Y-%m} to {window[1]:%Y-%m}; `sprx status` shows the files.")


@app.command()
def run(
    period: Annotated[str | None, typer.Option(help="One month YYYY-MM")] = None,
    from_: Annotated[str | None, typer.Option("--from", help="First month YYYY-MM of a range")] = None,
    to: Annotated[str | None, typer.Option(help="Last month YYYY-MM of a range")] = None,
) -> None:
    """Run the monthly cycle (ingest → dbt → reports) for a month or a range of months."""
    window = _window(period, from_, to)
    if window is None:
        _fail("give --period YYYY-MM, or --from YYYY-MM --to YYYY-MM")
        return
    run_monthly_cycle(*window)
    console.print(f"[green]Monthly cycle complete[/] for {window[0]:%Y-%m} to {window[1]:%Y-%m}.")


@app.command()
def docs() -> None:
    """Build the dbt documentation site (models, columns, tests, lineage) into $SPRX_OUTPUT/dbt_docs."""
    import subprocess

    from orchestration.resources import dbt_environment, dbt_executable
    from orchestration.settings import DBT_PROJECT_DIR

    settings = get_settings()
    if not settings.warehouse.exists():
        _fail(f"No warehouse at {settings.warehouse}: run `make demo` (or `sprx run`) first")
    target = settings.output / "dbt_docs"
    result = subprocess.run(
        [
            dbt_executable(),
            "docs",
            "generate",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(target),
        ],
        env=dbt_environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        _fail(f"dbt docs generate failed:\n{result.stdout[-3000:]}{result.stderr[-2000:]}")
    console.print(
        f"[green]dbt docs[/] written to {target / 'index.html'} "
        f"(serve the folder, e.g. `python -m http.server -d {target}`)"
    )


@app.command()
def publish() -> None:
    """Refresh the serving copy of the disclosure-controlled marts and publish the Superset dashboard.

    Runs the `publish` job through Dagster. Needs SUPERSET_URL, SUPERSET_USERNAME and SUPERSET_PASSWORD in
    the environment (the password is never printed or logged).
    """
    from reports.superset.client import SupersetConfigurationError, SupersetCredentials

    try:
        SupersetCredentials.from_environment()
    except SupersetConfigurationError as error:
        _fail(str(error))
    settings = get_settings()
    if not settings.warehouse.exists():
        _fail(f"No warehouse at {settings.warehouse}: run `sprx run` (or `make demo`) first")
    _absolute_paths()
    from orchestration.definitions import defs

    with console.status("Publishing the serving copy and the Superset dashboard …"):
        result = defs.resolve_job_def("publish").execute_in_process(
            instance=dagster_instance(), run_config=quiet_run_config(), raise_on_error=False
        )
    if not result.success:
        failures = [event.step_failure_data.error.message.strip() for event in result.get_step_failure_events()]
        _fail("publish failed: " + ("; ".join(failures) or "see the messages above"))
    metadata = {
        event.asset_key.to_user_string(): event.materialization.metadata
        for event in result.get_asset_materialization_events()
    }
    serving = metadata.get("publication/serving_copy", {})
    dashboard = metadata.get("publication/superset_dashboard", {})
    if "path" in serving:
        console.print(f"[green]Serving copy[/] {serving['path'].value}")
    if "dashboard_url" in dashboard:
        console.print(f"[green]Dashboard[/] {dashboard['dashboard_url'].value}")
        for chart, reason in dashboard["charts_left_out"].value.items():
            console.print(f"[yellow]Chart left out:[/] {chart}: {reason}")


@app.command("return")
def return_(
    period: Annotated[str, typer.Option(help="The reporting month YYYY-MM")],
    published: Annotated[bool, typer.Option(help="Also write the published (disclosure-controlled) variant")] = False,
    submission: Annotated[
        str, typer.Option(help="primary, refresh, or auto (from today's date against the month's deadlines)")
    ] = "auto",
    as_of: Annotated[str | None, typer.Option(help="Build as on this date YYYY-MM-DD (default today)")] = None,
) -> None:
    """Build the NHS England return for a month from the marts (validated; a new version only when it changed).

    Runs the `nhse_return` job through Dagster; the files go to $SPRX_OUTPUT/nhse_return/outbox.
    """
    month = _month(period)
    if submission not in ("auto", "primary", "refresh"):
        _fail(f"--submission must be auto, primary or refresh, not {submission!r}")
    if as_of is not None:
        try:
            date.fromisoformat(as_of)
        except ValueError:
            _fail(f"--as-of {as_of!r} is not a date YYYY-MM-DD")
    settings = get_settings()
    if not settings.warehouse.exists():
        _fail(f"No warehouse at {settings.warehouse}: run `sprx run` (or `make demo`) first")
    _absolute_paths()
    from orchestration.assets.nhse_return import NHSE_RETURN_KEY, NHSE_RETURN_OP
    from orchestration.definitions import defs

    config = {"submission": submission, "published": published, "as_of": as_of or ""}
    run_config = {**quiet_run_config(), "ops": {NHSE_RETURN_OP: {"config": config}}}
    with console.status(f"Building the NHS England return for {month:%Y-%m} …"):
        result = defs.resolve_job_def("nhse_return").execute_in_process(
            instance=dagster_instance(),
            partition_key=month.isoformat(),
            run_config=run_config,
            raise_on_error=False,
        )
    if not result.success:
        failures = []
        for event in result.get_step_failure_events():
            user = event.step_failure_data.user_failure_data
            failures.append(user.description if user and user.description else event.step_failure_data.error.message)
        _fail("the return was not written:\n" + ("\n".join(f.strip() for f in failures) or "see the messages above"))
    for event in result.get_asset_materialization_events():
        if event.asset_key != NHSE_RETURN_KEY:
            continue
        for entry in event.materialization.metadata["months"].value:
            for variant, outcome in entry["variants"].items():
                verb = "written" if outcome["status"] == "written" else "unchanged (no new version)"
                console.print(
                    f"[green]{entry['period']} {entry['submission']}[/] {variant.replace('_', ' ')}: "
                    f"v{outcome['version']} {verb}; validation {entry['validation'].replace('_', ' ')}, "
                    f"{entry['warnings']} change(s) flagged for review; due {entry['deadline']}"
                    + ("" if entry["on_time"] else " [yellow](after the deadline)[/]")
                )
                console.print(f"    {Path(outcome['files']['csv']).parent}")


@app.command()
def report(
    period: Annotated[str, typer.Option(help="The reporting month YYYY-MM")],
    pcn: Annotated[
        list[str] | None, typer.Option(help="Only this PCN (ODS code, e.g. U12345); repeat for more")
    ] = None,
    pdf: Annotated[bool, typer.Option(help="Also write the PDF of each report")] = True,
) -> None:
    """Write the month's PCN reports (and, for all PCNs, the ICB summaries) as HTML and PDF.

    Runs the `pcn_reports` job through Dagster (the same asset as the monthly cycle) on the built marts;
    files go to $SPRX_OUTPUT/reports/pcn/<YYYY-MM>/ and reports/icb/<YYYY-MM>/.
    """
    import logging

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    month = _month(period)
    codes = [code.strip().upper() for code in pcn or []]
    for code in codes:
        if not (len(code) == 6 and code[0] == "U" and code[1:].isdigit()):
            _fail(f"--pcn {code!r} is not a PCN code (U and five digits, e.g. U12345)")
    settings = get_settings()
    if not settings.warehouse.exists():
        _fail(f"No warehouse at {settings.warehouse}: run `sprx run` (or `make demo`) first")
    _absolute_paths()
    from orchestration.assets.pcn_reports import PCN_REPORT_PDFS_KEY, PCN_REPORTS_KEY
    from orchestration.definitions import defs

    keys = [PCN_REPORTS_KEY, PCN_REPORT_PDFS_KEY] if pdf else [PCN_REPORTS_KEY]
    run_config = {
        **quiet_run_config(),
        "ops": {"__".join(key.path): {"config": {"pcn_codes": codes}} for key in keys},
    }
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as progress:
        task = progress.add_task(f"Reports for {month:%Y-%m}", total=None)

        class _ProgressHandler(logging.Handler):
            """The writer logs one record per document (reports/pcn/writer.py); move the bar on each."""

            def emit(self, record: logging.LogRecord) -> None:
                progress.update(
                    task,
                    completed=record.done,
                    total=record.total,
                    description=f"{record.month}: {record.getMessage()}",
                )

        handler = _ProgressHandler()
        progress_logger = logging.getLogger("reports.pcn.progress")
        progress_logger.addHandler(handler)
        progress_logger.setLevel(logging.INFO)
        try:
            result = defs.resolve_job_def("pcn_reports").execute_in_process(
                instance=dagster_instance(),
                partition_key=month.isoformat(),
                run_config=run_config,
                asset_selection=keys,
                raise_on_error=False,
            )
        finally:
            progress_logger.removeHandler(handler)
    if not result.success:
        failures = []
        for event in result.get_step_failure_events():
            error = event.step_failure_data.error
            while error is not None and error.cause is not None:  # the user's exception, not Dagster's wrapper
                error = error.cause
            failures.append(error.message if error is not None else "unknown error")
        _fail("the reports were not written:\n" + ("\n".join(f.strip() for f in failures) or "see the messages above"))
    for event in result.get_asset_materialization_events():
        metadata = event.materialization.metadata
        if event.asset_key == PCN_REPORTS_KEY:
            console.print(
                f"[green]{metadata['files_written'].value} HTML file(s) written[/] for {month:%Y-%m}: "
                f"{metadata['pcn_count'].value} PCN report(s), {metadata['icb_count'].value} ICB summary(ies), "
                f"in {metadata['folder'].value}"
            )
        elif event.asset_key == PCN_REPORT_PDFS_KEY:
            console.print(f"[green]{metadata['files_written'].value} PDF(s) printed[/] next to them")


@app.command()
def status() -> None:
    """What has landed and loaded: files and rows per table and status."""
    from orchestration.warehouse import read_connection

    settings = get_settings()
    try:
        with read_connection(settings.warehouse) as con:
            rows = con.execute(
                "SELECT coalesce(table_name, '(unreadable name)'), status, count(*), sum(rows_received), "
                "sum(rows_loaded), sum(rows_quarantined), "
                "strftime(min(period), '%Y-%m'), strftime(max(period), '%Y-%m') "
                "FROM meta.files GROUP BY ALL ORDER BY 1, 2"
            ).fetchall()
    except FileNotFoundError as error:
        _fail(str(error))
        return
    table = Table(title=f"Files in {settings.warehouse}")
    for heading in ("table", "status", "files", "received", "loaded", "quarantined", "from", "to"):
        table.add_column(heading)
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    console.print(table)


@app.command()
def demo(
    months: Annotated[int, typer.Option(min=1, max=60)] = 18,
    seed: Annotated[int, typer.Option()] = 42,
) -> None:
    """Generate the demo data (if the landing zone is empty) and run the whole pipeline through Dagster."""
    os.environ["SPRX_DEMO"] = "1"
    if "SPRX_PSEUDONYM_KEY" not in os.environ:
        console.print(
            "[yellow]Demo mode:[/] NHS numbers are pseudonymised with the published demo key "
            "(synthetic data only; set SPRX_PSEUDONYM_KEY for real data)."
        )
    settings = get_settings()
    from extracts.synthetic import generate as run_generator

    last = previous_month(date.today())
    first = add_months(last, -(months - 1))
    end_month = f"{last:%Y-%m}"
    if not any(settings.landing.glob("*_*_*.*")):
        console.print(f"Generating {months} months of demo data into {settings.landing} …")
        run_generator(
            scale="demo",
            months=months,
            seed=seed,
            out_dir=settings.landing,
            end_month=end_month,
            defects=0.0,
            progress=True,
        )
    run_reference_job()
    run_monthly_cycle(first, last)
    _print_demo_summary(settings)


def stage_row_counts(con) -> list[tuple[str, str, int]]:
    """(stage, table, rows) for every table of the warehouse, in the order data flows."""
    order = {"ref": 0, "meta": 1, "raw": 2, "quarantine": 3, "staging": 4, "intermediate": 5, "marts": 6}
    tables = con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN "
        "('ref', 'meta', 'raw', 'quarantine', 'staging', 'intermediate', 'marts')"
    ).fetchall()
    counts = [
        (schema, name, int(con.execute(f"SELECT count(*) FROM {schema}.{name}").fetchall()[0][0]))
        for schema, name in tables
    ]
    return sorted(counts, key=lambda row: (order[row[0]], row[1]))


def _print_demo_summary(settings) -> None:
    from orchestration.warehouse import read_connection

    with read_connection(settings.warehouse) as con:
        files = con.execute(
            "SELECT status, count(*), sum(rows_received), sum(rows_loaded), sum(rows_quarantined) "
            "FROM meta.files GROUP BY status ORDER BY status"
        ).fetchall()
        counts = stage_row_counts(con)
    console.rule("[bold]Demo complete")
    for status_name, count, received, loaded, quarantined in files:
        console.print(
            f"Files {status_name}: {count:,} ({received:,} rows received, {loaded:,} loaded, "
            f"{quarantined:,} quarantined)"
        )
    table = Table(title="Rows at each stage")
    for heading, justify in (("stage", "left"), ("table", "left"), ("rows", "right")):
        table.add_column(heading, justify=justify)
    for schema, name, rows in counts:
        table.add_row(schema, name, f"{rows:,}")
    console.print(table)
    outputs = sorted(p for p in settings.output.rglob("*") if p.is_file())
    by_folder: dict[str, int] = {}
    for path in outputs:
        folder = str(path.parent.relative_to(settings.output)).split("/")[0]
        by_folder[folder] = by_folder.get(folder, 0) + 1
    console.print(f"Warehouse:   {settings.warehouse}")
    console.print(f"Landing:     {settings.landing} (reference files in {settings.reference_dir})")
    console.print(f"Outputs:     {settings.output}")
    for folder, count in sorted(by_folder.items()):
        console.print(f"             {folder}/: {count} file(s)")
    console.print("Dagster UI:  [bold]make ui[/], then open http://127.0.0.1:3000 (this run is in its history)")


def main() -> None:
    try:
        app()
    except SettingsError as error:
        err.print(f"[bold red]error:[/] {error}")
        sys.exit(2)


if __name__ == "__main__":
    sys.exit(main())
