"""Readers for the official NHS reference files, and the loader that replaces the `ref` tables.

Each reader accepts a file exactly as published (ODS, NHS Digital, MHCLG) and returns an Arrow
table with the warehouse's column names, or raises `ReferenceFileError` naming the file, the line,
the problem and the expected form. Conversion and checks run as DuckDB SQL over all-string columns
(vectorised: national files have up to a million rows), so codes like `00K` are never mangled.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple, NoReturn, Self

import duckdb
import numpy as np
import pyarrow as pa

from orchestration.reference._io import (
    REC,
    TextFile,
    date_sql,
    is_xlsx,
    normalise_header,
    open_text_csv,
    read_csv_strings,
    read_xlsx_sheet,
    record_line,
)
from orchestration.reference.errors import ReferenceFileError

log = logging.getLogger(__name__)

PRACTICE_CODE = "[A-Z][0-9]{5}"
PCN_CODE = "U[0-9]{5}"
ICB_CODE = "Q[A-Z0-9]{2}"
LSOA_CODE = "E01[0-9]{6}"
PROVIDER_CODE = "[A-Z0-9]{3,6}"  # as in extracts/contracts (provider_code)
GP_PRESCRIBING_SETTINGS = ("4", "RO76")  # older files: setting 4; newer: role code RO76

STATUSES = {
    "A": "active", "ACTIVE": "active",
    "C": "closed", "CLOSED": "closed", "INACTIVE": "closed",
    "D": "dormant", "DORMANT": "dormant",
    "P": "proposed", "PROPOSED": "proposed",
}  # fmt: skip

DEFAULT_SNOMED_CODELIST = (
    Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "snomed_social_prescribing.csv"
)


def _first_row(con: duckdb.DuckDBPyConnection, sql: str) -> tuple | None:
    """The first row, with the result fully consumed (DuckDB 2.0 leaves a result that `fetchone`
    did not exhaust open, and the connection then refuses `con.sql`)."""
    rows = con.execute(sql).fetchall()
    return rows[0] if rows else None


def _sql_list(values: tuple[str, ...] | list[str]) -> str:
    return ", ".join("'" + value.replace("'", "''") + "'" for value in values)


class _Work:
    """One file's raw strings in a private in-memory DuckDB, for vectorised checks and casts."""

    def __init__(self, file: Path, raw: pa.Table, locate: Callable[[int], str]) -> None:
        self.file = file
        self.locate = locate
        self.con = duckdb.connect()
        self.con.register("raw", raw)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.con.close()

    def run(self, sql: str) -> None:
        self.con.execute(sql)

    def arrow(self, sql: str) -> pa.Table:
        return self.con.sql(sql).to_arrow_table()

    def fail(self, record: int, message: str) -> NoReturn:
        raise ReferenceFileError(self.file, f"{self.locate(record)}: {message}")

    def check(self, table: str, bad: str, value: str, problem: str, expected: str) -> None:
        """Raise on the first record (in file order) where the SQL condition `bad` holds."""
        row = _first_row(self.con, f"SELECT {REC}, {value} FROM {table} WHERE {bad} ORDER BY {REC} LIMIT 1")
        if row is not None:
            shown = "(empty)" if row[1] is None else repr(row[1])
            self.fail(row[0], f"{problem} {shown}; expected {expected}")


def _csv_locator(src: TextFile, has_header: bool) -> Callable[[int], str]:
    return lambda record: f"line {record_line(src, record, has_header)}"


def _sheet_locator(sheet_name: str) -> Callable[[int], str]:
    return lambda record: f"sheet '{sheet_name}' row {record}"


# --------------------------------------------------------------------------- epraccur (ODS)

EPRACCUR_EXPECTED = "the ODS epraccur.csv form: no header row, 27 quoted columns on every line"


def _looks_like_header(first: list[str]) -> bool:
    """ODS codes are upper-case alphanumerics and column 11 is YYYYMMDD: a header is neither."""
    code = first[0].strip() if first else ""
    if not re.fullmatch(r"[A-Z0-9]{2,12}", code):
        return True
    opened = first[10].strip() if len(first) > 10 else ""
    return bool(re.search(r"[A-Za-z]", opened))


