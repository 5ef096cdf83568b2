"""Reference-data readers and the `ref` loader: the real ODS sample and small synthetic files."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from pathlib import Path

import duckdb
import openpyxl
import pytest

from orchestration.reference import (
    ReferenceFileError,
    classify,
    load_reference_folder,
    read_epraccur,
    read_imd,
    read_list_sizes,
    read_pcn_membership,
    read_providers,
    read_snomed_codelist,
)

SHARED_REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
REAL_EPRACCUR = SHARED_REFERENCE / "epraccur.csv"


# --------------------------------------------------------------------------- file builders


def epraccur_line(
    code: str,
    name: str = "TEST SURGERY",
    *,
    status: str = "A",
    setting: str = "4",
    open_date: str = "19740401",
    close_date: str = "",
    region: str = "Y63",
    icb: str = "Q74",
    sub_icb: str = "00K",
) -> str:
    fields = [""] * 27
    fields[0], fields[1], fields[2], fields[3] = code, name, region, icb
    fields[4], fields[9], fields[10], fields[11] = (
        "1 HIGH STREET",
        "TS18 1HU",
        open_date,
        close_date,
    )
    fields[12], fields[13], fields[14], fields[15] = status, "B", sub_icb, "20130401"
    fields[21], fields[23], fields[25] = "0", sub_icb, setting
    return ",".join(f'"{f}"' for f in fields)


def write_lines(path: Path, lines: list[str], newline: str = "\r\n") -> Path:
    path.write_text(newline.join(lines) + newline, encoding="utf-8", newline="")
    return path


PCN_HEADER = (
    "Partner Organisation Code,Partner Name,Practice Parent Sub ICB Location Code,"
    "Practice Parent Sub ICB Location Name,PCN Code,PCN Name,PCN Parent Sub ICB Location Code,"
    "PCN Parent Sub ICB Location Name,Practice to PCN Relationship Start Date,"
    "Practice to PCN Relationship End Date,Practice Sub ICB and PCN Sub ICB Match?"
)


def pcn_row(practice: str, pcn: str, start: str, end: str = "", pcn_name: str = "") -> str:
    name = pcn_name or f"PCN {pcn}"
    return f"{practice},SURGERY {practice},00K,NHS TEES,{pcn},{name},00K,NHS TEES,{start},{end},TRUE"


LIST_HEADER = (
    "PUBLICATION,EXTRACT_DATE,TYPE,SUB_ICB_LOCATION_CODE,ONS_SUB_ICB_LOCATION_CODE,CODE,"
    "POSTCODE,SEX,AGE,NUMBER_OF_PATIENTS"
)
LIST_HEADER_OLD = "PUBLICATION,EXTRACT_DATE,TYPE,CCG_CODE,ONS_CCG_CODE,CODE,POSTCODE,SEX,AGE,NUMBER_OF_PATIENTS"

IMD_2019_HEADER = [
    "LSOA code (2011)",
    "LSOA name (2011)",
    "Local Authority District code (2019)",
    "Local Authority District name (2019)",
    "Index of Multiple Deprivation (IMD) Score",
    "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)",
    "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)",
    "Income Score (rate)",
]


def csv_line(values: list[str]) -> str:
    return ",".join(f'"{v}"' if "," in v or " " in v else v for v in values)


def write_reference_folder(folder: Path) -> Path:
    """A small complete folder: 4 organisations, 3 PCN rows, list sizes, IMD, providers."""
    folder.mkdir(parents=True, exist_ok=True)
    write_lines(
        folder / "epraccur.csv",
        [
            epraccur_line("A81001", "THE DENSHAM SURGERY"),
            epraccur_line("A81002", "QUEENS PARK MEDICAL CENTRE", sub_icb="16C"),
            epraccur_line("A81003", "VICTORIA", status="C", close_date="20171031"),
            epraccur_line("ALD200", "NOT A PRACTICE", setting="0"),
        ],
    )
    write_lines(
        folder / "epcncorepartnerdetails.csv",
        [
            PCN_HEADER,
            pcn_row("A81001", "U00001", "20190701", "20210331", "OLD NAME"),
            pcn_row("A81001", "U00002", "20210401"),
            pcn_row("A81002", "U00001", "2019-07-01", pcn_name="NEW NAME"),
        ],
    )
    write_lines(
        folder / "gp-reg-pat-prac-all.csv",
        [
            LIST_HEADER,
            "GP_PRAC_PAT_LIST,2026-04-01,GP,00K,E38000075,A81001,TS18 1HU,ALL,ALL,12000",
            "GP_PRAC_PAT_LIST,2026-04-01,GP,16C,E38000162,A81002,TS18 2AW,ALL,ALL,8000",
        ],
    )
    write_lines(
        folder / "gp-reg-pat-prac-sing-age-male.csv",
        [
            LIST_HEADER,
            "GP_PRAC_PAT_LIST,2026-04-01,GP,00K,E38000075,A81001,TS18 1HU,ALL,ALL,12000",
            "GP_PRAC_PAT_LIST,2026-04-01,GP,00K,E38000075,A81001,TS18 1HU,MALE,0,60",
            "GP_PRAC_PAT_LIST,2026-04-01,GP,00K,E38000075,A81001,TS18 1HU,MALE,95+,3",
        ],
    )
    write_lines(
        folder / "imd2019_lsoa.csv",
        [
            csv_line(IMD_2019_HEADER),
            csv_line(["E01012345", "Stockton 001A", "E06000004", "Stockton", "45.1", "812", "1", "0.3"]),
            csv_line(["E01012346", "Stockton 001B", "E06000004", "Stockton", "5.2", "30112", "10", "0"]),
        ],
    )
    write_lines(
        folder / "providers.csv",
        [
            "provider_code,provider_name,icb_code,pcn_codes",
            "NLW01,North Link Workers,Q74,U00001;U00002",
            "AGEUK,Age UK Teesside,Q74,",
        ],
    )
    return folder


# --------------------------------------------------------------------------- epraccur


@pytest.mark.skipif(not REAL_EPRACCUR.exists(), reason="shared ODS sample not available")
def test_real_epraccur_sample() -> None:
    table = read_epraccur(REAL_EPRACCUR)
    assert table.num_rows == 14357
    assert Counter(table.column("status").to_pylist()) == {
        "active": 11474,
        "closed": 2427,
        "dormant": 451,
        "proposed": 5,
    }
    rows = {r["practice_code"]: r for r in table.to_pylist()}
    densham = rows["A81001"]
    assert densham["practice_name"] == "THE DENSHAM SURGERY"
    assert (densham["region_code"], densham["icb_code"], densham["sub_icb_code"]) == (
        "Y63",
        "Q74",
        "00K",
    )
    assert densham["open_date"] == dt.date(1974, 4, 1)
    assert densham["close_date"] is None
    assert densham["is_gp_practice"] is True
    assert rows["A81003"]["close_date"] == dt.date(2017, 10, 31)
    # Organisations that are not GP practices keep their own codes and are flagged.
    assert rows["ALD200"]["is_gp_practice"] is False


def test_epraccur_new_status_spelling_and_role_code(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "epraccur.csv",
        [
            epraccur_line("B82001", status="ACTIVE", setting="RO76"),
            epraccur_line("B82002", status="INACTIVE", setting="RO76", close_date="20240331"),
            epraccur_line("B82003", status="DORMANT", setting="4"),
            epraccur_line("Y02827", status="PROPOSED", setting="RO76", open_date=""),
            epraccur_line("NLO10", status="ACTIVE", setting="RO72"),
        ],
    )
    rows = read_epraccur(path).to_pylist()
    assert [r["status"] for r in rows] == ["active", "closed", "dormant", "proposed", "active"]
    assert [r["is_gp_practice"] for r in rows] == [True, True, True, True, False]
    assert rows[1]["close_date"] == dt.date(2024, 3, 31)
    assert rows[3]["open_date"] is None


def test_epraccur_wrong_column_count_names_the_line(tmp_path: Path) -> None:
    short = epraccur_line("A81003").rsplit(",", 1)[0]
    path = write_lines(tmp_path / "epraccur.csv", [epraccur_line("A81001"), epraccur_line("A81002"), short])
    with pytest.raises(ReferenceFileError, match=r"epraccur\.csv: line 3: 26 columns, expected 27"):
        read_epraccur(path)


def test_epraccur_header_row_rejected(tmp_path: Path) -> None:
    header = ",".join(f'"{h}"' for h in ["Organisation Code", "Name"] + ["x"] * 25)
    path = write_lines(tmp_path / "epraccur.csv", [header, epraccur_line("A81001")])
    with pytest.raises(ReferenceFileError, match=r"epraccur\.csv: line 1 looks like a header row"):
        read_epraccur(path)


def test_epraccur_bad_values_name_line_and_form(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "epraccur.csv", [epraccur_line("A81001"), epraccur_line("A8100X")])
    with pytest.raises(ReferenceFileError, match=r"line 2: GP practice code .* 'A8100X'"):
        read_epraccur(path)
    path = write_lines(tmp_path / "epraccur.csv", [epraccur_line("A81001", status="X")])
    with pytest.raises(ReferenceFileError, match=r"line 1: column 13 \(status\) is 'X'; expected"):
        read_epraccur(path)
    path = write_lines(tmp_path / "epraccur.csv", [epraccur_line("A81001", open_date="1974-04")])
    with pytest.raises(ReferenceFileError, match=r"column 11 \(open date\).*YYYYMMDD"):
        read_epraccur(path)
    path = write_lines(tmp_path / "epraccur.csv", [epraccur_line("A81001")] * 2)
    with pytest.raises(ReferenceFileError, match=r"line 2: organisation code A81001 appears again"):
        read_epraccur(path)


def test_empty_files_rejected(tmp_path: Path) -> None:
    empty = tmp_path / "epraccur.csv"
    empty.write_bytes(b"")
    with pytest.raises(ReferenceFileError, match=r"epraccur\.csv: the file is empty"):
        read_epraccur(empty)
    blank = tmp_path / "gp-reg-pat-prac-all.csv"
    blank.write_bytes(b"\r\n\r\n")
    with pytest.raises(ReferenceFileError, match="empty"):
        read_list_sizes(blank)


def test_windows_1252_is_detected_and_converted(tmp_path: Path, caplog) -> None:
    path = tmp_path / "epraccur.csv"
    path.write_bytes((epraccur_line("A81001", "CAF\xc9 SURGERY") + "\r\n").encode("cp1252"))
    with caplog.at_level(logging.WARNING):
        rows = read_epraccur(path).to_pylist()
    assert rows[0]["practice_name"] == "CAFÉ SURGERY"
    assert "Windows-1252" in caplog.text and "epraccur.csv" in caplog.text


def test_undecodable_bytes_rejected(tmp_path: Path) -> None:
    path = tmp_path / "epraccur.csv"
    path.write_bytes(epraccur_line("A81001").encode() + b"\r\n" + b'"A8\x81002"\r\n')
    with pytest.raises(ReferenceFileError, match=r"line 2: byte 0x81 is neither UTF-8 nor Windows"):
        read_epraccur(path)
    binary = tmp_path / "epraccur2.csv"
    binary.write_bytes("A81001,x\r\n".encode("utf-16-le"))
    with pytest.raises(ReferenceFileError, match="NUL bytes"):
        read_epraccur(binary)


def test_utf8_bom_accepted(tmp_path: Path) -> None:
    path = tmp_path / "epraccur.csv"
    path.write_bytes(b"\xef\xbb\xbf" + epraccur_line("A81001").encode() + b"\r\n")
    assert read_epraccur(path).column("practice_code").to_pylist() == ["A81001"]


# --------------------------------------------------------------------------- PCN membership


def test_pcn_membership_practice_moves_pcn(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "epcncorepartnerdetails.csv",
        [
            PCN_HEADER,
            pcn_row("A81001", "U00001", "20190701", "20210401"),
            pcn_row("A81001", "U00002", "2021-04-01"),  # handover on the end date: allowed
            pcn_row("a81002 ", " u00001", "20190701"),
            pcn_row("A81002", "U00001", "20190701"),  # the same relationship twice: kept once
        ],
        newline="\n",
    )
    rows = read_pcn_membership(path).to_pylist()
    assert [(r["practice_code"], r["pcn_code"]) for r in rows] == [
        ("A81001", "U00001"),
        ("A81001", "U00002"),
        ("A81002", "U00001"),
    ]
    assert rows[0]["end_date"] == dt.date(2021, 4, 1)
    assert rows[1]["start_date"] == dt.date(2021, 4, 1) and rows[1]["end_date"] is None
    assert rows[0]["practice_sub_icb_code"] == "00K"


def test_pcn_membership_overlap_is_an_error(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "epcncorepartnerdetails.csv",
        [
            PCN_HEADER,
            pcn_row("A81001", "U00001", "20190701"),
            pcn_row("A81002", "U00001", "20190701"),
            pcn_row("A81001", "U00002", "20210401"),
        ],
    )
    with pytest.raises(ReferenceFileError) as caught:
        read_pcn_membership(path)
    message = str(caught.value)
    assert message.startswith("epcncorepartnerdetails.csv: line 4: practice A81001")
    assert "U00001" in message and "U00002" in message and "(line 2)" in message


def test_pcn_membership_bad_values(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "epcn.csv", [PCN_HEADER, pcn_row("A81001", "P00001", "20190701")])
    with pytest.raises(ReferenceFileError, match=r"line 2: PCN Code is 'P00001'; expected U"):
        read_pcn_membership(path)
    path = write_lines(tmp_path / "epcn.csv", [PCN_HEADER, pcn_row("A81001", "U00001", "1/7/19")])
    with pytest.raises(ReferenceFileError, match=r"Start Date is '1/7/19'; expected a date"):
        read_pcn_membership(path)
    path = write_lines(tmp_path / "epcn.csv", ["Practice,PCN", "A81001,U00001"])
    with pytest.raises(ReferenceFileError, match="expected the ODS epcncorepartnerdetails header"):
        read_pcn_membership(path)


def test_pcn_membership_from_epcn_xlsx(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    notes = workbook.active
    notes.title = "Notes"
    notes.append(["ePCN: Primary Care Networks published by ODS"])
    sheet = workbook.create_sheet("PCN Core Partner Details")
    sheet.append(PCN_HEADER.split(","))
    sheet.append(
        ["A81001", "DENSHAM", "00K", "TEES", "U00001", "PCN ONE", "00K", "TEES",
         dt.datetime(2019, 7, 1), dt.datetime(2021, 3, 31), "TRUE"]
    )  # fmt: skip
    sheet.append(
        ["A81001", "DENSHAM", "00K", "TEES", "U00002", "PCN TWO", "00K", "TEES",
         20210401, None, "TRUE"]
    )  # fmt: skip
    sheet.append([None] * 11)
    sheet.append(
        ["A81002", "QUEENS", "00K", "TEES", "U00002", "PCN TWO", "00K", "TEES",
         "2020-04-01", "", "TRUE"]
    )  # fmt: skip
    path = tmp_path / "ePCN.xlsx"
    workbook.save(path)
    rows = read_pcn_membership(path).to_pylist()
    assert [(r["practice_code"], r["pcn_code"], r["start_date"], r["end_date"]) for r in rows] == [
        ("A81001", "U00001", dt.date(2019, 7, 1), dt.date(2021, 3, 31)),
        ("A81001", "U00002", dt.date(2021, 4, 1), None),
        ("A81002", "U00002", dt.date(2020, 4, 1), None),
    ]
    sheet.cell(row=5, column=5, value="U2")
    workbook.save(path)
    with pytest.raises(ReferenceFileError, match=r"sheet 'PCN Core Partner Details' row 5: PCN"):
        read_pcn_membership(path)


# --------------------------------------------------------------------------- list sizes


def test_list_sizes_current_header(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "gp-reg-pat-prac-all.csv",
        [
            LIST_HEADER,
            "GP_PRAC_PAT_LIST,2026-04-01,GP,00K,E38000075,A81001,TS18 1HU,ALL,ALL,12000",
            "GP_PRAC_PAT_LIST,2026-04-01,GP,16C,E38000162,Y02827,TS18 2AW,ALL,ALL,845",
        ],
    )
    rows = read_list_sizes(path).to_pylist()
    assert rows[0] == {
        "extract_date": dt.date(2026, 4, 1),
        "practice_code": "A81001",
        "sub_icb_code": "00K",
        "sex": "ALL",
        "age_band": "ALL",
        "patients": 12000,
    }
    assert rows[1]["sub_icb_code"] == "16C"


def test_list_sizes_pre_2022_header(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "gp-reg-pat-prac-all.csv",
        [
            LIST_HEADER_OLD,
            "GP_PRAC_PAT_LIST,01JAN2021,GP,00K,E38000075,A81001,TS18 1HU,ALL,ALL,11950",
            "GP_PRAC_PAT_LIST,01Jan2021,GP,00K,E38000075,A81002,TS18 2AW,ALL,ALL,7990",
        ],
    )
    rows = read_list_sizes(path).to_pylist()
    assert {r["extract_date"] for r in rows} == {dt.date(2021, 1, 1)}
    assert [r["sub_icb_code"] for r in rows] == ["00K", "00K"]


def test_list_sizes_quinary_age_bands(tmp_path: Path) -> None:
    lines = [LIST_HEADER]
    bands = [f"{a}_{a + 4}" for a in range(0, 95, 5)] + ["95+"]
    for sex in ("MALE", "FEMALE"):
        for band in bands:
            lines.append(f"GP_PRAC_PAT_LIST,2026-04-01,GP,00K,E38000075,A81001,TS18 1HU,{sex},{band},10")
    lines.append("GP_PRAC_PAT_LIST,2026-04-01,SUB_ICB_LOCATION,00K,E38000075,00K,,MALE,0_4,999")
    rows = read_list_sizes(write_lines(tmp_path / "gp-reg-pat-prac-quin-age.csv", lines))
    assert rows.num_rows == 40  # TYPE=GP rows only
    assert set(rows.column("age_band").to_pylist()) == set(bands)
    assert set(rows.column("sex").to_pylist()) == {"MALE", "FEMALE"}


def test_list_sizes_unknown_header_lists_both(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "gp-reg-pat-prac-all.csv", ["ORG_CODE,PATIENTS", "A81001,10"])
    with pytest.raises(ReferenceFileError) as caught:
        read_list_sizes(path)
    message = str(caught.value)
    assert message.startswith("gp-reg-pat-prac-all.csv: unknown header")
    assert LIST_HEADER in message and LIST_HEADER_OLD in message


def test_list_sizes_bad_values(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "gp-reg-pat-prac-all.csv",
        [LIST_HEADER, "GP_PRAC_PAT_LIST,2026-04-01,GP,00K,E38000075,A81001,TS18 1HU,ALL,ALL,12k"],
    )
    with pytest.raises(ReferenceFileError, match=r"line 2: NUMBER_OF_PATIENTS is '12k'"):
        read_list_sizes(path)


# --------------------------------------------------------------------------- IMD


def test_imd_2019_csv(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "File_7_IoD2019.csv",
        [
            csv_line(IMD_2019_HEADER),
            csv_line(["E01000001", "City 001A", "E09000001", "City", "6.208", "29199", "9", "0.1"]),
            csv_line(["E01000002", "City 001B", "E09000001", "City", "5.143", "30379", "10", "0"]),
            csv_line(["E01000005", "City 001E", "E09000001", "City", "32.4", "6859", "3", "0.2"]),
        ],
    )  # fmt: skip
    rows = read_imd(path).to_pylist()
    assert rows[0] == {
        "lsoa_code": "E01000001",
        "lsoa_name": "City 001A",
        "lad_code": "E09000001",
        "imd_score": 6.208,
        "imd_rank": 29199,
        "imd_decile": 9,
        "imd_quintile": 5,
        "imd_edition": "2019",
    }
    assert [r["imd_quintile"] for r in rows] == [5, 5, 2]


def test_imd_2025_csv(tmp_path: Path) -> None:
    header = [h.replace("(2011)", "(2021)").replace("(2019)", "(2024)") for h in IMD_2019_HEADER]
    path = write_lines(
        tmp_path / "IoD2025_File_7.csv",
        [
            csv_line(header),
            csv_line(["E01035000", "Leeds 111A", "E08000035", "Leeds", "70.5", "1", "1", "0.5"]),
        ],
    )  # fmt: skip
    rows = read_imd(path).to_pylist()
    assert (rows[0]["imd_edition"], rows[0]["imd_quintile"], rows[0]["imd_rank"]) == ("2025", 1, 1)


@pytest.mark.parametrize("lsoa_year,lad_year,edition", [("2011", "2019", "2019"), ("2021", "2024", "2025")])
def test_imd_file_1_xlsx_short_forms(tmp_path: Path, lsoa_year: str, lad_year: str, edition: str) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.title = "Notes"
    workbook.active.append(["File 1: Index of Multiple Deprivation"])
    sheet = workbook.create_sheet(f"IMD{edition}")
    sheet.append(
        [f"LSOA code ({lsoa_year})", f"LSOA name ({lsoa_year})",
         f"Local Authority District code ({lad_year})",
         f"Local Authority District name ({lad_year})",
         "Index of Multiple Deprivation (IMD) Rank", "Index of Multiple Deprivation (IMD) Decile"]
    )  # fmt: skip
    sheet.append(["E01000001", "City of London 001A", "E09000001", "City of London", 29199, 9])
    sheet.append(["E01000006", "Barking 016A", "E09000002", "Barking", 14486.0, 5])
    path = tmp_path / f"File_1_-_IMD{edition}_Index_of_Multiple_Deprivation.xlsx"
    workbook.save(path)
    rows = read_imd(path).to_pylist()
    assert [(r["lsoa_code"], r["imd_rank"], r["imd_decile"], r["imd_quintile"]) for r in rows] == [
        ("E01000001", 29199, 9, 5),
        ("E01000006", 14486, 5, 3),
    ]
    assert {r["imd_edition"] for r in rows} == {edition}
    assert rows[0]["imd_score"] is None  # File 1 carries no score


def test_imd_missing_columns(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "imd.csv", ["LSOA code (2011),Score", "E01000001,3"])
    with pytest.raises(ReferenceFileError, match=r"imd\.csv: line 1 lacks the columns for lsoa_name"):
        read_imd(path)


# --------------------------------------------------------------------------- providers


def test_providers(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "providers.csv",
        [
            "provider_code,provider_name,icb_code,pcn_codes",
            "nlw01,North Link Workers,q74, U00001 ; u00002;",
            "AGEUK,Age UK Teesside,Q74,",
        ],
    )
    providers, provider_pcns = read_providers(path)
    assert providers.to_pylist() == [
        {"provider_code": "NLW01", "provider_name": "North Link Workers", "icb_code": "Q74"},
        {"provider_code": "AGEUK", "provider_name": "Age UK Teesside", "icb_code": "Q74"},
    ]
    assert provider_pcns.to_pylist() == [
        {"provider_code": "NLW01", "pcn_code": "U00001"},
        {"provider_code": "NLW01", "pcn_code": "U00002"},
    ]
    bad = write_lines(
        tmp_path / "providers.csv",
        ["provider_code,provider_name,icb_code,pcn_codes", "NLW01,N,Q74,U1"],
    )
    with pytest.raises(ReferenceFileError, match=r"providers\.csv: line 2: a PCN code"):
        read_providers(bad)


def test_snomed_codelist_with_or_without_sp_specific(tmp_path: Path) -> None:
    seed = tmp_path / "snomed.csv"
    seed.write_text(
        "code,term,category,is_national_referral_code\n"
        "871731000000106,Referral to social prescribing service,referred,true\n"
    )
    assert read_snomed_codelist(seed).to_pylist() == [
        {
            "code": "871731000000106",
            "term": "Referral to social prescribing service",
            "sp_specific": None,
        }
    ]
    seed.write_text("code,term,sp_specific\n87173100000010X,Bad,yes\n")
    with pytest.raises(ReferenceFileError, match=r"snomed\.csv: line 2: code is '87173100000010X'"):
        read_snomed_codelist(seed)


# --------------------------------------------------------------------------- folder loader


def test_classify_names() -> None:
    assert classify(Path("epraccur.csv")) == "practices"
    assert classify(Path("ePCN.xlsx")) == "pcn_membership"
    assert classify(Path("epcncorepartnerdetails.csv")) == "pcn_membership"
    assert classify(Path("gp-reg-pat-prac-quin-age.csv")) == "list_sizes"
    assert classify(Path("File_7_-_All_IoD2019_Scores.csv")) == "imd"
    assert classify(Path("File_1_-_IMD2019_Index_of_Multiple_Deprivation.xlsx")) == "imd"
    assert classify(Path("providers.csv")) == "providers"
    assert classify(Path("period_notes.csv")) is None
    assert classify(Path("epraccur.zip")) is None


def _counts(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    return int(row[0])


def test_load_reference_folder(tmp_path: Path, caplog) -> None:
    folder = write_reference_folder(tmp_path / "ref")
    (folder / "README.txt").write_text("notes")
    seed = tmp_path / "snomed.csv"
    seed.write_text("code,term,sp_specific,notes\n871731000000106,Referral to social prescribing service,yes,x\n")
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    with caplog.at_level(logging.WARNING):
        result = load_reference_folder(con, folder, snomed_codelist=seed)
    assert dict(result) == {
        "ref.practices": 4,
        "ref.pcn_membership": 3,
        "ref.list_sizes": 4,  # the ALL/ALL row of A81001 is in two files: kept once
        "ref.lsoa_imd": 2,
        "ref.providers": 2,
        "ref.provider_pcns": 2,
        "ref.snomed_codelist": 1,
        "ref.reference_files": 7,
        "ref.pcns": 2,
        "ref.practice_hierarchy": 4,
    }
    assert [p.name for p in result.unrecognised] == ["README.txt"]
    assert "README.txt" in caplog.text
    assert con.execute("SELECT * FROM ref.pcns ORDER BY pcn_code").fetchall() == [
        ("U00001", "NEW NAME", "00K"),  # the current row wins over the ended one
        ("U00002", "PCN U00002", "00K"),
    ]
    assert con.execute("SELECT * FROM ref.practice_hierarchy WHERE practice_code = 'A81002'").fetchall() == [
        ("A81002", "QUEENS PARK MEDICAL CENTRE", "16C", "Q74", "Y63")
    ]
    assert con.execute(
        "SELECT file_name, kind, rows, length(sha256) FROM ref.reference_files ORDER BY file_name"
    ).fetchall() == [
        ("epcncorepartnerdetails.csv", "pcn_membership", 3, 64),
        ("epraccur.csv", "practices", 4, 64),
        ("gp-reg-pat-prac-all.csv", "list_sizes", 2, 64),
        ("gp-reg-pat-prac-sing-age-male.csv", "list_sizes", 3, 64),
        ("imd2019_lsoa.csv", "imd", 2, 64),
        ("providers.csv", "providers", 2, 64),
        ("snomed.csv", "snomed_codelist", 1, 64),
    ]
    types = dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'ref' AND table_name = 'practices'"
        ).fetchall()
    )
    assert types["open_date"] == "DATE" and types["is_gp_practice"] == "BOOLEAN"

    # A rerun replaces every table instead of adding to it.
    rerun = load_reference_folder(con, folder, snomed_codelist=seed)
    assert dict(rerun) == dict(result)
    assert _counts(con, "ref.list_sizes") == 4 and _counts(con, "ref.reference_files") == 7


def test_load_without_optional_files_and_without_seed(tmp_path: Path) -> None:
    folder = write_reference_folder(tmp_path / "ref")
    (folder / "providers.csv").unlink()
    (folder / "imd2019_lsoa.csv").unlink()
    con = duckdb.connect()
    result = load_reference_folder(con, folder, snomed_codelist=tmp_path / "absent.csv")
    assert result["ref.providers"] == 0 and result["ref.lsoa_imd"] == 0
    assert "ref.snomed_codelist" not in result
    assert result.unrecognised == []


def test_load_missing_pcn_file_is_a_clear_error(tmp_path: Path) -> None:
    folder = write_reference_folder(tmp_path / "ref")
    (folder / "epcncorepartnerdetails.csv").rename(folder / "pcn_members.csv")
    con = duckdb.connect()
    with pytest.raises(ReferenceFileError) as caught:
        load_reference_folder(con, folder, snomed_codelist=tmp_path / "absent.csv")
    message = str(caught.value)
    assert "missing required reference files" in message
    assert "pcn_membership: epcncorepartnerdetails.csv or ePCN.xlsx" in message
    assert "pcn_members.csv" in message  # the unrecognised file is named, as a hint


def test_bad_file_leaves_previous_load_intact(tmp_path: Path) -> None:
    folder = write_reference_folder(tmp_path / "ref")
    con = duckdb.connect()
    load_reference_folder(con, folder, snomed_codelist=tmp_path / "absent.csv")
    write_lines(
        folder / "epcncorepartnerdetails.csv",
        [
            PCN_HEADER,
            pcn_row("A81001", "U00001", "20190701"),
            pcn_row("A81001", "U00002", "20200101"),
        ],
    )
    with pytest.raises(ReferenceFileError, match="two PCNs at once"):
        load_reference_folder(con, folder, snomed_codelist=tmp_path / "absent.csv")
    assert _counts(con, "ref.pcn_membership") == 3
    assert _counts(con, "ref.practices") == 4
