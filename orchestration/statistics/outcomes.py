"""Paired outcome statistics per organisation and period, from marts.outcome_pairs.

Pure functions (no warehouse): `statistics_frame(pairs)` turns a frame of baseline/follow-up pairs
(as the asset reads marts.outcome_pairs) into marts.outcome_statistics; `outcome_statistics` does the
same for Pair objects and returns rows as dicts. Per PCN, ICB and England, per financial year and per rolling 12
months, and per measure: baselines, pairs, follow-up completion, mean baseline and follow-up, mean
change with its 95% confidence interval (t distribution), paired t-test and Wilcoxon signed-rank
p-values, Cohen's d_z and the share improved. The statistics are scipy's (`ttest_rel`,
`wilcoxon`, both with their defaults, so the Wilcoxon test drops zero differences); they are only
computed for MIN_PAIRS pairs or more, otherwise the row says 'too_few' and the statistics are null,
never zero.

Attribution to periods: a pair counts in the period of its follow-up date; a baseline (for the
number of baselines and the completion rate) in the period of its baseline date. The completion
rate is the share of the period's baselines that have a follow-up so far, so the latest periods,
whose follow-up windows are still open, read low.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from scipy import stats

from orchestration.months import add_months, financial_year_label, financial_year_start, month_end

MIN_PAIRS = 10  # statistics only from 10 pairs up (issue #5, DESIGN.md); fewer are recorded as too few
CONFIDENCE = 0.95
ENGLAND_CODE = "ENG"  # as dbt's var england_org_code
ORG_LEVELS = ("pcn", "icb", "england")
PERIOD_TYPES = ("financial_year", "rolling_12m")
ROLLING_CODE = 100_000  # period codes: a financial year's start year below this, a rolling window's end month above

# marts.outcome_pairs columns read, in Pair's field order.
PAIR_COLUMNS = (
    "referral_key",
    "pcn_code",
    "icb_code",
    "instrument",
    "measure",
    "baseline_date",
    "baseline_score",
    "follow_up_date",
    "follow_up_score",
    "change_category",
)

# marts.outcome_statistics, in order, with DuckDB types.
STATISTICS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("org_level", "VARCHAR"),
    ("org_code", "VARCHAR"),
    ("period_type", "VARCHAR"),
    ("period_start", "DATE"),
    ("period_end", "DATE"),
    ("period_label", "VARCHAR"),
    ("instrument", "VARCHAR"),
    ("measure", "VARCHAR"),
    ("baselines", "INTEGER"),
    ("pairs", "INTEGER"),
    ("follow_up_completion_rate", "DOUBLE"),
    ("mean_baseline", "DOUBLE"),
    ("mean_follow_up", "DOUBLE"),
    ("mean_change", "DOUBLE"),
    ("ci_lower", "DOUBLE"),
    ("ci_upper", "DOUBLE"),
    ("t_test_p_value", "DOUBLE"),
    ("wilcoxon_p_value", "DOUBLE"),
    ("cohens_dz", "DOUBLE"),
    ("share_improved", "DOUBLE"),
    ("status", "VARCHAR"),
)


@dataclass(frozen=True)
class Pair:
    """One row of marts.outcome_pairs (a referral's baseline and, if any, follow-up on one measure)."""

    referral_key: str
    pcn_code: str | None
    icb_code: str | None
    instrument: str
    measure: str
    baseline_date: date
    baseline_score: float
    follow_up_date: date | None = None
    follow_up_score: float | None = None
    change_category: str | None = None

    def __post_init__(self) -> None:
        if (self.follow_up_date is None) != (self.follow_up_score is None):
            raise ValueError(
                f"outcome pair {self.referral_key}/{self.measure}: follow_up_date and follow_up_score must both be "
                f"set or both be empty (got {self.follow_up_date!r}, {self.follow_up_score!r})"
            )
        if self.follow_up_date is not None and self.follow_up_date <= self.baseline_date:
            raise ValueError(
                f"outcome pair {self.referral_key}/{self.measure}: follow-up {self.follow_up_date} is not after "
                f"baseline {self.baseline_date}"
            )


@dataclass(frozen=True, order=True)
class Period:
    """A reporting period: a financial year (April–March) or the 12 months ending with a month."""

    period_type: str
    start: date
    end: date
    label: str


@dataclass(frozen=True)
class PairedSummary:
    """The paired statistics of one group of pairs (None where a statistic is undefined)."""

    mean_baseline: float
    mean_follow_up: float
    mean_change: float
    ci_lower: float | None
    ci_upper: float | None
    t_test_p_value: float | None
    wilcoxon_p_value: float | None
    cohens_dz: float | None


PAIRED_FIGURES = tuple(PairedSummary.__dataclass_fields__)


def financial_year(day: date) -> Period:
    """The NHS financial year (1 April – 31 March) holding a day, labelled like '2025-26'."""
    start = financial_year_start(day)
    return Period("financial_year", start, date(start.year + 1, 3, 31), financial_year_label(day))


def rolling_12m(last_month: date) -> Period:
    """The 12 months ending with last_month, labelled like '2025-10 to 2026-09'."""
    first = add_months(last_month, -11)
    return Period("rolling_12m", first, month_end(last_month), f"{first:%Y-%m} to {last_month:%Y-%m}")


def _finite(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def pairs_frame(pairs: Iterable[Pair]) -> pd.DataFrame:
    """Pairs as a frame with PAIR_COLUMNS (the shape `statistics_frame` reads, as marts.outcome_pairs gives it)."""
    return pd.DataFrame([tuple(vars(pair).values()) for pair in pairs], columns=list(PAIR_COLUMNS))


def _check_pairs(frame: pd.DataFrame, baseline_day: pd.Series, follow_up_day: pd.Series) -> None:
    """Pair's own checks over a whole frame at once (dates as datetimes): the first inconsistent pair is named."""
    missing = follow_up_day.isna() != frame["follow_up_score"].isna()
    backwards = follow_up_day.notna() & (follow_up_day <= baseline_day)
    for bad in (missing, backwards):
        if bad.any():
            row = frame[bad].iloc[0]
            follow_up = None if pd.isna(row["follow_up_date"]) else pd.Timestamp(row["follow_up_date"]).date()
            Pair(  # raises the message Pair gives this row
                row["referral_key"], row["pcn_code"], row["icb_code"], row["instrument"], row["measure"],
                pd.Timestamp(row["baseline_date"]).date(), row["baseline_score"], follow_up,
                None if pd.isna(row["follow_up_score"]) else row["follow_up_score"], row["change_category"],
            )  # fmt: skip


def _month_index(days: pd.Series) -> np.ndarray:
    """Months since January 1970 of datetimes (NaT gives a meaningless number the caller masks out)."""
    return days.to_numpy().astype("datetime64[M]").astype(np.int64)


def _period_codes(month_index: np.ndarray, last_window_end: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, period code) for every period holding each month: its financial year (code = the year it starts) and
    every rolling 12 months ending in the month or up to 11 months later, up to the last data month (code =
    ROLLING_CODE + the window's last month index)."""
    year, month = month_index // 12 + 1970, month_index % 12 + 1
    rows = np.arange(month_index.size)
    offsets = np.tile(np.arange(12), month_index.size)
    rolling_rows = np.repeat(rows, 12)
    rolling_end = month_index[rolling_rows] + offsets
    keep = rolling_end <= last_window_end
    return (
        np.concatenate([rows, rolling_rows[keep]]),
        np.concatenate([np.where(month < 4, year - 1, year), ROLLING_CODE + rolling_end[keep]]),
    )


def _period(code: int) -> Period:
    if code < ROLLING_CODE:
        return financial_year(date(int(code), 4, 1))
    months = int(code - ROLLING_CODE)
    return rolling_12m(date(1970 + months // 12, months % 12 + 1, 1))


def _spread(
    rows: np.ndarray, month_index: np.ndarray, last_window_end: int, org_ids: Sequence[np.ndarray], periods: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(pair row, group) for each pair row and each of its organisations and periods; a group is an organisation
    (its position in the org arrays) × a period (its position in `periods`, the sorted period codes)."""
    period_rows, codes = _period_codes(month_index[rows], last_window_end)
    pair_rows, period_position = rows[period_rows], np.searchsorted(periods, codes)
    spread_rows, groups = [], []
    for org_id in org_ids:
        org = org_id[pair_rows]
        present = org >= 0
        spread_rows.append(pair_rows[present])
        groups.append(org[present] * len(periods) + period_position[present])
    return np.concatenate(spread_rows), np.concatenate(groups)


def _block_statistics(before: np.ndarray, after: np.ndarray) -> dict[str, np.ndarray]:
    """The paired statistics of many groups of the same size at once (one group a row), NaN where undefined:
    scipy's `ttest_rel` (with its CI) and `wilcoxon` over axis 1, so each row gets what scipy gives its group.

    Wilcoxon (zero changes dropped; NaN when every change is zero) takes scipy's default method, except where it
    would run a permutation test: 10 to 13 pairs with tied or zero changes (usual for integer scores) make
    `method="auto"` enumerate all 2^n sign patterns, most of an hour for the 100,000+ groups of a national run.
    Rows with ties or zeros take the normal approximation with tie correction that scipy uses above 13 pairs with
    ties (as R's wilcox.test does whenever there are ties); without ties scipy's exact distribution is used.
    """
    change = after - before
    sd_change = change.std(axis=1, ddof=1)
    defined = sd_change > 0
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_test = stats.ttest_rel(after, before, axis=1)
        interval = t_test.confidence_interval(CONFIDENCE)
        magnitude = np.sort(np.abs(change), axis=1)
        tied_or_zero = (magnitude[:, 0] == 0) | (magnitude[:, 1:] == magnitude[:, :-1]).any(axis=1)
        wilcoxon = np.full(change.shape[0], np.nan)
        for rows, method in ((tied_or_zero, "asymptotic"), (~tied_or_zero, "auto")):
            if rows.any():
                wilcoxon[rows] = stats.wilcoxon(after[rows], before[rows], axis=1, method=method).pvalue
        mean_change = change.mean(axis=1)
        cohens_dz = mean_change / sd_change

    def where_defined(values: np.ndarray) -> np.ndarray:
        return np.where(defined & np.isfinite(values), values, np.nan)

    return {
        "mean_baseline": before.mean(axis=1),
        "mean_follow_up": after.mean(axis=1),
        "mean_change": mean_change,
        "ci_lower": where_defined(np.asarray(interval.low)),
        "ci_upper": where_defined(np.asarray(interval.high)),
        "t_test_p_value": where_defined(np.asarray(t_test.pvalue)),
        "wilcoxon_p_value": np.where(np.isfinite(wilcoxon), wilcoxon, np.nan),
        "cohens_dz": where_defined(cohens_dz),
    }


def paired_summary(baseline: Sequence[float], follow_up: Sequence[float]) -> PairedSummary:
    """Mean change with its t-distribution CI, paired t-test, Wilcoxon signed-rank and d_z for one group.

    Why d_z: for paired data the standardised effect is the mean change over the SD of the changes.
    Undefined statistics (all changes equal, so SD 0; all changes zero for Wilcoxon) are None.
    """
    if len(baseline) != len(follow_up):
        raise ValueError(f"paired_summary: {len(baseline)} baseline scores but {len(follow_up)} follow-up scores")
    if len(baseline) < 2:
        raise ValueError(f"paired_summary: needs at least 2 pairs, got {len(baseline)}")
    figures = _block_statistics(np.asarray([baseline], dtype=float), np.asarray([follow_up], dtype=float))
    return PairedSummary(**{name: _finite(values[0]) for name, values in figures.items()})


def statistics_frame(pairs: pd.DataFrame, min_pairs: int = MIN_PAIRS) -> pd.DataFrame:
    """marts.outcome_statistics (STATISTICS_COLUMNS, NaN where null) from a frame of pairs (PAIR_COLUMNS).

    Set-based, measure by measure: each pair is spread over its organisations and periods as arrays, groups are
    counted with bincount, and groups of the same size are stacked so scipy runs once per size, not once per group
    (about 100,000 groups at national scale).
    """
    baseline_day, follow_up_day = pd.to_datetime(pairs["baseline_date"]), pd.to_datetime(pairs["follow_up_date"])
    _check_pairs(pairs, baseline_day, follow_up_day)
    if pairs.empty:
        return pd.DataFrame({name: pd.Series(dtype=object) for name, _ in STATISTICS_COLUMNS})
    has_follow_up = follow_up_day.notna().to_numpy()
    baseline_month = _month_index(baseline_day)
    follow_up_month = np.where(has_follow_up, _month_index(follow_up_day), baseline_month)
    last_window_end = int(follow_up_month.max())  # every follow-up is after its baseline
    data_months = np.unique(np.concatenate([baseline_month, follow_up_month[has_follow_up]]))
    periods = np.unique(_period_codes(data_months, last_window_end)[1])
    # an empty code is no organisation, as a null one is (Pair-based callers may pass either)
    pcn_id, pcn_codes = pd.factorize(pairs["pcn_code"].replace("", None))
    icb_id, icb_codes = pd.factorize(pairs["icb_code"].replace("", None))
    england_id = len(pcn_codes) + len(icb_codes)
    org_ids = (pcn_id, np.where(icb_id >= 0, icb_id + len(pcn_codes), -1), np.full(len(pairs), england_id))
    org_levels = np.array(["pcn"] * len(pcn_codes) + ["icb"] * len(icb_codes) + ["england"], dtype=object)
    org_codes = np.array([*pcn_codes, *icb_codes, ENGLAND_CODE], dtype=object)
    group_count = len(org_codes) * len(periods)
    before_scores = pairs["baseline_score"].to_numpy(dtype=float)
    after_scores = pairs["follow_up_score"].to_numpy(dtype=float, na_value=np.nan)
    improved_pairs = (pairs["change_category"] == "improved").to_numpy()
    measure_id, measures = pd.factorize(pd.MultiIndex.from_frame(pairs[["instrument", "measure"]]))

    frames = []
    for position, (instrument, measure) in enumerate(measures):
        measure_rows = np.flatnonzero(measure_id == position)
        baseline_rows, baseline_groups = _spread(measure_rows, baseline_month, last_window_end, org_ids, periods)
        baselines = np.bincount(baseline_groups, minlength=group_count)
        followed_up = np.bincount(baseline_groups, weights=has_follow_up[baseline_rows], minlength=group_count)
        follow_up_rows = measure_rows[has_follow_up[measure_rows]]
        pair_rows, pair_groups = _spread(follow_up_rows, follow_up_month, last_window_end, org_ids, periods)
        sizes = np.bincount(pair_groups, minlength=group_count)
        improved = np.bincount(pair_groups, weights=improved_pairs[pair_rows], minlength=group_count)
        figures = {name: np.full(group_count, np.nan) for name in PAIRED_FIGURES}
        enough = sizes[pair_groups] >= min_pairs
        pair_rows, pair_groups = pair_rows[enough], pair_groups[enough]
        order = np.lexsort((pair_groups, sizes[pair_groups]))  # by group size, then group: each group contiguous
        block_sizes, block_starts, block_rows = np.unique(
            sizes[pair_groups][order], return_index=True, return_counts=True
        )
        for size, block_start, rows_in_block in zip(block_sizes, block_starts, block_rows, strict=True):
            block = order[block_start : block_start + rows_in_block].reshape(-1, size)
            groups = pair_groups[block[:, 0]]
            block_figures = _block_statistics(before_scores[pair_rows[block]], after_scores[pair_rows[block]])
            for name, values in block_figures.items():
                figures[name][groups] = values
        present = np.flatnonzero((baselines > 0) | (sizes > 0))
        computed = sizes[present] >= min_pairs
        frame = pd.DataFrame(
            {
                "org": present // len(periods),
                "period": present % len(periods),
                "instrument": instrument,
                "measure": measure,
                "baselines": baselines[present],
                "pairs": sizes[present],
                "follow_up_completion_rate": np.divide(
                    followed_up[present],
                    baselines[present],
                    out=np.full(present.size, np.nan),
                    where=baselines[present] > 0,
                ),
                **{name: values[present] for name, values in figures.items()},
                "share_improved": np.where(computed, improved[present] / np.maximum(sizes[present], 1), np.nan),
                "status": np.where(computed, "computed", "too_few"),
            }
        )
        frames.append(frame)
    statistics = pd.concat(frames, ignore_index=True)
    period_rows = [_period(int(code)) for code in periods]
    statistics.insert(0, "org_level", org_levels[statistics["org"]])
    statistics.insert(1, "org_code", org_codes[statistics["org"]])
    for name, attribute in (
        ("period_type", "period_type"),
        ("period_start", "start"),
        ("period_end", "end"),
        ("period_label", "label"),
    ):
        statistics[name] = np.array([getattr(period, attribute) for period in period_rows], dtype=object)[
            statistics["period"]
        ]
    statistics["level_order"] = statistics["org_level"].map({level: i for i, level in enumerate(ORG_LEVELS)})
    statistics = statistics.sort_values(
        ["level_order", "org_code", "period_type", "period_start", "instrument", "measure"], ignore_index=True
    )
    return statistics[[name for name, _ in STATISTICS_COLUMNS]]


def outcome_statistics(pairs: Iterable[Pair], min_pairs: int = MIN_PAIRS) -> list[dict[str, object]]:
    """Rows of marts.outcome_statistics (STATISTICS_COLUMNS) as dicts, None where null, sorted by org, period and
    measure."""
    frame = statistics_frame(pairs_frame(pairs), min_pairs)
    return frame.astype(object).where(frame.notna(), None).to_dict("records")