def read_epraccur(path: str | Path) -> pa.Table:
    """ODS epraccur.csv → one row per organisation, status and GP-practice flag normalised."""
    path = Path(path)
    with open_text_csv(path) as src:
        first = src.first_record
        if _looks_like_header(first):
            shown = ", ".join(repr(f) for f in first[:3])
            raise ReferenceFileError(
                path,
                f"line 1 looks like a header row ({shown}, …); epraccur.csv is published without "
                "a header: remove that line",
            )
        names = [f"c{i:02d}" for i in range(1, 28)]
        raw = read_csv_strings(src, names, has_header=False, expected=EPRACCUR_EXPECTED)
        status_case = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in STATUSES.items())
        with _Work(path, raw, _csv_locator(src, has_header=False)) as work:
            work.run(
                f"""
                CREATE TEMP TABLE t AS
                SELECT {REC},
                       upper(trim(c01)) AS practice_code,
                       nullif(trim(c02), '') AS practice_name,
                       nullif(upper(trim(c03)), '') AS region_code,
                       nullif(upper(trim(c04)), '') AS icb_code,
                       nullif(upper(trim(c15)), '') AS sub_icb_code,
                       nullif(upper(trim(c10)), '') AS postcode,
                       nullif(trim(c11), '') AS open_raw,
                       nullif(trim(c12), '') AS close_raw,
                       nullif(upper(trim(c13)), '') AS status_raw,
                       nullif(upper(trim(c26)), '') AS prescribing_setting
                FROM raw
                """
            )
            work.run(
                f"""
                CREATE TEMP TABLE p AS
                SELECT *,
                       {date_sql("open_raw")} AS open_date,
                       {date_sql("close_raw")} AS close_date,
                       CASE status_raw {status_case} END AS status,
                       coalesce(prescribing_setting IN ({_sql_list(GP_PRESCRIBING_SETTINGS)}),
                                false) AS is_gp_practice
                FROM t
                """
            )
            work.check(
                "p",
                "coalesce(practice_code, '') = ''",
                "practice_code",
                "column 1 (organisation code) is",
                "an ODS code such as A81001",
            )
            work.check(
                "p",
                "status IS NULL",
                "status_raw",
                "column 13 (status) is",
                "A, C, D, P or ACTIVE, INACTIVE, DORMANT, PROPOSED",
            )
            work.check(
                "p",
                "open_raw IS NOT NULL AND open_date IS NULL",
                "open_raw",
                "column 11 (open date) is",
                "a date as YYYYMMDD",
            )
            work.check(
                "p",
                "close_raw IS NOT NULL AND close_date IS NULL",
                "close_raw",
                "column 12 (close date) is",
                "a date as YYYYMMDD",
            )
            work.check(
                "p",
                f"is_gp_practice AND NOT regexp_full_match(practice_code, '{PRACTICE_CODE}')",
                "practice_code",
                "GP practice code (column 26 prescribing setting 4/RO76) is",
                "a letter and 5 digits, such as A81001",
            )
            duplicate = _first_row(
                work.con,
                f"SELECT practice_code, min({REC}), max({REC}) FROM p GROUP BY practice_code "
                f"HAVING count(*) > 1 ORDER BY 3 LIMIT 1",
            )
            if duplicate is not None:
                work.fail(
                    duplicate[2],
                    f"organisation code {duplicate[0]} appears again (first "
                    f"at {work.locate(duplicate[1])}); expected one line per organisation",
                )
            return work.arrow(
                f"""
                SELECT practice_code, practice_name, region_code, icb_code, sub_icb_code, postcode,
                       open_date, close_date, status, prescribing_setting, is_gp_practice
                FROM p ORDER BY {REC}
                """
            )


# --------------------------------------------------------------------------- PCN membership (ODS)

PCN_HEADER = [
    "Partner Organisation Code", "Partner Name",
    "Practice Parent Sub ICB Location Code", "Practice Parent Sub ICB Location Name",
    "PCN Code", "PCN Name", "PCN Parent Sub ICB Location Code", "PCN Parent Sub ICB Location Name",
    "Practice to PCN Relationship Start Date", "Practice to PCN Relationship End Date",
    "Practice Sub ICB and PCN Sub ICB Match?",
]  # fmt: skip
_PCN_HEADERS = [
    [normalise_header(h) for h in PCN_HEADER],
    # before July 2022 the same file said CCG where it now says Sub ICB Location
    [normalise_header(h).replace("sub icb location", "ccg").replace("sub icb", "ccg") for h in PCN_HEADER],
]
PCN_EXPECTED = (
    "the ODS epcncorepartnerdetails header: "
    + ",".join(PCN_HEADER)
    + " (dates YYYYMMDD, YYYY-MM-DD or Excel dates; end date empty while current)"
)


def _is_pcn_header(cells: list[str]) -> bool:
    return [normalise_header(c) for c in cells] in _PCN_HEADERS


def read_pcn_membership(path: str | Path) -> pa.Table:
    """ODS practice-to-PCN relationships (CSV, or the sheet inside ePCN.xlsx) with dates."""
    path = Path(path)
    if is_xlsx(path):
        sheet = read_xlsx_sheet(path, _is_pcn_header, PCN_EXPECTED)
        return _pcn_rows(path, sheet.table, _sheet_locator(sheet.name))
    with open_text_csv(path) as src:
        if not _is_pcn_header(src.first_record):
            raise ReferenceFileError(
                path,
                f"line 1 is not the expected header ({','.join(src.first_record)[:200]}); expected {PCN_EXPECTED}",
            )
        names = [f"c{i}" for i in range(len(PCN_HEADER))]
        raw = read_csv_strings(src, names, has_header=True, expected=PCN_EXPECTED)
        return _pcn_rows(path, raw, _csv_locator(src, has_header=True))


