"""Outcome statistics: equal to scipy's on the same pairs, too few below 10 pairs, periods and orgs as documented,
and the Dagster asset writing marts.outcome_statistics (on a tiny warehouse and in the demo pipeline)."""

from __future__ import annotations

import math
import random
import shutil
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import numpy as np
import pytest
from scipy import stats

from orchestration.resources import WarehouseResource
from orchestration.statistics.outcomes import (
    MIN_PAIRS,
    STATISTICS_COLUMNS,
    Pair,
    financial_year,
    outcome_statistics,
    paired_summary,
    rolling_12m,
)


def scipy_reference(before: list[float], after: list[float]) -> dict[str, float]:
    """The statistics straight from scipy and numpy, written independently of the module."""
    difference = np.subtract(after, before)
    nonzero = [d for d in difference if d != 0]
    tied = len(nonzero) < len(difference) or len({abs(d) for d in nonzero}) < len(nonzero)
    t_test = stats.ttest_rel(after, before)
    interval = t_test.confidence_interval(0.95)
    return {
        "mean_baseline": float(np.mean(before)),
        "mean_follow_up": float(np.mean(after)),
        "mean_change": float(np.mean(difference)),
        "ci_lower": float(interval.low),
        "ci_upper": float(interval.high),
        "t_test_p_value": float(t_test.pvalue),
        # scipy's default method, but the normal approximation wherever changes tie or are zero (scipy's own
        # choice above 13 pairs; below it, "auto" would run a permutation test)
        "wilcoxon_p_value": float(stats.wilcoxon(after, before, method="asymptotic" if tied else "auto").pvalue),
        "cohens_dz": float(np.mean(difference) / np.std(difference, ddof=1)),
    }


def make_pairs(pcn: str, count: int, follow_up: date, seed: int, measure: str = "swemwbs_metric") -> list[Pair]:
    """`count` SWEMWBS-like pairs (ties and zero changes included) followed up on `follow_up`."""
    rng = random.Random(seed)
    pairs = []
    for i in range(count):
        before = round(rng.uniform(12, 26), 2)
        after = before + rng.choice([-3.0, 0.0, 1.5, 2.99, 3.0, 4.25, 6.0])
        category = "improved" if after - before >= 3 else "worse" if before - after >= 3 else "no_change"
        pairs.append(
            Pair(f"{pcn}-R{seed}-{i}", pcn, "QXX", "SWEMWBS", measure, follow_up - timedelta(days=120), before,
                 follow_up, after, category)
        )  # fmt: skip
    return pairs


def row_for(rows: list[dict], **key: object) -> dict:
    matches = [row for row in rows if all(row[k] == v for k, v in key.items())]
    assert len(matches) == 1, f"{len(matches)} rows for {key}"
    return matches[0]


def assert_close(actual: dict, expected: dict) -> None:
    for name, value in expected.items():
        assert actual[name] == pytest.approx(value, rel=1e-12, abs=1e-12), name


def test_paired_summary_equals_scipy_on_the_same_pairs():
    rng = random.Random(7)
    before = [float(rng.randint(7, 35)) for _ in range(40)]
    after = [b + rng.choice([-4, -1, 0, 0, 2, 3, 5]) for b in before]
    summary = paired_summary(before, after)
    assert_close(summary.__dict__, scipy_reference(before, after))
    assert summary.ci_lower < summary.mean_change < summary.ci_upper


def test_undefined_statistics_are_null_not_zero():
    same_change = paired_summary([10.0, 12.0, 14.0], [11.0, 13.0, 15.0])  # every change +1: SD 0
    assert same_change.mean_change == 1.0
    assert (same_change.ci_lower, same_change.t_test_p_value, same_change.cohens_dz) == (None, None, None)
    tied = stats.wilcoxon([11.0, 13.0, 15.0], [10.0, 12.0, 14.0], method="asymptotic").pvalue  # changes tie
    assert same_change.wilcoxon_p_value == pytest.approx(tied)
    no_change = paired_summary([10.0, 12.0], [10.0, 12.0])
    assert (no_change.mean_change, no_change.wilcoxon_p_value, no_change.t_test_p_value) == (0.0, None, None)
    with pytest.raises(ValueError, match="at least 2 pairs"):
        paired_summary([1.0], [2.0])
    with pytest.raises(ValueError, match="3 baseline scores but 2"):
        paired_summary([1.0, 2.0, 3.0], [2.0, 3.0])


def test_periods():
    assert financial_year(date(2026, 3, 31)).label == "2025-26"
    assert financial_year(date(2026, 4, 1)) == financial_year(date(2027, 3, 31))
    assert (financial_year(date(2026, 4, 1)).start, financial_year(date(2026, 4, 1)).end) == (
        date(2026, 4, 1),
        date(2027, 3, 31),
    )
    window = rolling_12m(date(2026, 9, 1))
    assert (window.start, window.end, window.label) == (date(2025, 10, 1), date(2026, 9, 30), "2025-10 to 2026-09")


