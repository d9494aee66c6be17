"""Build etl/reference/local_authorities.csv and commissioners.csv from public NHS workbooks.

Local authorities (ONS code, the three-digit code NHS England used before ONS codes, name) come
from the NHS England local-authority DToC workbook of November 2015, whose sheet by responsible
organisation lists both codes for every English authority with social-services responsibility;
codes found only in an older edition (April 2011) are added from it and mapped by name.
Commissioners (PCT code, name, strategic health authority) come from the Monthly Activity Return
of April 2012. All are Open Government Licence v3 (see etl/reference/SOURCES.md).

Usage: python scripts/build_la_reference.py [REAL_DATA_DIR]
(default: $CAREKPI_REAL_DATA or ../shared/data/real beside the repository)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from etl.readers import find_header_row, fold_label, read_excel_sheets  # noqa: E402

OUT = REPO / "etl" / "reference"
DTOC_WITH_ONS = "dtoc/LA_DTOC_by_reason_Nov_15.xls"
DTOC_OLDER = "dtoc/LA_DTOC_by_reason_April_11.xls"
MAR = "hospital/MAR_commissioner_Apr_12.xls"
PSEUDO = {"9900", "9901", "9902", "-", ""}  # Wales, Scotland, outside GB, England total


def _table(path: Path, labels: list[str]) -> pd.DataFrame:
    """The first sheet's block under the header row holding `labels`, columns folded."""
    for cells in read_excel_sheets(path).values():
        row = find_header_row(cells, labels)
        if row is None:
            continue
        body = cells.iloc[row + 1:].copy()
        body.columns = [fold_label(c) for c in cells.iloc[row]]
        return body.map(lambda v: "" if pd.isna(v) else str(v).strip())
    raise SystemExit(f"{path}: no sheet with a header row holding {labels}")


def local_authorities(real: Path) -> pd.DataFrame:
    """ons_code, old_code, name for every authority in the DToC workbooks (ONS edition first)."""
    new = _table(real / DTOC_WITH_ONS, ["ONS Geography", "Code", "Name", "NHS"])
    new = new[~new["code"].isin(PSEUDO) & new["ons geography"].str.match(r"^E\d{8}$")]
    table = pd.DataFrame({"ons_code": new["ons geography"], "old_code": new["code"],
                          "name": new["name"]})
    old = _table(real / DTOC_OLDER, ["Code", "Name", "NHS"])
    old = old[~old["code"].isin(PSEUDO) & old["name"].ne("")]
    missing = old[~old["code"].isin(table["old_code"])]
    by_name = dict(zip(table["name"].str.casefold(), table["ons_code"], strict=True))
    unmatched = []
    for code, name in zip(missing["code"], missing["name"], strict=True):
        ons = by_name.get(name.casefold())
        if ons is None:
            unmatched.append(f"{code} {name}")
            continue
        table.loc[len(table)] = [ons, code, name]
    if unmatched:
        print("older codes with no ONS match by name (left out):", ", ".join(unmatched))
    return table.drop_duplicates().sort_values(["ons_code", "old_code"]).reset_index(drop=True)


def commissioners(real: Path) -> pd.DataFrame:
    """org_code, name, parent_code, parent_name of the commissioners in the MAR workbook."""
    mar = _table(real / MAR, ["Org Code", "Org Name", "Total Non-elective G&A Admissions (FFCEs)"])
    mar = mar[mar["org code"].ne("")]
    return pd.DataFrame({
        "org_code": mar["org code"], "name": mar["org name"],
        "parent_code": mar["sha code"], "parent_name": mar["sha name"],
    }).drop_duplicates().sort_values("org_code").reset_index(drop=True)


def main(argv: list[str]) -> None:
    default = Path(os.environ.get("CAREKPI_REAL_DATA", REPO.parent / "shared" / "data" / "real"))
    real = Path(argv[1]) if len(argv) > 1 else default
    las = local_authorities(real)
    las.to_csv(OUT / "local_authorities.csv", index=False, lineterminator="\n")
    ccgs = commissioners(real)
    ccgs.to_csv(OUT / "commissioners.csv", index=False, lineterminator="\n")
    print(f"{len(las)} local-authority codes ({las['ons_code'].nunique()} authorities), "
          f"{len(ccgs)} commissioners written to {OUT}")


if __name__ == "__main__":
    main(sys.argv)
