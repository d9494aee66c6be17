"""Independent recomputation of KPI counts straight from generated demo files, with plain pandas.

Deliberately shares no code with etl/ or kpi/: it is the test's own reading of the raw files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import chi2, norm

EMERGENCY_METHODS = {"21", "22", "23", "24", "25", "26", "27", "28", "2A", "2B", "2C", "2D"}


def organisations(feeds: Path) -> pd.DataFrame:
    orgs = pd.read_csv(feeds / "organisations" / "organisations.csv", dtype=str,
                       keep_default_na=False)
    orgs["valid_from"] = pd.to_datetime(orgs["valid_from"])
    orgs["valid_to"] = pd.to_datetime(orgs["valid_to"].replace("", None))
    return orgs


def list_sizes(feeds: Path) -> pd.DataFrame:
    """practice_code, period, patients (the ALL/ALL rows of every GP-level extract)."""
    frames = [pd.read_csv(f, dtype=str) for f in sorted((feeds / "population").glob("*.csv"))]
    pop = pd.concat(frames)
    pop = pop[(pop["TYPE"] == "GP") & (pop["SEX"] == "ALL") & (pop["AGE_GROUP_5"] == "ALL")]
    period = pd.to_datetime(pop["EXTRACT_DATE"], format="%d%b%Y").dt.strftime("%Y-%m")
    return pd.DataFrame({"practice_code": pop["ORG_CODE"].to_numpy(), "period": period.to_numpy(),
                         "patients": pop["NUMBER_OF_PATIENTS"].astype(int).to_numpy()})


def first_episodes(feeds: Path) -> pd.DataFrame:
    """One row per spell: the first episode (EPIORDER 1) of each spell in the HES extracts."""
    frames = [pd.read_csv(f, dtype=str) for f in sorted((feeds / "spells").glob("*.csv"))]
    episodes = pd.concat(frames)
    return episodes[episodes["EPIORDER"].astype(int) == 1]


def emergency_admissions(feeds: Path) -> pd.DataFrame:
    """practice_code, period, admissions: emergency spells by GP practice and admission month."""
    spells = first_episodes(feeds)
    spells = spells[spells["ADMIMETH"].isin(EMERGENCY_METHODS)]
    period = pd.to_datetime(spells["ADMIDATE"]).dt.strftime("%Y-%m")
    counts = spells.groupby([spells["GPPRAC"], period]).size()
    counts.index.names = ["practice_code", "period"]
    return counts.rename("admissions").reset_index()


def network_on_first_day(orgs: pd.DataFrame, periods: list[str]) -> pd.DataFrame:
    """practice_code, period, network_code: where each practice belonged on the month's 1st."""
    rows = []
    for period in periods:
        first = pd.Timestamp(period + "-01")
        valid = orgs[(orgs["valid_from"] <= first)
                     & (orgs["valid_to"].isna() | (orgs["valid_to"] >= first))]
        rows.append(valid[["practice_code", "network_code", "place_code"]].assign(period=period))
    return pd.concat(rows, ignore_index=True)


def _latest(frames: list[pd.DataFrame], keys: list[str]) -> pd.DataFrame:
    """Rows of files read in name order, a later file's row replacing an earlier one's."""
    return pd.concat(frames, ignore_index=True).drop_duplicates(keys, keep="last")


def _csvs(folder: Path) -> list[pd.DataFrame]:
    return [pd.read_csv(f, dtype=str, keep_default_na=False) for f in sorted(folder.glob("*.csv"))]


