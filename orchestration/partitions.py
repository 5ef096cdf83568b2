"""Monthly partitions from July 2019, when PCNs began employing social prescribing link workers."""

from __future__ import annotations

from datetime import date

import dagster as dg

monthly_partitions = dg.MonthlyPartitionsDefinition(start_date="2019-07-01", end_offset=0)


def window_months(context: dg.AssetExecutionContext) -> tuple[date, date]:
    """(first month start, exclusive end) of the partition or partition range being run."""
    window = context.partition_time_window
    return window.start.date(), window.end.date()
