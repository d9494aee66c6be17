"""Count measures from the warehouse facts, at the level each feed arrives at.

Every KPI of the catalogue names a numerator and a denominator measure; this module computes
them as one long frame: org_code, period, measure, value (plus `carried_forward` for
population-based measures). Care-package measures are named `cp:<package>:<element>:<count>`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Connection

from carekpi import warehouse as wh

# Five-year bands counted as 65+; 18+ takes 2/5 of the 15-19 band (ages 18 and 19), the usual
# split of a five-year band when only quinary ages are published.
BANDS_65PLUS = ("65_69", "70_74", "75_79", "80_84", "85_89", "90_94", "95+")
BANDS_20PLUS = ("20_24", "25_29", "30_34", "35_39", "40_44", "45_49", "50_54", "55_59",
                "60_64", *BANDS_65PLUS)
SHARE_18_19_OF_15_19 = 2 / 5

MEASURE_COLUMNS = ["org_code", "period", "measure", "value"]


def cp_measure(package: str, element: str, count: str) -> str:
    """Name of a care-package count measure (count is 'completed' or 'register')."""
    return f"cp:{package}:{element}:{count}"


def practice_measures(conn: Connection, periods: list[str] | None = None) -> pd.DataFrame:
    """Practice-level measures (population, spells, care packages) for the periods given."""
    parts = [
        population_measures(conn, periods),
        spell_measures(conn, periods),
        care_package_measures(conn, periods),
    ]
    return _stacked(parts)


def _stacked(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Long measure frames stacked, each with a boolean carried_forward (False where absent)."""
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=[*MEASURE_COLUMNS, "carried_forward"])
    out = pd.concat(parts, ignore_index=True)
    if "carried_forward" not in out:
        out["carried_forward"] = False
    out["carried_forward"] = out["carried_forward"].fillna(False).astype(bool)
    return out


def network_measures(conn: Connection, periods: list[str] | None = None) -> pd.DataFrame:
    """Measures of feeds arriving at network or place level (DToC, reablement, care homes)."""
    frames = []
    dtoc = _read(conn, wh.delayed_transfer_fact, "period", periods)
    if not dtoc.empty:
        parts = dtoc[["delayed_days_nhs", "delayed_days_social_care", "delayed_days_both"]]
        dtoc["delayed_days"] = parts.sum(axis=1, min_count=1)
        dtoc["delayed_days_social_care_or_both"] = parts.iloc[:, 1:].sum(axis=1, min_count=1)
        frames.append(_long(dtoc, ["delayed_days", "delayed_days_social_care_or_both"]))
    reab = _read(conn, wh.reablement_fact, "period", periods)
    if not reab.empty:
        frames.append(_long(reab, ["discharged_65_into_reablement", "at_home_91_days",
                                   "episodes_ended", "no_further_support"]))
    homes = _read(conn, wh.care_home_fact, "period", periods)
    if not homes.empty:
        homes["care_home_admissions_65"] = homes[
            ["admissions_65_residential", "admissions_65_nursing"]].sum(axis=1, min_count=1)
        frames.append(_long(homes, ["care_home_admissions_65"]))
    return _stacked(frames)


def population_measures(conn: Connection, periods: list[str] | None = None) -> pd.DataFrame:
    """registered_patients (all, 18+, 65+) per practice and month, carrying the latest earlier
    extract forward into months without one (flagged `carried_forward`)."""
    pop = _read(conn, wh.population, None, None)
    if pop.empty:
        return pd.DataFrame(columns=[*MEASURE_COLUMNS, "carried_forward"])
    banded = pop[(pop["age_band"] != "ALL") & pop["sex"].isin(["M", "F"])]
    total_rows = pop[(pop["sex"] == "ALL") & (pop["age_band"] == "ALL")]
    keys = ["practice_code", "period"]
    totals = total_rows.groupby(keys)["patients"].sum()
    from_bands = banded.groupby(keys)["patients"].sum()
    wide = pd.DataFrame({"registered_patients": totals.combine_first(from_bands)})
    band = banded["age_band"]
    wide["registered_patients_65"] = banded[band.isin(BANDS_65PLUS)].groupby(keys)["patients"].sum()
    adults = banded[band.isin(BANDS_20PLUS)].groupby(keys)["patients"].sum()
    teens = banded[band == "15_19"].groupby(keys)["patients"].sum()
    wide["registered_patients_18"] = adults.add(teens * SHARE_18_19_OF_15_19, fill_value=0)
    has_bands = from_bands.index
    wide.loc[~wide.index.isin(has_bands), ["registered_patients_65", "registered_patients_18"]] = (
        np.nan)
    closes = wh.read_frame(conn, select(wh.organisation.c.org_code, wh.organisation.c.close_date))
    wide = carry_forward(wide.reset_index(), periods,
                          closes.set_index("org_code")["close_date"].dropna())
    out = wide.melt(["practice_code", "period", "carried_forward"], var_name="measure")
    return out.rename(columns={"practice_code": "org_code"}).dropna(subset=["value"])


