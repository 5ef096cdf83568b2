"""Working days in England: weekends and England and Wales bank holidays (with substitute days) excluded.

Bank holidays come from the `holidays` package (kept current by its maintainers from GOV.UK).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import holidays


@cache
def _bank_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("GB", subdiv="ENG", years=[year])


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def nth_working_day(year: int, month: int, n: int) -> date:
    """The nth working day of a month (n from 1)."""
    if n < 1:
        raise ValueError("n must be 1 or more")
    day = date(year, month, 1)
    count = 0
    while True:
        if is_working_day(day):
            count += 1
            if count == n:
                return day
        day += timedelta(days=1)


def working_days_after(start: date, count: int) -> date:
    """The date `count` working days after `start` (the submission deadline arithmetic)."""
    day = start
    remaining = count
    while remaining:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day
