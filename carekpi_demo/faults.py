"""Defective feed files for testing the ETL's refusals: each file under faults/<feed>/ is named
for its one defect, and faults/README.md says what the ETL must report for it.

The files are small, deterministic and otherwise valid demo rows (practices Y91001-Y91002,
networks U00001-U00002), so each one fails for exactly the reason its name gives.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

from carekpi_demo.writers import extract_date, save_workbook_fixed

CARE_HEADER = "practice_code,period,package,element,register,completed"
POP_HEADER = ("PUBLICATION,EXTRACT_DATE,TYPE,CCG_CODE,ONS_CCG_CODE,ORG_CODE,POSTCODE,SEX,"
              "AGE_GROUP_5,NUMBER_OF_PATIENTS")
SPELL_HEADER = ("EPIKEY,PSEUDO_HESID,PROCODE3,ADMIDATE,DISDATE,EPISTART,EPIEND,EPIORDER,"
                "ADMIMETH,STARTAGE,SEX,DIAG_4_01,GPPRAC")
ORG_HEADER = ("practice_code,practice_name,network_code,network_name,place_code,place_name,"
              "system_code,system_name,valid_from,valid_to")
DTOC_HEADER = "org_code,period,delayed_days_nhs,delayed_days_social_care,delayed_days_both"
REABLE_HEADER = ("org_code,period,discharged_65_into_reablement,at_home_91_days,episodes_ended,"
                 "no_further_support")
CARE_HOME_HEADER = "org_code,period,admissions_65_residential,admissions_65_nursing"


def _care_rows(period: str) -> list[str]:
    return [
        f"Y91001,{period},diabetes,hba1c,480,451",
        f"Y91001,{period},diabetes,care_plan,480,402",
        f"Y91002,{period},diabetes,hba1c,312,290",
        f"Y91002,{period},diabetes,care_plan,312,251",
    ]


def _pop_rows(period: str, patients: str = "812") -> list[str]:
    date = extract_date(period)
    start = f"GP_PRAC_PAT_LIST,{date},GP,99Z,E38000999,Y91001,ZZ1 1HA"
    return [f"{start},ALL,ALL,{patients}", f"{start},MALE,ALL,400", f"{start},FEMALE,ALL,412"]


def _spell_rows(period: str) -> list[str]:
    return [
        f"240300000000,{'a' * 32},ZZA,{period}-03,{period}-07,{period}-03,{period}-07,1,21,"
        "72,2,J441,Y91001",
        f"240300000001,{'b' * 32},ZZB,{period}-05,{period}-05,{period}-05,{period}-05,1,11,"
        "55,1,H259,Y91002",
        f"240300000002,{'c' * 32},ZZA,{period}-09,{period}-21,{period}-09,{period}-21,1,22,"
        "84,1,I500,Y91002",
    ]


def _text(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


def fault_files(period: str) -> dict[str, tuple[bytes | None, str]]:
    """Each fault file's relative path -> (bytes, or None for a workbook, the defect to report)."""
    care = _care_rows(period)
    faults: dict[str, tuple[bytes | None, str]] = {
        "care_packages/missing_column.csv": (
            _text([CARE_HEADER.removesuffix(",completed")] + [r.rsplit(",", 1)[0] for r in care]),
            "required column `completed` is missing",
        ),
        "care_packages/renamed_header.csv": (
            _text([CARE_HEADER.replace("register", "denominator_patients")] + care),
            "header `denominator_patients` is not a known name for `register` (column missing)",
        ),
        "care_packages/completed_greater_than_register.csv": (
            _text([CARE_HEADER, *care[:3], f"Y91002,{period},diabetes,care_plan,312,340"]),
            "row 5: completed 340 > register 312 (rule completed <= register)",
        ),
        "care_packages/unknown_practice_code.csv": (
            _text([CARE_HEADER, *care, f"Y99999,{period},diabetes,hba1c,200,180"]),
            "row 6: practice_code Y99999 is not in the organisation reference for the month",
        ),
        "care_packages/wrong_delimiter.csv": (
            _text([CARE_HEADER] + [r.replace(",", ";") for r in care]),
            "header is comma-separated but every data row is semicolon-separated (rows 2-5 have "
            "1 field instead of 6)",
        ),
        "population/empty.csv": (b"", "the file is empty (0 bytes)"),
        "population/text_in_number_column.csv": (
            _text([POP_HEADER, *_pop_rows(period, patients="about 800")]),
            "row 2: NUMBER_OF_PATIENTS `about 800` is not a whole number",
        ),
        "organisations/non_utf8.csv": (
            (ORG_HEADER + "\n").encode() + b"Y91001,Albion Surgery \x81\x8d\x90,U00001,"
            b"Hartwell North Network,E09000099,Hartwell,QZZ,Hartwell and Riverside Integrated "
            b"Care System,2019-07-01,\n",
            "row 2: bytes 0x81 0x8D 0x90 are invalid in UTF-8 and undefined in Windows-1252: "
            "the file cannot be decoded and must be refused",
        ),
        "spells/truncated.csv": (
            _text([SPELL_HEADER, *_spell_rows(period)])[:-40],
            "the last row is cut off mid-row (too few fields, file truncated)",
        ),
        "spells/unknown_layout.csv": (
            _text(["station,date,rainfall_mm", f"Hartwell Park,{period}-01,3.2",
                   f"Hartwell Park,{period}-02,0.0"]),
            "no known layout for any feed matches this file's header",
        ),
        "care_home_admissions/header_only.csv": (
            _text([CARE_HOME_HEADER]), "the file has a header row and no data rows",
        ),
        "care_home_admissions/negative_counts.csv": (
            _text([CARE_HOME_HEADER, f"U00001,{period},4,2", f"U00002,{period},-3,1"]),
            "row 3: admissions_65_residential -3 is negative (counts are non-negative integers)",
        ),
        "reablement/future_period.csv": (
            _text([REABLE_HEADER, "U00001,2099-01,12,,30,22"]),
            "row 2: period 2099-01 is in the future",
        ),
        "delayed_transfers/duplicated_rows.csv": (
            _text([DTOC_HEADER, f"U00001,{period},80,35,7", f"U00002,{period},66,41,9",
                   f"U00001,{period},80,35,7"]),
            "rows 2 and 4 are the same organisation and period (duplicated row)",
        ),
        "delayed_transfers/header_row_moved_and_renamed.xlsx": (
            None,
            "sheet `LA - by responsible org`: no header row found (the header sits at row 21, "
            "not 14, and says `Council` / `Health` / `Adult Services` instead of `Name` / `NHS` / "
            "`Social Care`)",
        ),
    }
    return faults


