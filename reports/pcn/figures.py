"""Published figures: a number after disclosure control, with where it came from.

Every number a PCN or ICB report shows is a `Figure`: the protected value (reports/disclosure.py,
applied here and nowhere else) plus its provenance: the mart, the row (a `where` of column values),
the column and the rule that turned the mart value into the published one. The templates print the
provenance into `<data>` elements, so a test (or a sceptical analyst) can recompute every number
from the warehouse.

Rules:
- `count`: protect_count(column)
- `ratio`: protect_ratio(numerator, denominator, scale, places), both columns of the same row
- `statistic`: protect_statistic(round(column, places), n), n a column of the same row
- `share`: a cell of a breakdown: 100 × protected cell ÷ total of the protected cells of the group
  (rows matching `where`, one cell per value of `key`), to `places`
- `national`: an England figure (not below national level, so not suppressed), rounded to `places`
- `change`: the difference of two figures (`current` − `previous`), shown only when both are
- `total`: the sum of the protected cells of a group (what a total row shows)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from reports.disclosure import (
    DisclosureRule,
    Protected,
    protect_count,
    protect_counts,
    protect_ratio,
    protect_statistic,
)

Where = Mapping[str, Any]


def _plain(value: Any) -> Any:
    """JSON-friendly and stable: dates as ISO text."""
    return value.isoformat() if isinstance(value, date) else value


@dataclass(frozen=True)
class Figure:
    """A published number: `protected` is what may be shown; `available` is False when the mart has no row."""

    protected: Protected
    source: dict[str, Any] = field(default_factory=dict)
    unit: str = "count"  # count, rate, percent, days, score, pounds, ratio, change, number
    places: int = 0
    available: bool = True

    @property
    def value(self) -> float | int | None:
        return self.protected.value

    @property
    def shown(self) -> bool:
        return self.available and not self.protected.suppressed and self.protected.value is not None

    @property
    def suppressed(self) -> bool:
        return self.available and self.protected.suppressed

    @property
    def text(self) -> str:
        """How people read it: `*` when suppressed, `–` when there is no data, else the formatted value."""
        if not self.available:
            return "–"
        if self.protected.suppressed or self.protected.value is None:
            return "*"
        return format_value(self.protected.value, self.unit, self.places)

    @property
    def machine_value(self) -> str:
        """The `value` attribute of the `<data>` element: the plain number, empty when not shown."""
        if not self.shown:
            return ""
        value = self.protected.value + 0  # no "-0.00"
        return str(int(value)) if self.places == 0 else f"{value:.{self.places}f}"

    @property
    def source_json(self) -> str:
        return json.dumps(self.source, sort_keys=True, separators=(",", ":"), default=_plain)


def format_value(value: float | int, unit: str, places: int) -> str:
    """Formatting without locale, so the bytes never depend on the machine."""
    value = value + 0  # -0.0 + 0 is 0.0: never print "-0.00"
    number = f"{value:,.{places}f}"
    if unit == "percent":
        return f"{number}%"
    if unit == "pounds":
        return f"-£{number[1:]}" if number.startswith("-") else f"£{number}"
    if unit in ("change", "change_percent"):
        text = f"+{number}" if value > 0 else number.replace("-", "−")
        return f"{text}%" if unit == "change_percent" else text
    if unit == "ratio":
        return f"£{number}"
    return number


def missing(source: dict[str, Any], unit: str = "count", places: int = 0) -> Figure:
    """No row in the mart (a month before the data begins, a practice with no submission)."""
    return Figure(Protected(None, False), {**source, "missing": True}, unit, places, available=False)


def _source(mart: str, where: Where, column: str, rule: str, **extra: Any) -> dict[str, Any]:
    return {
        "mart": mart,
        "where": {k: _plain(v) for k, v in where.items()},
        "column": column,
        "rule": rule,
        **extra,
    }


class Figures:
    """Builds figures from mart rows under one disclosure rule (the settings of this run)."""

    def __init__(self, rule: DisclosureRule | None = None) -> None:
        self.rule = rule or DisclosureRule.from_environment()

    def count(self, mart: str, where: Where, row: Mapping[str, Any] | None, column: str) -> Figure:
        source = _source(mart, where, column, "count")
        if row is None or row.get(column) is None:
            return missing(source)
        return Figure(protect_count(int(row[column]), self.rule), source, "count")

    def ratio(
        self,
        mart: str,
        where: Where,
        row: Mapping[str, Any] | None,
        numerator: str,
        denominator: str,
        *,
        scale: float = 100.0,
        places: int = 1,
        unit: str = "percent",
    ) -> Figure:
        source = _source(mart, where, numerator, "ratio", denominator=denominator, scale=scale, places=places)
        if row is None or row.get(numerator) is None or row.get(denominator) is None:
            return missing(source, unit, places)
        protected = protect_ratio(int(row[numerator]), int(row[denominator]), scale, places, self.rule)
        return Figure(protected, source, unit, places)

    def statistic(
        self,
        mart: str,
        where: Where,
        row: Mapping[str, Any] | None,
        column: str,
        n_column: str,
        *,
        places: int = 1,
        unit: str = "number",
        n_from: dict[str, Any] | None = None,
    ) -> Figure:
        """`n_from` (for the record) when n is not a column of the row but the smallest `people` of other rows."""
        source = _source(mart, where, column, "statistic", n=n_column, places=places)
        if n_from is not None:
            source["n_from"] = {
                k: {kk: _plain(vv) for kk, vv in v.items()} if isinstance(v, dict) else v for k, v in n_from.items()
            }
        if row is None or row.get(column) is None:  # not computed or does not apply (nobody seen, a provider's
            return missing(source, unit, places)  # concordance): no figure, which is not the same as suppressed
        value = row[column]
        n = int(row.get(n_column) or 0)
        protected = protect_statistic(round(float(value), places), n, self.rule)
        return Figure(protected, source, unit, places)

    def national(
        self,
        mart: str,
        where: Where,
        row: Mapping[str, Any] | None,
        column: str,
        *,
        places: int = 1,
        unit: str,
        scale: float = 1.0,
    ) -> Figure:
        """England figures, and assumptions such as a financial proxy, are not counts of people below national
        level: disclosure control does not apply (DOMAIN.md). Shown as scale × value, rounded."""
        source = _source(mart, where, column, "national", places=places, scale=scale)
        if row is None or row.get(column) is None:
            return missing(source, unit, places)
        value = round(scale * float(row[column]), places)
        return Figure(Protected(int(value) if places == 0 else value, False), source, unit, places)

    def breakdown(
        self,
        mart: str,
        where: Where,
        rows: Sequence[Mapping[str, Any]],
        key: str,
        column: str,
        *,
        places: int = 1,
        scale: float = 100.0,
    ) -> tuple[dict[str, Figure], dict[str, Figure], Figure]:
        """Counts per category, their shares of the protected total, and that total (recomputed from the
        protected cells, so a suppressed cell cannot be back-calculated from it)."""
        counts = {str(r[key]): int(r[column] or 0) for r in rows}
        cells, total = protect_counts(counts, self.rule)
        count_figures: dict[str, Figure] = {}
        share_figures: dict[str, Figure] = {}
        for category, cell in cells.items():
            cell_where = {**where, key: category}
            count_figures[category] = Figure(cell, _source(mart, cell_where, column, "count"), "count")
            group = {k: _plain(v) for k, v in where.items()}
            share_source = _source(mart, cell_where, column, "share", group=group, key=key, places=places)
            if cell.suppressed or not total.value:
                share = Protected(None, True)
            else:
                share = Protected(round(scale * cell.value / total.value, places), False)
            share_figures[category] = Figure(share, share_source, "percent", places)
        total_figure = Figure(total, _source(mart, where, column, "total", key=key), "count")
        return count_figures, share_figures, total_figure

    def change(self, current: Figure, previous: Figure) -> Figure:
        """Current minus previous, from the published figures (so it never reveals more than they do)."""
        source = {"rule": "change", "current": current.source, "previous": previous.source}
        places = max(current.places, previous.places)
        if not current.available or not previous.available:
            return Figure(Protected(None, False), {**source, "missing": True}, "change", places, available=False)
        if not current.shown or not previous.shown:
            return Figure(Protected(None, True), source, "change", places)
        difference = round(current.value - previous.value, places)
        return Figure(Protected(int(difference) if places == 0 else difference, False), source, "change", places)