def _pcn_rows(path: Path, raw: pa.Table, locate: Callable[[int], str]) -> pa.Table:
    with _Work(path, raw, locate) as work:
        work.run(
            f"""
            CREATE TEMP TABLE t AS
            SELECT {REC},
                   upper(trim(c0)) AS practice_code,
                   nullif(trim(c1), '') AS practice_name,
                   nullif(upper(trim(c2)), '') AS practice_sub_icb_code,
                   upper(trim(c4)) AS pcn_code,
                   nullif(trim(c5), '') AS pcn_name,
                   nullif(upper(trim(c6)), '') AS pcn_sub_icb_code,
                   nullif(trim(c8), '') AS start_raw,
                   nullif(trim(c9), '') AS end_raw
            FROM raw
            """
        )
        work.run(
            f"CREATE TEMP TABLE p AS SELECT *, {date_sql('start_raw')} AS start_date, "
            f"{date_sql('end_raw')} AS end_date FROM t"
        )
        work.check(
            "p",
            "coalesce(practice_code, '') = ''",
            "practice_code",
            "Partner Organisation Code is",
            "a practice ODS code such as A81001",
        )
        work.check(
            "p",
            f"NOT regexp_full_match(coalesce(pcn_code, ''), '{PCN_CODE}')",
            "pcn_code",
            "PCN Code is",
            "U and 5 digits, such as U00070",
        )
        work.check(
            "p",
            "start_date IS NULL",
            "start_raw",
            "Practice to PCN Relationship Start Date is",
            "a date as YYYYMMDD, YYYY-MM-DD or an Excel date",
        )
        work.check(
            "p",
            "end_raw IS NOT NULL AND end_date IS NULL",
            "end_raw",
            "Practice to PCN Relationship End Date is",
            "empty (current) or a date as YYYYMMDD, YYYY-MM-DD or an Excel date",
        )
        work.check(
            "p",
            "end_date < start_date",
            "end_raw",
            "the end date is before the start date:",
            "an end date on or after the start date",
        )
        # The same relationship listed twice is one relationship, not an overlap.
        work.run(
            "CREATE TEMP TABLE m AS SELECT * FROM p QUALIFY row_number() OVER "
            f"(PARTITION BY practice_code, pcn_code, start_date, end_date ORDER BY {REC}) = 1"
        )
        overlap = _first_row(
            work.con,
            f"""
            WITH o AS (SELECT *, coalesce(end_date, DATE '9999-12-31') AS end_eff FROM m),
            w AS (
                SELECT *,
                       max(end_eff) OVER before AS prev_end,
                       arg_max(pcn_code, end_eff) OVER before AS prev_pcn,
                       arg_max(start_date, end_eff) OVER before AS prev_start,
                       arg_max(end_date, end_eff) OVER before AS prev_end_date,
                       arg_max({REC}, end_eff) OVER before AS prev_rec
                FROM o
                WINDOW before AS (PARTITION BY practice_code ORDER BY start_date, end_eff, {REC}
                                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
            )
            SELECT practice_code, prev_pcn, prev_start, prev_end_date, prev_rec,
                   pcn_code, start_date, end_date, {REC}
            FROM w WHERE start_date < prev_end ORDER BY {REC} LIMIT 1
            """,
        )
        if overlap is not None:
            practice, pcn_a, start_a, end_a, rec_a, pcn_b, start_b, end_b, rec_b = overlap
            work.fail(
                rec_b,
                f"practice {practice} is in two PCNs at once: {pcn_a} from {start_a} to "
                f"{end_a or 'now'} ({work.locate(rec_a)}) and {pcn_b} from {start_b} to "
                f"{end_b or 'now'}; expected one PCN at a time (ranges may touch, not overlap)",
            )
        return work.arrow(
            """
            SELECT practice_code, practice_name, practice_sub_icb_code, pcn_code, pcn_name,
                   pcn_sub_icb_code, start_date, end_date
            FROM m ORDER BY practice_code, start_date
            """
        )


# ---------------------------------------------------------------------- list sizes (NHS Digital)

LIST_SIZE_HEADER = [
    "PUBLICATION", "EXTRACT_DATE", "TYPE", "SUB_ICB_LOCATION_CODE", "ONS_SUB_ICB_LOCATION_CODE",
    "CODE", "POSTCODE", "SEX", "AGE", "NUMBER_OF_PATIENTS",
]  # fmt: skip
LIST_SIZE_HEADER_PRE_2022 = [
    "PUBLICATION", "EXTRACT_DATE", "TYPE", "CCG_CODE", "ONS_CCG_CODE",
    "CODE", "POSTCODE", "SEX", "AGE", "NUMBER_OF_PATIENTS",
]  # fmt: skip
LIST_SIZE_EXPECTED = (
    "the NHS Digital 'Patients Registered at a GP Practice' header, either "
    + ",".join(LIST_SIZE_HEADER)
    + " (since 2022) or "
    + ",".join(LIST_SIZE_HEADER_PRE_2022)
    + " (before 2022)"
)
_EXTRACT_DATE_SQL = (
    "CASE WHEN regexp_full_match(extract_raw, '[0-9]{4}-[0-9]{2}-[0-9]{2}') "
    "THEN try_strptime(extract_raw, '%Y-%m-%d')::DATE "
    "WHEN regexp_full_match(extract_raw, '[0-9]{2}[A-Za-z]{3}[0-9]{4}') "
    "THEN try_strptime(extract_raw, '%d%b%Y')::DATE END"
)


