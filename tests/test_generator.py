"""Tests of the synthetic data generator (extracts/synthetic).

The checker below is written from the contracts' Column fields alone (not from the generator's
code), so it catches a generator that drifts from the contracts.
"""

from __future__ import annotations

import calendar
import csv
import hashlib
import re
import statistics
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from extracts.contract import Column, Contract, load_contracts, load_reason_codes, load_workbooks
from extracts.identifiers import is_valid_nhs_number, is_valid_sctid
from extracts.synthetic import GenerationSummary, generate

SHARED = Path(__file__).resolve().parents[2] / "shared" / "reference"
END = "2026-04"
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MONTH = re.compile(r"^\d{4}-\d{2}$")
INTEGER = re.compile(r"^-?\d+$")
# The social prescribing concepts of DOMAIN.md; the shared codelist is used when present.
DOMAIN_CODELIST = {
    "871731000000106",
    "871711000000103",
    "871691000000100",
    "1084281000000109",
    "1362931000000106",
    "1362721000000106",
    "515721000000104",
}


def _codelist() -> set[str]:
    path = SHARED / "snomed_social_prescribing.csv"
    if path.exists():
        with path.open(encoding="utf-8") as f:
            return {row["code"] for row in csv.DictReader(f)}
    return DOMAIN_CODELIST


CODELIST = _codelist()
CONTRACTS = load_contracts()
WORKBOOKS = load_workbooks()


# --- fixtures ----------------------------------------------------------------------------


def _run(tmp_path_factory: pytest.TempPathFactory, name: str, **kwargs: object) -> GenerationSummary:
    out = tmp_path_factory.mktemp(name)
    args = {"scale": "demo", "months": 3, "seed": 1, "end_month": END} | kwargs
    return generate(out_dir=out, **args)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> GenerationSummary:
    return _run(tmp_path_factory, "clean")


@pytest.fixture(scope="module")
def defective(tmp_path_factory: pytest.TempPathFactory) -> GenerationSummary:
    return _run(tmp_path_factory, "defective", defects=0.02)


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> GenerationSummary:
    return _run(tmp_path_factory, "year", months=12)


# --- an independent contract checker -----------------------------------------------------


def _month_bounds(label: str) -> tuple[date, date]:
    year, month = int(label[:4]), int(label[4:])
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def check_value(col: Column, raw: str, start: date, end: date) -> str | None:
    """The reason code a value earns under its column's rules, or None when it is valid."""
    value = raw.strip()
    if value == "":
        return "MISSING_REQUIRED" if col.required else None
    if col.normalised_case == "upper":
        value = value.upper()
    elif col.normalised_case == "lower":
        value = value.lower()
    if col.type == "date":
        if not ISO_DATE.match(value):
            return "BAD_DATE"
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return "BAD_DATE"
        if col.date_rule == "in_period" and not start <= day <= end:
            return "DATE_OUTSIDE_PERIOD"
        if col.date_rule == "not_after_period" and day > end:
            return "DATE_OUTSIDE_PERIOD"
        if col.date_rule == "past" and day > date.today():
            return "FUTURE_DATE"
    elif col.type == "month":
        if not MONTH.match(value):
            return "BAD_DATE"
        if col.date_rule == "in_period" and value != start.isoformat()[:7]:
            return "DATE_OUTSIDE_PERIOD"
    elif col.type == "integer":
        if not INTEGER.match(value):
            return "BAD_TYPE"
        if (col.min is not None and int(value) < col.min) or (col.max is not None and int(value) > col.max):
            return "OUT_OF_RANGE"
    elif col.type == "decimal":
        try:
            number = float(value)
        except ValueError:
            return "BAD_TYPE"
        if (col.min is not None and number < col.min) or (col.max is not None and number > col.max):
            return "OUT_OF_RANGE"
    elif col.type == "nhs_number":
        if not (is_valid_nhs_number(value) and value.startswith("999")):
            return "INVALID_NHS_NUMBER"
    elif col.type == "snomed":
        if not is_valid_sctid(value):
            return "INVALID_SNOMED"
        if col.references == "snomed_codelist" and value not in CODELIST:
            return "NOT_IN_CODELIST"
    if col.pattern and not re.fullmatch(col.pattern, value):
        return "PATTERN_MISMATCH"
    if col.allowed:
        parts = value.split(col.multi) if col.multi else [value]
        if any(p.strip() not in col.allowed for p in parts):
            return "UNKNOWN_CODE"
    if col.max_length and len(value) > col.max_length:
        return "TOO_LONG"
    return None


