"""Build etl/reference/local_authorities.csv and commissioners.csv, with validity dates, from public
NHS workbooks in the shared real-data folder plus facts transcribed from ONS and NHS England.

Local authorities (ONS code, the three-digit code NHS England used before ONS codes, name) come
from the NHS England local-authority DToC workbook of November 2015, whose sheet by responsible
organisation lists both codes for every English authority with social-services responsibility;
codes found only in an older edition (April 2011) are added from it and mapped by name. The
reorganisations since (Dorset 2019 ... Somerset 2023) and the 2013 recoding of Gateshead and
Northumberland are transcribed below from the ONS register of codes and names, each with its source;
they give the authorities they replaced a `valid_to` and the new ones a `valid_from`.

Commissioners: primary care trusts from the Monthly Activity Return of April 2012; clinical
commissioning groups from the QOF 2020-21 geography mapping (the 106 CCGs of April 2021, with ONS
codes) and the May 2022 ePCN workbook (CCGs of closed networks, merged by April 2021); sub-ICB
locations, which kept their CCG's code on 1 July 2022, with their integrated care board from the
February 2023 epraccur extract where it lists a practice of theirs.

All sources are Open Government Licence v3 (see etl/reference/SOURCES.md). Nothing is fetched: the
script reads only the shared folder.

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
QOF_GEOGRAPHY = "geography/QOF_MAPPING_NHS_GEOGRAPHIES_2021.csv"
EPCN = "ods/ePCN_2022-05.xlsx"
EPRACCUR = "ods/epraccur_2023-02_first3000.csv"
PSEUDO = {"9900", "9901", "9902", "-", ""}  # Wales, Scotland, outside GB, England total

LA_COLUMNS = ["ons_code", "old_code", "name", "valid_from", "valid_to", "replaced_by", "source"]
COMMISSIONER_COLUMNS = ["org_code", "name", "kind", "ons_code", "parent_code", "parent_name",
                        "valid_from", "valid_to", "source"]

ONS_REGISTER = ("ONS, Register of Geographic Codes and Code History Database "
                "(local authority changes, transcribed)")
# Changes to English authorities with social-services responsibility since the 2015 workbook:
# (date in force, authority created as (ONS code, name), ONS codes of the authorities it replaced,
# the instrument). Districts without social services (Christchurch, the Dorset, Buckinghamshire,
# Northamptonshire, Cumbria, North Yorkshire and Somerset districts) are not listed.
REORGANISATIONS: tuple[tuple[str, tuple[str, str], tuple[str, ...], str], ...] = (
    ("2013-04-01", ("E06000057", "Northumberland"), ("E06000048",),
     "recoded after the Gateshead/Northumberland boundary change"),
    ("2013-04-01", ("E08000037", "Gateshead"), ("E08000020",),
     "recoded after the Gateshead/Northumberland boundary change"),
    ("2019-04-01", ("E06000058", "Bournemouth, Christchurch and Poole"),
     ("E06000028", "E06000029"), "Bournemouth, Dorset and Poole (Structural Changes) Order 2018"),
    ("2019-04-01", ("E06000059", "Dorset"), ("E10000009",),
     "Bournemouth, Dorset and Poole (Structural Changes) Order 2018"),
    ("2020-04-01", ("E06000060", "Buckinghamshire"), ("E10000002",),
     "Buckinghamshire (Structural Changes) Order 2019"),
    ("2021-04-01", ("E06000061", "North Northamptonshire"), ("E10000021",),
     "Northamptonshire (Structural Changes) Order 2020"),
    ("2021-04-01", ("E06000062", "West Northamptonshire"), ("E10000021",),
     "Northamptonshire (Structural Changes) Order 2020"),
    ("2023-04-01", ("E06000063", "Cumberland"), ("E10000006",),
     "Cumbria (Structural Changes) Order 2022"),
    ("2023-04-01", ("E06000064", "Westmorland and Furness"), ("E10000006",),
     "Cumbria (Structural Changes) Order 2022"),
    ("2023-04-01", ("E06000065", "North Yorkshire"), ("E10000023",),
     "North Yorkshire (Structural Changes) Order 2022"),
    ("2023-04-01", ("E06000066", "Somerset"), ("E10000027",),
     "Somerset (Structural Changes) Order 2022"),
)
# Codes the 2013 recoding retired: the same authority, so it keeps its old NHS England code.
RETIRED_BY_RECODING = {"E06000048": ("E06000057", "Northumberland"),
                       "E08000020": ("E08000037", "Gateshead")}

PCTS_CLOSED = "2013-03-31"  # Health and Social Care Act 2012: PCTs abolished on 31 March 2013
CCGS_CLOSED = "2022-06-30"  # Health and Care Act 2022: CCGs abolished, ICBs from 1 July 2022
SUB_ICB_FROM = "2022-07-01"
QOF_CCGS_FROM = "2021-04-01"  # the QOF 2020-21 mapping lists the CCGs after the April 2021 mergers


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


def _dtoc_authorities(real: Path) -> pd.DataFrame:
    """ons_code, old_code, name of every authority in the 2015 and 2011 DToC workbooks."""
    new = _table(real / DTOC_WITH_ONS, ["ONS Geography", "Code", "Name", "NHS"])
    new = new[~new["code"].isin(PSEUDO) & new["ons geography"].str.match(r"^E\d{8}$")]
    table = pd.DataFrame({"ons_code": new["ons geography"], "old_code": new["code"],
                          "name": new["name"], "source": "NHS England DToC, November 2015"}
                         ).reset_index(drop=True)
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
        table.loc[len(table)] = [ons, code, name, "NHS England DToC, April 2011 (by name)"]
    if unmatched:
        print("older codes with no ONS match by name (left out):", ", ".join(unmatched))
    return table.drop_duplicates(["ons_code", "old_code"])


def local_authorities(real: Path) -> pd.DataFrame:
    """Every authority with its codes, name and validity (blank: before 2010 / still in force)."""
    table = _dtoc_authorities(real)
    old_code = dict(zip(table["ons_code"], table["old_code"], strict=False))
    added = [{"ons_code": retired, "old_code": old_code[current], "name": name,
              "source": ONS_REGISTER}
             for retired, (current, name) in RETIRED_BY_RECODING.items()]
    added += [{"ons_code": code, "name": name, "source": f"{ONS_REGISTER}; {instrument}"}
              for _, (code, name), _, instrument in REORGANISATIONS
              if code not in set(table["ons_code"])]
    table = pd.concat([table, pd.DataFrame(added)], ignore_index=True)
    table = table.reindex(columns=LA_COLUMNS).astype(object).fillna("")
    for start, (code, _), replaced, _ in REORGANISATIONS:
        table.loc[table["ons_code"] == code, "valid_from"] = start
        end = (pd.Timestamp(start) - pd.Timedelta(days=1)).date().isoformat()
        for gone in replaced:
            row = table["ons_code"] == gone
            if not row.any():
                raise SystemExit(f"{gone} (replaced by {code}) is in no DToC workbook")
            table.loc[row, "valid_to"] = end
            earlier = table.loc[row, "replaced_by"].iloc[0]
            table.loc[row, "replaced_by"] = ";".join(filter(None, [earlier, code]))
    return table.sort_values(["ons_code", "old_code"]).reset_index(drop=True)


def commissioners(real: Path) -> pd.DataFrame:
    """PCTs (2012), CCGs (2021, and those merged before) and sub-ICB locations (2022), dated."""
    mar = _table(real / MAR, ["Org Code", "Org Name", "Total Non-elective G&A Admissions (FFCEs)"])
    mar = mar[mar["org code"].ne("")]
    pcts = pd.DataFrame({
        "org_code": mar["org code"], "name": mar["org name"], "kind": "pct", "ons_code": "",
        "parent_code": mar["sha code"], "parent_name": mar["sha name"], "valid_from": "",
        "valid_to": PCTS_CLOSED,
        "source": "NHS England, Monthly Activity Return, commissioner level, April 2012",
    }).drop_duplicates("org_code")

    geo = pd.read_csv(real / QOF_GEOGRAPHY, dtype=str)
    geo = geo[["CCG_ODS_CODE", "CCG_ONS_CODE", "CCG_NAME", "STP_ODS_CODE", "STP_NAME"]]
    geo = geo.drop_duplicates("CCG_ODS_CODE")
    ccgs = pd.DataFrame({
        "org_code": geo["CCG_ODS_CODE"], "name": geo["CCG_NAME"], "kind": "ccg",
        "ons_code": geo["CCG_ONS_CODE"], "parent_code": geo["STP_ODS_CODE"],
        "parent_name": geo["STP_NAME"], "valid_from": "", "valid_to": CCGS_CLOSED,
        "source": "NHS Digital, QOF 2020-21 geography mapping (CCGs of April 2021)",
    })
    # CCGs that networks belonged to in 2019-20 but that had merged by April 2021.
    details = pd.read_excel(real / EPCN, sheet_name="PCNDetails", dtype=str)
    details.columns = [fold_label(c) for c in details.columns]
    code_col = next(c for c in details.columns if c.endswith("group code"))
    name_col = next(c for c in details.columns if c.endswith("group name"))
    merged = details[~details[code_col].isin(ccgs["org_code"])]
    merged = merged.groupby(code_col).agg(name=(name_col, "first"), last=("close date", "max"))
    merged_ccgs = pd.DataFrame({
        "org_code": merged.index, "name": merged["name"].to_numpy(), "kind": "ccg",
        "ons_code": "", "parent_code": "", "parent_name": "", "valid_from": "",
        # at the latest the day before the April 2021 CCGs began
        "valid_to": (pd.Timestamp(QOF_CCGS_FROM) - pd.Timedelta(days=1)).date().isoformat(),
        "source": "NHS Digital, ePCN May 2022 (CCG of closed networks; absent from QOF 2020-21)",
    })

    practices = pd.read_csv(real / EPRACCUR, header=None, dtype=str)
    gp = practices[(practices[25] == "4") & (practices[12] == "A")]  # active GP practices
    icb = gp.groupby(14)[3].agg(lambda s: s.mode().iloc[0])  # sub-ICB location -> ICB
    sub_icb = pd.DataFrame({
        "org_code": ccgs["org_code"].to_numpy(),
        "name": [f"Sub-ICB location {c} (formerly {n})" for c, n in
                 zip(ccgs["org_code"], ccgs["name"], strict=True)],
        "kind": "sub_icb", "ons_code": "",
        "parent_code": ccgs["org_code"].map(icb).fillna("").to_numpy(), "parent_name": "",
        "valid_from": SUB_ICB_FROM, "valid_to": "",
        "source": "NHS England: sub-ICB locations kept their CCG's code on 1 July 2022; "
                  "ICB from NHS Digital epraccur February 2023 (first 3,000 rows) where listed",
    })
    unknown = sorted(set(icb.index) - set(ccgs["org_code"]))
    if unknown:
        raise SystemExit(f"epraccur commissioners that were no CCG of 2021: {unknown}")
    table = pd.concat([pcts, ccgs, merged_ccgs, sub_icb], ignore_index=True).fillna("")
    order = {"pct": 0, "ccg": 1, "sub_icb": 2}
    table = table.sort_values(["org_code", "kind"], key=lambda s: s.map(order).fillna(s)
                              if s.name == "kind" else s)
    return table[COMMISSIONER_COLUMNS].reset_index(drop=True)


def main(argv: list[str]) -> None:
    default = Path(os.environ.get("CAREKPI_REAL_DATA", REPO.parent / "shared" / "data" / "real"))
    real = Path(argv[1]) if len(argv) > 1 else default
    missing = [f for f in (DTOC_WITH_ONS, DTOC_OLDER, MAR, QOF_GEOGRAPHY, EPCN, EPRACCUR)
               if not (real / f).is_file()]
    if missing:
        raise SystemExit(f"{real}: source file(s) missing: {', '.join(missing)} "
                         "(give the real-data folder as the first argument)")
    las = local_authorities(real)
    las.to_csv(OUT / "local_authorities.csv", index=False, lineterminator="\n")
    orgs = commissioners(real)
    orgs.to_csv(OUT / "commissioners.csv", index=False, lineterminator="\n")
    print(f"{las['ons_code'].nunique()} local authorities ({(las['valid_to'] == '').sum()} in "
          f"force today), {len(orgs)} commissioner rows "
          f"({orgs['kind'].value_counts().to_dict()}) written to {OUT}")


if __name__ == "__main__":
    main(sys.argv)
