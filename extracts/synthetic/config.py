"""Scale parameters and the behavioural constants of the synthetic generator.

The numbers come from DESIGN.md / DOMAIN.md (shares of sources and reasons, waits, contacts,
the ~28% fall in GP demand, link-worker cost). They drive synthetic data only; analysis
assumptions (SROI proxies, unit costs) live in dbt seeds, not here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ScaleConfig:
    """How big one synthetic England is."""

    name: str
    icbs: int
    pcns: int
    practices: int
    providers: int
    referrals_per_year: int
    closed_practices: int
    practice_moves: int  # practices that change PCN partway through the window


SCALES: dict[str, ScaleConfig] = {
    "demo": ScaleConfig("demo", 1, 3, 22, 2, 1_500, 2, 1),
    "icb": ScaleConfig("icb", 1, 15, 100, 5, 7_500, 4, 1),
    "national": ScaleConfig("national", 42, 1_250, 6_300, 250, 1_300_000, 60, 12),
}

# Referrals received this many months before the window are simulated so the first month's
# files already hold a realistic open caseload. Journeys are capped below this length.
BURN_IN_MONTHS = 9
MAX_JOURNEY_DAYS = 260

# Seasonal referral multipliers, January..December (mean 1.0): dips in August and December.
SEASONALITY = (1.08, 1.05, 1.08, 0.95, 1.0, 1.02, 1.0, 0.85, 1.02, 1.08, 1.05, 0.82)

REFERRAL_SOURCES: tuple[tuple[str, float], ...] = (
    ("gp", 0.82),
    ("practice_nurse", 0.04),
    ("other_practice_staff", 0.04),
    ("hospital", 0.015),
    ("mental_health", 0.02),
    ("social_care", 0.02),
    ("vcse", 0.015),
    ("self", 0.02),
    ("other", 0.01),
)
PRACTICE_SOURCES = frozenset({"gp", "practice_nurse", "other_practice_staff"})

# Weights for drawing reasons without replacement; tuned so the share of reason *mentions* lands
# near mental health 25%, social isolation 17%, benefits/debt 9% (DESIGN.md).
REFERRAL_REASONS: tuple[tuple[str, float], ...] = (
    ("mental_health", 0.30),
    ("social_isolation", 0.185),
    ("benefits_debt", 0.085),
    ("housing", 0.07),
    ("long_term_condition", 0.10),
    ("physical_activity", 0.07),
    ("employment", 0.045),
    ("carer_support", 0.045),
    ("bereavement", 0.05),
    ("other", 0.05),
)
REASON_COUNT_WEIGHTS = ((1, 0.5), (2, 0.3), (3, 0.15), (4, 0.05))

DECLINE_RATE_RANGE = (0.10, 0.20)  # per provider
MEDIAN_WAIT_DAYS = 14.0
WAIT_SIGMA = 0.65
CONTACTS_RANGE = (6, 12)
DNA_RATE = 0.10
CARE_PLAN_RATE = 0.88
BASELINE_RATE = 0.85
FOLLOW_UP_RATE = {"completed": 0.72, "disengaged": 0.25}  # others: 0.4
FOLLOW_UP_OTHER = 0.4

DISCHARGE_OUTCOMES: tuple[tuple[str, float], ...] = (
    ("completed", 0.79),
    ("disengaged", 0.12),
    ("moved_away", 0.025),
    ("transferred", 0.025),
    ("other", 0.03),
    ("deceased", 0.01),
)

CONTACT_MODES: tuple[tuple[str, float, int, int], ...] = (
    # mode, weight, min minutes, max minutes
    ("face_to_face", 0.45, 30, 90),
    ("telephone", 0.30, 10, 40),
    ("video", 0.05, 20, 60),
    ("home_visit", 0.10, 45, 90),
    ("group", 0.10, 60, 120),
)
ACTIVITY_RATE = 0.4  # share of later contacts that connect the person to an activity

APPOINTMENT_ROLES: tuple[tuple[str, float], ...] = (("gp", 0.70), ("nurse", 0.20), ("other", 0.10))
SPLW_APPOINTMENT_SHARE = 0.06  # of appointments after referral, for people who engage
APPOINTMENT_DNA_RATE = 0.05
APPOINTMENT_WINDOW_DAYS = 182
AFTER_REFERRAL_FACTOR = 0.72  # ~28% fewer GP appointments after referral for those who engage

SIGNPOST_ONLY_RATE = 0.05  # practice-only signposting events, as a share of referrals
RE_REFERRAL_RATE = 0.03

# Practice coding completeness.
OFFERED_CODED = 0.55
REFERRAL_CODE_MISSING_RANGE = (0.10, 0.60)  # per practice
NON_PRACTICE_REFERRAL_CODED = 0.15
DECLINED_CODED = 0.5
SEEN_CODED = 0.45
CLOSED_CODED = 0.45
MENTAL_HEALTH_CODED = 0.10

# Instruments used by a provider's link workers (probability a baselined person completes each).
INSTRUMENT_USE = {"SWEMWBS": 0.92, "ONS4": 0.85, "UCLA3": 0.55, "EQ5D5L": 0.30}

# Provider costs per PCN and month.
LINK_WORKER_HOURLY_GBP = 47.0  # PSSRU 2025, Band 5 community staff per working hour
HOURS_PER_WTE_MONTH = 37.5 * 52 / 12
OVERHEAD_SHARE_RANGE = (0.12, 0.18)
ACTIVITIES_RANGE_GBP = (300.0, 1500.0)
VOLUNTEER_HOURS_RANGE = (20.0, 90.0)
VOLUNTEER_HOURLY_GBP = 12.21  # National Living Wage 2025/26, a common volunteer-time proxy
REFERRALS_PER_LINK_WORKER_YEAR = 230.0

# Population: England 2021 census ethnic groups (NHS Data Dictionary ethnic category).
ETHNIC_CATEGORIES: tuple[tuple[str, float], ...] = (
    ("A", 0.735),
    ("B", 0.009),
    ("C", 0.062),
    ("D", 0.005),
    ("E", 0.003),
    ("F", 0.005),
    ("G", 0.007),
    ("H", 0.033),
    ("J", 0.028),
    ("K", 0.011),
    ("L", 0.016),
    ("M", 0.011),
    ("N", 0.025),
    ("P", 0.005),
    ("R", 0.008),
    ("S", 0.016),
    ("Z", 0.040),
    ("99", 0.010),
)
SEXES: tuple[tuple[str, float], ...] = (("1", 0.40), ("2", 0.58), ("9", 0.005), ("X", 0.015))
LSOA_FILLED = 0.96
IMD_LSOAS_ENGLAND = 32_844  # LSOAs in IoD2019 (2011 geography)
PATIENTS_PER_LSOA = 1_950

# Registered list: five-year age bands as published (0_4 … 90_94, 95+), England-like shape.
AGE_BANDS = (*(f"{a}_{a + 4}" for a in range(0, 95, 5)), "95+")
AGE_BAND_WEIGHTS = (
    5.3, 5.9, 6.1, 5.8, 6.0, 6.6, 6.9, 6.8, 6.5, 6.3,
    6.9, 6.9, 6.2, 5.3, 5.0, 3.9, 2.6, 1.6, 0.8, 0.3,
)  # fmt: skip
PRACTICE_SIZE_RANGE = (3_000, 20_000)
PCN_SIZE_RANGE = (25_000, 70_000)