def _moved_header_workbook(path: Path, period: str) -> None:
    """A DToC workbook whose header row moved down and whose labels were renamed."""
    wb = Workbook()
    ws = wb.active
    ws.title = "LA - by responsible org"
    ws.cell(row=2, column=2, value="Title:")
    ws.cell(row=2, column=3, value="Delayed Transfer of Care, NHS Organisations, England")
    ws.cell(row=5, column=2, value="Period:")
    ws.cell(row=5, column=3, value=f"{period} (synthetic fault file)")
    header = ["Region", "ONS Geography", "Code", "Council", "Health", "Adult Services", "Both",
              "Total"]
    for col, label in enumerate(header, start=2):
        ws.cell(row=21, column=col, value=label)
    rows = [["-", "-", "-", "England", 95000, 47000, 10500, 152500],
            ["London", "E09000099", "799", "Hartwell", 560, 290, 55, 905]]
    for r, row in enumerate(rows, start=22):
        for col, value in enumerate(row, start=2):
            ws.cell(row=r, column=col, value=value)
    save_workbook_fixed(wb, path)


def write_faults(out: Path, period: str) -> list[Path]:
    """Write out/faults/<feed>/<defect>.<ext> and out/faults/README.md; the paths written."""
    root = Path(out) / "faults"
    written = []
    lines = [
        "# Fault files: what the ETL must report",
        "",
        "Each file has exactly one defect, named by the file. Loading it must fail (or, for",
        "feeds whose policy quarantines bad rows, report the row), naming file, row, column,",
        "value and rule. None of these files may change the warehouse.",
        "",
        "| file | defect the ETL must report |",
        "|---|---|",
    ]
    for rel, (data, defect) in fault_files(period).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if data is None:
            _moved_header_workbook(path, period)
        else:
            path.write_bytes(data)
        written.append(path)
        lines.append(f"| `{rel}` | {defect} |")
    readme = root / "README.md"
    readme.write_text("\n".join(lines) + "\n", encoding="utf-8")
    written.append(readme)
    return written
