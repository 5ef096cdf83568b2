"""Realistic bad rows and bad files, with the reason code the contracts should produce for each.

One defect per bad row, chosen so that exactly one contract rule fails (for example a bad date is
only put in a column whose row rules cannot also fire, and key columns are never blanked).
Defects are drawn from their own RNG per file, so the clean data underneath is identical with and
without defects. Rows with defects are recorded in expected/defects.csv; row_number counts data
records from 1 (the record after the header), in CSV files and XLSX sheets alike. A duplicated
key is recorded on the second occurrence, under the key's first column; a row with a wrong
number of fields has an empty column.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from random import Random

from ..contract import Column, Contract, load_reason_codes
from . import codes
from .periods import Month, as_date, iso
from .writers import Layout, csv_rows, write_csv

DEFECTS_HEADER = ("file_name", "row_number", "column", "reason_code", "table")
BAD_FILES_HEADER = ("file_name", "reason_code")

# Values no contract allows, per column, as real systems get them wrong.
UNKNOWN_VALUES = {
    "referral_source": ("doctor", "GP surgery", "A&E"),
    "referral_reasons": ("loneliness", "money"),
    "discharge_reason": ("died", "finished"),
    "mode": ("zoom", "in_person", "text"),
    "attended": ("maybe", "DNA"),
    "activity_category": ("fishing", "choir"),
    "staff_role": ("receptionist", "pharmacist", "hca"),
    "status": ("cancelled", "booked"),
    "sex": ("3", "M", "F"),
    "ethnic_category": ("Q", "WB"),
    "cost_type": ("rent", "travel"),
    "timepoint": ("midpoint", "6_months"),
}

Edit = tuple[str, str] | None  # (column, reason code) when the defect applied


@dataclass(frozen=True)
class DefectRecord:
    file_name: str
    row_number: int
    column: str
    reason_code: str
    table: str


class _Context:
    """What a defect needs to know about the file it is spoiling."""

    def __init__(self, contract: Contract, month: Month, others: list[str], rng: Random) -> None:
        self.contract = contract
        self.month = month
        self.others = others
        self.rng = rng
        self.index = {c.name: i for i, c in enumerate(contract.columns)}
        self.protected = {contract.submitter_column, *contract.key}


def _invalid_nhs(row: list[object], ctx: _Context) -> Edit:
    cols = [c for c in ctx.contract.columns if c.type == "nhs_number" and row[ctx.index[c.name]]]
    if not cols:
        return None
    c = ctx.rng.choice(cols)
    i = ctx.index[c.name]
    value = str(row[i])
    wrong = (int(value[-1]) + ctx.rng.randint(1, 9)) % 10
    row[i] = value[:-1] + str(wrong)
    return c.name, "INVALID_NHS_NUMBER"


def _period_dates(row: list[object], ctx: _Context, rules: tuple[str, ...]) -> list[Column]:
    return [
        c
        for c in ctx.contract.columns
        if c.type == "date" and c.date_rule in rules and isinstance(row[ctx.index[c.name]], int)
    ]


def _rule_columns(ctx: _Context) -> set[str]:
    return {r.get(side) for r in ctx.contract.rules for side in ("column", "other")} - {None}


def _bad_date(row: list[object], ctx: _Context) -> Edit:
    # Not a column a row rule compares (an unparseable date there could also break that rule).
    in_rules = _rule_columns(ctx)
    cols = [c for c in _period_dates(row, ctx, ("in_period", "not_after_period")) if c.name not in in_rules]
    if not cols:
        return None
    c = ctx.rng.choice(cols)
    i = ctx.index[c.name]
    day = as_date(int(row[i]))  # type: ignore[call-overload]
    if ctx.rng.random() < 0.5:
        row[i] = day.strftime("%d/%m/%Y")
    else:
        row[i] = f"{day.year:04d}-02-30"
    return c.name, "BAD_DATE"


def _outside_period(row: list[object], ctx: _Context) -> Edit:
    """A date in the month before the reporting month (never a future date)."""
    cols = _period_dates(row, ctx, ("in_period",))
    months = [
        c for c in ctx.contract.columns if c.type == "month" and c.date_rule == "in_period" and row[ctx.index[c.name]]
    ]
    options = cols + months
    if not options:
        return None
    c = ctx.rng.choice(options)
    i = ctx.index[c.name]
    before = ctx.month.start - ctx.rng.randint(1, 20)
    row[i] = before if c.type == "date" else iso(before)[:7]
    return c.name, "DATE_OUTSIDE_PERIOD"


def _unknown_code(row: list[object], ctx: _Context) -> Edit:
    cols = [
        c
        for c in ctx.contract.columns
        if c.allowed
        and c.name != ctx.contract.submitter_column
        and c.name != "instrument"
        and c.name in UNKNOWN_VALUES
        and row[ctx.index[c.name]]
    ]
    if not cols:
        return None
    c = ctx.rng.choice(cols)
    i = ctx.index[c.name]
    bad = ctx.rng.choice(UNKNOWN_VALUES[c.name])
    if c.multi:
        parts = str(row[i]).split(c.multi)
        parts[ctx.rng.randrange(len(parts))] = bad
        row[i] = c.multi.join(parts)
    else:
        row[i] = bad
    return c.name, "UNKNOWN_CODE"


def _pattern_mismatch(row: list[object], ctx: _Context) -> Edit:
    cols = [
        c
        for c in ctx.contract.columns
        if c.pattern and c.name != ctx.contract.submitter_column and row[ctx.index[c.name]]
    ]
    if not cols:
        return None
    c = ctx.rng.choice(cols)
    i = ctx.index[c.name]
    value = str(row[i])
    if c.name == "practice_code":
        row[i] = value[:-1]  # a digit lost: A81001 -> A8100
    elif c.name == "pcn_code":
        row[i] = "PCN" + value[1:]
    elif c.name == "lsoa_code":
        row[i] = ctx.rng.choice(("W01", "E1")) + value[3:]  # Welsh or mistyped prefix
    elif c.name == "link_worker_id":
        row[i] = value[:2] + " " + value[2:]
    else:
        row[i] = f"{value}/{ctx.rng.randint(1, 9)}"
    return c.name, "PATTERN_MISMATCH"


def _out_of_range(row: list[object], ctx: _Context) -> Edit:
    cols = [
        c
        for c in ctx.contract.columns
        if c.type in {"integer", "decimal"}
        and (c.min is not None or c.max is not None)
        and isinstance(row[ctx.index[c.name]], int | float)
    ]
    if not cols:
        return None
    c = ctx.rng.choice(cols)
    i = ctx.index[c.name]
    low = c.min is not None and (c.max is None or ctx.rng.random() < 0.5)
    if c.type == "decimal":
        row[i] = -250.0 if low else float(c.max or 0) * 2
    elif low:
        row[i] = int(c.min or 0) - 1  # e.g. a duration of 0 minutes
    else:
        top = int(c.max or 0)
        row[i] = 999 if top < 999 and ctx.rng.random() < 0.5 else top + 1
    return c.name, "OUT_OF_RANGE"


def _bad_type(row: list[object], ctx: _Context) -> Edit:
    cols = [
        c
        for c in ctx.contract.columns
        if c.type in {"integer", "decimal"}
        and c.required
        and not c.name.startswith("item_")
        and row[ctx.index[c.name]] is not None
    ]
    if not cols:
        return None
    c = ctx.rng.choice(cols)
    row[ctx.index[c.name]] = "TBC" if c.type == "decimal" else f"{row[ctx.index[c.name]]} mins"
    return c.name, "BAD_TYPE"


def _instrument(row: list[object], ctx: _Context) -> tuple[str, int, int, int] | None:
    if "instrument" not in ctx.index or not ctx.contract.instruments:
        return None
    spec = ctx.contract.instruments.get(str(row[ctx.index["instrument"]]))
    if spec is None:
        return None
    return spec.name, spec.items, spec.min, spec.max


def _score_out_of_range(row: list[object], ctx: _Context) -> Edit:
    spec = _instrument(row, ctx)
    if spec is None:
        return None
    _, items, lo, hi = spec
    name = f"item_{ctx.rng.randint(1, items)}"
    if name not in ctx.index:
        return None
    row[ctx.index[name]] = hi + 1 if lo == 0 or ctx.rng.random() < 0.7 else lo - 1
    return name, "OUT_OF_RANGE_SCORE"


def _item_not_in_instrument(row: list[object], ctx: _Context) -> Edit:
    spec = _instrument(row, ctx)
    if spec is None:
        return None
    _, items, lo, hi = spec
    name = f"item_{items + 1}"
    if name not in ctx.index:
        return None
    row[ctx.index[name]] = ctx.rng.randint(lo, hi)
    return name, "ITEM_NOT_IN_INSTRUMENT"


def _missing_required(row: list[object], ctx: _Context) -> Edit:
    in_rules = _rule_columns(ctx)
    cols = [
        c
        for c in ctx.contract.columns
        if c.required
        and c.name not in ctx.protected
        and c.name not in in_rules
        and c.name != "instrument"
        and row[ctx.index[c.name]] not in (None, "")
    ]
    if not cols:
        return None
    c = ctx.rng.choice(cols)
    row[ctx.index[c.name]] = None
    return c.name, "MISSING_REQUIRED"


def _submitter_mismatch(row: list[object], ctx: _Context) -> Edit:
    name = ctx.contract.submitter_column
    others = [o for o in ctx.others if o != row[ctx.index[name]]]
    if not others:
        return None
    row[ctx.index[name]] = ctx.rng.choice(others)
    return name, "SUBMITTER_MISMATCH"


def _invalid_snomed(row: list[object], ctx: _Context) -> Edit:
    cols = [c for c in ctx.contract.columns if c.type == "snomed" and row[ctx.index[c.name]]]
    if not cols:
        return None
    c = ctx.rng.choice(cols)
    i = ctx.index[c.name]
    value = str(row[i])
    row[i] = value[:-1] + str((int(value[-1]) + ctx.rng.randint(1, 9)) % 10)
    return c.name, "INVALID_SNOMED"


def _not_in_codelist(row: list[object], ctx: _Context) -> Edit:
    cols = [c for c in ctx.contract.columns if c.type == "snomed" and row[ctx.index[c.name]]]
    if not cols:
        return None
    c = ctx.rng.choice(cols)
    code, term = codes.SCT_NOT_IN_CODELIST
    row[ctx.index[c.name]] = code
    if "snomed_term" in ctx.index:
        row[ctx.index["snomed_term"]] = term
    return c.name, "NOT_IN_CODELIST"


def _date_order(row: list[object], ctx: _Context) -> Edit:
    rules = [
        r
        for r in ctx.contract.rules
        if r.get("kind") == "not_before"
        and isinstance(row[ctx.index[r["column"]]], int)
        and isinstance(row[ctx.index[r["other"]]], int)
    ]
    if not rules:
        return None
    rule = ctx.rng.choice(rules)
    row[ctx.index[rule["column"]]] = int(row[ctx.index[rule["other"]]]) - ctx.rng.randint(1, 10)  # type: ignore[call-overload]
    return rule["column"], "DATE_ORDER"


def _too_long(row: list[object], ctx: _Context) -> Edit:
    cols = [
        c
        for c in ctx.contract.columns
        if c.type == "string" and c.max_length and not c.required and row[ctx.index[c.name]]
    ]
    if not cols:
        return None
    c = ctx.rng.choice(cols)
    i = ctx.index[c.name]
    text = str(row[i])
    row[i] = (text + " (see notes) ") * (int(c.max_length or 0) // (len(text) + 13) + 2)  # type: ignore[operator]
    return c.name, "TOO_LONG"


def _wrong_field_count(row: list[object], ctx: _Context) -> Edit:
    row.append("")  # a trailing comma, as from a hand-edited export
    return "", "WRONG_FIELD_COUNT"


Defect = Callable[[list[object], _Context], Edit]
ROW_DEFECTS: tuple[Defect, ...] = (
    _invalid_nhs,
    _bad_date,
    _outside_period,
    _unknown_code,
    _pattern_mismatch,
    _out_of_range,
    _bad_type,
    _score_out_of_range,
    _item_not_in_instrument,
    _missing_required,
    _submitter_mismatch,
    _invalid_snomed,
    _not_in_codelist,
    _date_order,
    _too_long,
)
DUPLICATE = "DUPLICATE_KEY"
PRODUCED = {
    "INVALID_NHS_NUMBER", "BAD_DATE", "DATE_OUTSIDE_PERIOD", "UNKNOWN_CODE", "PATTERN_MISMATCH",
    "OUT_OF_RANGE", "BAD_TYPE", "OUT_OF_RANGE_SCORE", "ITEM_NOT_IN_INSTRUMENT", "MISSING_REQUIRED",
    "SUBMITTER_MISMATCH", "INVALID_SNOMED", "NOT_IN_CODELIST", "DATE_ORDER", "TOO_LONG",
    DUPLICATE, "WRONG_FIELD_COUNT",
}  # fmt: skip


class DefectInjector:
    """Spoils a share of rows file by file and remembers what it did."""

    def __init__(self, rate: float, seed: int, submitters: dict[str, list[str]]) -> None:
        self.rate = rate
        self.seed = seed
        self.submitters = submitters  # submitter type -> codes a row may wrongly name
        self.records: list[DefectRecord] = []
        unknown = PRODUCED - set(load_reason_codes()["row"])
        if unknown:
            raise RuntimeError(f"reason codes missing from reason_codes.yml: {sorted(unknown)}")

    def apply(
        self,
        layout: Layout,
        rows: list[list[object]],
        file_name: str,
        month: Month,
        *,
        as_csv: bool,
    ) -> list[list[object]]:
        contract = layout.contract
        rng = Random(f"sprx:defects:{self.seed}:{file_name}:{contract.table}")
        others = self.submitters.get(contract.submitter_type, [])
        ctx = _Context(contract, month, others, rng)
        key_index = [ctx.index[k] for k in contract.key]
        keys = {tuple(r[i] for i in key_index) for r in rows} if key_index else set()
        noise_cols = [
            i
            for i, c in enumerate(contract.columns)
            if c.type == "code" and c.name != contract.submitter_column and not c.multi and (c.allowed or c.pattern)
        ]
        kinds: list[Defect | str] = list(ROW_DEFECTS)
        if key_index:
            kinds.append(DUPLICATE)
        if as_csv:
            kinds.append(_wrong_field_count)
        out: list[list[object]] = []
        for row in rows:
            if rng.random() >= self.rate:
                if as_csv and rng.random() < self.rate / 2:
                    _noise(row, noise_cols, contract, rng)
                out.append(row)
                continue
            for kind in rng.sample(kinds, k=len(kinds)):
                if kind == DUPLICATE:
                    out.append(row)
                    out.append(list(row))
                    column = contract.key[0]  # as the ingest names it: the key's first column
                    self.records.append(DefectRecord(file_name, len(out), column, DUPLICATE, contract.table))
                    break
                trial = list(row)
                edit = kind(trial, ctx)  # type: ignore[operator]
                if edit is None:
                    continue
                if key_index:
                    key = tuple(trial[i] for i in key_index)
                    old = tuple(row[i] for i in key_index)
                    if key != old and key in keys:
                        continue
                    keys.add(key)
                out.append(trial)
                column, reason = edit
                self.records.append(DefectRecord(file_name, len(out), column, reason, contract.table))
                break
            else:
                out.append(row)
        return out


def _noise(row: list[object], cols: list[int], contract: Contract, rng: Random) -> None:
    """Harmless variation real systems produce: surrounding spaces, other letter case."""
    filled = [i for i in cols if isinstance(row[i], str) and row[i]]
    if not filled:
        return
    i = rng.choice(filled)
    value = str(row[i])
    u = rng.random()
    if u < 0.35:
        row[i] = " " + value
    elif u < 0.7:
        row[i] = value + " "
    else:
        row[i] = value.upper() if contract.columns[i].normalised_case == "lower" else value.lower()


def write_expected(out: Path, records: list[DefectRecord], bad: list[tuple[str, str]]) -> list[Path]:
    """expected/defects.csv and expected/bad_files.csv (header-only when there are none)."""
    out.mkdir(parents=True, exist_ok=True)
    defects = out / "defects.csv"
    write_csv(
        defects,
        DEFECTS_HEADER,
        ([r.file_name, r.row_number, r.column, r.reason_code, r.table] for r in records),
    )
    bad_files = out / "bad_files.csv"
    write_csv(bad_files, BAD_FILES_HEADER, bad)
    return [defects, bad_files]


@dataclass
class Sample:
    """A practice's clean rows for the first window month, reused to build bad files."""

    practice: str
    events: list[list[object]]
    appointments: list[list[object]]


