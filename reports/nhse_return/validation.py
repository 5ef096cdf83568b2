"""Validation before anything is written: completeness, ranges, internal consistency, month-on-month jumps.

Errors block the write and name the organisation, the measure and the rule; jumps are warnings: they
are logged, flagged on the cell (`month_on_month_jump`) and listed in the manifest for review.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from decimal import Decimal

from reports.nhse_return.catalogue import Catalogue, Rule
from reports.nhse_return.extract import MonthData, OrgRow

JUMP_FLAG = "month_on_month_jump"


@dataclass(frozen=True)
class JumpSettings:
    """When a month-on-month change is worth a look: both the relative and the absolute change are large."""

    ratio: float = 0.5  # |change| / last month above this …
    min_change: int = 10  # … and |change| at least this (so 2 → 5 is not a jump)

    @classmethod
    def from_environment(cls) -> JumpSettings:
        ratio_text = os.environ.get("SPRX_RETURN_JUMP_RATIO", str(cls.ratio))
        change_text = os.environ.get("SPRX_RETURN_JUMP_MIN_CHANGE", str(cls.min_change))
        try:
            ratio = float(ratio_text)
        except ValueError as error:
            raise ValueError(f"SPRX_RETURN_JUMP_RATIO must be a number, not {ratio_text!r}") from error
        if ratio <= 0:
            raise ValueError(f"SPRX_RETURN_JUMP_RATIO must be above 0, not {ratio}")
        if not change_text.isdigit():
            raise ValueError(f"SPRX_RETURN_JUMP_MIN_CHANGE must be a whole number, not {change_text!r}")
        return cls(ratio=ratio, min_change=int(change_text))


@dataclass(frozen=True)
class Finding:
    rule: str
    org_type: str
    org_code: str
    measure_id: str
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.org_type.upper()} {self.org_code}, {self.measure_id}: {self.message}"


@dataclass
class ValidationResult:
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.errors

    @property
    def outcome(self) -> str:
        if self.errors:
            return "failed"
        return "passed_with_warnings" if self.warnings else "passed"


def _number(value: int | float | Decimal) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _completeness(data: MonthData, catalogue: Catalogue, result: ValidationResult) -> None:
    if not data.of_type("pcn"):
        result.errors.append(
            Finding("completeness", "england", "ENG", "*", f"no PCN in scope for {data.month:%Y-%m}: nothing loaded?")
        )
    for org in data.orgs:
        for measure in catalogue.measures:
            cell = org.cells[measure.id]
            if measure.mandatory and cell.missing:
                why = ", ".join(flag for flag in cell.flags if flag != "missing")
                result.errors.append(
                    Finding("completeness", org.org_type, org.org_code, measure.id, f"no value ({why})")
                )


def _ranges(data: MonthData, catalogue: Catalogue, result: ValidationResult) -> None:
    for org in data.orgs:
        for measure in catalogue.measures:
            value = org.value(measure.id)
            if value is None:
                continue
            low, high = measure.range
            if (low is not None and _number(value) < _number(low)) or (
                high is not None and _number(value) > _number(high)
            ):
                result.errors.append(
                    Finding("range", org.org_type, org.org_code, measure.id, f"{value} is outside [{low}, {high}]")
                )


def _side(org: OrgRow, terms: tuple[str, ...]) -> Decimal | None:
    total = Decimal(0)
    for term in terms:
        value = org.value(term.lstrip("-"))
        if value is None:
            return None
        total += -_number(value) if term.startswith("-") else _number(value)
    return total


def _holds(left: Decimal, op: str, right: Decimal) -> bool:
    return left <= right if op == "<=" else left >= right if op == ">=" else left == right


def _consistency(data: MonthData, rules: tuple[Rule, ...], result: ValidationResult) -> None:
    for org in data.orgs:
        for rule in rules:
            left, right = _side(org, rule.left), _side(org, rule.right)
            if left is None or right is None or _holds(left, rule.op, right):
                continue
            expression = f"{' + '.join(rule.left)} = {left} is not {rule.op} {' + '.join(rule.right)} = {right}"
            result.errors.append(
                Finding(rule.id, org.org_type, org.org_code, ", ".join(sorted(rule.measures())), expression)
            )


def _jumps(
    data: MonthData, previous: MonthData | None, catalogue: Catalogue, settings: JumpSettings, result: ValidationResult
) -> None:
    if previous is None:
        return
    for org in data.orgs:
        before = previous.find(org.org_type, org.org_code)
        if before is None:
            continue
        for measure in catalogue.measures:
            if not measure.jump_check:
                continue
            now, then = org.value(measure.id), before.value(measure.id)
            if now is None or then is None:
                continue
            change = _number(now) - _number(then)
            relative_jump = then == 0 or abs(change) / _number(then) > Decimal(str(settings.ratio))
            if abs(change) >= settings.min_change and relative_jump:
                org.cells[measure.id].flags.append(JUMP_FLAG)
                result.warnings.append(
                    Finding(
                        "month_on_month_jump",
                        org.org_type,
                        org.org_code,
                        measure.id,
                        f"{then} last month, {now} this month: review before submitting",
                    )
                )


def validate(
    data: MonthData, previous: MonthData | None, catalogue: Catalogue, settings: JumpSettings | None = None
) -> ValidationResult:
    """All checks on the month (jumps against `previous`, when there is one). Flags jumps on the cells."""
    result = ValidationResult()
    _completeness(data, catalogue, result)
    _ranges(data, catalogue, result)
    _consistency(data, catalogue.rules, result)
    _jumps(data, previous, catalogue, settings or JumpSettings.from_environment(), result)
    return result