def check_row(contract: Contract, row: list[str], submitter: str, start: date, end: date) -> dict[str, str]:
    """Column -> reason for one row (empty when the row is valid). '' names the whole row."""
    if len(row) != len(contract.columns):
        return {"": "WRONG_FIELD_COUNT"}
    values = dict(zip(contract.column_names, row, strict=True))
    problems: dict[str, str] = {}
    for col in contract.columns:
        reason = check_value(col, values[col.name], start, end)
        if reason:
            problems[col.name] = reason
    sub = contract.submitter_column
    if sub not in problems and values[sub].strip().upper() != submitter:
        problems[sub] = "SUBMITTER_MISMATCH"
    for rule in contract.rules:
        if rule["kind"] == "not_before":
            a, b = values[rule["column"]].strip(), values[rule["other"]].strip()
            checked = a and b and rule["column"] not in problems and rule["other"] not in problems
            if checked and date.fromisoformat(a) < date.fromisoformat(b):
                problems[rule["column"]] = "DATE_ORDER"
        elif rule["kind"] == "required_with":
            if values[rule["other"]].strip() and not values[rule["column"]].strip():
                problems[rule["column"]] = "MISSING_REQUIRED"
        elif rule["kind"] == "instrument_items":
            spec = contract.instruments.get(values["instrument"].strip().upper())
            if spec is None:
                continue
            for n in range(1, 8):
                name = f"item_{n}"
                text = values[name].strip()
                if n > spec.items:
                    if text:
                        problems[name] = "ITEM_NOT_IN_INSTRUMENT"
                elif not text or not INTEGER.match(text) or not spec.min <= int(text) <= spec.max:
                    problems[name] = "OUT_OF_RANGE_SCORE"
            if values["eq5d_vas"].strip() and not spec.vas:
                problems["eq5d_vas"] = "ITEM_NOT_IN_INSTRUMENT"
    return problems