def read_list_sizes(path: str | Path) -> pa.Table:
    """Registered patients per practice (TYPE=GP rows), total or by sex and age band."""
    path = Path(path)
    with open_text_csv(path) as src:
        header = [h.strip().upper() for h in src.first_record]
        if header not in (LIST_SIZE_HEADER, LIST_SIZE_HEADER_PRE_2022):
            raise ReferenceFileError(
                path,
                f"unknown header {','.join(src.first_record)[:200]!r}; expected {LIST_SIZE_EXPECTED}",
            )
        names = ["publication", "extract_raw", "type", "sub_icb", "ons_sub_icb", "code",
                 "postcode", "sex", "age", "patients"]  # fmt: skip
        raw = read_csv_strings(src, names, has_header=True, expected=LIST_SIZE_EXPECTED)
        with _Work(path, raw, _csv_locator(src, has_header=True)) as work:
            work.run(
                f"""
                CREATE TEMP TABLE t AS
                SELECT {REC}, trim(extract_raw) AS extract_raw,
                       upper(trim(code)) AS practice_code,
                       nullif(upper(trim(sub_icb)), '') AS sub_icb_code,
                       upper(trim(sex)) AS sex, upper(trim(age)) AS age_band,
                       trim(patients) AS patients_raw
                FROM raw WHERE upper(trim(type)) = 'GP'
                """
            )
            if _first_row(work.con, "SELECT count(*) FROM t") == (0,):
                raise ReferenceFileError(
                    path,
                    "no rows with TYPE = GP; expected a practice-level file such as "
                    "gp-reg-pat-prac-all.csv or gp-reg-pat-prac-quin-age.csv",
                )
            work.run(f"CREATE TEMP TABLE p AS SELECT *, {_EXTRACT_DATE_SQL} AS extract_date FROM t")
            work.check(
                "p",
                "extract_date IS NULL",
                "extract_raw",
                "EXTRACT_DATE is",
                "a date such as 2026-04-01 (or 01JAN2021 before 2022)",
            )
            work.check(
                "p",
                f"NOT regexp_full_match(coalesce(practice_code, ''), '{PRACTICE_CODE}')",
                "practice_code",
                "CODE is",
                "a GP practice code such as A81001",
            )
            work.check(
                "p",
                "coalesce(sex, '') NOT IN ('ALL', 'MALE', 'FEMALE')",
                "sex",
                "SEX is",
                "ALL, MALE or FEMALE",
            )
            work.check(
                "p",
                "NOT regexp_full_match(coalesce(age_band, ''), 'ALL|[0-9]+|[0-9]+_[0-9]+|[0-9]+\\+')",
                "age_band",
                "AGE is",
                "ALL, a single year (0 … 95+) or a band such as 0_4, 95+",
            )
            work.check(
                "p",
                "NOT regexp_full_match(coalesce(patients_raw, ''), '[0-9]+')",
                "patients_raw",
                "NUMBER_OF_PATIENTS is",
                "a whole number",
            )
            return work.arrow(
                f"""
                SELECT extract_date, practice_code, sub_icb_code, sex, age_band,
                       CAST(patients_raw AS BIGINT) AS patients
                FROM p ORDER BY {REC}
                """
            )


# --------------------------------------------------------------------------- IMD (MHCLG)

_IMD_PATTERNS = {
    "lsoa_code": r"lsoa code \((2011|2021)\)",
    "lsoa_name": r"lsoa name \((2011|2021)\)",
    "lad_code": r"local authority district code \((2019|2024)\)",
    "imd_score": r"index of multiple deprivation \(imd\) score",
    "imd_rank": r"index of multiple deprivation \(imd\) rank( \(where 1 is most deprived\))?",
    "imd_decile": (
        r"index of multiple deprivation \(imd\) decile"
        r"( \(where 1 is most deprived 10% of lsoas\))?"
    ),
}
_IMD_REQUIRED = ("lsoa_code", "lsoa_name", "lad_code", "imd_rank", "imd_decile")
_EDITIONS = {"2011": "2019", "2021": "2025"}  # LSOA boundaries → IoD edition
IMD_EXPECTED = (
    "English Indices of Deprivation columns 'LSOA code (2011)' or 'LSOA code (2021)', "
    "'LSOA name (…)', 'Local Authority District code (2019)' or '(2024)', optionally "
    "'Index of Multiple Deprivation (IMD) Score', and 'Index of Multiple Deprivation (IMD) Rank "
    "(where 1 is most deprived)' and '… (IMD) Decile (where 1 is most deprived 10% of LSOAs)' "
    "(or the File 1 short forms '… (IMD) Rank', '… (IMD) Decile')"
)


def _imd_columns(header: list[str]) -> dict[str, tuple[int, re.Match[str]]]:
    found: dict[str, tuple[int, re.Match[str]]] = {}
    for index, cell in enumerate(header):
        text = normalise_header(cell)
        for key, pattern in _IMD_PATTERNS.items():
            match = re.fullmatch(pattern, text)
            if match and key not in found:
                found[key] = (index, match)
    return found


def _is_imd_header(cells: list[str]) -> bool:
    return all(key in _imd_columns(cells) for key in _IMD_REQUIRED)


def read_imd(path: str | Path) -> pa.Table:
    """IMD score, rank, decile and quintile per LSOA, from IoD2019 or IoD2025 CSV or XLSX."""
    path = Path(path)
    if is_xlsx(path):
        sheet = read_xlsx_sheet(path, _is_imd_header, IMD_EXPECTED)
        return _imd_rows(path, sheet.header, sheet.table, _sheet_locator(sheet.name))
    with open_text_csv(path) as src:
        header = src.first_record
        if not _is_imd_header(header):
            missing = [k for k in _IMD_REQUIRED if k not in _imd_columns(header)]
            raise ReferenceFileError(
                path, f"line 1 lacks the columns for {', '.join(missing)}; expected {IMD_EXPECTED}"
            )
        names = [f"c{i}" for i in range(len(header))]
        raw = read_csv_strings(src, names, has_header=True, expected=IMD_EXPECTED)
        return _imd_rows(path, header, raw, _csv_locator(src, has_header=True))


