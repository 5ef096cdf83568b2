"""The DuckDB/Spark comparison and the Parquet hand-over, on small files (no Spark needed).

The comparison reads Spark's build as Parquet unloaded by dbt (<unload dir>/<schema>.<name>/part-*.parquet),
so a "Spark build" here is Parquet written by DuckDB in that layout.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from orchestration.spark.compare import (
    FLOAT_DECIMALS,
    ComparisonError,
    Mart,
    compare_builds,
    marts_in_manifest,
)
from orchestration.spark.export import ExportError, SourceTable, export_sources, source_tables

MART = Mart("model.sprx.measures", "marts", "measures", ("org_code", "period_start"))

DUCKDB_ROWS = """
    select * from (values
        ('A1', date '2026-01-01', 10, 0.3333333333::double, 'pcn'),
        ('A1', date '2026-02-01', 12, 0.25::double, 'pcn'),
        ('B2', date '2026-01-01', 7, null::double, null)
    ) as t(org_code, period_start, referrals, share, org_type)
"""


def build_duckdb(path: Path, rows_sql: str = DUCKDB_ROWS) -> Path:
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute(f"create table marts.measures as {rows_sql}")
    con.close()
    return path


def build_spark(unload_dir: Path, rows_sql: str) -> Path:
    """Parquet as `unload_relations` leaves it: two part files, as a Spark job writes them."""
    folder = unload_dir / "marts.measures"
    folder.mkdir(parents=True)
    con = duckdb.connect()
    con.execute(f"create table t as {rows_sql}")
    con.execute(f"copy (select * from t where org_code = 'A1') to '{folder / 'part-00000.parquet'}' (format parquet)")
    con.execute(f"copy (select * from t where org_code <> 'A1') to '{folder / 'part-00001.parquet'}' (format parquet)")
    (folder / "_SUCCESS").write_text("")
    con.close()
    return unload_dir


def test_equal_builds_match_across_types_and_float_noise(tmp_path: Path) -> None:
    # Spark types the same values differently (DECIMAL, INT) and floats differ below the stated precision.
    spark_rows = f"""
        select * from (values
            ('B2', date '2026-01-01', 7::integer, null::decimal(20, 10), null),
            ('A1', date '2026-02-01', 12::integer, 0.25::decimal(20, 10), 'pcn'),
            ('A1', date '2026-01-01', 10::integer, (0.3333333333 + 1e-{FLOAT_DECIMALS + 3})::double, 'pcn')
        ) as t(org_code, period_start, referrals, share, org_type)
    """
    report = compare_builds(build_duckdb(tmp_path / "w.duckdb"), build_spark(tmp_path / "spark", spark_rows), [MART])
    assert report.ok, report.describe()
    assert (report.marts[0].duckdb_rows, report.marts[0].spark_rows) == (3, 3)


def test_a_changed_value_is_named_by_model_key_and_column(tmp_path: Path) -> None:
    spark_rows = DUCKDB_ROWS.replace("('A1', date '2026-02-01', 12,", "('A1', date '2026-02-01', 13,")
    report = compare_builds(build_duckdb(tmp_path / "w.duckdb"), build_spark(tmp_path / "spark", spark_rows), [MART])
    assert not report.ok
    assert report.differences == [
        "measures key (org_code='A1', period_start=2026-02-01): referrals: duckdb=12.0 spark=13.0"
    ]


def test_a_float_difference_above_the_precision_is_reported(tmp_path: Path) -> None:
    spark_rows = DUCKDB_ROWS.replace("0.25::double", f"(0.25 + 1e-{FLOAT_DECIMALS - 1})::double")
    report = compare_builds(build_duckdb(tmp_path / "w.duckdb"), build_spark(tmp_path / "spark", spark_rows), [MART])
    assert len(report.differences) == 1
    assert (
        "period_start=2026-02-01" in report.differences[0]
        and "share: duckdb=0.25 spark=0.25001" in (report.differences[0])
    )


def test_missing_and_extra_rows_and_duplicates_are_reported(tmp_path: Path) -> None:
    # B2 is missing on Spark; A1/2026-01 appears twice there (a multiset, not a set, is compared).
    spark_rows = DUCKDB_ROWS.replace(
        "('B2', date '2026-01-01', 7, null::double, null)", "('A1', date '2026-01-01', 10, 0.3333333333, 'pcn')"
    )
    report = compare_builds(build_duckdb(tmp_path / "w.duckdb"), build_spark(tmp_path / "spark", spark_rows), [MART])
    assert sorted(report.differences) == [
        "measures key (org_code='A1', period_start=2026-01-01): row only in the Spark build",
        "measures key (org_code='B2', period_start=2026-01-01): row only in the DuckDB build",
    ]


def test_columns_and_missing_tables_are_reported(tmp_path: Path) -> None:
    spark_rows = DUCKDB_ROWS.replace("org_type)", "org_kind)")
    warehouse = build_duckdb(tmp_path / "w.duckdb")
    report = compare_builds(warehouse, build_spark(tmp_path / "spark", spark_rows), [MART])
    assert report.differences == ["measures: columns differ: only on DuckDB ['org_type'], only on Spark ['org_kind']"]
    missing = Mart("model.sprx.other", "marts", "other", ())
    report = compare_builds(warehouse, tmp_path / "spark", [missing])
    assert report.differences[0] == "other: not built on DuckDB (marts.other is missing)"
    assert report.differences[1].startswith("other: not built on Spark (no Parquet files in ")
    with pytest.raises(ComparisonError, match="no marts"):
        compare_builds(warehouse, tmp_path / "spark", [])


def test_marts_and_their_keys_come_from_the_manifest() -> None:
    def test_node(name: str, attached: str, **kwargs) -> dict:
        return {
            "resource_type": "test",
            "attached_node": attached,
            "column_name": kwargs.pop("column_name", None),
            "test_metadata": {"name": name, "kwargs": kwargs},
            "config": {},
        }

    def model(path: list[str], materialized: str = "table") -> dict:
        return {
            "resource_type": "model",
            "fqn": ["sprx", *path],
            "schema": path[0],
            "name": path[-1],
            "alias": path[-1],
            "config": {"materialized": materialized},
        }

    manifest = {
        "nodes": {
            "model.sprx.fct": model(["marts", "referrals", "fct"]),
            "model.sprx.mix": model(["marts", "referrals", "mix"]),
            "model.sprx.int_x": model(["intermediate", "int_x"]),
            "model.sprx.eph": model(["marts", "eph"], materialized="ephemeral"),
            "test.a": test_node("unique_combination_of_columns", "model.sprx.fct", combination_of_columns=["a", "b"]),
            "test.b": test_node("unique", "model.sprx.fct", column_name="referral_key"),
            "test.c": test_node("not_null", "model.sprx.mix", column_name="x"),
        }
    }
    assert marts_in_manifest(manifest) == [
        Mart("model.sprx.fct", "marts", "fct", ("referral_key",)),
        Mart("model.sprx.mix", "marts", "mix", ()),
    ]


def test_export_writes_each_source_as_parquet_and_names_a_missing_one(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create schema raw")
    con.execute("create table raw.provider_referrals as select range as id, 'it''s' as note from range(5)")
    con.close()
    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        json.dumps(
            {"sources": {"source.sprx.provider.referrals": {"schema": "raw", "identifier": "provider_referrals"}}}
        )
    )
    tables = source_tables(manifest)
    assert tables == [SourceTable("raw", "provider_referrals")]
    destination = tmp_path / "parquet"
    assert export_sources(warehouse, destination, tables) == {"raw.provider_referrals": 5}
    # a second export replaces the first (no duplicated rows, no leftover folders)
    assert export_sources(warehouse, destination, tables) == {"raw.provider_referrals": 5}
    assert [p.name for p in (destination / "raw").iterdir()] == ["provider_referrals"]
    read_back = duckdb.connect().execute(
        f"select count(*), min(note) from read_parquet('{destination}/raw/provider_referrals/*.parquet')"
    )
    assert read_back.fetchall() == [(5, "it's")]
    with pytest.raises(ExportError, match=r"raw\.practice_events"):
        export_sources(warehouse, destination, [*tables, SourceTable("raw", "practice_events")])


def test_sprx_spark_export_names_what_is_missing(sprx_env: dict[str, Path]) -> None:
    from typer.testing import CliRunner

    from orchestration.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["spark", "export"])
    assert result.exit_code == 1 and "No warehouse at" in result.output
    duckdb.connect(str(sprx_env["warehouse"])).close()  # a warehouse with no tables yet
    result = runner.invoke(app, ["spark", "export"])
    assert result.exit_code == 1
    assert "dbt sources missing from the warehouse" in result.output and "raw.provider_referrals" in result.output
