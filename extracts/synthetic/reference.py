"""Synthetic reference data in the official NHS file formats (DOMAIN.md), plus providers.csv.

The loader reads real ODS / NHS Digital / MHCLG files as published, so the demo's reference
files copy those shapes exactly: epraccur without a header and every field quoted, the PCN
membership file with its header, registered-patient counts with the current SUB_ICB header.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path

from .organisations import ICB_START, England, Practice
from .periods import Window

PCN_MEMBERSHIP_HEADER = (
    "Partner Organisation Code",
    "Partner Name",
    "Practice Parent Sub ICB Location Code",
    "Practice Parent Sub ICB Location Name",
    "PCN Code",
    "PCN Name",
    "PCN Parent Sub ICB Location Code",
    "PCN Parent Sub ICB Location Name",
    "Practice to PCN Relationship Start Date",
    "Practice to PCN Relationship End Date",
    "Practice Sub ICB and PCN Sub ICB Match?",
)
GP_REG_HEADER = (
    "PUBLICATION",
    "EXTRACT_DATE",
    "TYPE",
    "SUB_ICB_LOCATION_CODE",
    "ONS_SUB_ICB_LOCATION_CODE",
    "CODE",
    "POSTCODE",
    "SEX",
    "AGE",
    "NUMBER_OF_PATIENTS",
)
GP_REG_PUBLICATION = "GP_PRAC_PAT_LIST"  # the PUBLICATION value NHS Digital's files carry
IMD_HEADER = (
    "LSOA code (2011)",
    "LSOA name (2011)",
    "Local Authority District code (2019)",
    "Local Authority District name (2019)",
    "Index of Multiple Deprivation (IMD) Score",
    "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)",
    "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)",
)
PROVIDERS_HEADER = ("provider_code", "provider_name", "icb_code", "pcn_codes")


def _ods_date(ordinal: int | None) -> str:
    return "" if ordinal is None else date.fromordinal(ordinal).strftime("%Y%m%d")


def _write(
    path: Path,
    rows: Iterable[Sequence[object]],
    header: Sequence[str] | None = None,
    quote_all: bool = False,
    official: bool = True,
) -> None:
    """Official files use CRLF line ends (as the ODS sample does); the project's own use LF."""
    quoting = csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, quoting=quoting, lineterminator="\r\n" if official else "\n")
        if header:
            writer.writerow(header)
        writer.writerows(rows)


def _epraccur_row(p: Practice) -> list[str]:
    joined = ICB_START if p.closed is None or p.closed > ICB_START else date(2013, 4, 1).toordinal()
    return [
        p.code,
        p.name,
        p.icb.region_code,
        p.icb.code,
        *p.address,
        p.postcode,
        _ods_date(p.opened),
        _ods_date(p.closed),
        "A" if p.closed is None else "C",
        "B",
        p.sub_icb.code,
        _ods_date(max(joined, p.opened)),
        _ods_date(p.closed),
        p.phone,
        "",
        "",
        "",
        "0",
        "",
        p.sub_icb.code,
        "",
        "4",
        "",
    ]


def write_reference(england: England, window: Window, out: Path) -> list[Path]:
    """Write every reference file; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    everyone = sorted(england.practices + england.closed_practices, key=lambda p: p.code)
    paths: list[Path] = []

    path = out / "epraccur.csv"
    _write(path, (_epraccur_row(p) for p in everyone), quote_all=True)
    paths.append(path)

    path = out / "epcncorepartnerdetails.csv"
    rows = []
    for p in everyone:
        for m in p.memberships:
            rows.append(
                [
                    p.code,
                    p.name,
                    p.sub_icb.code,
                    p.sub_icb.name.upper(),
                    m.pcn.code,
                    m.pcn.name,
                    m.pcn.sub_icb.code,
                    m.pcn.sub_icb.name.upper(),
                    _ods_date(m.start),
                    _ods_date(m.end),
                    "TRUE" if p.sub_icb.code == m.pcn.sub_icb.code else "FALSE",
                ]
            )
    _write(path, rows, PCN_MEMBERSHIP_HEADER)
    paths.append(path)

    extract_date = date.fromordinal(window.months[-1].start).isoformat()
    open_practices = sorted(england.practices, key=lambda p: p.code)

    def reg_row(p: Practice, sex: str, age: str, n: int) -> list[object]:
        return [
            GP_REG_PUBLICATION,
            extract_date,
            "GP",
            p.sub_icb.code,
            p.sub_icb.ons_code,
            p.code,
            p.postcode,
            sex,
            age,
            n,
        ]

    path = out / "gp-reg-pat-prac-all.csv"
    _write(path, (reg_row(p, "ALL", "ALL", p.list_size) for p in open_practices), GP_REG_HEADER)
    paths.append(path)

    def quin_age_rows() -> Iterable[list[object]]:
        for p in open_practices:
            for sex, column in (("MALE", 1), ("FEMALE", 2)):
                for band in p.age_sex:
                    yield reg_row(p, sex, band[0], band[column])

    path = out / "gp-reg-pat-prac-quin-age.csv"
    _write(path, quin_age_rows(), GP_REG_HEADER)
    paths.append(path)

    path = out / "providers.csv"
    _write(
        path,
        (
            [pr.code, pr.name, pr.icb.code, ";".join(pcn.code for pcn in pr.pcns)]
            for pr in sorted(england.providers, key=lambda pr: pr.code)
        ),
        PROVIDERS_HEADER,
        official=False,
    )
    paths.append(path)

    path = out / "imd2019.csv"
    _write(
        path,
        (
            [
                lsoa.code,
                lsoa.name,
                lsoa.lad_code,
                lsoa.lad_name,
                f"{lsoa.score:.3f}",
                lsoa.rank,
                lsoa.decile,
            ]
            for lsoa in sorted(england.lsoas, key=lambda a: a.code)
        ),
        IMD_HEADER,
    )
    paths.append(path)
    return paths
