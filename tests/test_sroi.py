"""A hand-worked SROI: two outcomes over two financial years, through a real `dbt build` of the SROI models.

A tiny warehouse holds only what the SROI models read (provider costs, ODS membership, outcome pairs,
GP utilisation) and a test assumption version. Every figure below is worked out by hand first, in
Decimal, with the arithmetic written out, and the marts must agree to the penny.

PCN U00001 (ICB Q01), central scenario, assumption version 'hand-1':

    outcome          proxy    deadweight displacement attribution drop-off years discount
    wellby           13,000   0.25       0.10         0.40        0.30     2     1.5%
    gp_appointments  48       0.20       0.05         0.30        0.50     2     3.5%
    qaly (apart)     30,000   0.25       0.00         0.40        0.30     2     1.5%

    2025-26: costs 10,000.00 + 10,000.00 + 1,500.00 = 21,500.00 (3 months); life satisfaction changes
             +3, -1, +2 (4 points, 3 people); GP appointments 120 before, 90 after (30 avoided, 25 people);
             EQ-5D changes +0.100, +0.050.
    2026-27: costs 12,000.00 + 500.50 = 12,500.50 (1 month); life satisfaction +2, +1 (3 points); GP
             appointments 40 before, 44 after (-4: more, not fewer); no EQ-5D pairs.

Year one is the financial year itself and is not discounted; year two is reduced by drop-off and
discounted once. Present values are rounded to the penny per outcome; the total is their sum.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest

from tests.dbt_runner import run_dbt

D = Decimal
PENNY = D("0.01")
SROI_MODELS = [
    "int_sroi_inputs",
    "int_sroi_outcome_quantities",
    "int_sroi_outcome_values",
    "sroi_walk",
    "sroi_pcn_financial_year",
    "health_benefit_pcn_financial_year",
]

ASSUMPTIONS = {
    # outcome: (proxy_value, deadweight, displacement, attribution, drop_off, benefit_years, discount_rate)
    "wellby": ("13000", "0.25", "0.10", "0.40", "0.30", "2", "0.015"),
    "gp_appointments": ("48", "0.20", "0.05", "0.30", "0.50", "2", "0.035"),
    "qaly": ("30000", "0.25", "0", "0.40", "0.30", "2", "0.015"),
}
NAMES = ("proxy_value", "deadweight", "displacement", "attribution", "drop_off", "benefit_years", "discount_rate")


def pennies(value: Decimal) -> Decimal:
    return value.quantize(PENNY, rounding=ROUND_HALF_UP)


# ---- the hand working -------------------------------------------------------------------------
# 2025-26, wellbeing: 4 life-satisfaction points x 13,000 = 52,000.00 gross
WELLBY_2025_GROSS = D(4) * D(13000)
# year one: 52,000 x (1 - 0.25) x (1 - 0.10) x (1 - 0.40) = 52,000 x 0.405 = 21,060.00
WELLBY_2025_YEAR1 = WELLBY_2025_GROSS * (1 - D("0.25")) * (1 - D("0.10")) * (1 - D("0.40"))
# year two: 21,060 x (1 - 0.30) = 14,742.00, discounted once: 14,742 / 1.015 = 14,524.1379...
WELLBY_2025_YEAR2 = WELLBY_2025_YEAR1 * (1 - D("0.30")) / (1 + D("0.015"))
WELLBY_2025_PV = pennies(WELLBY_2025_YEAR1 + WELLBY_2025_YEAR2)  # 35,584.14

# 2025-26, GP appointments: 120 - 90 = 30 avoided x 48 = 1,440.00 gross
GP_2025_GROSS = D(120 - 90) * D(48)
# year one: 1,440 x 0.80 x 0.95 x 0.70 = 1,440 x 0.532 = 766.08
GP_2025_YEAR1 = GP_2025_GROSS * (1 - D("0.20")) * (1 - D("0.05")) * (1 - D("0.30"))
# year two: 766.08 x 0.50 = 383.04, / 1.035 = 370.0869...
GP_2025_YEAR2 = GP_2025_YEAR1 * (1 - D("0.50")) / (1 + D("0.035"))
GP_2025_PV = pennies(GP_2025_YEAR1 + GP_2025_YEAR2)  # 1,136.17

INPUTS_2025 = D("10000.00") + D("10000.00") + D("1500.00")  # 21,500.00
TOTAL_2025 = WELLBY_2025_PV + GP_2025_PV  # 36,720.31
NPV_2025 = TOTAL_2025 - INPUTS_2025  # 15,220.31
RATIO_2025 = (TOTAL_2025 / INPUTS_2025).quantize(PENNY, rounding=ROUND_HALF_UP)  # 1.71

# 2026-27, wellbeing: 3 points x 13,000 = 39,000; x 0.405 = 15,795.00; year two 15,795 x 0.7 / 1.015
WELLBY_2026_GROSS = D(3) * D(13000)
WELLBY_2026_YEAR1 = WELLBY_2026_GROSS * (1 - D("0.25")) * (1 - D("0.10")) * (1 - D("0.40"))
WELLBY_2026_YEAR2 = WELLBY_2026_YEAR1 * (1 - D("0.30")) / (1 + D("0.015"))
WELLBY_2026_PV = pennies(WELLBY_2026_YEAR1 + WELLBY_2026_YEAR2)  # 26,688.10

# 2026-27, GP appointments: 40 - 44 = -4 (more appointments: a negative value, kept) x 48 = -192.00
GP_2026_GROSS = D(40 - 44) * D(48)
GP_2026_YEAR1 = GP_2026_GROSS * (1 - D("0.20")) * (1 - D("0.05")) * (1 - D("0.30"))  # -102.144
GP_2026_YEAR2 = GP_2026_YEAR1 * (1 - D("0.50")) / (1 + D("0.035"))  # -49.3449...
GP_2026_PV = pennies(GP_2026_YEAR1 + GP_2026_YEAR2)  # -151.49

INPUTS_2026 = D("12000.00") + D("500.50")  # 12,500.50
TOTAL_2026 = WELLBY_2026_PV + GP_2026_PV  # 26,536.61
NPV_2026 = TOTAL_2026 - INPUTS_2026  # 14,036.11
RATIO_2026 = (TOTAL_2026 / INPUTS_2026).quantize(PENNY, rounding=ROUND_HALF_UP)  # 2.12

# Health benefit 2025-26 (apart from the SROI): EQ-5D +0.100 + 0.050 = 0.150 index points
QALY_2025_YEAR1 = D("0.150") * (1 - D("0.25")) * (1 - D("0")) * (1 - D("0.40"))  # 0.0675 QALYs
QALY_2025_YEAR2 = QALY_2025_YEAR1 * (1 - D("0.30")) / (1 + D("0.015"))  # 0.046551...
QALY_2025 = QALY_2025_YEAR1 + QALY_2025_YEAR2  # 0.114051...
HEALTH_2025 = pennies(QALY_2025 * D(30000))  # 3,421.55


def test_hand_working_is_what_the_docstring_says():
    """The hand figures themselves, so a slip in the working shows up here and not as a dbt mismatch."""
    hand = {
        "wellbeing 2025-26 year one": (WELLBY_2025_YEAR1, "21060.00"),
        "wellbeing 2025-26 present value": (WELLBY_2025_PV, "35584.14"),
        "GP 2025-26 year one": (GP_2025_YEAR1, "766.08"),
        "GP 2025-26 present value": (GP_2025_PV, "1136.17"),
        "total 2025-26": (TOTAL_2025, "36720.31"),
        "NPV 2025-26": (NPV_2025, "15220.31"),
        "ratio 2025-26": (RATIO_2025, "1.71"),
        "wellbeing 2026-27 present value": (WELLBY_2026_PV, "26688.10"),
        "GP 2026-27 present value": (GP_2026_PV, "-151.49"),
        "total 2026-27": (TOTAL_2026, "26536.61"),
        "NPV 2026-27": (NPV_2026, "14036.11"),
        "ratio 2026-27": (RATIO_2026, "2.12"),
        "QALYs 2025-26": (QALY_2025.quantize(D("0.0001")), "0.1141"),
        "health benefit 2025-26": (HEALTH_2025, "3421.55"),
    }
    assert {name: value for name, (value, _) in hand.items()} == {name: D(text) for name, (_, text) in hand.items()}


def build_tiny_warehouse(path: Path) -> None:
    """Only the relations the SROI models read, filled with the example above."""
    con = duckdb.connect(str(path))
    for schema in ("staging", "marts", "ref"):
        con.execute(f"CREATE SCHEMA {schema}")
    con.execute(
        "CREATE TABLE staging.stg_provider__costs (file_id BIGINT, record_number INTEGER, provider_code VARCHAR, "
        "pcn_code VARCHAR, period DATE, cost_type VARCHAR, amount_gbp DECIMAL(14,2))"
    )
    con.executemany(
        "INSERT INTO staging.stg_provider__costs VALUES (1, ?, 'LW1', 'U00001', ?, ?, ?)",
        [
            (1, date(2025, 4, 1), "staff", D("10000.00")),
            (2, date(2025, 5, 1), "staff", D("10000.00")),
            (3, date(2026, 3, 1), "overheads", D("1500.00")),
            (4, date(2026, 4, 1), "staff", D("12000.00")),
            (5, date(2026, 4, 1), "activities", D("500.50")),
        ],
    )
    con.execute(
        "CREATE TABLE staging.stg_ods__pcn_membership AS SELECT 'A10001' AS practice_code, 'U00001' AS pcn_code, "
        "DATE '2019-07-01' AS start_date, CAST(NULL AS DATE) AS end_date, DATE '9999-12-31' AS end_date_or_max"
    )
    con.execute("CREATE TABLE staging.stg_ods__practices AS SELECT 'A10001' AS practice_code, 'Q01' AS icb_code")
    con.execute(
        "CREATE TABLE marts.outcome_pairs (referral_key VARCHAR, pcn_code VARCHAR, measure VARCHAR, "
        "has_follow_up BOOLEAN, follow_up_date DATE, change DECIMAL(28,6))"
    )
    con.executemany(
        "INSERT INTO marts.outcome_pairs VALUES (?, 'U00001', ?, ?, ?, ?)",
        [
            ("R1", "ons4_life_satisfaction", True, date(2025, 10, 1), 3),
            ("R2", "ons4_life_satisfaction", True, date(2026, 3, 31), -1),
            ("R3", "ons4_life_satisfaction", True, date(2026, 1, 10), 2),
            ("R4", "ons4_life_satisfaction", True, date(2026, 4, 1), 2),
            ("R5", "ons4_life_satisfaction", True, date(2026, 6, 15), 1),
            ("R6", "ons4_life_satisfaction", False, None, None),  # no follow-up: not counted
            ("R1", "ons4_happiness", True, date(2025, 10, 1), 4),  # not a valued measure
            ("R1", "eq5d_index", True, date(2025, 10, 1), D("0.100")),
            ("R2", "eq5d_index", True, date(2026, 3, 31), D("0.050")),
        ],
    )
    con.execute(
        "CREATE TABLE marts.utilisation_gp_appointments (org_type VARCHAR, org_code VARCHAR, period_type VARCHAR, "
        "period_start DATE, cohort VARCHAR, episodes INTEGER, gp_appointments_before INTEGER, "
        "gp_appointments_after INTEGER)"
    )
    con.executemany(
        "INSERT INTO marts.utilisation_gp_appointments VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            ("pcn", "U00001", "financial_year", date(2025, 4, 1), "engaged", 25, 120, 90),
            ("pcn", "U00001", "financial_year", date(2026, 4, 1), "engaged", 10, 40, 44),
            ("pcn", "U00001", "financial_year", date(2025, 4, 1), "declined", 5, 30, 10),  # not the engaged
            ("pcn", "U00001", "month", date(2025, 6, 1), "engaged", 4, 20, 10),  # monthly rows not used
            ("england", "ENG", "financial_year", date(2025, 4, 1), "engaged", 25, 120, 90),
        ],
    )
    con.execute(
        "CREATE TABLE ref.sroi_assumptions (assumption_version VARCHAR, outcome VARCHAR, name VARCHAR, "
        "scenario VARCHAR, value DECIMAL(18,6), unit VARCHAR, price_year VARCHAR, source VARCHAR)"
    )
    con.executemany(
        "INSERT INTO ref.sroi_assumptions VALUES ('hand-1', ?, ?, 'central', ?, 'test unit', 'test year', 'hand')",
        [
            (outcome, name, D(value))
            for outcome, values in ASSUMPTIONS.items()
            for name, value in zip(NAMES, values, strict=True)
        ],
    )
    con.close()


@pytest.fixture(scope="module")
def sroi_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny warehouse after one `dbt build` of the sroi_outcomes seed and the SROI models, with their tests."""
    work = tmp_path_factory.mktemp("sroi_hand")
    warehouse = work / "warehouse.duckdb"
    build_tiny_warehouse(warehouse)
    version = '{"sroi_assumption_version": "hand-1"}'
    # The example has the central scenario only, so the guard that a version has all three is left out.
    guard = "assert_sroi_assumption_version_complete"
    run_dbt(
        ["build", "--select", "sroi_outcomes", *SROI_MODELS, "--exclude", guard, "--vars", version], warehouse, work
    )
    return warehouse


