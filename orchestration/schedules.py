"""Schedules: the monthly cycle for last month on the Nth working day of the month, 07:00 Europe/London."""

import os
from datetime import datetime

import dagster as dg

from orchestration.months import previous_month
from orchestration.working_days import nth_working_day

TIMEZONE = "Europe/London"


def cycle_working_day() -> int:
    """SPRX_CYCLE_WORKING_DAY: which working day of the month runs last month's cycle (default 5)."""
    value = os.environ.get("SPRX_CYCLE_WORKING_DAY", "5")
    if not value.isdigit() or not 1 <= int(value) <= 15:
        raise ValueError(f"SPRX_CYCLE_WORKING_DAY must be a whole number from 1 to 15, not {value!r}")
    return int(value)


def monthly_cycle_request(now: datetime, working_day: int) -> dg.RunRequest | dg.SkipReason:
    """Run last month's partition when `now` is the month's Nth working day; skip every other weekday.

    The schedule ticks on every weekday at 07:00, so a due day that falls on a bank holiday simply
    moves to the next working day: the Nth working day is counted without bank holidays.
    """
    today = now.date()
    due = nth_working_day(today.year, today.month, working_day)
    if today != due:
        return dg.SkipReason(f"{today} is not working day {working_day} of the month (that is {due})")
    partition = previous_month(today)
    return dg.RunRequest(
        run_key=f"monthly_cycle:{partition:%Y-%m}",
        partition_key=partition.isoformat(),
        tags={"sprx/trigger": "monthly_cycle_schedule", "sprx/working_day": str(working_day)},
    )


def build_monthly_cycle_schedule(job) -> dg.ScheduleDefinition:
    @dg.schedule(
        name="monthly_cycle_schedule",
        job=job,
        cron_schedule="0 7 * * 1-5",
        execution_timezone=TIMEZONE,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Last month's cycle (ingest → dbt → reports) on the Nth working day (SPRX_CYCLE_WORKING_DAY, "
        "default 5), 07:00 Europe/London, skipping weekends and England and Wales bank holidays.",
    )
    def monthly_cycle_schedule(context: dg.ScheduleEvaluationContext):
        return monthly_cycle_request(context.scheduled_execution_time, cycle_working_day())

    return monthly_cycle_schedule
