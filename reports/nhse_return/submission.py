"""Primary and Refresh submissions and their deadlines (DESIGN.md, "Outputs").

Like NHS England's monthly data sets (e.g. CSDS through SDCS), each reporting month M gets a Primary
submission, due by the deadline working day (default the 10th) of month M+1, and a Refresh a month
later, due by the same working day of M+2, that takes in late and corrected data. Which one a build is
follows from the date it is built on (`as_of`) unless the caller names it:

- before M has ended: refused (the month is not complete);
- from the day after M ends to the Primary deadline: Primary;
- after the Primary deadline: Refresh; after the Refresh deadline too, but marked late (the window has
  closed, so NHS England keeps the last file that passed validation by the deadline; a late build is
  kept for the record).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from orchestration.months import add_months, month_end
from orchestration.working_days import nth_working_day

LONDON = ZoneInfo("Europe/London")


class SubmissionType(StrEnum):
    PRIMARY = "primary"
    REFRESH = "refresh"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class SubmissionError(ValueError):
    """A return cannot be built for this month and date (e.g. the month is not over yet)."""


def deadline_working_day() -> int:
    """SPRX_RETURN_DEADLINE_WORKING_DAY: the working day on which a submission window closes (default 10)."""
    text = os.environ.get("SPRX_RETURN_DEADLINE_WORKING_DAY", "10")
    if not text.isdigit() or not 1 <= int(text) <= 20:
        raise ValueError(f"SPRX_RETURN_DEADLINE_WORKING_DAY must be a whole number from 1 to 20, not {text!r}")
    return int(text)


def submission_deadline(month: date, submission: SubmissionType, working_day: int | None = None) -> date:
    """The last day the submission for `month` can be made: the Nth working day of M+1 (Primary) or M+2."""
    day = working_day or deadline_working_day()
    offset = 1 if submission is SubmissionType.PRIMARY else 2
    following = add_months(month.replace(day=1), offset)
    return nth_working_day(following.year, following.month, day)


def today_in_london() -> date:
    return datetime.now(LONDON).date()


@dataclass(frozen=True)
class Submission:
    """What a build is: the month, Primary or Refresh, its deadline, and whether it is on time."""

    month: date
    type: SubmissionType
    deadline: date
    as_of: date

    @property
    def on_time(self) -> bool:
        return self.as_of <= self.deadline


def determine_submission(month: date, as_of: date, requested: str | SubmissionType | None = None) -> Submission:
    """Primary or Refresh for `month` built on `as_of`: named by the caller, or from the date (module docstring)."""
    month = month.replace(day=1)
    if as_of <= month_end(month):
        raise SubmissionError(
            f"the return for {month:%Y-%m} cannot be built on {as_of}: the month ends on {month_end(month)}"
        )
    if requested in (None, "", "auto"):
        primary_deadline = submission_deadline(month, SubmissionType.PRIMARY)
        kind = SubmissionType.PRIMARY if as_of <= primary_deadline else SubmissionType.REFRESH
    else:
        try:
            kind = SubmissionType(str(requested).lower())
        except ValueError as error:
            raise SubmissionError(f"submission must be primary, refresh or auto, not {requested!r}") from error
    return Submission(month=month, type=kind, deadline=submission_deadline(month, kind), as_of=as_of)
