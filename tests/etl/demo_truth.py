"""Independent recomputation of KPI counts straight from generated demo files, with plain pandas.

Deliberately shares no code with etl/ or kpi/: it is the test's own reading of the raw files.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

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
