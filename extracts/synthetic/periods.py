"""The reporting window: calendar months as day ordinals, so per-row date work is integer maths."""

from __future__ import annotations

import calendar
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date
from functools import cache

MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def last_complete_month(today: date | None = None) -> str:
    """The calendar month before today's, as YYYY-MM: the default end of the window."""
    today = today or date.today()
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def shift_month(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


@dataclass(frozen=True)
class Month:
    year: int
    month: int
    start: int  # ordinal of the first day
    end: int  # ordinal of the last day

    @property
    def label(self) -> str:
        """YYYYMM, as in file names."""
        return f"{self.year:04d}{self.month:02d}"

    @property
    def period(self) -> str:
        """YYYY-MM, as in the provider_costs period column."""
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def days(self) -> int:
        return self.end - self.start + 1


def make_month(year: int, month: int) -> Month:
    start = date(year, month, 1).toordinal()
    return Month(year, month, start, start + calendar.monthrange(year, month)[1] - 1)


@dataclass(frozen=True)
class Window:
    """The generated months (oldest first) plus the burn-in months simulated before them."""

    months: tuple[Month, ...]
    burn_in: tuple[Month, ...]
    starts: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "starts", tuple(m.start for m in self.months))

    @classmethod
    def ending(cls, end_month: str, months: int, burn_in: int) -> Window:
        match = MONTH_RE.match(end_month)
        if not match:
            raise ValueError(f"end_month must be YYYY-MM, got {end_month!r}")
        if months < 1:
            raise ValueError("months must be at least 1")
        year, month = int(match[1]), int(match[2])
        window = tuple(make_month(*shift_month(year, month, k)) for k in range(-(months - 1), 1))
        first = window[0]
        before = tuple(make_month(*shift_month(first.year, first.month, k)) for k in range(-burn_in, 0))
        return cls(window, before)

    @property
    def start(self) -> int:
        return self.starts[0]

    @property
    def end(self) -> int:
        return self.months[-1].end

    @property
    def all_months(self) -> tuple[Month, ...]:
        return self.burn_in + self.months

    def index(self, ordinal: int) -> int | None:
        """Index into `months` of the month holding the day, or None outside the window."""
        if ordinal < self.starts[0] or ordinal > self.months[-1].end:
            return None
        return bisect_right(self.starts, ordinal) - 1


@cache
def iso(ordinal: int) -> str:
    """ISO date text of a day ordinal (cached: the same days recur millions of times)."""
    return date.fromordinal(ordinal).isoformat()


@cache
def as_date(ordinal: int) -> date:
    return date.fromordinal(ordinal)


def weekday(ordinal: int) -> int:
    """Monday is 0, as date.weekday(); ordinal 1 (0001-01-01) was a Monday."""
    return (ordinal - 1) % 7
