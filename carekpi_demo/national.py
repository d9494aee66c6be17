"""All of England for the national demo: the real 2021 geography (6,571 practices in 1,252 PCNs,
CCGs as places, STPs as systems) with real list sizes, registers and deprivation, read from the
packaged reference file etl/reference/national_practices.csv.gz (never from shared data).

Ages are not in the reference file: each practice's age profile is skewed older or younger in
proportion to its coronary heart disease prevalence, which tracks the age of a list closely.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd

from carekpi_demo.simulate import Geography, Months
from carekpi_demo.story import ENGLAND_AGE_SHARE, STORY_SEED, Story

REFERENCE = "national_practices.csv.gz"


def national_reference() -> pd.DataFrame:
    """The packaged practice reference (codes as text, counts as integers)."""
    with resources.files("etl.reference").joinpath(REFERENCE).open("rb") as handle:
        frame = pd.read_csv(handle, compression="gzip", dtype=str, keep_default_na=False)
    for column in ("list_size", "diabetes_register", "copd_register", "cvd_register"):
        frame[column] = frame[column].astype(np.int64)
    frame["imd_score"] = frame["imd_score"].astype(float)
    return frame


UNALLOCATED_PCN = "U"


def national_geography(months: Months, story: Story | None = None) -> Geography:
    """England's practices, PCNs (networks), CCGs (places) and STPs (systems)."""
    story = story or Story()
    ref = national_reference()
    rng = np.random.default_rng(STORY_SEED + 7)
    n = len(ref)
    size = np.maximum(ref["list_size"].to_numpy(), 1)
    chd = ref["cvd_register"].to_numpy() / size
    chd_ratio = np.clip(chd / np.median(chd), 0.2, 5)
    age_skew = np.clip(0.8 * np.log(chd_ratio), -0.9, 0.9)
    practices = pd.DataFrame({
        "practice_code": ref["practice_code"],
        "practice_name": ref["practice_name"],
        "postcode": ref["postcode"],
        "ccg_code": ref["ccg_code"],
        "ons_ccg_code": ref["ccg_ons_code"],
        "list_size": ref["list_size"],
        "imd_score": ref["imd_score"],
        "age_skew": age_skew,
        "rate_factor": np.exp(rng.normal(0, story.practice_rate_sd, n)),
        "diabetes_prevalence": ref["diabetes_register"] / size,
        "cvd_prevalence": ref["cvd_register"] / size,
        "copd_prevalence": ref["copd_register"] / size,
    })
    first = min(str(months.starts[0]), "2019-07-01")
    # QOF's PCN 'U' means "unallocated": those 70 practices belong to no network.
    unallocated = ref["pcn_code"] == UNALLOCATED_PCN
    memberships = pd.DataFrame({
        "practice_code": ref["practice_code"],
        "practice_name": ref["practice_name"],
        "network_code": ref["pcn_code"].where(~unallocated, ""),
        "network_name": ref["pcn_name"].where(~unallocated, ""),
        "place_code": ref["ccg_code"],
        "place_name": ref["ccg_name"],
        "system_code": ref["stp_code"],
        "system_name": ref["stp_name"],
        "valid_from": first,
        "valid_to": "",
    })
    networks = memberships[memberships["network_code"] != ""].drop_duplicates(
        "network_code").sort_values("network_code")[
        ["network_code", "network_name", "place_code", "place_name"]
    ].reset_index(drop=True)
    return Geography("national", practices, networks, memberships, "E92000001", "England")


def national_age_share() -> np.ndarray:
    """England's registered age shape (each practice skews it by its CHD prevalence)."""
    return np.asarray(ENGLAND_AGE_SHARE, dtype=float)