def _imd_rows(path: Path, header: list[str], raw: pa.Table, locate: Callable[[int], str]) -> pa.Table:
    columns = _imd_columns(header)
    lsoa_year = columns["lsoa_code"][1].group(1)
    edition = _EDITIONS[lsoa_year]

    def col(key: str) -> str:
        return f"c{columns[key][0]}" if key in columns else "NULL::VARCHAR"

    with _Work(path, raw, locate) as work:
        work.run(
            f"""
            CREATE TEMP TABLE t AS
            SELECT {REC},
                   upper(trim({col("lsoa_code")})) AS lsoa_code,
                   nullif(trim({col("lsoa_name")}), '') AS lsoa_name,
                   nullif(upper(trim({col("lad_code")})), '') AS lad_code,
                   nullif(replace(trim({col("imd_score")}), ',', ''), '') AS score_raw,
                   replace(trim({col("imd_rank")}), ',', '') AS rank_raw,
                   trim({col("imd_decile")}) AS decile_raw
            FROM raw
            """
        )
        work.check(
            "t",
            f"NOT regexp_full_match(coalesce(lsoa_code, ''), '{LSOA_CODE}')",
            "lsoa_code",
            f"LSOA code ({lsoa_year}) is",
            "E01 and 6 digits",
        )
        work.check(
            "t",
            "score_raw IS NOT NULL AND try_cast(score_raw AS DOUBLE) IS NULL",
            "score_raw",
            "IMD score is",
            "a number",
        )
        work.check(
            "t",
            "NOT regexp_full_match(coalesce(rank_raw, ''), '[1-9][0-9]*')",
            "rank_raw",
            "IMD rank is",
            "a whole number from 1 (most deprived)",
        )
        work.check(
            "t",
            "NOT regexp_full_match(coalesce(decile_raw, ''), '[1-9]|10')",
            "decile_raw",
            "IMD decile is",
            "a whole number from 1 to 10",
        )
        duplicate = _first_row(
            work.con,
            f"SELECT lsoa_code, min({REC}), max({REC}) FROM t GROUP BY lsoa_code "
            "HAVING count(*) > 1 ORDER BY 3 LIMIT 1",
        )
        if duplicate is not None:
            work.fail(
                duplicate[2],
                f"LSOA {duplicate[0]} appears again (first at {work.locate(duplicate[1])}); expected one row per LSOA",
            )
        return work.arrow(
            f"""
            SELECT lsoa_code, lsoa_name, lad_code,
                   CAST(score_raw AS DOUBLE) AS imd_score,
                   CAST(rank_raw AS INTEGER) AS imd_rank,
                   CAST(decile_raw AS INTEGER) AS imd_decile,
                   CAST(ceil(CAST(decile_raw AS INTEGER) / 2) AS INTEGER) AS imd_quintile,
                   '{edition}' AS imd_edition
            FROM t ORDER BY {REC}
            """
        )


# --------------------------------------------------------------------------- providers (ours)

PROVIDERS_HEADER = ["provider_code", "provider_name", "icb_code", "pcn_codes"]
PROVIDERS_EXPECTED = "the header provider_code,provider_name,icb_code,pcn_codes (pcn_codes separated by ';')"


class ProviderTables(NamedTuple):
    """Link-worker providers, and the PCNs each one serves."""

    providers: pa.Table
    provider_pcns: pa.Table


def read_providers(path: str | Path) -> ProviderTables:
    """The project's providers.csv: providers and, one row per PCN served, provider_pcns."""
    path = Path(path)
    with open_text_csv(path) as src:
        if [normalise_header(h) for h in src.first_record] != PROVIDERS_HEADER:
            raise ReferenceFileError(
                path,
                f"line 1 is {','.join(src.first_record)[:200]!r}; expected {PROVIDERS_EXPECTED}",
            )
        raw = read_csv_strings(src, PROVIDERS_HEADER, has_header=True, expected=PROVIDERS_EXPECTED)
        with _Work(path, raw, _csv_locator(src, has_header=True)) as work:
            work.run(
                f"""
                CREATE TEMP TABLE t AS
                SELECT {REC}, upper(trim(provider_code)) AS provider_code,
                       nullif(trim(provider_name), '') AS provider_name,
                       upper(trim(icb_code)) AS icb_code, coalesce(pcn_codes, '') AS pcn_codes
                FROM raw
                """
            )
            work.check(
                "t",
                f"NOT regexp_full_match(coalesce(provider_code, ''), '{PROVIDER_CODE}')",
                "provider_code",
                "provider_code is",
                "3 to 6 letters or digits",
            )
            work.check(
                "t",
                "provider_name IS NULL",
                "provider_name",
                "provider_name is",
                "the provider's name",
            )
            work.check(
                "t",
                f"NOT regexp_full_match(coalesce(icb_code, ''), '{ICB_CODE}')",
                "icb_code",
                "icb_code is",
                "Q and 2 letters or digits, such as QHM",
            )
            duplicate = _first_row(
                work.con,
                f"SELECT provider_code, min({REC}), max({REC}) FROM t GROUP BY provider_code "
                "HAVING count(*) > 1 ORDER BY 3 LIMIT 1",
            )
            if duplicate is not None:
                work.fail(
                    duplicate[2],
                    f"provider {duplicate[0]} appears again (first at "
                    f"{work.locate(duplicate[1])}); expected one row per provider",
                )
            work.run(
                f"""
                CREATE TEMP TABLE pp AS
                SELECT {REC}, provider_code, upper(trim(code)) AS pcn_code
                FROM (SELECT {REC}, provider_code, unnest(string_split(pcn_codes, ';')) AS code
                      FROM t)
                WHERE trim(code) <> ''
                """
            )
            work.check(
                "pp",
                f"NOT regexp_full_match(pcn_code, '{PCN_CODE}')",
                "pcn_code",
                "a PCN code in pcn_codes is",
                "U and 5 digits, such as U00070",
            )
            providers = work.arrow(f"SELECT provider_code, provider_name, icb_code FROM t ORDER BY {REC}")
            provider_pcns = work.arrow(f"SELECT provider_code, pcn_code FROM pp GROUP BY ALL ORDER BY min({REC}), 2")
            return ProviderTables(providers, provider_pcns)


