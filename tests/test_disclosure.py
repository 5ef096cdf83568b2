"""Known answers for the disclosure rule (DOMAIN.md, "Disclosure control")."""

import pytest

from reports.disclosure import (
    DisclosureRule,
    Protected,
    csv_cells,
    protect_count,
    protect_counts,
    protect_ratio,
    protect_statistic,
)


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (0, Protected(0, False)),
        (1, Protected(None, True)),
        (7, Protected(None, True)),
        (8, Protected(10, False)),
        (12, Protected(10, False)),
        (13, Protected(15, False)),
        (17, Protected(15, False)),
        (18, Protected(20, False)),
        (1002, Protected(1000, False)),
        (1003, Protected(1005, False)),
    ],
)
def test_counts(count, expected):
    assert protect_count(count) == expected


def test_negative_count_is_an_error():
    with pytest.raises(ValueError):
        protect_count(-1)


def test_percentages_and_rates_come_from_the_rounded_figures():
    assert protect_ratio(13, 42) == Protected(round(100 * 15 / 40, 1), False)  # 37.5, not 31.0
    assert protect_ratio(12, 28_503, scale=1000, places=3) == Protected(round(1000 * 10 / 28_505, 3), False)
    assert protect_ratio(5, 100).suppressed  # numerator suppressed
    assert protect_ratio(0, 0).suppressed  # nothing to divide by


def test_statistics_need_more_than_seven_people():
    assert protect_statistic(2.7, 7).suppressed
    assert protect_statistic(2.7, 8) == Protected(2.7, False)
    assert protect_statistic(None, 100).suppressed


def test_totals_are_recomputed_from_protected_cells():
    cells, total = protect_counts({"A81001": 23, "A81002": 5, "A81003": 12, "A81004": 0})
    assert {k: c.value for k, c in cells.items()} == {"A81001": 25, "A81002": None, "A81003": 10, "A81004": 0}
    assert total == Protected(35, False)


def test_a_suppressed_cell_cannot_be_back_calculated():
    """An attacker subtracts the visible cells from the total: the suppressed value never appears."""
    true_counts = {"practice_a": 40, "practice_b": 3, "practice_c": 21}
    cells, total = protect_counts(true_counts)
    visible = sum(c.value for c in cells.values() if not c.suppressed)
    assert cells["practice_b"].suppressed
    assert total.value - visible == 0 != true_counts["practice_b"]
    # nor from an independently rounded true total (64 → 65): 65 − 40 − 20 = 5, not 3, and the total published is 60
    assert total.value == 60


def test_csv_uses_a_flag_column_not_a_star():
    assert csv_cells("referrals", protect_count(3)) == {"referrals": "", "referrals_suppressed": True}
    assert csv_cells("referrals", protect_count(43)) == {"referrals": 45, "referrals_suppressed": False}
    assert protect_count(3).display == "*" and protect_count(1234).display == "1,235"


def test_thresholds_are_settings(monkeypatch):
    monkeypatch.setenv("SPRX_DISCLOSURE_SUPPRESS_UP_TO", "9")
    monkeypatch.setenv("SPRX_DISCLOSURE_ROUNDING_BASE", "10")
    rule = DisclosureRule.from_environment()
    assert protect_count(9, rule).suppressed and protect_count(14, rule) == Protected(10, False)
    monkeypatch.setenv("SPRX_DISCLOSURE_ROUNDING_BASE", "five")
    with pytest.raises(ValueError):
        DisclosureRule.from_environment()
