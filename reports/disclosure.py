"""Small-number disclosure control for every output that leaves the data team (DOMAIN.md).

Below national level: counts 1–7 are suppressed, other counts rounded to the nearest 5, zero stays
zero; percentages and rates are computed from the protected figures; means, medians and test
statistics are suppressed where they rest on 7 or fewer people; totals are recomputed from the
protected cells, so a suppressed cell cannot be back-calculated from a total. In CSV the
suppression is a flag column, never a `*` in a numeric column (NHS open-data standards).
Sources: NHS Digital HES/ECDS disclosure control method (2018); OpenSAFELY output checking rules.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class DisclosureRule:
    """The rule's thresholds: settings, not literals (SPRX_DISCLOSURE_* in the environment)."""

    suppress_up_to: int = 7  # counts 1..suppress_up_to are suppressed
    rounding_base: int = 5  # other counts are rounded to the nearest multiple of this
    statistic_minimum_n: int = 8  # means, medians and statistics need at least this many people

    @classmethod
    def from_environment(cls) -> DisclosureRule:
        def setting(name: str, default: int) -> int:
            text = os.environ.get(name, str(default))
            if not text.isdigit() or int(text) < 1:
                raise ValueError(f"{name} must be a whole number of 1 or more, not {text!r}")
            return int(text)

        return cls(
            suppress_up_to=setting("SPRX_DISCLOSURE_SUPPRESS_UP_TO", cls.suppress_up_to),
            rounding_base=setting("SPRX_DISCLOSURE_ROUNDING_BASE", cls.rounding_base),
            statistic_minimum_n=setting("SPRX_DISCLOSURE_STATISTIC_MINIMUM_N", cls.statistic_minimum_n),
        )


@dataclass(frozen=True)
class Protected:
    """A figure as it may be published: `value` is None exactly when `suppressed` is True."""

    value: float | int | None
    suppressed: bool

    @property
    def display(self) -> str:
        """For people (reports, dashboards): `*` where suppressed."""
        return "*" if self.suppressed else f"{self.value:,}" if isinstance(self.value, int) else f"{self.value}"


def protect_count(count: int, rule: DisclosureRule = DisclosureRule()) -> Protected:
    if count < 0:
        raise ValueError(f"a count cannot be negative: {count}")
    if count == 0:
        return Protected(0, False)
    if count <= rule.suppress_up_to:
        return Protected(None, True)
    rounded = (
        int((Decimal(count) / rule.rounding_base).quantize(Decimal(1), rounding=ROUND_HALF_UP)) * rule.rounding_base
    )
    return Protected(rounded, False)


def protect_counts(
    counts: Mapping[str, int], rule: DisclosureRule = DisclosureRule()
) -> tuple[dict[str, Protected], Protected]:
    """Protected cells and their total, recomputed from the protected cells (suppressed cells add nothing),
    so that total minus the visible cells is never the suppressed value."""
    cells = {key: protect_count(count, rule) for key, count in counts.items()}
    total = sum(cell.value for cell in cells.values() if not cell.suppressed)
    return cells, Protected(total, False)


def protect_ratio(
    numerator: int, denominator: int, scale: float = 100.0, places: int = 1, rule: DisclosureRule = DisclosureRule()
) -> Protected:
    """A percentage (scale 100) or rate (e.g. 1,000) from the protected numerator and denominator."""
    top, bottom = protect_count(numerator, rule), protect_count(denominator, rule)
    if top.suppressed or bottom.suppressed or not bottom.value:
        return Protected(None, True)
    return Protected(round(scale * top.value / bottom.value, places), False)


def protect_statistic(value: float | None, n: int, rule: DisclosureRule = DisclosureRule()) -> Protected:
    """A mean, median, confidence limit or test statistic: suppressed when it rests on too few people."""
    if value is None or n < rule.statistic_minimum_n:
        return Protected(None, True)
    return Protected(value, False)


def csv_cells(name: str, protected: Protected) -> dict[str, object]:
    """The two CSV columns for a figure: the value (empty when suppressed) and `<name>_suppressed`."""
    return {name: "" if protected.suppressed else protected.value, f"{name}_suppressed": protected.suppressed}