# --------------------------------------------------------------------------- SNOMED codelist seed

SNOMED_EXPECTED = "a header with columns code and term, optionally sp_specific (other columns are ignored)"


def read_snomed_codelist(path: str | Path) -> pa.Table:
    """The project's SNOMED CT social prescribing codelist seed: code, term, sp_specific.

    Only code and term are required: the seed's other columns belong to dbt, and sp_specific is
    NULL when the seed does not carry it.
    """
    path = Path(path)
    with open_text_csv(path) as src:
        header = [normalise_header(h) for h in src.first_record]
        if not {"code", "term"} <= set(header) or len(set(header)) != len(header):
            raise ReferenceFileError(
                path,
                f"line 1 is {','.join(src.first_record)[:200]!r}; expected {SNOMED_EXPECTED}",
            )
        names = [f"c{i}" for i in range(len(header))]
        raw = read_csv_strings(src, names, has_header=True, expected=SNOMED_EXPECTED)
        code, term = (f"c{header.index(k)}" for k in ("code", "term"))
        specific = f"c{header.index('sp_specific')}" if "sp_specific" in header else "NULL"
        with _Work(path, raw, _csv_locator(src, has_header=True)) as work:
            work.run(
                f"CREATE TEMP TABLE t AS SELECT {REC}, trim({code}) AS code, "
                f"nullif(trim({term}), '') AS term, "
                f"nullif(lower(trim({specific})), '') AS sp_specific FROM raw"
            )
            work.check(
                "t",
                "NOT regexp_full_match(coalesce(code, ''), '[1-9][0-9]{5,17}')",
                "code",
                "code is",
                "a SNOMED CT identifier (6 to 18 digits)",
            )
            work.check("t", "term IS NULL", "term", "term is", "the concept's term")
            duplicate = _first_row(
                work.con,
                f"SELECT code, min({REC}), max({REC}) FROM t GROUP BY code HAVING count(*) > 1 ORDER BY 3 LIMIT 1",
            )
            if duplicate is not None:
                work.fail(
                    duplicate[2],
                    f"code {duplicate[0]} appears again (first at {work.locate(duplicate[1])}); "
                    "expected one row per code",
                )
            return work.arrow(f"SELECT code, term, sp_specific FROM t ORDER BY {REC}")


# --------------------------------------------------------------------------- folder loader

REQUIRED_KINDS = {
    "practices": "epraccur.csv (ODS)",
    "pcn_membership": "epcncorepartnerdetails.csv or ePCN.xlsx (ODS; a name containing 'epcn')",
    "list_sizes": (
        "gp-reg-pat-prac-all.csv and/or gp-reg-pat-prac-quin-age.csv, gp-reg-pat-prac-sing-age-*.csv (NHS Digital)"
    ),
}
_SINGLE_KINDS = ("practices", "pcn_membership", "providers")

TABLE_DDL = {
    "practices": (
        "practice_code VARCHAR PRIMARY KEY, practice_name VARCHAR, region_code VARCHAR, "
        "icb_code VARCHAR, sub_icb_code VARCHAR, postcode VARCHAR, open_date DATE, "
        "close_date DATE, status VARCHAR NOT NULL, prescribing_setting VARCHAR, "
        "is_gp_practice BOOLEAN NOT NULL"
    ),
    "pcn_membership": (
        "practice_code VARCHAR NOT NULL, practice_name VARCHAR, practice_sub_icb_code VARCHAR, "
        "pcn_code VARCHAR NOT NULL, pcn_name VARCHAR, pcn_sub_icb_code VARCHAR, "
        "start_date DATE NOT NULL, end_date DATE"
    ),
    "pcns": "pcn_code VARCHAR PRIMARY KEY, pcn_name VARCHAR, sub_icb_code VARCHAR",
    "list_sizes": (
        "extract_date DATE NOT NULL, practice_code VARCHAR NOT NULL, sub_icb_code VARCHAR, "
        "sex VARCHAR NOT NULL, age_band VARCHAR NOT NULL, patients BIGINT NOT NULL"
    ),
    "lsoa_imd": (
        "lsoa_code VARCHAR NOT NULL, lsoa_name VARCHAR, lad_code VARCHAR, imd_score DOUBLE, "
        "imd_rank INTEGER NOT NULL, imd_decile INTEGER NOT NULL, imd_quintile INTEGER NOT NULL, "
        "imd_edition VARCHAR NOT NULL, PRIMARY KEY (imd_edition, lsoa_code)"
    ),
    "providers": ("provider_code VARCHAR PRIMARY KEY, provider_name VARCHAR NOT NULL, icb_code VARCHAR"),
    "provider_pcns": (
        "provider_code VARCHAR NOT NULL, pcn_code VARCHAR NOT NULL, PRIMARY KEY (provider_code, pcn_code)"
    ),
    "snomed_codelist": "code VARCHAR PRIMARY KEY, term VARCHAR NOT NULL, sp_specific VARCHAR",
    "practice_hierarchy": (
        "practice_code VARCHAR PRIMARY KEY, practice_name VARCHAR, sub_icb_code VARCHAR, "
        "icb_code VARCHAR, region_code VARCHAR"
    ),
    "reference_files": (
        "file_name VARCHAR NOT NULL, sha256 VARCHAR NOT NULL, kind VARCHAR NOT NULL, "
        "rows BIGINT NOT NULL, loaded_at TIMESTAMP NOT NULL"
    ),
}