def test_statistics_per_org_and_financial_year_equal_scipy_and_too_few_below_ten():
    pcn_a = make_pairs("U00001", 12, date(2026, 2, 10), seed=1)  # FY 2025-26
    pcn_a_next_year = make_pairs("U00001", 4, date(2026, 5, 5), seed=2)  # FY 2026-27: too few
    pcn_b = make_pairs("U00002", MIN_PAIRS - 1, date(2026, 1, 20), seed=3)  # one short of computed
    no_follow_up = [
        Pair("U00002-open", "U00002", "QXX", "SWEMWBS", "swemwbs_metric", date(2026, 1, 5), 15.0),
        Pair("U00001-open", "U00001", "QXX", "SWEMWBS", "swemwbs_metric", date(2025, 11, 5), 18.0),
    ]
    rows = outcome_statistics(pcn_a + pcn_a_next_year + pcn_b + no_follow_up)
    assert all(list(row) == [name for name, _ in STATISTICS_COLUMNS] for row in rows)

    a_2025 = row_for(rows, org_level="pcn", org_code="U00001", period_type="financial_year", period_label="2025-26")
    assert (a_2025["pairs"], a_2025["status"]) == (12, "computed")
    assert_close(a_2025, scipy_reference([p.baseline_score for p in pcn_a], [p.follow_up_score for p in pcn_a]))
    assert a_2025["share_improved"] == sum(p.change_category == "improved" for p in pcn_a) / 12
    # baselines dated in 2025-26: the 12 + the 4 (baselines 120 days before 5 May 2026) + the open one = 17
    assert a_2025["baselines"] == 17 and a_2025["follow_up_completion_rate"] == pytest.approx(16 / 17)

    b_2025 = row_for(rows, org_level="pcn", org_code="U00002", period_type="financial_year", period_label="2025-26")
    assert (b_2025["pairs"], b_2025["baselines"], b_2025["status"]) == (9, 10, "too_few")
    assert b_2025["follow_up_completion_rate"] == pytest.approx(0.9)
    statistics = ("mean_baseline", "mean_follow_up", "mean_change", "ci_lower", "ci_upper", "t_test_p_value",
                  "wilcoxon_p_value", "cohens_dz", "share_improved")  # fmt: skip
    assert all(b_2025[name] is None for name in statistics)

    a_2026 = row_for(rows, org_level="pcn", org_code="U00001", period_type="financial_year", period_label="2026-27")
    assert (a_2026["pairs"], a_2026["baselines"], a_2026["status"]) == (4, 0, "too_few")
    assert a_2026["follow_up_completion_rate"] is None

    for level, code in (("icb", "QXX"), ("england", "ENG")):
        both = row_for(rows, org_level=level, org_code=code, period_type="financial_year", period_label="2025-26")
        together = pcn_a + pcn_b
        assert (both["pairs"], both["status"]) == (21, "computed")
        assert_close(both, scipy_reference([p.baseline_score for p in together], [p.follow_up_score for p in together]))


def test_rolling_12_months_hold_a_pair_for_twelve_window_ends():
    early = make_pairs("U00001", 10, date(2025, 6, 15), seed=4)  # baselines Feb 2025
    late = make_pairs("U00001", 10, date(2026, 7, 1), seed=5)  # baselines Mar 2026
    rows = [
        r for r in outcome_statistics(early + late) if r["org_level"] == "pcn" and r["period_type"] == "rolling_12m"
    ]
    labels = {row["period_label"]: row for row in rows}
    # window ends run from the first data month (Feb 2025) to the last (Jul 2026)
    assert min(labels) == "2024-03 to 2025-02" and max(labels) == "2025-08 to 2026-07"
    holding_early = [
        label for label, row in labels.items() if row["pairs"] in (10, 20) and label <= "2025-06 to 2026-05"
    ]
    assert labels["2024-07 to 2025-06"]["pairs"] == 10  # the first window holding June 2025
    assert labels["2025-06 to 2026-05"]["pairs"] == 10  # the last window holding June 2025 (no July yet)
    assert labels["2025-07 to 2026-06"]["pairs"] == 0 and labels["2025-07 to 2026-06"]["status"] == "too_few"
    assert labels["2025-08 to 2026-07"]["pairs"] == 10
    assert len(holding_early) == 12


