"""Dagster asset checks: the contract's GX suite on each raw table, for the months of the run.

One `multi_asset_check` holds one blocking check per raw table (asset key ["raw", table]) so a run
pays the GX import (4–8 s) and the Data Docs rebuild once, not once per table. The checks are not
partitioned themselves (partitioned checks are a preview feature in Dagster 1.13), but a check step
inside a partitioned run sees the run's partition or partition range through `context`, so each
month of the window is validated. Run on its own (no partition), a check validates the months
loaded since its table was last validated, or the latest loaded month.
"""

import uuid
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import dagster as dg
import duckdb

from extracts.contract import load_contracts
from orchestration.checks.gx_suites import TableValidation, validate_period
from orchestration.months import months_between
from orchestration.resources import WAREHOUSE_POOL, WarehouseResource
from orchestration.settings import get_settings

CHECK_NAME = "gx_contract_suite"
MAX_FAILURES_IN_METADATA = 50
RAW_CHECK_KEYS = {table: dg.AssetCheckKey(dg.AssetKey(["raw", table]), CHECK_NAME) for table in load_contracts()}


def run_months(context: dg.AssetCheckExecutionContext) -> list[date] | None:
    """The months of a partitioned run (one partition or a single-run backfill range); None when unpartitioned."""
    if not (context.has_partition_key or context.has_partition_key_range):
        return None
    window = context.partition_time_window
    return months_between(window.start.date(), window.end.date())


def months_to_validate(con: duckdb.DuckDBPyConnection, table: str) -> list[date]:
    """Outside a partitioned run: months with a file loaded since the table's last validation, else the latest."""
    has_results = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'meta' AND table_name = 'dq_results'"
    ).fetchall()[0][0]
    since = None
    if has_results:
        since = con.execute("SELECT max(validated_at) FROM meta.dq_results WHERE table_name = ?", [table]).fetchall()[
            0
        ][0]
    rows = con.execute(
        "SELECT DISTINCT period FROM meta.files WHERE table_name = ? AND status = 'loaded' "
        "AND (CAST(? AS TIMESTAMP) IS NULL OR loaded_at > ?) ORDER BY period",
        [table, since, since],
    ).fetchall()
    if rows:
        return [row[0] for row in rows]
    latest = con.execute(
        "SELECT max(period) FROM meta.files WHERE table_name = ? AND status = 'loaded'", [table]
    ).fetchall()[0][0]
    return [latest] if latest else []


def _run_id(context: dg.AssetCheckExecutionContext) -> str:
    """The Dagster run id; a direct invocation (tests, scripts) has no run, so it gets a fresh id."""
    try:
        return context.run.run_id
    except dg.DagsterError:  # DagsterInvalidPropertyError
        return f"direct-{uuid.uuid4().hex}"


def _failure(validation: TableValidation, outcome: Any) -> dict[str, Any]:
    return {
        "month": f"{validation.period:%Y-%m}",
        "expectation": outcome.expectation,
        "column": outcome.column,
        "label": outcome.label,
        "severity": outcome.severity,
        "unexpected_count": outcome.unexpected_count,
        "unexpected_percent": None if outcome.unexpected_percent is None else round(outcome.unexpected_percent, 3),
        "observed": outcome.observed,
    }


def check_result(key: dg.AssetCheckKey, validations: list[TableValidation], docs: str | None) -> dg.AssetCheckResult:
    """One table's result over the run's months: failed when any month failed; ERROR (blocking) only when
    a critical expectation failed, WARN when only warnings (volume) did."""
    failures = [_failure(v, o) for v in validations for o in v.failed]
    passed = all(v.success for v in validations)
    blocking = any(v.blocking for v in validations)
    metadata: dict[str, Any] = {
        "months": dg.MetadataValue.text(", ".join(f"{v.period:%Y-%m}" for v in validations) or "(none)"),
        "evaluated": dg.MetadataValue.int(sum(v.evaluated_expectations for v in validations)),
        "successful": dg.MetadataValue.int(sum(v.successful_expectations for v in validations)),
        "rows": dg.MetadataValue.int(sum(v.rows_validated for v in validations)),
        "skipped": dg.MetadataValue.int(sum(len(v.skipped) for v in validations)),
        "failed_expectations": dg.MetadataValue.json(failures[:MAX_FAILURES_IN_METADATA]),
        "failed_count": dg.MetadataValue.int(len(failures)),
    }
    if docs:
        metadata["data_docs"] = dg.MetadataValue.path(docs)
    notes = [v.note for v in validations if v.note]
    if notes:
        metadata["notes"] = dg.MetadataValue.text("; ".join(notes))
    return dg.AssetCheckResult(
        asset_key=key.asset_key,
        check_name=key.name,
        passed=passed,
        metadata=metadata,
        severity=dg.AssetCheckSeverity.ERROR if blocking or passed else dg.AssetCheckSeverity.WARN,
        description=f"{len(failures)} failed expectation(s)" if failures else "all expectations met",
    )


@dg.multi_asset_check(
    name="gx_raw_contract_checks",
    specs=[
        dg.AssetCheckSpec(
            CHECK_NAME,
            asset=key.asset_key,
            blocking=True,
            description=f"GX suite from the {table} contract (completeness, codes, dates in the month, ranges, "
            "pseudonyms, key) and volume against the submitter's previous months.",
        )
        for table, key in RAW_CHECK_KEYS.items()
    ],
    can_subset=True,
    pool=WAREHOUSE_POOL,
    compute_kind="great_expectations",
)
def gx_raw_contract_checks(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.AssetCheckResult]:
    """Validate each selected raw table for each month of the run, record results, rebuild Data Docs."""
    from orchestration.checks.data_docs import build_data_docs
    from orchestration.checks.results import record_results

    selected = [t for t, key in RAW_CHECK_KEYS.items() if key in context.selected_asset_check_keys]
    months = run_months(context)
    run_id = _run_id(context)
    by_table: dict[str, list[TableValidation]] = {}
    started = datetime.now()
    # validate on a read-only connection; hold the single writer only to record the results
    with warehouse.reader() as con:
        for table in selected:
            table_months = months if months is not None else months_to_validate(con, table)
            by_table[table] = [validate_period(con, table, month, run_id=run_id) for month in table_months]
    with warehouse.writer() as con:
        for table in selected:
            record_results(con, by_table[table], run_id=run_id)
    validations = [v for vs in by_table.values() for v in vs]
    seconds = (datetime.now() - started).total_seconds()
    context.log.info(f"validated {len(validations)} table-month(s) in {seconds:.1f} s")
    docs: str | None = None
    try:
        docs = str(build_data_docs(get_settings().output, validations))
    except Exception as error:  # the checks' verdict must not depend on rendering HTML
        context.log.warning(f"GX Data Docs were not rebuilt: {error!r}")
    for table in selected:
        yield check_result(RAW_CHECK_KEYS[table], by_table[table], docs)


gx_asset_checks: list[dg.AssetChecksDefinition] = [gx_raw_contract_checks]
