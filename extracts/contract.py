"""Load the extract contracts (extracts/contracts/*.yml): the single source of truth for tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

CONTRACTS_DIR = Path(__file__).parent / "contracts"
COLUMN_TYPES = {"string", "code", "date", "month", "integer", "decimal", "nhs_number", "snomed"}
DATE_RULES = {"in_period", "not_after_period", "past"}
REFERENCES = {"practice", "provider", "pcn", "snomed_codelist"}
ROW_RULE_KINDS = {"not_before", "required_with", "instrument_items"}


class ContractError(ValueError):
    """A contract file is malformed."""


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False
    description: str = ""
    pattern: str | None = None
    allowed: tuple[str, ...] | None = None
    case: str | None = None
    multi: str | None = None
    min: float | None = None
    max: float | None = None
    max_length: int | None = None
    date_rule: str | None = None
    references: str | None = None
    example: str = ""

    @property
    def normalised_case(self) -> str | None:
        """Codes are upper-cased unless the contract says lower; other types keep their case."""
        if self.case:
            return self.case
        return "upper" if self.type in {"code"} else None


@dataclass(frozen=True)
class Instrument:
    name: str
    items: int
    min: int
    max: int
    vas: bool


@dataclass(frozen=True)
class Contract:
    table: str
    description: str
    submitter_type: str
    submitter_column: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    rules: tuple[dict[str, Any], ...] = ()
    instruments: dict[str, Instrument] = field(default_factory=dict)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


@dataclass(frozen=True)
class Workbook:
    name: str
    submitter_type: str
    required_sheets: tuple[str, ...]
    optional_sheets: tuple[str, ...]


def _column(table: str, raw: dict[str, Any]) -> Column:
    unknown = set(raw) - set(Column.__dataclass_fields__)
    if unknown:
        raise ContractError(f"{table}.{raw.get('name')}: unknown keys {sorted(unknown)}")
    if raw.get("type") not in COLUMN_TYPES:
        raise ContractError(f"{table}.{raw.get('name')}: type must be one of {sorted(COLUMN_TYPES)}")
    if raw.get("date_rule") not in (None, *DATE_RULES):
        raise ContractError(f"{table}.{raw['name']}: date_rule must be one of {sorted(DATE_RULES)}")
    if raw.get("references") not in (None, *REFERENCES):
        raise ContractError(f"{table}.{raw['name']}: references must be one of {sorted(REFERENCES)}")
    values = dict(raw)
    if values.get("allowed") is not None:
        values["allowed"] = tuple(str(v) for v in values["allowed"])
    if values.get("example") is not None:
        values["example"] = str(values["example"])
    return Column(**values)


def parse_contract(raw: dict[str, Any]) -> Contract:
    table = raw["table"]
    columns = tuple(_column(table, c) for c in raw["columns"])
    names = [c.name for c in columns]
    if len(set(names)) != len(names):
        raise ContractError(f"{table}: duplicate column names")
    for name in (raw["submitter_column"], *raw.get("key", [])):
        if name not in names:
            raise ContractError(f"{table}: {name} is not a column")
    rules = tuple(raw.get("rules") or ())
    for rule in rules:
        if rule.get("kind") not in ROW_RULE_KINDS:
            raise ContractError(f"{table}: rule kind must be one of {sorted(ROW_RULE_KINDS)}")
        for side in ("column", "other"):
            if side in rule and rule[side] not in names:
                raise ContractError(f"{table}: rule names unknown column {rule[side]}")
    instruments = {name: Instrument(name=name, **spec) for name, spec in (raw.get("instruments") or {}).items()}
    return Contract(
        table=table,
        description=" ".join(str(raw.get("description", "")).split()),
        submitter_type=raw["submitter_type"],
        submitter_column=raw["submitter_column"],
        key=tuple(raw.get("key") or ()),
        columns=columns,
        rules=rules,
        instruments=instruments,
    )


@cache
def load_contracts(directory: Path = CONTRACTS_DIR) -> dict[str, Contract]:
    """Every table contract, keyed by table name, in a stable order."""
    contracts: dict[str, Contract] = {}
    skip = {"reason_codes.yml", "workbooks.yml"}
    for path in sorted(directory.glob("*.yml")):
        if path.name in skip:
            continue
        contract = parse_contract(yaml.safe_load(path.read_text(encoding="utf-8")))
        if contract.table != path.stem:
            raise ContractError(f"{path.name}: table {contract.table!r} must match the file name")
        contracts[contract.table] = contract
    return contracts


@cache
def load_workbooks(directory: Path = CONTRACTS_DIR) -> dict[str, Workbook]:
    raw = yaml.safe_load((directory / "workbooks.yml").read_text(encoding="utf-8"))
    return {
        name: Workbook(
            name=name,
            submitter_type=spec["submitter_type"],
            required_sheets=tuple(spec["required_sheets"]),
            optional_sheets=tuple(spec.get("optional_sheets") or ()),
        )
        for name, spec in raw.items()
    }


@cache
def load_reason_codes(directory: Path = CONTRACTS_DIR) -> dict[str, dict[str, str]]:
    return yaml.safe_load((directory / "reason_codes.yml").read_text(encoding="utf-8"))
