"""The two variants of the return as tidy rows: management information (exact) and published (protected).

The published variant applies reports/disclosure.py to each value as the catalogue's treatment says;
England is national and stays exact (DOMAIN.md: the rule applies below national level). Suppression
is its own column (`value_suppressed`), never a `*` in the value column.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from reports.disclosure import (
    DisclosureRule,
    Protected,
    protect_count,
    protect_counts,
    protect_ratio,
    protect_statistic,
)
from reports.nhse_return.catalogue import Catalogue, Measure
from reports.nhse_return.extract import MonthData, OrgRow

Number = int | float | Decimal


class Variant(StrEnum):
    MANAGEMENT_INFORMATION = "management_information"
    PUBLISHED = "published"


BASE_COLUMNS = [
    "period",
    "org_type",
    "org_code",
    "org_name",
    "parent_icb_code",
    "parent_national_code",
    "measure_id",
    "value",
]
COLUMNS = {
    Variant.MANAGEMENT_INFORMATION: [*BASE_COLUMNS, "flags"],
    Variant.PUBLISHED: [*BASE_COLUMNS, "value_suppressed", "flags"],
}


@dataclass(frozen=True)
class ReturnRow:
    period: str
    org_type: str
    org_code: str
    org_name: str | None
    parent_icb_code: str | None
    parent_national_code: str | None
    measure_id: str
    value: Number | None
    suppressed: bool
    flags: tuple[str, ...]

    def cells(self, variant: Variant) -> list[object]:
        row: list[object] = [
            self.period,
            self.org_type,
            self.org_code,
            self.org_name,
            self.parent_icb_code,
            self.parent_national_code,
            self.measure_id,
            self.value,
        ]
        if variant is Variant.PUBLISHED:
            row.append(self.suppressed)
        row.append(";".join(self.flags))
        return row


def _count(value: Number) -> int:
    """A count from the mart as an int (DuckDB gives HUGEINT sums as int, DECIMAL as Decimal)."""
    if int(value) != value:
        raise ValueError(f"{value!r} is not a whole count")
    return int(value)


def protect_measure(org: OrgRow, measure: Measure, rule: DisclosureRule) -> Protected:
    """The published figure of one measure of one organisation, per the catalogue's disclosure treatment."""
    value = org.value(measure.id)
    if value is None:
        return Protected(None, False)  # empty for a stated reason (flags), not for disclosure
    treatment = measure.disclosure
    if treatment.treatment == "count":
        return protect_count(_count(value), rule)
    if treatment.treatment == "total":
        _, total = protect_counts({name: _count(org.value(name)) for name in treatment.of}, rule)
        return total
    if treatment.treatment == "ratio":
        numerator, denominator = org.value(treatment.numerator), org.value(treatment.denominator)
        return protect_ratio(_count(numerator), _count(denominator), treatment.scale, treatment.places, rule)
    if treatment.treatment == "share":
        base = _count(org.value(treatment.of[0]))
        improved = int((Decimal(str(value)) * base).to_integral_value())
        return protect_ratio(improved, base, treatment.scale, treatment.places, rule)
    return protect_statistic(value, _count(org.value(treatment.n)), rule)


def build_rows(
    data: MonthData, catalogue: Catalogue, variant: Variant, rule: DisclosureRule | None = None
) -> list[ReturnRow]:
    """The tidy rows of one variant, organisations in order (England, ICBs, PCNs), measures in catalogue order."""
    rule = rule or DisclosureRule.from_environment()
    period = f"{data.month:%Y-%m}"
    rows = []
    for org in data.orgs:
        for measure in catalogue.measures:
            cell = org.cells[measure.id]
            value, suppressed = cell.value, False
            if variant is Variant.PUBLISHED and org.org_type != "england":
                protected = protect_measure(org, measure, rule)
                value, suppressed = protected.value, protected.suppressed
            flags = [*cell.flags, "suppressed"] if suppressed else list(cell.flags)
            rows.append(
                ReturnRow(
                    period=period,
                    org_type=org.org_type,
                    org_code=org.org_code,
                    org_name=org.org_name,
                    parent_icb_code=org.parent_icb_code,
                    parent_national_code=org.parent_national_code,
                    measure_id=measure.id,
                    value=value,
                    suppressed=suppressed,
                    flags=tuple(flags),
                )
            )
    return rows