def _cell(value: object) -> str:
    """An XLSX cell as the text a loader would see."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return f"{value:.2f}"
    return str(value)


def _bad_files(out: Path) -> dict[str, str]:
    path = out / "expected" / "bad_files.csv"
    with path.open(encoding="utf-8", newline="") as f:
        return {r["file_name"]: r["reason_code"] for r in csv.DictReader(f)}


def extract_tables(out: Path) -> Iterator[tuple[str, str, str, str, list[str], list[list[str]]]]:
    """(file name, table, submitter, YYYYMM, header, rows) for every good extract file and
    sheet (the deliberately bad files listed in expected/bad_files.csv are left out)."""
    bad = _bad_files(out)
    for path in sorted(out.iterdir()):
        if not path.is_file() or path.name in bad:
            continue
        if path.suffix == ".xlsx":
            workbook, submitter, period = path.stem.split("_")
            assert workbook in WORKBOOKS
            book = openpyxl.load_workbook(path, read_only=True)
            for sheet in book.worksheets:
                values = list(sheet.iter_rows(values_only=True))
                header = [str(v) for v in values[0]]
                rows = [[_cell(v) for v in r][: len(header)] for r in values[1:]]
                rows = [r + [""] * (len(header) - len(r)) for r in rows]
                yield path.name, sheet.title, submitter, period, header, rows
            book.close()
        elif path.suffix == ".csv":
            table = next(t for t in CONTRACTS if path.name.startswith(t + "_"))
            submitter, period = path.stem[len(table) + 1 :].split("_")
            with path.open(encoding="utf-8", newline="") as f:
                lines = list(csv.reader(f))
            yield path.name, table, submitter, period, lines[0], lines[1:]


def _sha256s(out: Path) -> dict[str, str]:
    return {
        str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


# --- tests -------------------------------------------------------------------------------


def test_same_arguments_give_identical_bytes(
    clean: GenerationSummary, tmp_path_factory: pytest.TempPathFactory
) -> None:
    again = _run(tmp_path_factory, "again")
    first, second = _sha256s(clean.out_dir), _sha256s(again.out_dir)
    assert first == second
    assert any(name.endswith(".xlsx") for name in first)
    other = _run(tmp_path_factory, "other_seed", seed=2)
    assert _sha256s(other.out_dir) != first


def test_parallel_workers_do_not_change_output(
    defective: GenerationSummary, tmp_path_factory: pytest.TempPathFactory
) -> None:
    parallel = _run(tmp_path_factory, "parallel", defects=0.02, workers=2)
    assert _sha256s(parallel.out_dir) == _sha256s(defective.out_dir)


def test_every_value_satisfies_its_contract(clean: GenerationSummary) -> None:
    seen_tables: set[str] = set()
    counts: dict[str, int] = defaultdict(int)
    people: dict[str, tuple[str, ...]] = {}
    for name, table, submitter, period, header, rows in extract_tables(clean.out_dir):
        contract = CONTRACTS[table]
        assert header == contract.column_names, name
        assert rows, f"{name} has no rows"
        start, end = _month_bounds(period)
        keys = set()
        for n, row in enumerate(rows, start=1):
            assert check_row(contract, row, submitter, start, end) == {}, (name, n, row)
            if contract.key:
                key = tuple(row[contract.column_names.index(k)] for k in contract.key)
                assert key not in keys, (name, n)
                keys.add(key)
            if table == "practice_events":
                # The same NHS number is the same person everywhere.
                person = tuple(row[2:6])
                assert people.setdefault(row[1], person) == person
        seen_tables.add(table)
        counts[table] += len(rows)
    assert seen_tables == set(CONTRACTS)
    assert dict(counts) == clean.rows


def test_workbooks_hold_typed_cells(clean: GenerationSummary) -> None:
    books = sorted(clean.out_dir.glob("*.xlsx"))
    assert books and len(list(clean.out_dir.glob("provider_referrals_*.csv"))) > 0
    spec = WORKBOOKS["provider"]
    book = openpyxl.load_workbook(books[0], read_only=True)
    assert set(spec.required_sheets) <= set(book.sheetnames)
    assert set(book.sheetnames) <= set(spec.required_sheets) | set(spec.optional_sheets)
    rows = list(book["provider_referrals"].iter_rows(values_only=True))
    header = list(rows[0])
    first = rows[1]
    assert isinstance(first[header.index("referral_date")], datetime)
    assert isinstance(first[header.index("nhs_number")], str)
    contacts = list(book["provider_contacts"].iter_rows(values_only=True))
    assert isinstance(contacts[1][list(contacts[0]).index("duration_minutes")], int)
    assert book.properties.created == book.properties.modified
    book.close()


def test_nhs_numbers_unique_to_a_practice(clean: GenerationSummary) -> None:
    owner: dict[str, str] = {}
    for _, table, submitter, _, header, rows in extract_tables(clean.out_dir):
        if CONTRACTS[table].submitter_type == "practice":
            i = header.index("nhs_number")
            for row in rows:
                assert owner.setdefault(row[i], submitter) == submitter


def test_reference_files_have_the_official_shapes(clean: GenerationSummary) -> None:
    ref = clean.out_dir / "reference"
    lines = (ref / "epraccur.csv").read_text(encoding="utf-8").splitlines()
    with (ref / "epraccur.csv").open(encoding="utf-8", newline="") as f:
        epraccur = list(csv.reader(f))
    assert all(len(r) == 27 for r in epraccur)
    assert all(line.startswith('"') and line.endswith('"') and line.count('","') == 26 for line in lines)
    assert all(re.fullmatch(r"[A-Z][0-9]{5}", r[0]) for r in epraccur)  # no header row
    assert all(re.fullmatch(r"Y[0-9]{2}", r[2]) and re.fullmatch(r"Q[A-Z0-9]{2}", r[3]) for r in epraccur)
    assert {r[12] for r in epraccur} == {"A", "C"}
    assert all(r[13] == "B" and r[21] == "0" and r[25] == "4" and r[14] == r[23] for r in epraccur)
    closed = {r[0] for r in epraccur if r[12] == "C"}
    active = {r[0] for r in epraccur if r[12] == "A"}
    assert len(active) == clean.practices == 22 and len(closed) >= 2

    with (ref / "epcncorepartnerdetails.csv").open(encoding="utf-8", newline="") as f:
        pcn_rows = list(csv.DictReader(f))
    assert list(pcn_rows[0]) == [
        "Partner Organisation Code", "Partner Name", "Practice Parent Sub ICB Location Code",
        "Practice Parent Sub ICB Location Name", "PCN Code", "PCN Name",
        "PCN Parent Sub ICB Location Code", "PCN Parent Sub ICB Location Name",
        "Practice to PCN Relationship Start Date", "Practice to PCN Relationship End Date",
        "Practice Sub ICB and PCN Sub ICB Match?",
    ]  # fmt: skip
    assert all(re.fullmatch(r"U[0-9]{5}", r["PCN Code"]) for r in pcn_rows)
    by_practice = defaultdict(list)
    for r in pcn_rows:
        by_practice[r["Partner Organisation Code"]].append(r)
    movers = [p for p, rs in by_practice.items() if p in active and len(rs) == 2]
    assert len(movers) == 1  # exactly one practice changes PCN in the demo
    old, new = sorted(by_practice[movers[0]], key=lambda r: r["Practice to PCN Relationship Start Date"])
    ended = datetime.strptime(old["Practice to PCN Relationship End Date"], "%Y%m%d").date()
    began = datetime.strptime(new["Practice to PCN Relationship Start Date"], "%Y%m%d").date()
    assert (began - ended).days == 1 and old["PCN Code"] != new["PCN Code"]
    assert new["Practice to PCN Relationship End Date"] == ""

    with (ref / "gp-reg-pat-prac-all.csv").open(encoding="utf-8", newline="") as f:
        totals_rows = list(csv.DictReader(f))
    header = (
        "PUBLICATION,EXTRACT_DATE,TYPE,SUB_ICB_LOCATION_CODE,ONS_SUB_ICB_LOCATION_CODE,CODE,"
        "POSTCODE,SEX,AGE,NUMBER_OF_PATIENTS"
    )
    assert list(totals_rows[0]) == header.split(",")
    assert {r["CODE"] for r in totals_rows} == active
    assert all(r["EXTRACT_DATE"] == "2026-04-01" and r["TYPE"] == "GP" for r in totals_rows)
    totals = {r["CODE"]: int(r["NUMBER_OF_PATIENTS"]) for r in totals_rows}
    assert all(3_000 <= n <= 20_000 for n in totals.values())
    current = {
        r["Partner Organisation Code"]: r["PCN Code"]
        for r in pcn_rows
        if not r["Practice to PCN Relationship End Date"]
    }
    pcn_sizes = defaultdict(int)
    for code, n in totals.items():
        pcn_sizes[current[code]] += n
    assert len(pcn_sizes) == 3 and all(25_000 <= n <= 70_000 for n in pcn_sizes.values())

    with (ref / "gp-reg-pat-prac-quin-age.csv").open(encoding="utf-8", newline="") as f:
        bands = list(csv.DictReader(f))
    assert list(bands[0]) == header.split(",")
    expected_bands = [f"{a}_{a + 4}" for a in range(0, 95, 5)] + ["95+"]
    summed: dict[str, int] = defaultdict(int)
    for r in bands:
        assert r["SEX"] in {"MALE", "FEMALE"} and r["AGE"] in expected_bands
        summed[r["CODE"]] += int(r["NUMBER_OF_PATIENTS"])
    assert summed == totals
    assert len(bands) == len(totals) * 2 * len(expected_bands)

    with (ref / "providers.csv").open(encoding="utf-8", newline="") as f:
        providers = list(csv.DictReader(f))
    assert list(providers[0]) == ["provider_code", "provider_name", "icb_code", "pcn_codes"]
    assert len(providers) == 2
    assert all(re.fullmatch(r"[A-Z0-9]{3,6}", p["provider_code"]) for p in providers)
    served = [c for p in providers for c in p["pcn_codes"].split(";")]
    assert sorted(served) == sorted(set(pcn_sizes))

    with (ref / "imd2019.csv").open(encoding="utf-8", newline="") as f:
        imd = list(csv.DictReader(f))
    assert list(imd[0]) == [
        "LSOA code (2011)",
        "LSOA name (2011)",
        "Local Authority District code (2019)",
        "Local Authority District name (2019)",
        "Index of Multiple Deprivation (IMD) Score",
        "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)",
        "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)",
    ]
    lsoas = {r["LSOA code (2011)"] for r in imd}
    assert all(re.fullmatch(r"E01[0-9]{6}", c) for c in lsoas)
    decile = "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)"
    assert {int(r[decile]) for r in imd} <= set(range(1, 11))
    for _, table, _, _, header_, rows in extract_tables(clean.out_dir):
        if table == "practice_events":
            i = header_.index("lsoa_code")
            assert {r[i] for r in rows if r[i]} <= lsoas

    # Closed practices submit nothing.
    assert not any(p.name.split("_")[2] in closed for p in clean.out_dir.glob("practice_*.csv"))


def _latest_referrals(out: Path) -> list[dict[str, str]]:
    latest: dict[tuple[str, str], tuple[str, dict[str, str]]] = {}
    for _, table, submitter, period, header, rows in extract_tables(out):
        if table != "provider_referrals":
            continue
        for row in rows:
            record = dict(zip(header, row, strict=True))
            key = (submitter, record["referral_id"])
            if key not in latest or latest[key][0] < period:
                latest[key] = (period, record)
    return [record for _, record in latest.values()]


def test_realism_targets_hold_at_demo_scale(year: GenerationSummary) -> None:
    window_start = year.months[0] + "-01"
    referrals = [r for r in _latest_referrals(year.out_dir) if r["referral_date"] >= window_start]
    assert 1_200 <= len(referrals) <= 1_900  # about 1,500 a year
    gp = sum(r["referral_source"] == "gp" for r in referrals) / len(referrals)
    assert 0.75 <= gp <= 0.9
    declined = sum(r["discharge_reason"] == "declined" for r in referrals) / len(referrals)
    assert 0.08 <= declined <= 0.22
    waits = [
        (date.fromisoformat(r["first_contact_date"]) - date.fromisoformat(r["referral_date"])).days
        for r in referrals
        if r["first_contact_date"]
    ]
    assert 7 <= statistics.median(waits) <= 21
    reasons = [x for r in referrals for x in r["referral_reasons"].split(";")]
    share = {k: reasons.count(k) / len(reasons) for k in set(reasons)}
    assert max(share, key=share.get) == "mental_health"  # type: ignore[arg-type]
    assert 0.18 <= share["mental_health"] <= 0.32 and 0.12 <= share["social_isolation"] <= 0.22

    conversion = _swemwbs_table()
    scores: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for _, table, submitter, _, header, rows in extract_tables(year.out_dir):
        if table != "outcome_measures":
            continue
        for row in rows:
            r = dict(zip(header, row, strict=True))
            if r["instrument"] == "SWEMWBS":
                raw = sum(int(r[f"item_{i}"]) for i in range(1, 8))
                point = "baseline" if r["timepoint"] == "baseline" else "later"
                scores[(submitter, r["referral_id"])][point] = conversion(raw)
    changes = [s["later"] - s["baseline"] for s in scores.values() if len(s) == 2]
    assert len(changes) >= 50
    assert statistics.mean(changes) > 0
    assert any(c < 0 for c in changes)  # real spread: some people get worse


def _swemwbs_table() -> callable:  # type: ignore[valid-type]
    path = SHARED / "swemwbs_rasch_conversion.csv"
    if not path.exists():
        return float
    with path.open(encoding="utf-8") as f:
        table = {int(r["raw_score"]): float(r["metric_score"]) for r in csv.DictReader(f)}
    return lambda raw: table[raw]


def test_clean_run_has_no_expected_defects(clean: GenerationSummary) -> None:
    expected = clean.out_dir / "expected"
    assert (expected / "defects.csv").read_text(encoding="utf-8").count("\n") == 1
    assert (expected / "bad_files.csv").read_text(encoding="utf-8").count("\n") == 1
    assert clean.defect_rows == 0 and clean.bad_files == 0


def test_defects_point_at_rows_that_are_bad(defective: GenerationSummary) -> None:
    out = defective.out_dir
    row_reasons = set(load_reason_codes()["row"])
    with (out / "expected" / "defects.csv").open(encoding="utf-8", newline="") as f:
        expected = list(csv.DictReader(f))
    assert len(expected) >= 20
    assert {e["reason_code"] for e in expected} <= row_reasons
    by_place = {(e["file_name"], e["table"], int(e["row_number"])): e for e in expected}
    found = set()
    for name, table, submitter, period, header, rows in extract_tables(out):
        assert header == CONTRACTS[table].column_names
        start, end = _month_bounds(period)
        keys: set[tuple[str, ...]] = set()
        contract = CONTRACTS[table]
        for n, row in enumerate(rows, start=1):
            problems = check_row(contract, row, submitter, start, end)
            if contract.key and len(row) == len(contract.columns):
                key = tuple(row[contract.column_names.index(k)].strip().upper() for k in contract.key)
                if key in keys and not problems:
                    problems = {contract.key[0]: "DUPLICATE_KEY"}
                keys.add(key)
            record = by_place.get((name, table, n))
            if record is None:
                assert problems == {}, (name, n, row, problems)
            else:
                assert problems == {record["column"]: record["reason_code"]}, (record, row)
                found.add((name, table, n))
    assert found == set(by_place)
    assert len({e["reason_code"] for e in expected}) >= 10


def test_bad_files_are_recorded_and_bad(defective: GenerationSummary) -> None:
    out = defective.out_dir
    bad = _bad_files(out)
    assert set(bad.values()) == {
        "BAD_FILE_NAME", "UNKNOWN_TABLE", "EMPTY_FILE", "HEADER_ONLY", "BAD_HEADER",
        "WRONG_DELIMITER", "UNSUPPORTED_FORMAT",
    }  # fmt: skip
    assert set(bad.values()) <= set(load_reason_codes()["file"])
    for name, reason in bad.items():
        path = out / name
        assert path.is_file()
        text = path.read_text(encoding="utf-8")
        if reason == "EMPTY_FILE":
            assert text == ""
        elif reason == "HEADER_ONLY":
            assert text.count("\n") == 1
        elif reason == "WRONG_DELIMITER":
            assert ";" in text.splitlines()[0] and "," not in text.splitlines()[0]
        elif reason == "BAD_HEADER":
            table = next(t for t in CONTRACTS if name.startswith(t + "_"))
            assert text.splitlines()[0].split(",") != CONTRACTS[table].column_names
        elif reason == "UNSUPPORTED_FORMAT":
            assert path.suffix == ".txt"
        elif reason == "BAD_FILE_NAME":
            assert not re.search(r"_\d{6}\.", name)
        elif reason == "UNKNOWN_TABLE":
            assert not any(name.startswith(t + "_") for t in CONTRACTS)
    # No two files share their bytes (a copy would be a DUPLICATE_FILE, whatever its name).
    digests = [v for k, v in _sha256s(out).items() if "/" not in k]
    assert len(digests) == len(set(digests))
    # Bad files are extra: the clean files of the same run are all still there.
    good = {p.name for p in out.iterdir() if p.is_file()} - set(bad)
    assert good and all(re.fullmatch(r"[a-z_]+_[A-Z0-9]+_\d{6}\.(csv|xlsx)", g) for g in good)


def test_arguments_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate("county", 1, 1, tmp_path)
    with pytest.raises(ValueError):
        generate("demo", 1, 1, tmp_path, end_month="2026-13")
