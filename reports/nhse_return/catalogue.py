"""The measure catalogue (catalogue.yml): loaded once, checked before anything is read from the warehouse.

The catalogue is the single place a measure is defined: the extractor reads the mart column it names,
validation applies its range and rules, the published variant applies its disclosure treatment and the
XLSX data dictionary prints it. A malformed entry stops the build with the entry and field named.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CATALOGUE_PATH = Path(__file__).with_name("catalogue.yml")
TREATMENTS = ("count", "total", "ratio", "share", "statistic")
PERIOD_ANCHORS = ("month_start", "month_end")
FEED_PERIODS = ("month", "all")
RULE_OPERATORS = ("<=", "=", ">=")
ORG_TYPES = ("england", "icb", "pcn")


class CatalogueError(ValueError):
    """The catalogue file is malformed: the message names the entry and the field."""


@dataclass(frozen=True)
class Condition:
    """A test on one column of a source row: equals a value, is above a number, or below another column."""

    column: str
    flag: str
    equals: Any = None
    above: float | None = None
    below_column: str | None = None

    def holds(self, row: dict[str, Any]) -> bool:
        value = row.get(self.column)
        if self.below_column is not None:
            other = row.get(self.below_column)
            return value is not None and other is not None and value < other
        if self.above is not None:
            return value is not None and value > self.above
        return value == self.equals


@dataclass(frozen=True)
class SourceFeed:
    """An extract table whose files feed a mart: only the reporting month's files, or every period's."""

    table: str
    periods: str


@dataclass(frozen=True)
class Source:
    mart: str
    org_type_column: str
    org_code_column: str
    period_column: str
    period_is: str
    filters: dict[str, Any]
    fed_by: tuple[SourceFeed, ...]
    received_when: Condition | None = None
    partial_when: Condition | None = None
    absent_flag: str = "no_source_row"  # the flag of an organisation the mart has no row for

    @property
    def asset_key_path(self) -> list[str]:
        """The Dagster asset key of the mart (dbt models are keyed schema, model)."""
        return self.mart.split(".")


@dataclass(frozen=True)
class Disclosure:
    treatment: str
    of: tuple[str, ...] = ()
    numerator: str | None = None
    denominator: str | None = None
    scale: float = 1.0
    places: int = 4
    n: str | None = None

    def describe(self) -> str:
        """How the published variant treats the measure, in words (for the data dictionary)."""
        if self.treatment == "count":
            return "count: 0 stays 0, 1–7 suppressed, others rounded to the nearest 5"
        if self.treatment == "total":
            return f"total: recomputed from the protected {', '.join(self.of)}"
        if self.treatment == "ratio":
            return f"ratio: {self.numerator} × {self.scale:g} ÷ {self.denominator}, from the protected counts"
        if self.treatment == "share":
            return f"share: from the protected count improved and the protected {self.of[0]}"
        return f"statistic: suppressed where {self.n} is 7 or fewer"


@dataclass(frozen=True)
class Measure:
    id: str
    name: str
    definition: str
    numerator: str
    denominator: str | None
    unit: str
    source_mart: str
    source_column: str
    source_filters: dict[str, Any]
    disclosure: Disclosure
    range: tuple[float | None, float | None]
    jump_check: bool
    mandatory: bool = True
    null_allowed: Condition | None = None

    def dictionary_row(self) -> dict[str, str]:
        """The measure as one row of the data dictionary (XLSX) and the catalogue test."""
        filters = ", ".join(f"{key} = {value}" for key, value in sorted(self.source_filters.items()))
        return {
            "measure_id": self.id,
            "name": self.name,
            "definition": self.definition,
            "numerator": self.numerator,
            "denominator": self.denominator or "",
            "unit": self.unit,
            "source_mart": self.source_mart,
            "source_column": self.source_column + (f" ({filters})" if filters else ""),
            "disclosure_treatment": self.disclosure.describe(),
        }


@dataclass(frozen=True)
class Rule:
    id: str
    left: tuple[str, ...]
    op: str
    right: tuple[str, ...]

    def measures(self) -> set[str]:
        return {term.lstrip("-") for term in (*self.left, *self.right)}


@dataclass(frozen=True)
class Catalogue:
    version: str
    return_name: str
    org_types: tuple[str, ...]
    hierarchy_mart: str
    sources: dict[str, Source]
    rules: tuple[Rule, ...]
    measures: tuple[Measure, ...]
    sha256: str
    by_id: dict[str, Measure] = field(default_factory=dict, repr=False)

    def measure(self, measure_id: str) -> Measure:
        return self.by_id[measure_id]

    def marts_read(self) -> list[str]:
        """Every mart the return reads (the Dagster asset's dependencies)."""
        used = {measure.source_mart for measure in self.measures} | {self.hierarchy_mart}
        return sorted(used)


def _require(entry: dict[str, Any], key: str, where: str, kind: type | tuple[type, ...] = str) -> Any:
    if key not in entry or entry[key] is None:
        raise CatalogueError(f"{where}: '{key}' is required")
    value = entry[key]
    if not isinstance(value, kind):
        raise CatalogueError(f"{where}: '{key}' must be {getattr(kind, '__name__', kind)}, not {value!r}")
    return value


def _condition(entry: dict[str, Any] | None, where: str) -> Condition | None:
    if entry is None:
        return None
    if not isinstance(entry, dict):
        raise CatalogueError(f"{where}: must be a mapping")
    tests = [key for key in ("equals", "above", "below_column") if key in entry]
    if len(tests) != 1:
        raise CatalogueError(f"{where}: give exactly one of equals, above, below_column")
    return Condition(
        column=_require(entry, "column" if "column" in entry else "when_column", where),
        flag=_require(entry, "flag", where),
        equals=entry.get("equals"),
        above=entry.get("above"),
        below_column=entry.get("below_column"),
    )


def _source(mart: str, entry: dict[str, Any]) -> Source:
    where = f"sources.{mart}"
    if not isinstance(entry, dict):
        raise CatalogueError(f"{where}: must be a mapping")
    period_is = _require(entry, "period_is", where)
    if period_is not in PERIOD_ANCHORS:
        raise CatalogueError(f"{where}: period_is must be one of {PERIOD_ANCHORS}, not {period_is!r}")
    feeds = []
    for index, feed in enumerate(_require(entry, "fed_by", where, list)):
        periods = _require(feed, "periods", f"{where}.fed_by[{index}]")
        if periods not in FEED_PERIODS:
            raise CatalogueError(f"{where}.fed_by[{index}]: periods must be one of {FEED_PERIODS}, not {periods!r}")
        feeds.append(SourceFeed(table=_require(feed, "table", f"{where}.fed_by[{index}]"), periods=periods))
    return Source(
        mart=mart,
        org_type_column=_require(entry, "org_type_column", where),
        org_code_column=_require(entry, "org_code_column", where),
        period_column=_require(entry, "period_column", where),
        period_is=period_is,
        filters=dict(entry.get("filters") or {}),
        fed_by=tuple(feeds),
        received_when=_condition(entry.get("received_when"), f"{where}.received_when"),
        partial_when=_condition(entry.get("partial_when"), f"{where}.partial_when"),
        absent_flag=str(entry.get("absent_flag") or "no_source_row"),
    )


def _disclosure(entry: Any, where: str) -> Disclosure:
    if not isinstance(entry, dict):
        raise CatalogueError(f"{where}: must be a mapping with a treatment")
    treatment = _require(entry, "treatment", where)
    if treatment not in TREATMENTS:
        raise CatalogueError(f"{where}: treatment must be one of {TREATMENTS}, not {treatment!r}")
    disclosure = Disclosure(
        treatment=treatment,
        of=tuple(entry.get("of") or ()),
        numerator=entry.get("numerator"),
        denominator=entry.get("denominator"),
        scale=float(entry.get("scale", 1.0)),
        places=int(entry.get("places", 4)),
        n=entry.get("n"),
    )
    needed = {
        "total": ("of",),
        "ratio": ("numerator", "denominator"),
        "share": ("of",),
        "statistic": ("n",),
        "count": (),
    }[treatment]
    for key in needed:
        if not getattr(disclosure, key):
            raise CatalogueError(f"{where}: treatment {treatment} needs '{key}'")
    return disclosure


def _measure(entry: dict[str, Any], index: int) -> Measure:
    where = f"measures[{index}]" + (f" ({entry.get('id')})" if isinstance(entry, dict) and entry.get("id") else "")
    if not isinstance(entry, dict):
        raise CatalogueError(f"{where}: must be a mapping")
    source = _require(entry, "source", where, dict)
    bounds = entry.get("range") or [None, None]
    if not isinstance(bounds, list) or len(bounds) != 2:
        raise CatalogueError(f"{where}: range must be [minimum, maximum]")
    return Measure(
        id=_require(entry, "id", where),
        name=_require(entry, "name", where),
        definition=_require(entry, "definition", where),
        numerator=_require(entry, "numerator", where),
        denominator=entry.get("denominator"),
        unit=_require(entry, "unit", where),
        source_mart=_require(source, "mart", f"{where}.source"),
        source_column=_require(source, "column", f"{where}.source"),
        source_filters=dict(source.get("filters") or {}),
        disclosure=_disclosure(entry.get("disclosure"), f"{where}.disclosure"),
        range=(bounds[0], bounds[1]),
        jump_check=bool(entry.get("jump_check", False)),
        mandatory=bool(entry.get("mandatory", True)),
        null_allowed=_condition(entry.get("null_allowed"), f"{where}.null_allowed"),
    )


def _rule(entry: dict[str, Any], index: int) -> Rule:
    where = f"consistency_rules[{index}]"
    op = _require(entry, "op", where)
    if op not in RULE_OPERATORS:
        raise CatalogueError(f"{where}: op must be one of {RULE_OPERATORS}, not {op!r}")
    return Rule(
        id=_require(entry, "id", where),
        left=tuple(_require(entry, "left", where, list)),
        op=op,
        right=tuple(_require(entry, "right", where, list)),
    )


def _check_references(catalogue: Catalogue) -> None:
    """Every measure named by a rule or a disclosure treatment exists; every source mart is described."""
    ids = [measure.id for measure in catalogue.measures]
    duplicates = sorted({measure_id for measure_id in ids if ids.count(measure_id) > 1})
    if duplicates:
        raise CatalogueError(f"measure ids are not unique: {', '.join(duplicates)}")
    known = set(ids)
    for measure in catalogue.measures:
        if measure.source_mart not in catalogue.sources:
            raise CatalogueError(f"measure {measure.id}: source mart {measure.source_mart} is not under 'sources'")
        treatment = measure.disclosure
        named = [*treatment.of, treatment.numerator, treatment.denominator, treatment.n]
        for other in filter(None, named):
            if other not in known:
                raise CatalogueError(f"measure {measure.id}: disclosure names unknown measure {other!r}")
    for rule in catalogue.rules:
        unknown = sorted(rule.measures() - known)
        if unknown:
            raise CatalogueError(f"consistency rule {rule.id}: unknown measure(s) {', '.join(unknown)}")
    if catalogue.hierarchy_mart not in catalogue.sources:
        raise CatalogueError(f"hierarchy mart {catalogue.hierarchy_mart} is not under 'sources'")
    unknown_types = sorted(set(catalogue.org_types) - set(ORG_TYPES))
    if unknown_types or "pcn" not in catalogue.org_types:
        raise CatalogueError(f"org_types must include pcn and come from {ORG_TYPES}; got {catalogue.org_types}")


def load_catalogue(path: Path = CATALOGUE_PATH) -> Catalogue:
    """Read and check the catalogue; a malformed entry raises CatalogueError naming it."""
    raw = path.read_bytes()
    try:
        document = yaml.safe_load(raw)
    except yaml.YAMLError as error:
        raise CatalogueError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(document, dict):
        raise CatalogueError(f"{path}: expected a mapping at the top level")
    sources = {mart: _source(mart, entry) for mart, entry in _require(document, "sources", str(path), dict).items()}
    measures = tuple(_measure(entry, i) for i, entry in enumerate(_require(document, "measures", str(path), list)))
    catalogue = Catalogue(
        version=str(_require(document, "version", str(path))),
        return_name=_require(document, "return_name", str(path)),
        org_types=tuple(_require(document, "org_types", str(path), list)),
        hierarchy_mart=_require(document, "hierarchy_mart", str(path)),
        sources=sources,
        rules=tuple(_rule(entry, i) for i, entry in enumerate(document.get("consistency_rules") or [])),
        measures=measures,
        sha256=hashlib.sha256(raw).hexdigest(),
    )
    _check_references(catalogue)
    catalogue.by_id.update({measure.id: measure for measure in catalogue.measures})
    return catalogue
