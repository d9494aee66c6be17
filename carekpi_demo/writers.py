"""File layouts of the demo feeds: each function writes one file exactly as the real (or native)
layout in feeds.md has it, byte-identical for the same inputs (no timestamps anywhere).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook

from carekpi_demo.story import AGE_BANDS, DTOC_REASONS, SEXES

STRING = np.dtypes.StringDType()
# Fixed workbook times so the same seed gives byte-identical xlsx files.
FIXED_XLSX_TIME = "2020-01-01T00:00:00Z"
FIXED_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def as_text(values: np.ndarray) -> np.ndarray:
    """A column as CSV text: dates ISO (NaT blank), numbers plain, strings as they are."""
    values = np.asarray(values)
    if np.issubdtype(values.dtype, np.datetime64):
        text = np.datetime_as_string(values.astype("datetime64[D]"), unit="D").astype(STRING)
        return np.where(np.isnat(values), "", text).astype(STRING)
    return values.astype(STRING)


def write_csv_fast(path: Path, columns: Mapping[str, np.ndarray]) -> int:
    """Write columns as an unquoted comma-separated file (values must hold no commas); rows."""
    names = list(columns)
    line = as_text(columns[names[0]])
    for name in names[1:]:
        line = np.strings.add(np.strings.add(line, ","), as_text(columns[name]))
    body = "\n".join([",".join(names), *line.tolist()]) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body.encode("utf-8"))
    return len(line)


def write_frame(path: Path, frame: pd.DataFrame) -> int:
    """Write a small native CSV (pandas quoting, '\\n' line ends, no index); rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, lineterminator="\n")
    return len(frame)


def extract_date(period: str) -> str:
    """NHS Digital EXTRACT_DATE for a month's first day, e.g. '01JAN2021'."""
    ts = pd.Timestamp(period + "-01")
    return ts.strftime("%d%b%Y").upper()


def population_frame(period: str, codes: np.ndarray, postcodes: np.ndarray, ccg: np.ndarray,
                     ons_ccg: np.ndarray, counts: np.ndarray,
                     other_orgs: Sequence[tuple[str, str, str, np.ndarray]] = ()
                     ) -> dict[str, np.ndarray]:
    """Columns of the five-year-age publication: GP rows (ALL rows first, then each sex's
    ALL and bands), then other organisation types' rows (that parsers must skip).

    `counts` is (practices, 2, bands); `other_orgs` rows are (type, org code, ons code, counts
    of shape (2, bands)).
    """
    n = len(codes)
    n_bands = len(AGE_BANDS)
    sexes = ["ALL", *SEXES]
    bands = ["ALL", *AGE_BANDS]

    def block(org_counts: np.ndarray) -> np.ndarray:
        # (orgs, 3 sexes, 1 + bands): ALL sex = male + female, ALL band = sum of bands.
        by_sex = np.concatenate([org_counts.sum(axis=1, keepdims=True), org_counts], axis=1)
        return np.concatenate([by_sex.sum(axis=2, keepdims=True), by_sex], axis=2)

    values = [block(counts)]
    types = [np.repeat(np.array(["GP"], dtype=object), n)]
    orgs, posts, ccgs, onss = [codes], [postcodes], [ccg], [ons_ccg]
    for kind, org, ons, org_counts in other_orgs:
        values.append(block(org_counts[None]))
        types.append(np.array([kind], dtype=object))
        orgs.append(np.array([org], dtype=object))
        posts.append(np.array([""], dtype=object))
        ccgs.append(np.array([org], dtype=object))
        onss.append(np.array([ons], dtype=object))
    vals = np.concatenate(values)
    per_org = 3 * (n_bands + 1)
    rows = len(vals) * per_org

    def rep(a: list[np.ndarray]) -> np.ndarray:
        return np.repeat(np.concatenate(a), per_org)

    # Keep each sex's rows together: ALL x ALL first, as the publication orders them.
    sex_col = np.tile(np.repeat(np.array(sexes, dtype=object), n_bands + 1), len(vals))
    band_col = np.tile(np.array(bands * 3, dtype=object), len(vals))
    return {
        "PUBLICATION": np.repeat(np.array(["GP_PRAC_PAT_LIST"], dtype=object), rows),
        "EXTRACT_DATE": np.repeat(np.array([extract_date(period)], dtype=object), rows),
        "TYPE": rep(types),
        "CCG_CODE": rep(ccgs),
        "ONS_CCG_CODE": rep(onss),
        "ORG_CODE": rep(orgs),
        "POSTCODE": rep(posts),
        "SEX": sex_col,
        "AGE_GROUP_5": band_col,
        "NUMBER_OF_PATIENTS": vals.reshape(-1),
    }


