"""The fictional demo area: one borough ("Hartwell"), one integrated care system, eight GP
networks and 36 practices, with a practice that opens, one that closes and one that moves
network part-way through the window.

Every code here is fictional and chosen so that it cannot be mistaken for a real organisation:
practices Y91001-Y91036 (ODS-shaped; real `Y` codes run from Y00001 upwards and no Y9xxxx
practice exists in the 2021 QOF mapping or the 2023 epraccur file), networks U00001-U00008
(absent from the 2021 QOF mapping and the May 2022 ePCN workbook), the borough E09000099 /
old-style code 799 (London boroughs run E09000001-E09000033, codes 7xx with no 799), its CCG
99Z9 / E38000999 and the system QZZ. Postcodes use the non-geographic ZZ area.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from carekpi_demo.simulate import Geography, Months
from carekpi_demo.story import ENGLAND_AGE_SHARE, STORY_SEED, Story

PLACE_CODE = "E09000099"
PLACE_OLD_CODE = "799"
PLACE_NAME = "Hartwell"
SYSTEM_CODE = "QZZ"
SYSTEM_NAME = "Hartwell and Riverside Integrated Care System"
CCG_CODE = "99Z"
ONS_CCG_CODE = "E38000999"

NETWORKS: tuple[tuple[str, str], ...] = (
    ("U00001", "Hartwell North Network"),
    ("U00002", "Canal Side Network"),
    ("U00003", "Market Green Network"),
    ("U00004", "Riverside Network"),
    ("U00005", "Docklands East Network"),
    ("U00006", "Bow Fields Network"),
    ("U00007", "Old Town Network"),
    ("U00008", "Parkway Network"),
)
_STREETS = (
    "Albion", "Bridge", "Chapel", "Dock", "Elm", "Fairfield", "Granary", "Harbour", "Ivy",
    "Jubilee", "Kingsway", "Lime", "Mill", "Nelson", "Orchard", "Pier", "Quay", "Rope",
)
_KINDS = ("Surgery", "Medical Centre", "Health Centre", "Practice")


def area_geography(story: Story, months: Months) -> Geography:
    """The demo area's practices, networks and practice -> network history over the window."""
    rng = np.random.default_rng(STORY_SEED)
    n = 36
    codes = [f"Y91{k:03d}" for k in range(1, n + 1)]
    names = [f"{_STREETS[k % len(_STREETS)]} {_KINDS[k % len(_KINDS)]}" for k in range(n)]
    names = [f"{nm} ({code})" if names.count(nm) > 1 else nm for nm, code in zip(
        names, codes, strict=True)]
    # Eight networks of four or five practices (Tower Hamlets: 35 practices in eight networks).
    network_of = np.repeat(np.arange(8), [5, 5, 4, 5, 4, 5, 4, 4])
    list_size = np.round(rng.lognormal(np.log(8000), 0.45, n) / 10) * 10
    list_size = np.clip(list_size, 2500, 22000).astype(np.int64)
    # A young, deprived inner-city borough (Tower Hamlets-like): IMD 2019 scores 20-55.
    imd = np.round(np.clip(rng.normal(36, 8, n), 18, 58), 1)
    age_skew = np.clip(rng.normal(-0.45, 0.18, n), -0.9, 0.2)
    rate_factor = np.exp(rng.normal(0, story.practice_rate_sd, n))
    outlier = codes.index(story.outlier_practice)
    rate_factor[outlier] *= story.outlier_rate_ratio
    list_size[outlier] = max(list_size[outlier], 9000)
    practices = pd.DataFrame({
        "practice_code": codes,
        "practice_name": names,
        "postcode": [f"ZZ{1 + k // 9} {1 + k % 9}H{chr(65 + k % 26)}" for k in range(n)],
        "ccg_code": CCG_CODE,
        "ons_ccg_code": ONS_CCG_CODE,
        "list_size": list_size,
        "imd_score": imd,
        "age_skew": age_skew,
        "rate_factor": rate_factor,
        # Diabetes is commoner with deprivation (QOF 2020-21 shape).
        "diabetes_prevalence": story.register_prevalence["diabetes"] * (imd / 30) ** 0.5,
        "cvd_prevalence": story.register_prevalence["cvd"] * np.exp(age_skew * 0.8),
        "copd_prevalence": story.register_prevalence["copd"] * (imd / 30) * np.exp(age_skew),
    })
    networks = pd.DataFrame({
        "network_code": [c for c, _ in NETWORKS],
        "network_name": [nm for _, nm in NETWORKS],
        "place_code": PLACE_CODE,
        "place_name": PLACE_NAME,
    })
    memberships = _memberships(codes, names, network_of, story, months)
    return Geography("area", practices, networks, memberships, PLACE_CODE, PLACE_NAME)


def _memberships(codes: list[str], names: list[str], network_of: np.ndarray, story: Story,
                 months: Months) -> pd.DataFrame:
    """Native organisations rows: one per practice-network relationship, ISO dates."""
    # PCNs began on 1 July 2019; a window starting earlier starts the history with it.
    first = min(str(months.starts[0]), "2019-07-01")

    def month_start(offset: int) -> str:
        return str(months.starts[min(offset, len(months.starts) - 1)])

    def day_before(iso: str) -> str:
        return str(np.datetime64(iso) - np.timedelta64(1, "D"))

    rows = []
    for code, name, net in zip(codes, names, network_of, strict=True):
        net_code, net_name = NETWORKS[net]
        valid_from, valid_to = first, ""
        if code == story.opening_practice:
            valid_from = month_start(story.opening_offset)
        if code == story.closing_practice:
            valid_to = day_before(month_start(story.closing_offset))
        if code == story.moving_practice:
            moved = month_start(story.moving_offset)
            rows.append((code, name, net_code, net_name, valid_from, day_before(moved)))
            to_name = dict(NETWORKS)[story.moving_to_network]
            rows.append((code, name, story.moving_to_network, to_name, moved, ""))
            continue
        rows.append((code, name, net_code, net_name, valid_from, valid_to))
    frame = pd.DataFrame(rows, columns=[
        "practice_code", "practice_name", "network_code", "network_name", "valid_from",
        "valid_to",
    ])
    frame.insert(4, "place_code", PLACE_CODE)
    frame.insert(5, "place_name", PLACE_NAME)
    frame.insert(6, "system_code", SYSTEM_CODE)
    frame.insert(7, "system_name", SYSTEM_NAME)
    return frame


def area_age_share() -> np.ndarray:
    """England's age shape, which each area practice skews younger or older."""
    return np.asarray(ENGLAND_AGE_SHARE, dtype=float)