def test_set_based_statistics_equal_paired_summary_group_by_group():
    """Groups stacked by size (one scipy call a size) give each group exactly what paired_summary gives it: tied and
    untied changes (scipy's exact Wilcoxon up to 50 pairs, normal approximation beyond), zero and constant
    changes, and sizes shared by several groups."""
    rng = random.Random(11)
    pairs: list[Pair] = []
    sizes = [10, 10, 10, 11, 13, 13, 14, 30, 50, 51, 75, 12, 12]
    for group, size in enumerate(sizes):
        pcn = f"U{group:05d}"
        for i in range(size):
            before = round(rng.uniform(10, 30), 3)
            if group % 4 == 0:  # untied changes: scipy's exact distribution up to 50 pairs
                after = before + rng.uniform(-5, 8)
            elif group == 5:  # every change zero: Wilcoxon undefined
                after = before
            elif group == 11:  # every change +2: SD 0, only Wilcoxon defined
                after = before + 2
            else:
                after = before + rng.choice([-3.0, 0.0, 1.5, 3.0, 4.25])
            pairs.append(
                Pair(f"{pcn}-{i}", pcn, f"Q{group % 3}", "SWEMWBS", "swemwbs_metric", date(2025, 11, 1),
                     before, date(2026, 2, 1), after, "improved" if after - before >= 3 else "no_change")
            )  # fmt: skip
    rows = outcome_statistics(pairs)
    checked = 0
    for group, size in enumerate(sizes):
        members = [p for p in pairs if p.pcn_code == f"U{group:05d}"]
        expected = paired_summary([p.baseline_score for p in members], [p.follow_up_score for p in members])
        row = row_for(rows, org_level="pcn", org_code=f"U{group:05d}", period_type="financial_year")
        assert row["pairs"] == size
        for name, value in expected.__dict__.items():
            if value is None:
                assert row[name] is None, (group, name)
            else:
                assert row[name] == pytest.approx(value, rel=1e-12, abs=1e-15), (group, name)
        if None not in expected.__dict__.values():  # and straight from scipy, where every statistic is defined
            assert_close(
                row, scipy_reference([p.baseline_score for p in members], [p.follow_up_score for p in members])
            )
        checked += 1
    for icb in ("Q0", "Q1", "Q2"):
        members = [p for p in pairs if p.icb_code == icb]
        expected = paired_summary([p.baseline_score for p in members], [p.follow_up_score for p in members])
        row = row_for(rows, org_level="icb", org_code=icb, period_type="financial_year")
        assert_close(row, {k: v for k, v in expected.__dict__.items()})
    assert checked == len(sizes)


def test_pair_rejects_inconsistent_rows_with_a_clear_message():
    with pytest.raises(ValueError, match="R9/swemwbs_metric: follow_up_date and follow_up_score"):
        Pair("R9", "U1", "Q1", "SWEMWBS", "swemwbs_metric", date(2026, 1, 1), 20.0, date(2026, 4, 1), None)
    with pytest.raises(ValueError, match="follow-up 2026-01-01 is not after baseline 2026-01-01"):
        Pair("R9", "U1", "Q1", "SWEMWBS", "swemwbs_metric", date(2026, 1, 1), 20.0, date(2026, 1, 1), 21.0)


PAIRS_DDL = (
    "CREATE TABLE marts.outcome_pairs (referral_key VARCHAR, practice_code VARCHAR, pcn_code VARCHAR, "
    "icb_code VARCHAR, instrument VARCHAR, measure VARCHAR, higher_is_better BOOLEAN, baseline_date DATE, "
    "baseline_score DECIMAL(28,6), follow_up_date DATE, follow_up_score DECIMAL(28,6), follow_up_basis VARCHAR, "
    "has_follow_up BOOLEAN, change DECIMAL(28,6), minimal_important_difference DECIMAL(6,3), "
    "change_category VARCHAR, follow_up_month DATE, baseline_month DATE)"
)


def materialize_statistics(warehouse: Path) -> dg.ExecuteInProcessResult:
    from orchestration.assets.statistics import outcome_statistics as asset

    # instance_for_test, not DagsterInstance.ephemeral(): an unreferenced ephemeral instance can be
    # collected while Dagster's definitions-load context still points at it.
    with dg.instance_for_test() as instance:
        return dg.materialize(
            [asset],
            partition_key="2026-01-01",
            resources={"warehouse": WarehouseResource(path=str(warehouse))},
            instance=instance,
        )