class LoadResult(dict[str, int]):
    """Row counts per table (keys like 'ref.practices'); `unrecognised` lists skipped files."""

    def __init__(self, counts: dict[str, int], unrecognised: list[Path]) -> None:
        super().__init__(counts)
        self.unrecognised = unrecognised


def classify(path: Path) -> str | None:
    """The kind of reference file, recognised by its published name (None when unrecognised)."""
    name, suffix = path.name.lower(), path.suffix.lower()
    if name.startswith("epraccur") and suffix == ".csv":
        return "practices"
    if "epcn" in name and suffix in (".csv", ".xlsx"):
        return "pcn_membership"
    if name.startswith("gp-reg-pat-prac") and suffix == ".csv":
        return "list_sizes"
    if name.startswith("providers") and suffix == ".csv":
        return "providers"
    if suffix in (".csv", ".xlsx") and (
        name.startswith("imd") or re.search(r"(^|[^a-z])iod", name) or re.search(r"file_[17](?![0-9])", name)
    ):
        return "imd"
    return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _with_file_index(tables: list[pa.Table]) -> pa.Table:
    parts = [t.append_column("_file", pa.array(np.full(t.num_rows, i, dtype=np.int64))) for i, t in enumerate(tables)]
    return pa.concat_tables(parts)


def _combine_list_sizes(tables: list[pa.Table], paths: list[Path]) -> pa.Table:
    """All list-size files as one table; a row given by two files is kept once (first file wins)."""
    con = duckdb.connect()
    try:
        con.register("ls", _with_file_index(tables))
        conflicts = _first_row(
            con,
            "SELECT count(*) FROM (SELECT 1 FROM ls GROUP BY extract_date, practice_code, sex, "
            "age_band HAVING count(DISTINCT patients) > 1)",
        )
        if conflicts and conflicts[0]:
            log.warning(
                "%d practice/sex/age rows have different patient counts in different list-size "
                "files; kept the value from the first file by name (%s)",
                conflicts[0],
                ", ".join(p.name for p in paths),
            )
        return con.sql(
            "SELECT extract_date, practice_code, sub_icb_code, sex, age_band, patients FROM ls "
            "QUALIFY row_number() OVER (PARTITION BY extract_date, practice_code, sex, age_band "
            "ORDER BY _file) = 1"
        ).to_arrow_table()
    finally:
        con.close()


def _combine_imd(tables: list[pa.Table], paths: list[Path]) -> pa.Table:
    """IMD files of both editions together; one LSOA twice in an edition must agree."""
    con = duckdb.connect()
    try:
        con.register("imd", _with_file_index(tables))
        clash = _first_row(
            con,
            "SELECT imd_edition, lsoa_code, min(_file), max(_file) FROM imd "
            "GROUP BY imd_edition, lsoa_code "
            "HAVING count(DISTINCT (imd_rank, imd_decile)) > 1 LIMIT 1",
        )
        if clash is not None:
            raise ReferenceFileError(
                paths[clash[3]],
                f"IoD{clash[0]} LSOA {clash[1]} has a different rank or decile in "
                f"{paths[clash[2]].name}; expected one IMD file per edition (or files that agree)",
            )
        return con.sql(
            "SELECT * EXCLUDE (_file) FROM imd QUALIFY row_number() OVER (PARTITION BY "
            "imd_edition, lsoa_code ORDER BY imd_score IS NULL, _file) = 1"
        ).to_arrow_table()
    finally:
        con.close()


def _empty(kind: str) -> pa.Table:
    con = duckdb.connect()
    try:
        con.execute(f"CREATE TABLE e ({TABLE_DDL[kind]})")
        return con.sql("SELECT * FROM e").to_arrow_table()
    finally:
        con.close()


