"""The NHS England return as a monthly asset, its own job, and the schedule that meets its deadline.

The asset reads the marts the measure catalogue names (its dependencies come from the catalogue),
validates the month and writes a new version to the outbox, or records that nothing changed. A failed
validation raises a Dagster Failure that names each PCN, measure and rule; nothing is written.

The schedule runs on the Nth working day (SPRX_RETURN_WORKING_DAY, default 8: two working days before
the 10th-working-day deadline, so a blocked return can still be fixed) at 07:00 Europe/London and
requests two runs: last month's Primary and the month before's Refresh, both due on that deadline.
"""

import os
from datetime import date, datetime

import dagster as dg
from pydantic import Field

from orchestration.months import add_months, months_between, previous_month
from orchestration.partitions import monthly_partitions, window_months
from orchestration.resources import WarehouseResource
from orchestration.settings import get_settings
from orchestration.working_days import nth_working_day
from reports.nhse_return import (
    ReturnBlockedError,
    SubmissionError,
    SubmissionType,
    build_month,
    load_catalogue,
)
from reports.nhse_return.submission import deadline_working_day, today_in_london

NHSE_RETURN_KEY = dg.AssetKey(["reports", "nhse_return"])
NHSE_RETURN_OP = "reports__nhse_return"
TIMEZONE = "Europe/London"


class NhseReturnConfig(dg.Config):
    """How to build the return: which submission, which variants, and the date it is built on."""

    submission: str = Field(
        default="auto",
        description="primary, refresh, or auto: Primary up to the month's Primary deadline, Refresh after it",
    )
    published: bool = Field(default=False, description="Also write the published (disclosure-controlled) variant")
    as_of: str = Field(default="", description="YYYY-MM-DD the return is built on (default: today in London)")


def _as_of(config: NhseReturnConfig) -> date:
    if not config.as_of:
        return today_in_london()
    try:
        return date.fromisoformat(config.as_of)
    except ValueError as error:
        raise dg.Failure(f"as_of must be a date YYYY-MM-DD, not {config.as_of!r}") from error