SPELL_COLUMNS = (
    "EPIKEY", "PSEUDO_HESID", "PROCODE3", "ADMIDATE", "DISDATE", "EPISTART", "EPIEND",
    "EPIORDER", "ADMIMETH", "STARTAGE", "SEX", "DIAG_4_01", "GPPRAC",
)


def write_spells(path: Path, episodes: Mapping[str, np.ndarray]) -> int:
    """HES APC episode rows (the subset of columns feeds.md names, the extract's formats)."""
    return write_csv_fast(path, {c: episodes[c] for c in SPELL_COLUMNS})


class EpisodeEndExtracts:
    """Monthly HES extracts as NHS Digital cuts them: each month's file holds the episodes that
    ended in that month (so no discharge after it); later-ending episodes wait for their month.
    """

    def __init__(self) -> None:
        self._waiting: dict[str, np.ndarray] | None = None

    def month(self, period: str, episodes: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The episodes of month `period`'s extract: those waiting and the new ones (same keys,
        in EPIKEY order) ending in it. Episodes ending before it are in no extract."""
        new = {k: np.asarray(v) for k, v in episodes.items()}
        both = new if self._waiting is None else {
            k: np.concatenate([self._waiting[k], new[k]]) for k in new}
        ends = both["EPIEND"].astype("datetime64[M]")
        month = np.datetime64(period, "M")
        self._waiting = {k: v[ends > month] for k, v in both.items()}
        order = np.argsort(both["EPIKEY"][ends == month], kind="stable")
        return {k: v[ends == month][order] for k, v in both.items()}


def care_package_frame(period: str, codes: np.ndarray,
                       month: Mapping[str, Mapping[str, np.ndarray]],
                       keep: np.ndarray) -> pd.DataFrame:
    """Native care-package rows: practice x package x element with register and completed."""
    parts = []
    for pkg, done in month.items():
        reg = done["register"]
        for element, completed in done.items():
            if element == "register":
                continue
            parts.append(pd.DataFrame({
                "practice_code": codes[keep], "period": period, "package": pkg,
                "element": element, "register": reg[keep], "completed": completed[keep],
            }))
    frame = pd.concat(parts, ignore_index=True)
    # Practice by practice, as a clinical-system extract lists them.
    return frame.sort_values(["practice_code"], kind="stable").reset_index(drop=True)


def _sheet(wb: Workbook, title: str, summary: str, period_label: str,
           header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """One sheet in the NHS England DToC layout: title block, header row at row 14, England
    first, footnotes after the data."""
    ws = wb.create_sheet(title)
    block = [
        ("Title:", "Delayed Transfer of Care, NHS Organisations, England"),
        ("Summary:", summary),
        (None, None),
        ("Period:", period_label),
        ("Source:", "carekpi synthetic demo data (not official statistics)"),
        ("Basis:", "Local Authority"),
        ("Published:", ""),
        ("Revised:", ""),
        ("Status:", "Synthetic"),
        ("Contact:", "carekpi demo"),
    ]
    for k, (label, value) in enumerate(block, start=2):
        if label:
            ws.cell(row=k, column=2, value=label)
            ws.cell(row=k, column=3, value=value)
    for col, label in enumerate(header, start=2):
        ws.cell(row=14, column=col, value=label)
    r = 15
    for row in rows:
        if row:
            for col, value in enumerate(row, start=2):
                ws.cell(row=r, column=col, value=value)
        r += 1
    r += 1
    for note in (
        "Notes:",
        "1. Delayed days are the number of days patients were delayed in the month.",
        "2. NA = not applicable; - = no return.",
    ):
        ws.cell(row=r, column=2, value=note)
        r += 1


def write_dtoc_workbook(path: Path, period: str, rows: Sequence[Mapping[str, object]]) -> None:
    """The NHS England LA-level DToC workbook (Nov 2015 edition shape) for one month.

    Each row: region, ons, code, name, nhs, social_care, both, acute, non_acute and reason_<x>
    values (numbers, or 'NA' / '-' strings), England first, pseudo-authorities last.
    """
    label = pd.Timestamp(period + "-01").strftime("%B %Y")
    wb = Workbook()
    wb.remove(wb.active)
    ident = ["Region", "ONS Geography", "Code", "Name"]

    def lines(values: Sequence[str]) -> list[list[object]]:
        out: list[list[object]] = []
        for k, row in enumerate(rows):
            out.append([row["region"], row["ons"], row["code"], row["name"],
                        *[row[v] for v in values]])
            if k == 0:
                out.append([])  # the blank row after England
        return out

    def total(row: Mapping[str, object], keys: Sequence[str]) -> object:
        nums = [row[k] for k in keys if isinstance(row[k], int | float)]
        return sum(nums) if nums else row[keys[0]]

    rows = [dict(r) for r in rows]
    for r in rows:
        r["total"] = total(r, ["nhs", "social_care", "both"])
    _sheet(wb, "LA - by Type of Care",
           "Number of Delayed Days during the reporting period, Acute and Non-Acute, for NHS "
           "Organisations in England by the type of care that the patient receives.",
           label, [*ident, "Acute", "Non-Acute", "Total"], lines(["acute", "non_acute", "total"]))
    _sheet(wb, "LA - by responsible org",
           "Number of Delayed Days during the reporting period, Acute and Non-Acute, for NHS "
           "Organisations in England by the responsible organisation.",
           label, [*ident, "NHS", "Social Care", "Both", "Total"],
           lines(["nhs", "social_care", "both", "total"]))
    reason_keys = [f"reason_{letter}" for letter, _, _ in DTOC_REASONS]
    _sheet(wb, "LA - by reason",
           "Number of Delayed Days during the reporting period for NHS Organisations in England "
           "by the reason for the delay.",
           label, [*ident, *[name for _, name, _ in DTOC_REASONS], "TOTAL"],
           lines([*reason_keys, "total"]))
    save_workbook_fixed(wb, path)


# ODS ePCN workbook headers (the 2022 edition's spelling, line breaks included).
EPCN_PARTNER_HEADER = [
    "Partner\nOrganisation\nCode", "Partner\nName", "Practice\nParent\nCCG Code",
    "Practice\nParent\nCCG Name", "PCN Code", "PCN Name", "PCN Parent\nCCG Code",
    "PCN Parent\nCCG Name", "Practice to PCN\nRelationship\nStart Date",
    "Practice to PCN\nRelationship\nEnd Date", "Practice CCG and PCN\nCCG Match ",
]
EPCN_DETAILS_HEADER = ["PCN Code", "PCN Name", "Current Clinical \nCommissioning \nGroup Code",
                       "Clinical\nCommissioning\nGroup Name", "Open Date", "Close Date"]


def write_epcn_workbook(path: Path, relationships: pd.DataFrame) -> None:
    """The ODS ePCN workbook: PCN details and one row per practice-PCN relationship.

    `relationships` columns: practice_code, practice_name, ccg_code, ccg_name, network_code,
    network_name, valid_from, valid_to (ISO text, blank = open). Dates are written as ODS
    does, YYYYMMDD text.
    """
    def ods_date(value: str) -> str | None:
        return value.replace("-", "") if value else None

    wb = Workbook()
    details = wb.active
    details.title = "PCNDetails"
    details.append(EPCN_DETAILS_HEADER)
    pcns = relationships.sort_values("valid_from").drop_duplicates("network_code")
    for row in pcns.sort_values("network_code").itertuples():
        details.append([row.network_code, row.network_name, row.ccg_code, row.ccg_name,
                        ods_date(row.valid_from), ""])
    partners = wb.create_sheet("PCN Core Partner Details")
    partners.append(EPCN_PARTNER_HEADER)
    for row in relationships.itertuples():
        partners.append([row.practice_code, row.practice_name.upper(), row.ccg_code,
                         row.ccg_name, row.network_code, row.network_name.upper(), row.ccg_code,
                         row.ccg_name, ods_date(row.valid_from), ods_date(row.valid_to), True])
    save_workbook_fixed(wb, path)


def save_workbook_fixed(wb: Workbook, path: Path) -> None:
    """Save a workbook with fixed document and zip times, so the bytes depend only on content."""
    buffer = io.BytesIO()
    wb.save(buffer)
    path.parent.mkdir(parents=True, exist_ok=True)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:)",
                    rb"\g<1>" + FIXED_XLSX_TIME.encode() + rb"\g<3>", data,
                )
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            target.writestr(fixed, data)
    path.write_bytes(out.getvalue())