def query(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def money(value: float | Decimal | None) -> Decimal | None:
    return None if value is None else pennies(D(str(value)))


def test_sroi_mart_reproduces_the_hand_working_to_the_penny(sroi_warehouse: Path):
    rows = query(
        sroi_warehouse,
        "SELECT financial_year, icb_code, months_with_costs, input_value, present_value, net_present_value, "
        "sroi_ratio, assumption_version FROM marts.sroi_pcn_financial_year WHERE pcn_code = 'U00001' "
        "AND scenario = 'central' ORDER BY financial_year",
    )
    actual = [
        (fy, icb, months, money(i), money(pv), money(npv), money(r), v) for fy, icb, months, i, pv, npv, r, v in rows
    ]
    assert actual == [
        ("2025-26", "Q01", 3, INPUTS_2025, TOTAL_2025, NPV_2025, RATIO_2025, "hand-1"),
        ("2026-27", "Q01", 1, INPUTS_2026, TOTAL_2026, NPV_2026, RATIO_2026, "hand-1"),
    ]


def walk_row(fy, order, step, outcome, quantity, people, proxy, gross, *adjustments_to_present_value) -> tuple:
    """A sroi_walk row with its money columns in pennies (Decimal), the adjustments as stored."""
    *adjustments, present_value = adjustments_to_present_value
    deadweight, displacement, attribution, adjusted, drop_off, years, rate = adjustments
    return (
        fy, order, step, outcome, money(quantity), people, money(proxy), money(gross),
        deadweight, displacement, attribution, money(adjusted), drop_off, years, rate, money(present_value),
    )  # fmt: skip


def test_sroi_walk_shows_each_step_of_the_hand_working(sroi_warehouse: Path):
    rows = query(
        sroi_warehouse,
        "SELECT financial_year, step_order, step, outcome, quantity, people, financial_proxy, gross_value, deadweight, "
        "displacement, attribution, adjusted_value, drop_off, benefit_years, discount_rate, present_value "
        "FROM marts.sroi_walk WHERE pcn_code = 'U00001' AND scenario = 'central' ORDER BY financial_year, step_order",
    )
    walk = [walk_row(*row) for row in rows]
    no = (None,) * 9
    assert walk == [
        ("2025-26", 1, "inputs", None, INPUTS_2025, *no, None, INPUTS_2025),
        ("2025-26", 2, "outcome", "wellby", D("4.00"), 3, D("13000.00"), pennies(WELLBY_2025_GROSS),
         0.25, 0.10, 0.40, pennies(WELLBY_2025_YEAR1), 0.30, 2, 0.015, WELLBY_2025_PV),
        ("2025-26", 3, "outcome", "gp_appointments", D("30.00"), 25, D("48.00"), pennies(GP_2025_GROSS),
         0.20, 0.05, 0.30, pennies(GP_2025_YEAR1), 0.50, 2, 0.035, GP_2025_PV),
        ("2025-26", 4, "total_present_value", None, TOTAL_2025, *no, None, TOTAL_2025),
        ("2025-26", 5, "net_present_value", None, NPV_2025, *no, None, NPV_2025),
        ("2025-26", 6, "sroi_ratio", None, RATIO_2025, *no, None, None),
        ("2026-27", 1, "inputs", None, INPUTS_2026, *no, None, INPUTS_2026),
        ("2026-27", 2, "outcome", "wellby", D("3.00"), 2, D("13000.00"), pennies(WELLBY_2026_GROSS),
         0.25, 0.10, 0.40, pennies(WELLBY_2026_YEAR1), 0.30, 2, 0.015, WELLBY_2026_PV),
        ("2026-27", 3, "outcome", "gp_appointments", D("-4.00"), 10, D("48.00"), pennies(GP_2026_GROSS),
         0.20, 0.05, 0.30, pennies(GP_2026_YEAR1), 0.50, 2, 0.035, GP_2026_PV),
        ("2026-27", 4, "total_present_value", None, TOTAL_2026, *no, None, TOTAL_2026),
        ("2026-27", 5, "net_present_value", None, NPV_2026, *no, None, NPV_2026),
        ("2026-27", 6, "sroi_ratio", None, RATIO_2026, *no, None, None),
    ]  # fmt: skip


def test_health_benefit_is_reported_apart_and_not_in_the_ratio(sroi_warehouse: Path):
    rows = query(
        sroi_warehouse,
        "SELECT financial_year, eq5d_pairs, qaly_gain, value_per_qaly, health_benefit_value, assumption_version "
        "FROM marts.health_benefit_pcn_financial_year WHERE scenario = 'central' ORDER BY financial_year",
    )
    assert [(fy, n, D(str(q)), money(v), money(h), av) for fy, n, q, v, h, av in rows] == [
        ("2025-26", 2, QALY_2025.quantize(D("0.0001"), rounding=ROUND_HALF_UP), D("30000.00"), HEALTH_2025, "hand-1"),
        ("2026-27", 0, D("0.0"), D("30000.00"), D("0.00"), "hand-1"),
    ]
    outcomes_in_walk = query(sroi_warehouse, "SELECT DISTINCT outcome FROM marts.sroi_walk WHERE step = 'outcome'")
    assert sorted(o for (o,) in outcomes_in_walk) == ["gp_appointments", "wellby"]