@dg.asset(
    key=NHSE_RETURN_KEY,
    deps=[dg.AssetKey(mart.split(".")) for mart in load_catalogue().marts_read()],
    group_name="reports",
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    owners=["team:data-engineering"],
    description=(
        "Monthly NHS England social prescribing return for all PCNs in scope (CSV, XLSX with cover, data and "
        "data dictionary, manifest) from the marts per reports/nhse_return/catalogue.yml; validated before "
        "writing; versioned in $SPRX_OUTPUT/nhse_return/outbox with a submission log (Primary or Refresh)."
    ),
)
def nhse_return(
    context: dg.AssetExecutionContext, config: NhseReturnConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    start, end = window_months(context)
    as_of = _as_of(config)
    output_root = get_settings().output / "nhse_return"
    months, blocked = [], []
    for month in months_between(start, end):
        try:
            inputs, submission, results = build_month(
                warehouse.location,
                month,
                output_root,
                as_of=as_of,
                submission=config.submission,
                published=config.published,
                run_id=context.run.run_id,
            )
        except SubmissionError as error:
            raise dg.Failure(description=str(error)) from error
        except ReturnBlockedError as error:
            context.log.error(str(error))
            blocked.append((month, error))
            continue
        for finding in inputs.validation.warnings:
            context.log.warning(f"{month:%Y-%m}: {finding}")
        for result in results:
            context.log.info(
                f"{month:%Y-%m} {submission.type.label} {result.variant.value}: v{result.version} {result.status}"
            )
        months.append(
            {
                "period": f"{month:%Y-%m}",
                "submission": submission.type.label,
                "deadline": submission.deadline.isoformat(),
                "on_time": submission.on_time,
                "validation": inputs.validation.outcome,
                "warnings": len(inputs.validation.warnings),
                "variants": {
                    result.variant.value: {
                        "version": result.version,
                        "status": result.status,
                        "rows": result.rows,
                        "suppressed": result.suppressed,
                        "files": {kind: str(path) for kind, path in result.files.items()},
                    }
                    for result in results
                },
            }
        )
    if blocked:
        written = ", ".join(entry["period"] for entry in months) or "none"
        raise dg.Failure(
            description="\n\n".join(str(error) for _, error in blocked) + f"\n\nMonths written or unchanged: {written}",
            metadata={"blocked_months": [f"{month:%Y-%m}" for month, _ in blocked], "written_months": written},
        )
    metadata: dict[str, dg.RawMetadataValue] = {
        "outbox": dg.MetadataValue.path(str(output_root / "outbox")),
        "submission_log": dg.MetadataValue.path(str(output_root / "submission_log.jsonl")),
        "months": dg.MetadataValue.json(months),
    }
    if len(months) == 1:
        only = months[0]
        management = only["variants"]["management_information"]
        metadata.update(
            {
                "period": only["period"],
                "submission": only["submission"],
                "version": management["version"],
                "status": management["status"],
                "validation": only["validation"],
                "warnings": only["warnings"],
                "dagster/row_count": management["rows"],
                "csv": dg.MetadataValue.path(management["files"]["csv"]),
                "xlsx": dg.MetadataValue.path(management["files"]["xlsx"]),
                "manifest": dg.MetadataValue.path(management["files"]["manifest"]),
            }
        )
    return dg.MaterializeResult(metadata=metadata)


def return_working_day() -> int:
    """SPRX_RETURN_WORKING_DAY: the working day the return job runs (default 8), at most the deadline's day."""
    text = os.environ.get("SPRX_RETURN_WORKING_DAY", "8")
    deadline = deadline_working_day()
    if not text.isdigit() or not 1 <= int(text) <= deadline:
        raise ValueError(f"SPRX_RETURN_WORKING_DAY must be a whole number from 1 to {deadline}, not {text!r}")
    return int(text)


def _run_config(submission: SubmissionType, as_of: date) -> dict:
    config = {"submission": submission.value, "published": True, "as_of": as_of.isoformat()}
    return {"ops": {NHSE_RETURN_OP: {"config": config}}}


def nhse_return_requests(now: datetime, working_day: int) -> list[dg.RunRequest] | dg.SkipReason:
    """On the month's Nth working day: last month's Primary and the month before's Refresh; else skip.

    Both are due on the same day (the deadline working day of this month). Bank holidays are not
    working days, so a due day that falls on one moves to the next working day.
    """
    today = now.date()
    due = nth_working_day(today.year, today.month, working_day)
    if today != due:
        return dg.SkipReason(f"{today} is not working day {working_day} of the month (that is {due})")
    primary_month = previous_month(today)
    refresh_month = add_months(primary_month, -1)
    return [
        dg.RunRequest(
            run_key=f"nhse_return:{kind.value}:{month:%Y-%m}",
            partition_key=month.isoformat(),
            run_config=_run_config(kind, today),
            tags={"sprx/trigger": "nhse_return_schedule", "sprx/submission": kind.value},
        )
        for kind, month in ((SubmissionType.PRIMARY, primary_month), (SubmissionType.REFRESH, refresh_month))
    ]


def build_nhse_return_job():
    return dg.define_asset_job(
        "nhse_return",
        selection=dg.AssetSelection.assets(NHSE_RETURN_KEY),
        partitions_def=monthly_partitions,
        description="The NHS England return for a month from the marts as they stand (no ingest, no dbt).",
    )


def build_nhse_return_schedule(job) -> dg.ScheduleDefinition:
    @dg.schedule(
        name="nhse_return_schedule",
        job=job,
        cron_schedule="0 7 * * 1-5",
        execution_timezone=TIMEZONE,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Last month's Primary and the month before's Refresh of the NHS England return on working day "
        "SPRX_RETURN_WORKING_DAY (default 8), 07:00 Europe/London, ahead of the 10th-working-day deadline; "
        "weekends and England and Wales bank holidays are skipped.",
    )
    def nhse_return_schedule(context: dg.ScheduleEvaluationContext):
        return nhse_return_requests(context.scheduled_execution_time, return_working_day())

    return nhse_return_schedule
