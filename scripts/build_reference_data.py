"""Build etl/reference/national_practices.csv.gz: every English GP practice with its PCN, CCG,
STP and region, list size, disease register sizes and deprivation score, for the national demo.

The product never reads the shared real-data folder at run time; this script derives the compact
reference file from it once (Open Government Licence v3 sources, named in
etl/reference/README.md). Run from the repository root:

    .venv/bin/python scripts/build_reference_data.py [--real DIR]

Output is deterministic (gzip without a timestamp, rows sorted by practice code).
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DEFAULT_REAL = Path(os.environ.get("CAREKPI_REAL_DATA", REPO.parent / "shared" / "data" / "real"))
OUTPUT = REPO / "etl" / "reference" / "national_practices.csv.gz"

# QOF 2020-21 register groups used as the demo's care-package registers.
REGISTERS = {"DM": "diabetes_register", "COPD": "copd_register", "CHD": "cvd_register"}
IMD_INDICATOR = "93553"  # Fingertips: Deprivation score (IMD 2019), practice level


def build_reference(real: Path) -> pd.DataFrame:
    """One row per practice in the QOF 2020-21 geography mapping, with list and registers."""
    geo = pd.read_csv(real / "geography" / "QOF_MAPPING_NHS_GEOGRAPHIES_2021.csv", dtype=str)
    frame = pd.DataFrame({
        "practice_code": geo["PRACTICE_CODE"], "practice_name": geo["PRACTICE_NAME"],
        "pcn_code": geo["PCN_ODS_CODE"], "pcn_name": geo["PCN_NAME"],
        "ccg_code": geo["CCG_ODS_CODE"], "ccg_ons_code": geo["CCG_ONS_CODE"],
        "ccg_name": geo["CCG_NAME"],
        "stp_code": geo["STP_ODS_CODE"], "stp_name": geo["STP_NAME"],
        "region_code": geo["REGION_ODS_CODE"], "region_name": geo["REGION_NAME"],
    })
    prevalence = pd.read_csv(real / "qof" / "PREVALENCE_2021_v2.csv",
                             dtype={"PRACTICE_CODE": str, "GROUP_CODE": str})
    registers = prevalence[prevalence["GROUP_CODE"].isin(list(REGISTERS))].pivot_table(
        index="PRACTICE_CODE", columns="GROUP_CODE", values="REGISTER", aggfunc="sum")
    registers = registers.rename(columns=REGISTERS)
    qof_list = prevalence[prevalence["PATIENT_LIST_TYPE"] == "TOTAL"].groupby(
        "PRACTICE_CODE")["PRACTICE_LIST_SIZE"].max()
    lists = pd.read_csv(real / "population" / "gp-reg-pat-prac-all_2021-01.csv", dtype=str)
    lists = lists[(lists["TYPE"] == "GP") & (lists["SEX"] == "ALL") & (lists["AGE"] == "ALL")]
    list_size = lists.set_index("CODE")["NUMBER_OF_PATIENTS"].astype(int)
    postcode = lists.set_index("CODE")["POSTCODE"]
    imd = pd.read_csv(real / "fingertips" / "indicator-data_imd2019_practice.csv", dtype=str)
    imd = imd[(imd["Indicator ID"] == IMD_INDICATOR) & (imd["Area Type"] == "GP")]
    imd_score = imd.set_index("Area Code")["Value"].astype(float)

    code = frame["practice_code"]
    # January 2021 list size where published, else the QOF 2020-21 list (1 April 2021).
    frame["list_size"] = code.map(list_size).fillna(code.map(qof_list)).fillna(0).astype(int)
    frame["postcode"] = code.map(postcode).fillna("")
    for column in REGISTERS.values():
        frame[column] = code.map(registers[column]).fillna(0).astype(int)
    # Practices without a Fingertips score take their CCG's median (then England's).
    frame["imd_score"] = code.map(imd_score)
    frame["imd_score"] = frame["imd_score"].fillna(
        frame.groupby("ccg_code")["imd_score"].transform("median")
    ).fillna(imd_score.median()).round(2)
    return frame.sort_values("practice_code").reset_index(drop=True)


def write_reference(frame: pd.DataFrame, path: Path = OUTPUT) -> None:
    """Write the frame as a gzip CSV whose bytes depend only on its content."""
    text = io.StringIO()
    frame.to_csv(text, index=False, lineterminator="\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0,
                                              compresslevel=9) as gz:
        gz.write(text.getvalue().encode("utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, default=DEFAULT_REAL,
                        help="folder of the real public files (default: ../shared/data/real)")
    parser.add_argument("--out", type=Path, default=OUTPUT)
    args = parser.parse_args()
    frame = build_reference(args.real)
    write_reference(frame, args.out)
    print(f"{args.out}: {len(frame)} practices in {frame['pcn_code'].nunique()} PCNs, "
          f"{frame['list_size'].sum():,} registered patients")


if __name__ == "__main__":
    main()