def carry_forward(wide: pd.DataFrame, periods: list[str] | None,
                   close_dates: pd.Series) -> pd.DataFrame:
    """Each practice's latest earlier extract for months it has none, while it is open (up to
    the last month any practice has, or the periods asked for)."""
    wanted = sorted(set(periods or []) | set(wide["period"]))
    wanted = [p for p in wanted if p <= max(wide["period"].max(), max(periods or ["0"]))]
    grid = pd.MultiIndex.from_product([wide["practice_code"].unique(), wanted],
                                      names=["practice_code", "period"]).to_frame(index=False)
    first_seen = wide.groupby("practice_code")["period"].min()
    grid = grid[grid["period"] >= grid["practice_code"].map(first_seen)]
    closed = pd.to_datetime(grid["practice_code"].map(close_dates))
    grid = grid[closed.isna() | (pd.to_datetime(grid["period"] + "-01") <= closed)]
    merged = grid.merge(wide, how="left", on=["practice_code", "period"], indicator=True)
    merged["carried_forward"] = merged["_merge"] == "left_only"
    merged = merged.drop(columns="_merge").sort_values(["practice_code", "period"])
    value_cols = [c for c in wide.columns if c.startswith("registered_")]
    merged[value_cols] = merged.groupby("practice_code")[value_cols].ffill()
    if periods:
        merged = merged[merged["period"].isin(periods)]
    return merged


def spell_measures(conn: Connection, periods: list[str] | None = None) -> pd.DataFrame:
    """Admissions by admission month; length-of-stay counts by discharge month."""
    t = wh.spell_fact
    query = select(t)
    if periods:
        query = query.where(t.c.admission_period.in_(periods) | t.c.discharge_period.in_(periods))
    spells = wh.read_frame(conn, query)
    if spells.empty:
        return pd.DataFrame(columns=MEASURE_COLUMNS)
    old = spells["age_band"].isin(BANDS_65PLUS)
    spells["emergency_admissions_65"] = spells["emergency_admissions"].where(old, 0)
    # Rows that admitted nobody carry only a discharge (its admission came in another file).
    admitted = spells[spells["admissions"] > 0].rename(
        columns={"practice_code": "org_code", "admission_period": "period"})
    by_admission = admitted.groupby(["org_code", "period"])[
        ["emergency_admissions", "emergency_admissions_65", "acsc_emergency_admissions"]].sum()

    # A discharge month counts only once a file restating it is in (coverage_period: HES the
    # episode-end month, native the admission month): before that it would hold just the long
    # stays of earlier admissions.
    loaded_months = set(spells["coverage_period"])
    ended = spells[spells["discharge_period"].isin(loaded_months)].copy()
    old = ended["age_band"].isin(BANDS_65PLUS)
    ended["emergency_spells_ended"] = ended["emergency_discharges"]
    ended["emergency_length_sq_sum"] = ended["emergency_los_sq_sum"]
    for name, source in [("emergency_spells_ended_65", "emergency_discharges"),
                         ("emergency_spells_ended_65_los21plus", "emergency_stays_21plus"),
                         ("emergency_bed_days_65", "emergency_bed_days"),
                         ("emergency_bed_days_65_los_over10", "emergency_long_stay_bed_days")]:
        ended[name] = ended[source].where(old, 0)
    ended = ended.rename(columns={"practice_code": "org_code", "discharge_period": "period"})
    by_discharge = ended.groupby(["org_code", "period"])[[
        "emergency_spells_ended", "emergency_bed_days", "emergency_length_sq_sum",
        "emergency_spells_ended_65", "emergency_spells_ended_65_los21plus",
        "emergency_bed_days_65", "emergency_bed_days_65_los_over10"]].sum()
    out = pd.concat([_long(by_admission.reset_index(), list(by_admission.columns)),
                     _long(by_discharge.reset_index(), list(by_discharge.columns))])
    if periods:
        out = out[out["period"].isin(periods)]
    return out


def stay_months(conn: Connection) -> pd.DataFrame:
    """The distinct (admission_period, discharge_period) pairs of the spells data."""
    t = wh.spell_fact
    return wh.read_frame(conn, select(t.c.admission_period, t.c.discharge_period).distinct())


def care_package_measures(conn: Connection, periods: list[str] | None = None) -> pd.DataFrame:
    cp = _read(conn, wh.care_package_fact, "period", periods)
    if cp.empty:
        return pd.DataFrame(columns=MEASURE_COLUMNS)
    cp = cp.rename(columns={"practice_code": "org_code"})
    out = cp.melt(["org_code", "period", "package", "element"], ["completed", "register"],
                  var_name="count")
    out["measure"] = "cp:" + out["package"] + ":" + out["element"] + ":" + out["count"]
    return out[MEASURE_COLUMNS]


def _read(conn: Connection, table, period_col: str | None, periods) -> pd.DataFrame:
    query = select(table)
    if period_col and periods:
        query = query.where(table.c[period_col].in_(periods))
    return wh.read_frame(conn, query)


def _long(frame: pd.DataFrame, measures: list[str]) -> pd.DataFrame:
    code = "org_code" if "org_code" in frame.columns else "practice_code"
    out = frame.melt([code, "period"], measures, var_name="measure")
    return out.rename(columns={code: "org_code"}).dropna(subset=["value"])[MEASURE_COLUMNS]