def test_asset_writes_the_table_from_the_pairs_mart(tmp_path: Path):
    warehouse = tmp_path / "warehouse.duckdb"
    pairs = make_pairs("U00001", 11, date(2026, 2, 10), seed=6)
    con = duckdb.connect(str(warehouse))
    con.execute("CREATE SCHEMA marts")
    con.execute(PAIRS_DDL)
    for p in pairs:
        con.execute(
            "INSERT INTO marts.outcome_pairs (referral_key, pcn_code, icb_code, instrument, measure, baseline_date, "
            "baseline_score, follow_up_date, follow_up_score, change_category) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [p.referral_key, p.pcn_code, p.icb_code, p.instrument, p.measure, p.baseline_date, p.baseline_score,
             p.follow_up_date, p.follow_up_score, p.change_category],
        )  # fmt: skip
    con.close()
    result = materialize_statistics(warehouse)
    assert result.success
    [event] = result.get_asset_materialization_events()
    metadata = event.step_materialization_data.materialization.metadata
    assert metadata["outcome_pairs_read"].value == 11
    con = duckdb.connect(str(warehouse), read_only=True)
    types = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'marts' "
        "AND table_name = 'outcome_statistics' ORDER BY ordinal_position"
    ).fetchall()
    row = con.execute(
        "SELECT pairs, status, mean_change, ci_lower, wilcoxon_p_value FROM marts.outcome_statistics "
        "WHERE org_level = 'pcn' AND period_type = 'financial_year'"
    ).fetchall()
    con.close()
    assert types == list(STATISTICS_COLUMNS)
    expected = scipy_reference([p.baseline_score for p in pairs], [p.follow_up_score for p in pairs])
    assert row[0][:2] == (11, "computed")
    assert row[0][2:] == pytest.approx((expected["mean_change"], expected["ci_lower"], expected["wilcoxon_p_value"]))


def test_asset_fails_clearly_without_the_pairs_mart(tmp_path: Path):
    warehouse = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(warehouse)).close()
    with pytest.raises(RuntimeError, match=r"marts\.outcome_pairs is missing"):
        materialize_statistics(warehouse)


@pytest.fixture(scope="module")
def demo_statistics(demo_pipeline: dict, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the session's demo warehouse (read-only use)."""
    copy = tmp_path_factory.mktemp("outcome_statistics") / "warehouse.duckdb"
    shutil.copy(demo_pipeline["warehouse"], copy)
    return copy


def test_demo_statistics_equal_scipy_on_the_demo_pairs(demo_statistics: Path):
    """Recompute the financial-year rows of every org straight from marts.outcome_pairs with scipy."""
    con = duckdb.connect(str(demo_statistics), read_only=True)
    pairs = con.execute(
        "SELECT pcn_code, icb_code, measure, follow_up_date, CAST(baseline_score AS DOUBLE), "
        "CAST(follow_up_score AS DOUBLE) FROM marts.outcome_pairs WHERE has_follow_up"
    ).fetchall()
    table = con.execute(
        "SELECT org_level, org_code, period_label, measure, pairs, status, mean_change, ci_lower, ci_upper, "
        "t_test_p_value, wilcoxon_p_value, cohens_dz FROM marts.outcome_statistics WHERE period_type = 'financial_year'"
    ).fetchall()
    con.close()
    groups: dict[tuple[str, str, str, str], list[tuple[float, float]]] = {}
    for pcn, icb, measure, follow_up, before, after in pairs:
        label = financial_year(follow_up).label
        for level, code in (("pcn", pcn), ("icb", icb), ("england", "ENG")):
            if code:
                groups.setdefault((level, code, label, measure), []).append((before, after))
    by_key = {row[:4]: row[4:] for row in table}
    computed = 0
    for key, values in groups.items():
        n, status, mean_change, ci_lower, ci_upper, t_p, w_p, dz = by_key[key]
        assert n == len(values)
        if n < MIN_PAIRS:
            assert status == "too_few" and mean_change is None
            continue
        computed += 1
        expected = scipy_reference([b for b, _ in values], [a for _, a in values])
        actual = {"mean_change": mean_change, "ci_lower": ci_lower, "ci_upper": ci_upper, "t_test_p_value": t_p,
                  "wilcoxon_p_value": w_p, "cohens_dz": dz}  # fmt: skip
        for name, value in actual.items():
            assert math.isclose(value, expected[name], rel_tol=1e-9, abs_tol=1e-12), (key, name)
    assert computed >= 3 * 7  # every demo PCN has a computed financial year for each of the seven measures


def test_demo_has_enough_swemwbs_pairs_per_pcn(demo_statistics: Path):
    con = duckdb.connect(str(demo_statistics), read_only=True)
    rows = con.execute(
        "SELECT org_code, max(pairs), max(mean_change) FROM marts.outcome_statistics WHERE org_level = 'pcn' "
        "AND period_type = 'financial_year' AND measure = 'swemwbs_metric' GROUP BY org_code"
    ).fetchall()
    con.close()
    assert len(rows) == 3
    for pcn, pairs, mean_change in rows:
        assert pairs >= MIN_PAIRS, pcn
        assert 0 < mean_change < 6, pcn  # a few SWEMWBS metric points, as published evaluations report
