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
