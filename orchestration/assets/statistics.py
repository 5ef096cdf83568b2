"""Statistics assets: computed in Python (scipy) from dbt marts and written back as mart tables."""

# No `from __future__ import annotations`: Dagster reads the context annotation at definition time.
import dagster as dg
import duckdb
import pandas as pd

from orchestration.partitions import monthly_partitions
from orchestration.resources import WAREHOUSE_POOL, WarehouseResource
from orchestration.statistics import outcomes

OUTCOME_PAIRS_QUERY = """
    SELECT referral_key, pcn_code, icb_code, instrument, measure, baseline_date,
           CAST(baseline_score AS DOUBLE), follow_up_date, CAST(follow_up_score AS DOUBLE), change_category
    FROM marts.outcome_pairs
    ORDER BY referral_key, measure
"""


def read_outcome_pairs(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every row of marts.outcome_pairs (built by dbt) as a frame with outcomes.PAIR_COLUMNS."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'marts' AND table_name = 'outcome_pairs'"
    ).fetchall()[0][0]
    if not exists:
        raise RuntimeError("marts.outcome_pairs is missing: build the warehouse with dbt (sprx run) first")
    pairs = con.execute(OUTCOME_PAIRS_QUERY).df()
    pairs.columns = list(outcomes.PAIR_COLUMNS)
    return pairs


def write_outcome_statistics(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> None:
    """Replace marts.outcome_statistics in one transaction, typed as outcomes.STATISTICS_COLUMNS (even when empty)."""
    columns = ", ".join(f"{name} {sql_type}" for name, sql_type in outcomes.STATISTICS_COLUMNS)
    casts = ", ".join(f"CAST({name} AS {sql_type}) AS {name}" for name, sql_type in outcomes.STATISTICS_COLUMNS)
    con.register("outcome_statistics_rows", frame)
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        con.execute(f"CREATE OR REPLACE TABLE marts.outcome_statistics ({columns})")
        if len(frame):
            con.execute(f"INSERT INTO marts.outcome_statistics SELECT {casts} FROM outcome_statistics_rows")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("outcome_statistics_rows")


@dg.asset(
    key=dg.AssetKey(["marts", "outcome_statistics"]),
    deps=[dg.AssetKey(["marts", "outcome_pairs"])],
    group_name="statistics",
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=WAREHOUSE_POOL,
    owners=["team:data-engineering"],
    description=(
        "Paired outcome statistics per PCN, ICB and England, per financial year and rolling 12 months (scipy): "
        "pairs, completion, means, mean change with 95% CI, t-test and Wilcoxon p-values, d_z, share improved; "
        f"computed from {outcomes.MIN_PAIRS} pairs up, otherwise 'too_few'. Recomputed whole on every run "
        "(periods span months), so any partition or range gives the same table."
    ),
)
def outcome_statistics(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.reader() as con:
        pairs = read_outcome_pairs(con)
    statistics = outcomes.statistics_frame(pairs)
    with warehouse.writer() as con:
        write_outcome_statistics(con, statistics)
    rows, computed = len(statistics), int((statistics["status"] == "computed").sum())
    context.log.info(f"outcome statistics: {rows} rows ({computed} computed) from {len(pairs)} pairs")
    return dg.MaterializeResult(
        metadata={
            "rows": rows,
            "computed": computed,
            "too_few": rows - computed,
            "outcome_pairs_read": len(pairs),
            "table": "marts.outcome_statistics",
        }
    )