def write_bad_files(
    out: Path,
    layouts: dict[str, Layout],
    samples: list[Sample],
    first: Month,
    previous: Month,
) -> list[tuple[str, str]]:
    """A handful of whole-file problems, as extra files that never replace good ones.

    Files dated the month before the window reuse the first month's rows with dates moved
    back, so their only problem is the one recorded.
    """
    file_reasons = load_reason_codes()["file"]
    p, q = samples[0], samples[-1]
    events, appts = layouts["practice_events"], layouts["practice_appointments"]
    bad: list[tuple[str, str]] = []

    def emit(name: str, reason: str) -> Path:
        assert reason in file_reasons, reason
        bad.append((name, reason))
        return out / name

    def moved(layout: Layout, rows: list[list[object]]) -> list[list[object]]:
        dated = [i for i, c in enumerate(layout.contract.columns) if c.date_rule == "in_period"]
        shifted = []
        for row in rows:
            new = list(row)
            for i in dated:
                if isinstance(new[i], int):
                    offset = int(new[i]) - first.start  # type: ignore[call-overload]
                    new[i] = previous.start + min(offset, previous.days - 1)
            shifted.append(new)
        return shifted

    # Every bad file has bytes of its own: a copy of another file would be a DUPLICATE_FILE.
    write_csv(
        emit(f"practice_events_{p.practice}.csv", "BAD_FILE_NAME"),
        events.columns,
        csv_rows(events, moved(events, p.events)),
    )
    write_csv(
        emit(f"practice_referrals_{q.practice}_{previous.label}.csv", "UNKNOWN_TABLE"),
        events.columns,
        csv_rows(events, moved(events, q.events)),
    )
    emit(f"practice_appointments_{p.practice}_{previous.label}.csv", "EMPTY_FILE").write_bytes(b"")
    write_csv(
        emit(f"practice_events_{p.practice}_{previous.label}.csv", "HEADER_ONLY"),
        events.columns,
        [],
    )
    header = list(appts.columns)
    renamed = next(i for i, c in enumerate(appts.contract.columns) if c.type == "date")
    header[renamed] = header[renamed].replace("appointment_", "appt_")
    if header[renamed] == appts.columns[renamed]:
        header[renamed] += "_dt"
    write_csv(
        emit(f"practice_appointments_{q.practice}_{previous.label}.csv", "BAD_HEADER"),
        header,
        csv_rows(appts, moved(appts, q.appointments)),
    )
    write_csv(
        emit(f"practice_events_{q.practice}_{previous.label}.csv", "WRONG_DELIMITER"),
        events.columns,
        csv_rows(events, moved(events, q.events)),
        delimiter=";",
    )
    write_csv(
        emit(f"practice_events_{p.practice}_{first.label}.txt", "UNSUPPORTED_FORMAT"),
        events.columns,
        csv_rows(events, p.events),
        delimiter="\t",
    )
    return bad
