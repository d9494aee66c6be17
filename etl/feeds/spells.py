"""Hospital spells: record-level admissions (native CSV, HES APC episodes) and commissioner MAR.

Record-level files become one row per spell and file (a HES extract's episodes are collapsed: the
first episode in the file gives age, sex, method, diagnosis and practice; the last one's DISDATE
ends the spell), then `aggregate_spells` turns them into practice x month x sex x age-band counts
on the way in (feeds.md §4): the spells themselves are never stored. A monthly HES extract holds
the episodes that ended in its month, so a spell's episodes may arrive in several files: its
admission counts from the file holding its first episode, its discharge and length of stay from
the file holding the episode that closes it, each under that file's coverage (no patient
identifier is kept across files; docs/decisions/0003-file-coverage.md).
The NHS England Monthly Activity Return (MAR) gives emergency admissions per commissioner per
month where no record-level data exist.

Layout knowledge (aliases, sentinels, codes) lives in etl/layouts/spells.toml. Two canonical
frames come out: `spells` (record level) and `spells_commissioner` (MAR, the layouts saying
`frame = "spells_commissioner"`); RECORD at the end declares both.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from carekpi.periods import period_of
from etl.feeds.record import FactRows, Feed, Frame, TableRows, org_period_rows, period_list
from etl.layout_reader import first_csv_row, is_workbook, read_counts, title_period
from etl.layouts import layouts_for
from etl.problems import FeedError, Problem
from etl.readers import (
    find_header_row,
    fold_label,
    header_mapping,
    is_suppressed,
    read_csv_columns,
    read_excel_sheets,
    rename_by_aliases,
)
from etl.reference import acsc_prefixes
from etl.validate import refuse

FEED = "spells"
# one row per hospital spell and file (its episodes there collapsed), never stored. practice_code
# None when the source code is not a real practice (counted as unattributed). opens: the spell's
# first episode is in this file (its admission counts from here); coverage_org (provider, '' when
# the file has none), admission_coverage and discharge_coverage ('YYYY-MM'): the coverage its
# admission and its discharge count under.
COLUMNS = [
    "practice_code", "age", "sex", "admission_date", "discharge_date",
    "admission_method", "primary_diagnosis", "opens", "coverage_org",
    "admission_coverage", "discharge_coverage",
]
# NHS England MAR workbooks: emergency admissions per commissioner (place) and month.
COMMISSIONER_COLUMNS = ["org_code", "period", "emergency_admissions"]

# HES data dictionary, ADMIMETH: emergency admissions are 21-25 and 28, and from 2013-14 also
# 2A-2D (hes_apc_metadata.json, "Emergency Admission ... at short notice because of clinical need").
EMERGENCY_METHODS = frozenset({"21", "22", "23", "24", "25", "28", "2A", "2B", "2C", "2D"})

# Five-year age bands as in the GP registration five-year-age file (feeds.md §2).
AGE_BANDS = tuple(f"{lo}_{lo + 4}" for lo in range(0, 95, 5)) + ("95+",)
UNKNOWN_AGE = "UNKNOWN"
# Unknown sex is kept as its own group (counted, never dropped); spell_fact needs a non-null key.
UNKNOWN_SEX = "U"
UNATTRIBUTED = "UNATTRIBUTED"

# kpis.md: `los_21plus_share_65`, stays of 7+ days, and `los_long_stay_bed_share_65` (> 10 days).
LONG_STAY_DAYS = 10


# --- helpers for fast reading --------------------------------------------------------------------

def per_value(values: pd.Series, transform) -> pd.Series:
    """`transform` applied once per distinct value and spread back (fast on repetitive columns)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    mapped = transform(pd.Series(uniques, dtype=object))
    return pd.Series(np.asarray(mapped, dtype=object)[codes], index=values.index, dtype=object)


