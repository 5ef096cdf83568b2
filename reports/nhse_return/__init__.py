"""The monthly NHS England social prescribing return: catalogue, validation, variants and outbox.

`build_month` is the one entry point (the Dagster asset and `sprx return` call it through Dagster).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from orchestration.warehouse import read_connection
from reports.nhse_return.build import (
    ReturnBlockedError,
    ReturnInputs,
    VariantResult,
    collect,
    read_submission_log,
    write_return,
)
from reports.nhse_return.catalogue import Catalogue, CatalogueError, load_catalogue
from reports.nhse_return.submission import Submission, SubmissionError, SubmissionType, determine_submission
from reports.nhse_return.variants import Variant

__all__ = [
    "Catalogue",
    "CatalogueError",
    "ReturnBlockedError",
    "ReturnInputs",
    "Submission",
    "SubmissionError",
    "SubmissionType",
    "Variant",
    "VariantResult",
    "build_month",
    "collect",
    "determine_submission",
    "load_catalogue",
    "read_submission_log",
    "write_return",
]


def build_month(
    warehouse: Path,
    month: date,
    output_root: Path,
    as_of: date,
    submission: str | None = None,
    published: bool = False,
    run_id: str = "",
) -> tuple[ReturnInputs, Submission, list[VariantResult]]:
    """Read and validate the month on a short read-only connection, then write the outbox without it.

    Raises SubmissionError when the month is not over on `as_of`, ReturnBlockedError when validation fails.
    """
    which = determine_submission(month, as_of, submission)
    with read_connection(warehouse) as con:
        inputs = collect(con, month)
    variants = (Variant.MANAGEMENT_INFORMATION, Variant.PUBLISHED) if published else (Variant.MANAGEMENT_INFORMATION,)
    results = write_return(inputs, which, output_root, variants, run_id=run_id)
    return inputs, which, results