def load_reference_folder(
    con: duckdb.DuckDBPyConnection, folder: Path, *, snomed_codelist: Path | None = None
) -> LoadResult:
    """Read every recognised file in `folder`, then replace the `ref` tables in one transaction.

    Files are read and checked before the transaction starts, so a bad file leaves `ref` as it
    was and the write lock is held only for the inserts. The folder is the whole truth: an
    optional file (IMD, providers) that is absent leaves its tables empty. `snomed_codelist`
    defaults to the project's dbt seed; when that file does not exist the codelist is left as is.
    Call outside an open transaction.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ReferenceFileError(folder, "is not a folder; expected the reference data folder")
    found: dict[str, list[Path]] = {}
    unrecognised: list[Path] = []
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if path.name.startswith((".", "~$")):
            continue  # hidden files and Office lock files are never reference data
        kind = classify(path) if path.is_file() else None
        if kind is None:
            unrecognised.append(path)
        else:
            found.setdefault(kind, []).append(path)
    for path in unrecognised:
        log.warning("%s: not a recognised reference file name; not loaded", path)
    missing = [kind for kind in REQUIRED_KINDS if kind not in found]
    if missing:
        wanted = "; ".join(f"{kind}: {REQUIRED_KINDS[kind]}" for kind in missing)
        others = ", ".join(p.name for p in unrecognised) or "none"
        raise ReferenceFileError(folder, f"missing required reference files — {wanted} (unrecognised files: {others})")
    for kind in _SINGLE_KINDS:
        if len(found.get(kind, [])) > 1:
            names = ", ".join(p.name for p in found[kind])
            raise ReferenceFileError(folder, f"more than one {kind} file ({names}); keep one")

    loaded: list[tuple[Path, str, int]] = []
    tables: dict[str, pa.Table] = {}

    def note(path: Path, kind: str, table: pa.Table) -> pa.Table:
        loaded.append((path, kind, table.num_rows))
        return table

    tables["practices"] = note(found["practices"][0], "practices", read_epraccur(found["practices"][0]))
    tables["pcn_membership"] = note(
        found["pcn_membership"][0],
        "pcn_membership",
        read_pcn_membership(found["pcn_membership"][0]),
    )
    sizes = [note(p, "list_sizes", read_list_sizes(p)) for p in found["list_sizes"]]
    tables["list_sizes"] = _combine_list_sizes(sizes, found["list_sizes"])
    if "imd" in found:
        imd = [note(p, "imd", read_imd(p)) for p in found["imd"]]
        tables["lsoa_imd"] = _combine_imd(imd, found["imd"])
    else:
        log.warning("%s: no IMD file (imd*, *IoD*, File_1*, File_7*): ref.lsoa_imd is empty", folder)
        tables["lsoa_imd"] = _empty("lsoa_imd")
    if "providers" in found:
        path = found["providers"][0]
        providers = read_providers(path)
        tables["providers"] = note(path, "providers", providers.providers)
        tables["provider_pcns"] = providers.provider_pcns
    else:
        log.warning("%s: no providers*.csv: ref.providers is empty", folder)
        tables["providers"], tables["provider_pcns"] = _empty("providers"), _empty("provider_pcns")
    snomed_path = DEFAULT_SNOMED_CODELIST if snomed_codelist is None else Path(snomed_codelist)
    if snomed_path.is_file():
        tables["snomed_codelist"] = note(snomed_path, "snomed_codelist", read_snomed_codelist(snomed_path))
    else:
        log.info("%s does not exist yet: ref.snomed_codelist left as it is", snomed_path)

    loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    files = pa.table({
        "file_name": [p.name for p, _, _ in loaded],
        "sha256": [_sha256(p) for p, _, _ in loaded],
        "kind": [k for _, k, _ in loaded],
        "rows": pa.array([n for _, _, n in loaded], type=pa.int64()),
        "loaded_at": pa.array([loaded_at] * len(loaded), type=pa.timestamp("us")),
    })  # fmt: skip
    tables["reference_files"] = files
    counts = _replace_ref_tables(con, tables)
    _warn_inconsistencies(con)
    return LoadResult(counts, unrecognised)


def _replace_ref_tables(con: duckdb.DuckDBPyConnection, tables: dict[str, pa.Table]) -> dict[str, int]:
    """Replace every given table and the derived ones atomically: all or nothing."""
    derived = {
        "pcns": """
            SELECT pcn_code, pcn_name, pcn_sub_icb_code FROM ref.pcn_membership
            QUALIFY row_number() OVER (PARTITION BY pcn_code ORDER BY
                coalesce(end_date, DATE '9999-12-31') DESC, start_date DESC, practice_code) = 1
            """,
        "practice_hierarchy": """
            SELECT practice_code, practice_name, sub_icb_code, icb_code, region_code
            FROM ref.practices
            """,
    }
    counts: dict[str, int] = {}
    con.execute("BEGIN TRANSACTION")  # outside the try: a failed BEGIN has nothing to roll back
    try:
        con.execute("CREATE SCHEMA IF NOT EXISTS ref")
        for name, table in tables.items():
            view = f"_sprx_ref_{name}"
            con.execute(f"CREATE OR REPLACE TABLE ref.{name} ({TABLE_DDL[name]})")
            con.register(view, table)
            try:
                con.execute(f"INSERT INTO ref.{name} BY NAME SELECT * FROM {view}")
            finally:
                con.unregister(view)
        for name, sql in derived.items():
            con.execute(f"CREATE OR REPLACE TABLE ref.{name} ({TABLE_DDL[name]})")
            con.execute(f"INSERT INTO ref.{name} {sql}")
        for name in [*tables, *derived]:
            row = _first_row(con, f"SELECT count(*) FROM ref.{name}")
            counts[f"ref.{name}"] = int(row[0]) if row else 0
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return counts


def _warn_inconsistencies(con: duckdb.DuckDBPyConnection) -> None:
    """Cross-file gaps are normal between publication dates, so they are logged, not fatal."""
    checks = {
        "PCN member practices not in epraccur": (
            "SELECT count(DISTINCT practice_code) FROM ref.pcn_membership "
            "WHERE practice_code NOT IN (SELECT practice_code FROM ref.practices)"
        ),
        "list-size practices not in epraccur": (
            "SELECT count(DISTINCT practice_code) FROM ref.list_sizes "
            "WHERE practice_code NOT IN (SELECT practice_code FROM ref.practices)"
        ),
        "provider PCNs not in the PCN membership file": (
            "SELECT count(DISTINCT pcn_code) FROM ref.provider_pcns "
            "WHERE pcn_code NOT IN (SELECT pcn_code FROM ref.pcns)"
        ),
    }
    for label, sql in checks.items():
        row = _first_row(con, sql)
        if row and row[0]:
            log.warning("reference data: %d %s", row[0], label)
