"""Calendar-month arithmetic shared by ingestion, checks, schedules, reports and the command line."""

from __future__ import annotations

from datetime import date, timedelta

# English month names, fixed rather than from `calendar` (which follows the machine's locale), for reports.
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def add_months(month: date, count: int) -> date:
    """First day of the month `count` months after `month`'s month (negative counts go back)."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def month_end(month: date) -> date:
    """Last day of `month`'s month."""
    return add_months(month, 1) - timedelta(days=1)


def previous_month(day: date) -> date:
    """First day of the month before `day`'s month: the last complete month on that day."""
    return add_months(day, -1)


def months_between(start: date, end: date) -> list[date]:
    """First days of the months in [start, end)."""
    months, month = [], start.replace(day=1)
    while month < end:
        months.append(month)
        month = add_months(month, 1)
    return months
