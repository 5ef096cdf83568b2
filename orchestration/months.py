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


def financial_year_start(day: date) -> date:
    """1 April of the NHS financial year (1 April to 31 March) holding a day."""
    return date(day.year if day.month >= 4 else day.year - 1, 4, 1)


def financial_year_label(day: date) -> str:
    """The NHS financial year holding a day, labelled as NHS publications do: 2025-26."""
    first_year = financial_year_start(day).year
    return f"{first_year}-{(first_year + 1) % 100:02d}"