def population_counts(feeds: Path) -> pd.DataFrame:
    """practice_code, period, P, P65, P18 (18+ = 20+ plus 2/5 of 15-19, as documented)."""
    pop = _latest(_csvs(feeds / "population"), ["ORG_CODE", "EXTRACT_DATE", "SEX", "AGE_GROUP_5"])
    pop = pop[pop["TYPE"] == "GP"].copy()
    pop["period"] = pd.to_datetime(pop["EXTRACT_DATE"], format="%d%b%Y").dt.strftime("%Y-%m")
    pop["n"] = pop["NUMBER_OF_PATIENTS"].astype(int)
    total = pop[(pop["SEX"] == "ALL") & (pop["AGE_GROUP_5"] == "ALL")]
    bands = pop[pop["SEX"].isin(["MALE", "FEMALE"]) & (pop["AGE_GROUP_5"] != "ALL")].copy()
    low = bands["AGE_GROUP_5"].str.extract(r"^(\d+)")[0].astype(int)
    keys = ["ORG_CODE", "period"]
    out = total.groupby(keys)["n"].sum().rename("P").to_frame()
    out["P65"] = bands[low >= 65].groupby(keys)["n"].sum()
    out["P18"] = bands[low >= 20].groupby(keys)["n"].sum() + 0.4 * bands[low == 15].groupby(
        keys)["n"].sum()
    return out.reset_index().rename(columns={"ORG_CODE": "practice_code"})


def spell_counts(feeds: Path, acsc_prefixes: tuple[str, ...]) -> pd.DataFrame:
    """practice_code, period and the admission (by admission month) and length-of-stay (by
    discharge month, emergency spells) counts, from HES episodes grouped into spells."""
    frames = [pd.read_csv(f, dtype=str, keep_default_na=False)
              for f in sorted((feeds / "spells").glob("*.csv"))]
    ep = pd.concat(frames, ignore_index=True)
    ep["order"] = ep["EPIORDER"].astype(int)
    spell_key = ["PSEUDO_HESID", "PROCODE3", "ADMIDATE"]
    first = ep.sort_values("order").drop_duplicates(spell_key, keep="first")
    last_dis = ep.sort_values("order").drop_duplicates(spell_key, keep="last")
    spells = first.merge(last_dis[[*spell_key, "DISDATE"]], on=spell_key, suffixes=("_first", ""))
    practice = spells["GPPRAC"].str.match(r"^[A-Z]\d{5}$") & ~spells["GPPRAC"].str.startswith("V81")
    spells = spells[practice]
    emergency = spells[spells["ADMIMETH"].isin(EMERGENCY_METHODS)].copy()
    emergency["age"] = emergency["STARTAGE"].astype(int)
    emergency["old"] = (emergency["age"] >= 65) & (emergency["age"] < 7000)
    emergency["acsc"] = emergency["DIAG_4_01"].str.startswith(acsc_prefixes)
    emergency["adm_period"] = emergency["ADMIDATE"].str[:7]
    admitted = emergency.groupby(["GPPRAC", "adm_period"]).agg(
        EA=("old", "size"), EA65=("old", "sum"), ACSC=("acsc", "sum"))
    admitted.index.names = ["practice_code", "period"]

    dis = pd.to_datetime(emergency["DISDATE"], errors="coerce")
    ended = emergency[dis.notna() & (dis.dt.year > 1801)].copy()
    los = (pd.to_datetime(ended["DISDATE"]) - pd.to_datetime(ended["ADMIDATE"])).dt.days
    ended = ended.assign(los=los, sq=los**2, period=ended["DISDATE"].str[:7])
    ended["los65"] = ended["los"].where(ended["old"], 0)
    ended["n65_21"] = (ended["old"] & (ended["los"] >= 21)).astype(int)
    ended["bed65_over10"] = ended["los"].where(ended["old"] & (ended["los"] > 10), 0)
    by_end = ended.groupby(["GPPRAC", "period"]).agg(
        n_end=("los", "size"), bed=("los", "sum"), sumsq=("sq", "sum"), n_end65=("old", "sum"),
        n_end65_21=("n65_21", "sum"), bed65=("los65", "sum"), bed65_over10=("bed65_over10", "sum"))
    by_end.index.names = ["practice_code", "period"]
    return admitted.join(by_end, how="outer").reset_index()


def care_package_counts(feeds: Path) -> pd.DataFrame:
    """practice_code, period, package, element, completed, register (latest file wins)."""
    cp = _latest(_csvs(feeds / "care_packages"), ["practice_code", "period", "package", "element"])
    return cp.astype({"completed": int, "register": int})