def _clean(values: pd.Series) -> pd.Series:
    """Cell text stripped and upper-cased (codes such as 'a81001 ' -> 'A81001')."""
    return per_value(values, lambda u: u.astype(str).str.strip().str.upper())


def parse_dates(
    values: pd.Series, formats: list[str], sentinels: Iterable[str], file: str, column: str,
    rows: pd.Series,
) -> tuple[pd.Series, list[Problem]]:
    """Dates (datetime64, NaT for blank or sentinel) and a Problem per unreadable date."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    text = pd.Series(uniques, dtype=object).astype(str).str.strip()
    stamps = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    for fmt in formats:
        stamps = stamps.fillna(pd.to_datetime(text, format=fmt, errors="coerce"))
    missing = (text.eq("") | text.isin(list(sentinels))).to_numpy()
    stamps[missing] = pd.NaT
    bad = (stamps.isna().to_numpy() & ~missing)[codes]
    problems = [
        Problem(file, f"not a date in a known form ({', '.join(formats)})", int(r), column, v)
        for r, v in zip(rows[bad], values[bad], strict=True)
    ]
    return pd.Series(stamps.to_numpy()[codes], index=values.index), problems


def _as_dates(stamps: pd.Series) -> pd.Series:
    """datetime64 -> datetime.date objects, None where missing (the canonical frame's type)."""
    codes, uniques = pd.factorize(stamps)  # NaT -> code -1
    days = np.array([v.date() for v in uniques] + [None], dtype=object)
    return pd.Series(days[codes], index=stamps.index, dtype=object)


def _none_for_missing(values: pd.Series) -> pd.Series:
    """Values as an object Series with None (not NaN) where missing."""
    out = np.array(values, dtype=object)
    out[pd.isna(out)] = None
    return pd.Series(out, index=values.index, dtype=object)


def _text_or_none(values: pd.Series) -> pd.Series:
    return values.where(values.ne(""), None)


# --- record-level spells ------------------------------------------------------------------------

def _practice_codes(code: pd.Series, spec: dict) -> pd.Series:
    """Practice codes, None where the code is not an English GP practice (unattributed)."""
    def keep(u: pd.Series) -> pd.Series:
        shaped = u.str.fullmatch(spec["practice_code_pattern"]).astype(bool)
        return u.where(shaped & ~u.isin(spec["non_practice_codes"]), None)

    return per_value(code, keep)


def _ages(values: pd.Series, spec: dict, file: str, rows: pd.Series) -> tuple[pd.Series,
                                                                              list[Problem]]:
    """Age in whole years (HES 7001-7007 = under one); a Problem per non-numeric age."""
    text = _clean(values)
    years = text.where(~text.isin(spec.get("under_one_ages", [])), "0")
    number = pd.to_numeric(years.where(years.ne("")), errors="coerce")
    bad = (number.isna() & years.ne("")) | (number.notna() & (number != number.round()))
    problems = [Problem(file, "age is not a whole number of years", int(r), "age", v)
                for r, v in zip(rows[bad], values[bad], strict=True)]
    return number.where(~bad).astype("Int64"), problems


def _spell_frame(raw: pd.DataFrame, spec: dict, file: str) -> pd.DataFrame:
    """Canonical spells from a frame with canonical column names (one row per spell and file),
    with the role each row plays and the coverage it belongs to (see `_coverage`)."""
    rows = raw["source_row"]
    problems: list[Problem] = []
    admitted, p = parse_dates(raw["admission_date"], spec["date_formats"], spec["sentinel_dates"],
                              file, "admission_date", rows)
    problems += p
    discharged, p = parse_dates(raw["discharge_date"], spec["date_formats"],
                                spec["sentinel_dates"], file, "discharge_date", rows)
    problems += p
    ended = None
    if "episode_end" in raw.columns:
        ended, p = parse_dates(raw["episode_end"], spec["date_formats"], spec["sentinel_dates"],
                               file, "episode_end", rows)
        problems += p
    age, p = _ages(raw["age"], spec, file, rows)
    problems += p
    # An admission date is what places a spell in a month: blank or a HES sentinel is refused.
    text = _clean(raw["admission_date"])
    no_admission = (text.eq("") | text.isin(spec["sentinel_dates"])).astype(bool)
    undated = [
        Problem(file, "admission date is missing (blank, or a sentinel meaning null/invalid: "
                f"{', '.join(spec['sentinel_dates'])})", int(r), "admission_date", v)
        for r, v in zip(rows[no_admission], raw["admission_date"][no_admission], strict=True)
    ]
    set_aside = spec.get("bad_rows") == "set_aside"
    if not set_aside:
        problems += undated
    sex = _clean(raw["sex"]).map(spec["sex_codes"])
    provider = _clean(raw["provider"]) if "provider" in raw.columns else pd.Series(
        "", index=raw.index, dtype=object)
    admission_cover, discharge_cover = _coverage(raw, admitted, discharged, ended)
    frame = pd.DataFrame({
        "practice_code": _practice_codes(_clean(raw["practice_code"]), spec),
        "age": age,
        "sex": sex.astype(object).where(sex.notna(), None),
        "admission_date": _as_dates(admitted),
        "discharge_date": _as_dates(discharged),
        "admission_method": _text_or_none(_clean(raw["admission_method"])),
        "primary_diagnosis": _text_or_none(
            per_value(_clean(raw["primary_diagnosis"]), lambda u: u.str.replace(".", ""))),
        "opens": raw["opens"].to_numpy(dtype=bool) if "opens" in raw.columns else True,
        "coverage_org": pd.Series(provider.to_numpy(dtype=object), index=raw.index,
                                  dtype=object),
        "admission_coverage": _none_for_missing(admission_cover),
        "discharge_coverage": _none_for_missing(discharge_cover),
        "source_row": rows.astype("int64"),
    }).reset_index(drop=True)
    if set_aside and undated:
        frame = frame[~no_admission.to_numpy()].reset_index(drop=True)
    # One report: what could not be read, plus the schema's findings on every other cell.
    refuse(file, sorted(problems, key=lambda q: (q.row or 0, q.column or "")), frame, SCHEMA)
    frame.attrs["set_aside"] = undated if set_aside else []
    return frame


def _coverage(raw: pd.DataFrame, admitted: pd.Series, discharged: pd.Series,
              ended: pd.Series | None) -> tuple[pd.Series, pd.Series]:
    """The month each row's admission and discharge count under: what the file restates.

    A spell-level file (native CSV) restates admission months: both parts count under the
    admission month. An episode-level extract (HES) restates the months its episodes end in: the
    discharge under the discharge month (the closing episode ends then), the admission under
    the end month of the spell's first episode in the file (EPIEND; without it, the discharge
    month when that episode closes the spell, else the latest month the file shows).
    """
    admission_month, discharge_month = _month(admitted), _month(discharged)
    if "opens" not in raw.columns:  # spell-level rows
        return admission_month, admission_month.where(discharge_month.notna(), None)
    first_end = _month(ended) if ended is not None else pd.Series(None, index=raw.index,
                                                                  dtype=object)
    alone = raw["alone"].to_numpy(dtype=bool)
    first_end = first_end.where(first_end.notna() | ~alone, discharge_month)
    shown = pd.concat([first_end, discharge_month]).dropna()
    fallback = shown.max() if len(shown) else None
    first_end = first_end.where(first_end.notna(), fallback)
    return first_end.where(first_end.notna(), admission_month), discharge_month


def _collapse_episodes(raw: pd.DataFrame, spec: dict) -> pd.DataFrame:
    """One row per spell and file from HES episodes: the first episode's fields and end, the
    last episode's DISDATE, whether the spell opens here and whether one episode is all of it.

    A spell is the episodes of one patient (PSEUDO_HESID) at one provider (PROCODE3) with one
    ADMIDATE; whichever of patient/provider the extract carries is used. Episodes are ordered by
    EPIORDER (98/99/blank last), then EPIKEY. An episode with no usable ADMIDATE is its own spell.
    A spell opens in this file when its first episode here is EPIORDER 1 (or of unknown order):
    a later episode means its first arrived in an earlier month's file, which counted it.
    """
    if raw.empty:
        return raw.assign(discharge_date=raw["discharge_date"], opens=False, alone=False)
    admitted = _clean(raw["admission_date"])
    no_date = (admitted.eq("") | admitted.isin(spec["sentinel_dates"])).to_numpy()
    date_code = pd.factorize(admitted)[0]
    # Episodes without an admission date must not merge: give each its own negative code.
    date_code = np.where(no_date, -1 - np.arange(len(raw)), date_code)
    key_codes = [pd.factorize(raw[k])[0] for k in spec["spell_keys_any"] if k in raw.columns]
    order_text = _clean(raw["episode_order"])
    order = pd.to_numeric(order_text.where(~order_text.isin(spec["unknown_episode_orders"])),
                          errors="coerce").fillna(np.inf).to_numpy()
    episode = pd.factorize(raw["episode_key"], sort=True)[0]
    # np.lexsort sorts by the last key first: spell keys, then episode order, then EPIKEY.
    sorted_at = np.lexsort([episode, order, date_code, *reversed(key_codes)])
    spell_keys = np.column_stack([*key_codes, date_code])[sorted_at]
    new_spell = np.r_[True, (spell_keys[1:] != spell_keys[:-1]).any(axis=1)]
    last_of_spell = np.r_[new_spell[1:], True]
    first_at, last_at = sorted_at[new_spell], sorted_at[last_of_spell]
    first = raw.iloc[first_at]
    first = first.assign(discharge_date=raw["discharge_date"].to_numpy()[last_at],
                         opens=(order[first_at] == 1) | np.isinf(order[first_at]),
                         alone=first_at == last_at)
    return first.sort_values("source_row", kind="stable")


def _read_record_csv(path: Path, spec: dict) -> pd.DataFrame:
    """The layout's columns of a record-level CSV, renamed to canonical names, with source_row
    (read in chunks by the shared reader)."""
    header = first_csv_row(path)
    found = header_mapping(header, spec["aliases"])
    missing = [c for c in spec["required"] if c not in found.values()]
    keys_any = spec.get("spell_keys_any", [])
    if keys_any and not any(k in found.values() for k in keys_any):
        missing += ["/".join(keys_any)]
    if missing:
        raise FeedError(path.name, [
            Problem(path.name, "required column is missing (expected one of "
                    f"{[c, *spec['aliases'].get(c, [])]})", row=1, column=c) for c in missing])
    return read_csv_columns(path, list(found)).rename(columns=found)


def _parse_record_level(path: Path, spec: dict) -> pd.DataFrame:
    raw = _read_record_csv(path, spec)
    if "episode_order" in spec["aliases"]:
        raw = _collapse_episodes(raw, spec)
    return _spell_frame(raw, spec, Path(path).name)


# --- commissioner-level Monthly Activity Return --------------------------------------------------

def _mar_sheet(path: Path, spec: dict) -> tuple[str, pd.DataFrame, int] | None:
    """(sheet name, cells, header row index) of the first sheet holding the MAR header labels."""
    for name, cells in read_excel_sheets(path).items():
        row = find_header_row(cells, spec["header_labels"])
        if row is not None:
            return name, cells, row
    return None


def _parse_mar(path: Path, spec: dict) -> pd.DataFrame:
    file = Path(path).name
    found = _mar_sheet(path, spec)
    if found is None:
        raise FeedError(file, [Problem(
            file, f"no sheet has a header row with the labels {spec['header_labels']}")])
    _sheet, cells, header_row = found
    period = title_period(cells, header_row, spec)
    problems: list[Problem] = []
    if period is None:
        problems.append(Problem(file, "the title block names no month (expected a cell after "
                                f"one of {spec['period_labels']})"))
    body = cells.iloc[header_row + 1:].copy()
    body.columns = [str(c).strip() for c in cells.iloc[header_row].tolist()]
    body = body.loc[:, ~pd.Index(body.columns).duplicated()]
    body = rename_by_aliases(body, spec["aliases"], file, ["org_code", "emergency_admissions"])
    body["source_row"] = body.index + 1  # spreadsheet rows are 1-based
    code = body["org_code"].map(lambda v: "" if is_suppressed(v) else str(v).strip())
    names = body["org_name"].astype(str) if "org_name" in body.columns else code
    skip = (code.eq("") | code.isin(spec["skip_codes"])
            | names.map(fold_label).isin([fold_label(n) for n in spec["skip_names"]]))
    body = body[~skip]
    counts, p = read_counts(body["emergency_admissions"], body["source_row"].to_numpy(), file,
                            "emergency_admissions")
    problems += p
    frame = pd.DataFrame({
        "org_code": pd.Series(code[~skip].to_numpy(), dtype=object),
        "period": period,
        "emergency_admissions": counts.to_numpy(),
        "source_row": body["source_row"].astype("int64").to_numpy(),
    })
    refuse(file, problems, frame, COMMISSIONER_SCHEMA)  # missing or negative counts too
    return frame


# --- the feed contract -------------------------------------------------------------------------

def detect(path: Path) -> str | None:
    """The spells layout the file's content is in (header names or sheet labels), else None."""
    path = Path(path)
    layouts = layouts_for(FEED)
    if is_workbook(path):
        for name, spec in layouts.items():
            if spec["format"] == "workbook":
                try:
                    if _mar_sheet(path, spec) is not None:
                        return name
                except FeedError:
                    return None
        return None
    header = first_csv_row(path)
    if not header:
        return None
    best: tuple[int, str] | None = None
    for name, spec in layouts.items():
        if spec["format"] != "csv":
            continue
        found = set(header_mapping(header, spec["aliases"]).values())
        if not set(spec["required"]) <= found:
            continue
        if spec.get("spell_keys_any") and not found & set(spec["spell_keys_any"]):
            continue
        score = len(found)
        if best is None or score > best[0]:
            best = (score, name)
    return best[1] if best else None


def parse(path: Path, layout: str) -> pd.DataFrame:
    """The file's canonical frame: spells (record level) or spells_commissioner (MAR).

    Raises FeedError listing every problem found (file, row, column, value, rule).
    """
    spec = layouts_for(FEED)[layout]
    if spec["frame"] == "spells_commissioner":
        return _parse_mar(Path(path), spec)
    return _parse_record_level(Path(path), spec)


# --- aggregation on the way in ------------------------------------------------------------------

def age_band(age: pd.Series) -> pd.Series:
    """Five-year age band label per age ('0_4' ... '90_94', '95+'; 'UNKNOWN' when missing)."""
    years = pd.to_numeric(age, errors="coerce")
    index = np.minimum(years // 5, len(AGE_BANDS) - 1)
    labels = np.array(AGE_BANDS, dtype=object)
    out = pd.Series(UNKNOWN_AGE, index=age.index, dtype=object)
    known = index.notna().to_numpy()
    out[known] = labels[index[known].astype(int).to_numpy()]
    return out


def _month(dates: pd.Series) -> pd.Series:
    """'YYYY-MM' of each date, None where missing."""
    codes, uniques = pd.factorize(pd.Series(dates))  # missing -> -1, the None appended
    text = np.array([period_of(pd.Timestamp(u)) for u in uniques] + [None], dtype=object)
    return pd.Series(text[codes], index=dates.index, dtype=object)


MEASURES = [
    "admissions", "emergency_admissions", "acsc_emergency_admissions", "emergency_bed_days",
    "emergency_los_sq_sum", "emergency_stays_7plus", "emergency_stays_21plus",
    "emergency_long_stay_bed_days", "emergency_discharges",
]
ADMISSION_MEASURES = MEASURES[:3]
GROUP_COLUMNS = ["practice_code", "admission_period", "discharge_period", "sex", "age_band",
                 "coverage_period", "coverage_org"]


def aggregate_spells(spells: pd.DataFrame, acsc: tuple[str, ...],
                     block: int = 100_000) -> pd.DataFrame:
    """Practice x admission month x discharge month x sex x age band x coverage counts.

    Counted `block` spells at a time and the partial counts summed, so that memory follows the
    block, not the national file (see `_aggregate_block` for what is counted where).
    """
    parts = [_aggregate_block(spells.iloc[at:at + block], acsc)
             for at in range(0, max(len(spells), 1), block)]
    if len(parts) == 1:
        return parts[0]
    both = pd.concat(parts, ignore_index=True)
    for column in ("admission_period", "discharge_period"):
        both[column] = both[column].fillna("")
    out = _sum_by_keys({c: both[c].to_numpy(dtype=object) for c in GROUP_COLUMNS},
                       {m: both[m].to_numpy() for m in MEASURES})
    return _blank_periods_as_none(out)[[*GROUP_COLUMNS, *MEASURES]]


def _blank_periods_as_none(out: pd.DataFrame) -> pd.DataFrame:
    for column in ("admission_period", "discharge_period"):
        out[column] = out[column].astype(object).where(out[column].ne(""), None)
    return out


def _aggregate_block(spells: pd.DataFrame, acsc: tuple[str, ...]) -> pd.DataFrame:
    """Practice x admission month x discharge month x sex x age band x coverage counts.

    A row that opens its spell adds the admission counts, under the admission month and its
    `admission_coverage`; a row with a discharge adds the discharge and length-of-stay counts
    (emergency spells only; length = discharge date - admission date in days, same-day = 0)
    under the discharge month and its `discharge_coverage`. Reading rows by admission_period gives
    the admissions of a month; by discharge_period the spells ending in it. The admission part's
    discharge_period is '' unless its discharge counts under the same coverage (then both parts
    share one row). `practice_code` None becomes 'UNATTRIBUTED', unknown sex 'U', unknown age
    'UNKNOWN'. Without role or coverage columns every row opens its spell and both parts count
    under the admission month (a spell-level file). Expects a validated frame.
    """
    admitted = pd.to_datetime(spells["admission_date"])
    discharged = pd.to_datetime(spells["discharge_date"])
    method = per_value(spells["admission_method"], lambda u: u.fillna("").astype(str).str.strip()
                       .str.upper().isin(EMERGENCY_METHODS))
    emergency = method.to_numpy(dtype=bool)
    prefixes = tuple(p.upper() for p in acsc)
    is_acsc = per_value(spells["primary_diagnosis"], lambda u: u.fillna("").astype(str).str.upper()
                        .str.replace(".", "", regex=False).str.strip().str.startswith(prefixes)
                        ).to_numpy(dtype=bool)
    stay = (discharged - admitted).dt.days
    closes = stay.notna().to_numpy()
    counted = emergency & closes
    los = np.where(counted, stay.fillna(0).to_numpy(), 0).astype("int64")
    admission_month = _month(spells["admission_date"]).fillna("")
    discharge_month = _month(spells["discharge_date"]).fillna("")
    opens = spells["opens"].to_numpy(dtype=bool) if "opens" in spells.columns else np.ones(
        len(spells), dtype=bool)
    admission_cover = (spells["admission_coverage"] if "admission_coverage" in spells.columns
                       else admission_month)
    discharge_cover = (spells["discharge_coverage"].fillna("")
                       if "discharge_coverage" in spells.columns
                       else admission_month.where(discharge_month.ne(""), ""))
    # Plain object arrays, not DataFrame columns: a national month stays small (pandas would
    # copy every key into a string column).
    keys = {
        "practice_code": _filled(spells["practice_code"], UNATTRIBUTED),
        "admission_period": admission_month.to_numpy(dtype=object),
        "discharge_period": discharge_month.to_numpy(dtype=object),
        "sex": _filled(spells["sex"], UNKNOWN_SEX),
        "age_band": age_band(spells["age"]).to_numpy(dtype=object),
        "coverage_period": np.asarray(discharge_cover, dtype=object),
        "coverage_org": (_filled(spells["coverage_org"], "") if "coverage_org" in spells.columns
                         else np.full(len(spells), "", dtype=object)),
    }
    admission_keys = keys | {"coverage_period": np.asarray(admission_cover, dtype=object)}
    # Both parts share a row when they count under the same coverage.
    together = admission_keys["coverage_period"] == keys["coverage_period"]
    admission_keys["discharge_period"] = np.where(together, keys["discharge_period"], "")
    zero = np.zeros(len(spells), dtype="int64")
    opening = {"admissions": np.ones(len(spells), dtype="int64"),
               "emergency_admissions": emergency.astype("int64"),
               "acsc_emergency_admissions": (emergency & is_acsc).astype("int64")}
    ending = {
        "emergency_bed_days": los,
        "emergency_los_sq_sum": los * los,
        "emergency_stays_7plus": (counted & (los >= 7)).astype("int64"),
        "emergency_stays_21plus": (counted & (los >= 21)).astype("int64"),
        "emergency_long_stay_bed_days": np.where(counted & (los > LONG_STAY_DAYS), los, 0),
        "emergency_discharges": counted.astype("int64"),
    }
    out = _sum_by_keys(
        {c: np.concatenate([admission_keys[c][opens], keys[c][closes]]) for c in GROUP_COLUMNS},
        {m: np.concatenate([opening.get(m, zero)[opens], ending.get(m, zero)[closes]])
         for m in MEASURES})
    return _blank_periods_as_none(out)[[*GROUP_COLUMNS, *MEASURES]]


def _filled(values: pd.Series, missing: str) -> np.ndarray:
    """An object array of the values, `missing` where a value is missing."""
    out = np.array(values, dtype=object)
    out[pd.isna(out)] = missing
    return out


def _sum_by_keys(keys: dict[str, np.ndarray], values: dict[str, np.ndarray]) -> pd.DataFrame:
    """The key columns and `values` summed per distinct key row, sorted by the keys: one
    integer per row (object-column groupby would copy every key)."""
    combined = np.zeros(len(next(iter(keys.values()))), dtype="int64")
    decoded = {}
    for column, cells in keys.items():
        codes, uniques = pd.factorize(cells, sort=True)
        combined = combined * max(len(uniques), 1) + codes
        decoded[column] = (codes, np.asarray(uniques, dtype=object))
    groups, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
    out = {c: pd.Series(uniques[codes[first]], dtype=object)
           for c, (codes, uniques) in decoded.items()}
    for name, cells in values.items():
        out[name] = pd.Series(np.bincount(inverse, weights=cells, minlength=len(groups)).round()
                              .astype("int64"))
    return pd.DataFrame(out)


# --- schemas -------------------------------------------------------------------------------------

def _not_before_admission(frame: pd.DataFrame) -> pd.Series:
    both = frame["admission_date"].notna() & frame["discharge_date"].notna()
    admitted = pd.to_datetime(frame["admission_date"])
    discharged = pd.to_datetime(frame["discharge_date"])
    return ~both | (discharged >= admitted)


def _dates_or_none(values: pd.Series) -> pd.Series:
    return values.map(lambda v: v is None or isinstance(v, date))


_PRACTICE = layouts_for(FEED)["native"]["practice_code_pattern"]

SCHEMA = pa.DataFrameSchema(
    {
        "practice_code": pa.Column(nullable=True, checks=pa.Check.str_matches(
            _PRACTICE, error="practice code is not an English GP practice code")),
        "age": pa.Column("Int64", nullable=True, checks=pa.Check.in_range(
            0, 120, error="age is outside 0-120 years")),
        "sex": pa.Column(nullable=True, checks=pa.Check.isin(["M", "F"])),
        "admission_date": pa.Column(nullable=False, checks=pa.Check(
            _dates_or_none, error="admission date is not a date")),
        "discharge_date": pa.Column(nullable=True, checks=pa.Check(
            _dates_or_none, error="discharge date is not a date")),
        "admission_method": pa.Column(nullable=False, checks=pa.Check.str_matches(
            r"^[0-9][0-9A-Z]$", error="admission method is not a two-character HES code")),
        "primary_diagnosis": pa.Column(nullable=True, checks=pa.Check.str_matches(
            r"^[A-Z][0-9]{2}", error="primary diagnosis is not an ICD-10 code")),
        "opens": pa.Column(bool),
        "coverage_org": pa.Column(str, nullable=False),
        "admission_coverage": pa.Column(nullable=True),  # None only with a refused date
        "discharge_coverage": pa.Column(nullable=True),
        "source_row": pa.Column("int64"),
    },
    checks=[pa.Check(_not_before_admission,
                     error="discharge_date is before admission_date")],
    strict=True,
)

COMMISSIONER_SCHEMA = pa.DataFrameSchema(
    {
        "org_code": pa.Column(nullable=False, checks=pa.Check.str_matches(
            r"^[0-9A-Z]{3,5}$", error="commissioner code is not an ODS code")),
        "period": pa.Column(nullable=False),
        "emergency_admissions": pa.Column("Int64", nullable=False, checks=pa.Check.ge(0)),
        "source_row": pa.Column("int64"),
    },
    strict=True,
)


# --- the warehouse rows ---------------------------------------------------------------------------

SPELL_COVERAGE = ["coverage_org", "coverage_period"]


def fact_rows(frame: pd.DataFrame, _spec: dict) -> FactRows:
    """Spell counts keyed by the coverage they came from: a later file of the same coverage
    (HES: episode-end month x provider) replaces them, files of other coverage add up."""
    rows = aggregate_spells(frame, acsc_prefixes())
    rows["practice_code"] = rows["practice_code"].fillna(UNATTRIBUTED)
    rows["discharge_period"] = rows["discharge_period"].fillna("")
    rows["admission_period"] = rows["admission_period"].fillna("")
    return FactRows({"spell_fact": TableRows(rows, SPELL_COVERAGE)},
                    period_list(rows["coverage_period"]))


def spell_coverage(frame: pd.DataFrame) -> pd.DataFrame:
    """coverage_org, coverage_period: every unit a parsed spells frame restates (before rows of
    other areas are skipped)."""
    units = pd.concat([
        pd.DataFrame({"coverage_org": frame["coverage_org"], "coverage_period": frame[column]})
        for column in ("admission_coverage", "discharge_coverage")])
    return units.dropna().drop_duplicates().reset_index(drop=True)


RECORD = Feed(FEED, detect, parse, (
    # no row keys: a file's spells are counted, not identified (no patient identifier is kept)
    Frame(FEED, tuple(COLUMNS), SCHEMA, keys=(), code_column="practice_code",
          tables=("spell_fact",), build=fact_rows,
          families=("emergency_admissions", "length_of_stay"), coverage=spell_coverage),
    # commissioners have no local reference to check; no KPI reads their counts yet
    Frame("spells_commissioner", tuple(COMMISSIONER_COLUMNS), COMMISSIONER_SCHEMA,
          keys=("org_code", "period"), code_column=None, tables=("commissioner_admissions",),
          build=org_period_rows("commissioner_admissions", ("emergency_admissions",))),
))