def network_feed_counts(feeds: Path) -> pd.DataFrame:
    """org_code, period and the network-level counts of DToC, reablement and care homes."""
    keys = ["org_code", "period"]
    dtoc = _latest(_csvs(feeds / "delayed_transfers"), keys)
    parts = dtoc[["delayed_days_nhs", "delayed_days_social_care", "delayed_days_both"]].astype(int)
    dtoc["dd"] = parts.sum(axis=1)
    dtoc["dd_sc"] = parts["delayed_days_social_care"] + parts["delayed_days_both"]
    reab = _latest(_csvs(feeds / "reablement"), keys)
    for column in ("discharged_65_into_reablement", "at_home_91_days", "episodes_ended",
                   "no_further_support"):
        reab[column] = pd.to_numeric(reab[column].replace("", None))
    homes = _latest(_csvs(feeds / "care_home_admissions"), keys)
    homes["ch"] = homes["admissions_65_residential"].astype(int) + homes[
        "admissions_65_nursing"].astype(int)
    out = dtoc[[*keys, "dd", "dd_sc"]].merge(reab, on=keys, how="outer").merge(
        homes[[*keys, "ch"]], on=keys, how="outer")
    return out


# --- indirectly standardised ratios ---------------------------------------------------------


def band(age: pd.Series) -> pd.Series:
    """Five-year band of an age in years (HES 7001-7007: under one year)."""
    years = age.where(age < 7000, 0)
    low = np.minimum(years // 5 * 5, 95)
    return pd.Series(np.where(low == 95, "95+", low.astype(str) + "_" + (low + 4).astype(str)),
                     index=age.index)


def stratum_population(feeds: Path) -> pd.DataFrame:
    """practice_code, period, sex, age_band, patients from the GP-level registration files."""
    pop = pd.concat([pd.read_csv(f, dtype=str) for f in sorted((feeds / "population").glob(
        "*.csv"))])
    pop = pop[(pop["TYPE"] == "GP") & pop["SEX"].isin(["MALE", "FEMALE"])
              & (pop["AGE_GROUP_5"] != "ALL")]
    return pd.DataFrame({
        "practice_code": pop["ORG_CODE"].to_numpy(),
        "period": pd.to_datetime(pop["EXTRACT_DATE"], format="%d%b%Y").dt.strftime(
            "%Y-%m").to_numpy(),
        "sex": pop["SEX"].str[0].to_numpy(), "age_band": pop["AGE_GROUP_5"].to_numpy(),
        "patients": pop["NUMBER_OF_PATIENTS"].astype(float).to_numpy()})


def stratum_admissions(feeds: Path, acsc_prefixes: tuple[str, ...]) -> pd.DataFrame:
    """practice_code, period, sex, age_band, EA, EA65, ACSC: emergency spells (first episode)
    of known sex, by admission month."""
    ep = pd.concat([pd.read_csv(f, dtype=str, keep_default_na=False)
                    for f in sorted((feeds / "spells").glob("*.csv"))], ignore_index=True)
    ep["order"] = ep["EPIORDER"].astype(int)
    spells = ep.sort_values("order").drop_duplicates(["PSEUDO_HESID", "PROCODE3", "ADMIDATE"])
    spells = spells[spells["ADMIMETH"].isin(EMERGENCY_METHODS)
                    & spells["SEX"].isin(["1", "2"])].copy()
    spells["sex"] = spells["SEX"].map({"1": "M", "2": "F"})
    spells["age_band"] = band(spells["STARTAGE"].astype(int))
    spells["EA"] = 1
    spells["EA65"] = (spells["STARTAGE"].astype(int).between(65, 6999)).astype(int)
    spells["ACSC"] = spells["DIAG_4_01"].str.startswith(acsc_prefixes).astype(int)
    spells["period"] = spells["ADMIDATE"].str[:7]
    keys = ["GPPRAC", "period", "sex", "age_band"]
    out = spells.groupby(keys)[["EA", "EA65", "ACSC"]].sum().reset_index()
    return out.rename(columns={"GPPRAC": "practice_code"})


def limits(observed: pd.Series, confidence: float) -> tuple[pd.Series, pd.Series]:
    """Exact Poisson limits under 10 events, Byar's formula from 10 (written out here)."""
    z = norm.ppf(1 - (1 - confidence) / 2)
    o = observed.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        byar_low = o * (1 - 1 / (9 * o) - z / (3 * np.sqrt(o))) ** 3
        byar_high = (o + 1) * (1 - 1 / (9 * (o + 1)) + z / (3 * np.sqrt(o + 1))) ** 3
    exact_low = pd.Series(chi2.ppf((1 - confidence) / 2, 2 * o) / 2, index=o.index).fillna(0)
    exact_high = chi2.ppf(1 - (1 - confidence) / 2, 2 * o + 2) / 2
    return o.where(o >= 10, exact_low).where(o < 10, byar_low), pd.Series(
        np.where(o < 10, exact_high, byar_high), index=o.index)


def standardised_ratios(feeds: Path, acsc_prefixes: tuple[str, ...]) -> pd.DataFrame:
    """The indirectly standardised ratios by hand (PHE's method): kpi_id, level, org_code,
    period, numerator (observed), denominator (expected), value, limits, funnel_class.

    Strata: sex x five-year band of known sex; reference rates: all practices that month."""
    pop = stratum_population(feeds)
    events = stratum_admissions(feeds, acsc_prefixes)
    # the stays already under way when the window opened were admitted in no listed month
    events = events[events["period"] >= pop["period"].min()]
    keys = ["practice_code", "period", "sex", "age_band"]
    spell_months = sorted(events["period"].unique())
    assert set(spell_months) <= set(pop["period"])  # an extract every month: nothing carried
    pop = pop[pop["period"].isin(spell_months)]
    joined = pop.merge(events, on=keys, how="left").fillna({"EA": 0, "EA65": 0, "ACSC": 0})
    orgs = organisations(feeds)
    network = network_on_first_day(orgs, spell_months)
    frames = []
    for kpi_id, count in (("ea_rate_sr", "EA"), ("ea_rate_65_sr", "EA65"),
                          ("ea_acsc_rate_sr", "ACSC")):
        part = joined if count != "EA65" else joined[joined["age_band"].isin(
            ["65_69", "70_74", "75_79", "80_84", "85_89", "90_94", "95+"])]
        totals = part.groupby(["period", "sex", "age_band"])[[count, "patients"]].transform("sum")
        part = part.assign(E=part["patients"] * totals[count] / totals["patients"])
        practice = part.groupby(["practice_code", "period"])[[count, "E"]].sum().reset_index()
        net = practice.merge(network, on=["practice_code", "period"]).groupby(
            ["network_code", "period"])[[count, "E"]].sum().reset_index()
        for level, frame, code in (("practice", practice, "practice_code"),
                                   ("network", net, "network_code")):
            frames.append(pd.DataFrame({
                "kpi_id": kpi_id, "level": level, "org_code": frame[code],
                "period": frame["period"], "numerator": frame[count],
                "denominator": frame["E"]}))
    out = pd.concat(frames, ignore_index=True)
    out = out[out["denominator"] > 0].reset_index(drop=True)
    out["value"] = out["numerator"] / out["denominator"] * 100
    for confidence, label in ((0.95, "95"), (0.998, "998")):
        low, high = limits(out["numerator"], confidence)
        out[f"lower_{label}"] = low / out["denominator"] * 100
        out[f"upper_{label}"] = high / out["denominator"] * 100
    out["funnel_class"] = np.select(
        [out["lower_998"] > 100, out["lower_95"] > 100, out["upper_998"] < 100,
         out["upper_95"] < 100], ["above_998", "above_95", "below_998", "below_95"], "within")
    return out
