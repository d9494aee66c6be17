"""The demo's month-by-month simulation: registered lists, hospital spells, care packages and the
network-level social-care returns, as numpy arrays (no file layouts here: see writers.py).

Everything is vectorised over practices x sex x age band so that all of England (6,571
practices, about 550,000 emergency spells a month) runs in seconds per month.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from carekpi.periods import add_months, days_in
from carekpi_demo.story import (
    ACSC_DIAGNOSES,
    AGE_STARTS,
    DTOC_REASONS,
    DTOC_RESPONSIBLE_SHARE,
    ELECTIVE_DIAGNOSES,
    EMERGENCY_AGE_SHAPE,
    EMERGENCY_OTHER_DIAGNOSES,
    PACKAGE_ELEMENTS,
    PROVIDER_CODES,
    Story,
)

N_BANDS = len(AGE_STARTS)
AVG_DAYS_IN_MONTH = 365.25 / 12
UNKNOWN_PRACTICE = "V81999"  # HES GPPRAC code for "practice not known"


@dataclass
class Geography:
    """Who is where: practices with their traits, and practice -> network membership by month.

    `practices` has one row per practice (index = practice position) with columns
    practice_code, practice_name, postcode, ccg_code, ons_ccg_code, list_size, imd_score,
    age_skew, rate_factor and one `<package>_prevalence` column per register; `memberships` is
    the organisations feed's native frame (one row per practice-network relationship).
    """

    scale: str
    practices: pd.DataFrame
    networks: pd.DataFrame  # network_code, network_name, place_code, place_name
    memberships: pd.DataFrame
    place_code: str
    place_name: str


@dataclass
class Months:
    """The window of months the demo covers."""

    periods: list[str]  # 'YYYY-MM'
    starts: list[np.datetime64]  # first day of each month

    @classmethod
    def ending(cls, end_month: str, months: int) -> Months:
        periods = [add_months(end_month, -k) for k in range(months - 1, -1, -1)]
        return cls(periods, [np.datetime64(p + "-01", "D") for p in periods])

    def days(self, t: int) -> int:
        return days_in(self.periods[t])

    def month_of_year(self, t: int) -> int:
        return int(self.periods[t][5:7])


def noise_rng(seed: int, feed: str, t: int = 0) -> np.random.Generator:
    """A generator for one feed and month, so each file's noise is independent of the others."""
    return np.random.default_rng([seed, zlib.crc32(feed.encode()), t])


def age_sex_shares(age_skew: np.ndarray, base_share: np.ndarray) -> np.ndarray:
    """Each practice's share of its list in each sex x age band, shape (practices, 2, bands)."""
    mids = np.asarray(AGE_STARTS, dtype=float) + 2.5
    weights = base_share[None, :] * np.exp(age_skew[:, None] * (mids[None, :] - 40.0) / 25.0)
    weights /= weights.sum(axis=1, keepdims=True)
    # Women outnumber men from late middle age (ONS mid-year estimates' shape).
    female = np.clip(0.49 + np.maximum(mids - 55.0, 0.0) * 0.004, 0.0, 0.7)
    return np.stack([weights * (1 - female), weights * female], axis=1)


def active_mask(geo: Geography, months: Months) -> np.ndarray:
    """Whether each practice is open in each month, shape (months, practices)."""
    codes = geo.practices["practice_code"].to_numpy()
    m = geo.memberships
    starts = np.array(months.starts)
    ends = np.array([s + np.timedelta64(months.days(t) - 1, "D") for t, s in enumerate(starts)])
    active = np.zeros((len(starts), len(codes)), dtype=bool)
    pos = {c: i for i, c in enumerate(codes)}
    for row in m.itertuples(index=False):
        vf = np.datetime64(row.valid_from, "D")
        vt = np.datetime64(row.valid_to, "D") if row.valid_to else np.datetime64("9999-12-31")
        active[:, pos[row.practice_code]] |= (vf <= ends) & (vt >= starts)
    return active


def network_index(geo: Geography, months: Months) -> np.ndarray:
    """Each practice's network (position in geo.networks) each month; -1 if shut or in none."""
    codes = geo.practices["practice_code"].to_numpy()
    pos = {c: i for i, c in enumerate(codes)}
    net_pos = {c: i for i, c in enumerate(geo.networks["network_code"])}
    out = np.full((len(months.periods), len(codes)), -1, dtype=np.int64)
    m = geo.memberships
    vf_all = m["valid_from"].astype(str).to_numpy().astype("datetime64[D]")
    vt_raw = m["valid_to"].fillna("").astype(str).to_numpy()
    vt_all = np.where(vt_raw == "", "9999-12-31", vt_raw).astype("datetime64[D]")
    p_idx = np.array([pos[c] for c in m["practice_code"]])
    n_idx = np.array([net_pos.get(c, -1) for c in m["network_code"]])  # -1: in no network
    for t, start in enumerate(months.starts):
        # Membership valid on the month's first day (the roll-up's rule; the demo's events all
        # fall on the first of a month).
        ok = (vf_all <= start) & (vt_all >= start)
        # Later rows win where two overlap in the month of a move.
        order = np.argsort(vf_all[ok], kind="stable")
        out[t, p_idx[ok][order]] = n_idx[ok][order]
    return out


class Population:
    """Registered lists by practice x sex x age band, month by month (stock and flow)."""

    def __init__(self, geo: Geography, months: Months, story: Story, seed: int,
                 base_share: np.ndarray) -> None:
        structure = np.random.default_rng([geo_seed(geo), 1])
        shares = age_sex_shares(geo.practices["age_skew"].to_numpy(float), base_share)
        sizes = geo.practices["list_size"].to_numpy(np.int64)
        self.start = structure.multinomial(sizes, shares.reshape(len(sizes), -1)).reshape(
            shares.shape
        )
        self.shares = shares
        self.months = months
        self.story = story
        self.seed = seed
        self.active = active_mask(geo, months)
        self._cache: dict[int, np.ndarray] = {}

    def at(self, t: int) -> np.ndarray:
        """Registered patients in month t, shape (practices, 2, bands); zero where shut."""
        if t in self._cache:
            return self._cache[t]
        if t == 0:
            counts = self.start.copy()
        else:
            prev = self.at(t - 1)
            rng = noise_rng(self.seed, "population", t)
            turnover = self.story.list_turnover_per_month
            growth = (1 + self.story.list_growth_per_year) ** (1 / 12)
            leavers = rng.binomial(prev, turnover)
            joiners = rng.poisson(prev * (turnover + growth - 1) + 0.0)
            counts = prev - leavers + joiners
            # A practice opening this month starts from its planned list.
            opened = self.active[t] & ~self.active[t - 1]
            counts[opened] = self.start[opened]
        counts = np.where(self.active[t][:, None, None], counts, 0)
        # Keep lists from earlier months only while needed (t-1), to bound memory nationally.
        self._cache = {k: v for k, v in self._cache.items() if k >= t - 1}
        self._cache[t] = counts
        return counts


def geo_seed(geo: Geography) -> int:
    """The fixed structural seed of a geography (same story whatever the run's seed)."""
    from carekpi_demo.story import STORY_SEED

    return STORY_SEED + (0 if geo.scale == "area" else 7)


def seasonal_factor(month_of_year: int, ratio: float) -> float:
    """Multiplier peaking in January and lowest in July, January / July = `ratio`."""
    amplitude = (ratio - 1) / (ratio + 1)
    return 1 + amplitude * np.cos(2 * np.pi * (month_of_year - 1) / 12)


def intervention_factor(geo: Geography, months: Months, story: Story, t: int,
                        net_idx: np.ndarray) -> np.ndarray:
    """Per-practice multiplier from the intervention networks' step change (1 elsewhere)."""
    factor = np.ones(len(geo.practices))
    if t >= story.intervention_start_offset:
        codes = geo.networks["network_code"].to_numpy()
        in_net = np.isin(codes, story.intervention_networks)
        hit = (net_idx[t] >= 0) & in_net[np.maximum(net_idx[t], 0)]
        factor[hit] = 1 - story.intervention_effect
    return factor


class SpellModel:
    """Hospital spells by practice x sex x age band: expected counts, then one row per episode."""

    def __init__(self, geo: Geography, pop: Population, story: Story) -> None:
        self.geo, self.pop, self.story = geo, pop, story
        practices = geo.practices
        shape = np.asarray(EMERGENCY_AGE_SHAPE)
        sex = np.array([story.male_rate_ratio, 1.0])
        base = sex[:, None] * shape[None, :]
        dep = np.exp(story.deprivation_slope * (practices["imd_score"].to_numpy(float) - 22) / 10)
        prac = practices["rate_factor"].to_numpy(float) * dep
        # Calibrate so the opening month's crude rate (before season) is the story's rate.
        start = pop.start.astype(float)
        weighted = (start * base[None] * prac[:, None, None]).sum()
        scale = story.emergency_rate_per_1000 / 1000 * start.sum() / weighted
        self.emergency_rate = base[None] * prac[:, None, None] * scale  # per person per month
        elective_shape = np.clip(np.asarray(AGE_STARTS, float) / 40.0, 0.3, 2.0)
        elective_shape = elective_shape / (
            (start.sum(axis=(0, 1)) * elective_shape).sum() / start.sum()
        )
        self.elective_rate = np.broadcast_to(
            elective_shape[None, None, :] * story.elective_rate_per_1000 / 1000, start.shape
        )

    def expected_emergency(self, t: int, net_idx: np.ndarray) -> np.ndarray:
        """Expected emergency admissions in month t by practice x sex x band."""
        months, story = self.pop.months, self.story
        season = seasonal_factor(months.month_of_year(t), story.winter_summer_ratio)
        days = months.days(t) / AVG_DAYS_IN_MONTH
        interv = intervention_factor(self.geo, months, story, t, net_idx)
        return self.pop.at(t) * self.emergency_rate * (season * days) * interv[:, None, None]

    def spells(self, t: int, seed: int, net_idx: np.ndarray) -> dict[str, np.ndarray]:
        """One entry per episode of every spell admitted in month t (HES APC columns); the first
        month also holds the stays already under way when the window opens (see under_way)."""
        rng = noise_rng(seed, "spells", t)
        months = self.pop.months
        days_in = months.days(t)
        emerg = rng.poisson(self.expected_emergency(t, net_idx))
        elect = rng.poisson(self.pop.at(t) * self.elective_rate * days_in / AVG_DAYS_IN_MONTH)
        admitted = self._admitted(rng, emerg, elect, months.starts[t], days_in)
        key_prefix = int(months.periods[t][2:4]) * 100 + months.month_of_year(t)
        episodes = self._episodes(rng, admitted, key_prefix, first_key=0)
        if t == 0:
            earlier = self.under_way(seed, key_prefix, first_key=len(episodes["EPIKEY"]))
            episodes = {k: np.concatenate([v, earlier[k]]) for k, v in episodes.items()}
        return episodes

    def under_way(self, seed: int, key_prefix: int, first_key: int) -> dict[str, np.ndarray]:
        """Episodes of the spells admitted before the window that are still in hospital when it
        opens (discharged inside it), so that its first months' stays are whole.

        Admissions of the 12 months before the window (no stay is longer than 365 days) are
        drawn at the opening month's lists and that month's season; only the stays lasting to
        the window's first day are kept.
        """
        rng = noise_rng(seed, "spells_under_way")
        months, story = self.pop.months, self.story
        opens = months.starts[0]
        lists = self.pop.at(0)
        parts = []
        for back in range(12, 0, -1):
            period = pd.Period(months.periods[0], freq="M") - back
            days_in = period.days_in_month
            scale = days_in / AVG_DAYS_IN_MONTH
            season = seasonal_factor(period.month, story.winter_summer_ratio)
            emerg = rng.poisson(lists * self.emergency_rate * season * scale)
            elect = rng.poisson(lists * self.elective_rate * scale)
            admitted = self._admitted(rng, emerg, elect, np.datetime64(f"{period}-01", "D"),
                                      days_in)
            still_in = admitted["admit"] + admitted["los"].astype("timedelta64[D]") >= opens
            parts.append({k: v[still_in] for k, v in admitted.items()})
        joined = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        return self._episodes(rng, joined, key_prefix, first_key)

    def _admitted(self, rng: np.random.Generator, emerg: np.ndarray, elect: np.ndarray,
                  start: np.datetime64, days_in: int) -> dict[str, np.ndarray]:
        """One entry per spell admitted in a month from its emergency and elective counts by
        practice x sex x band: cell, whether emergency, age, admission date and length of stay."""
        cells = emerg.size
        counts = np.concatenate([emerg.ravel(), elect.ravel()])
        cell = np.repeat(np.arange(2 * cells), counts)
        emergency = cell < cells
        cell = cell % cells
        practice, sex, band = np.unravel_index(cell, emerg.shape)
        n = len(cell)
        width = np.where(band == N_BANDS - 1, 8, 5)
        age = np.asarray(AGE_STARTS)[band] + (rng.random(n) * width).astype(np.int64)
        admit = start + rng.integers(0, days_in, n).astype("timedelta64[D]")
        los = self._length_of_stay(rng, age, emergency)
        return {"practice": practice, "sex": sex, "emergency": emergency, "age": age,
                "admit": admit, "los": los}

    def _episodes(self, rng: np.random.Generator, admitted: dict[str, np.ndarray],
                  key_prefix: int, first_key: int) -> dict[str, np.ndarray]:
        """HES episode rows of the spells admitted: diagnosis, method, practice, provider and
        1-3 episodes splitting each stay; EPIKEY is key_prefix then a running number."""
        story = self.story
        practice, sex, emergency = admitted["practice"], admitted["sex"], admitted["emergency"]
        age, admit, los = admitted["age"], admitted["admit"], admitted["los"]
        n = len(age)
        # Diagnosis: ACSC share rises with age (story), others by their weights.
        acsc_p = np.where(age >= 65, story.acsc_share_65plus, story.acsc_share_under65)
        is_acsc = emergency & (rng.random(n) < acsc_p)
        diag = np.where(
            emergency,
            np.where(is_acsc, _draw(rng, ACSC_DIAGNOSES, n),
                     _draw(rng, EMERGENCY_OTHER_DIAGNOSES, n)),
            _draw(rng, ELECTIVE_DIAGNOSES, n),
        )
        method = np.where(
            emergency,
            _draw(rng, (("21", .70), ("22", .12), ("23", .02), ("24", .05), ("25", .01),
                        ("28", .10)), n),
            _draw(rng, (("11", .70), ("12", .20), ("13", .10)), n),
        )
        codes = self.geo.practices["practice_code"].to_numpy().astype(object)
        gp = codes[practice]
        unknown = rng.random(n) < story.unknown_practice_share
        gp = np.where(unknown, UNKNOWN_PRACTICE, gp)
        provider = _draw(rng, tuple(zip(PROVIDER_CODES, (0.6, 0.3, 0.1), strict=True)), n)
        hesid = _random_hex(rng, n)
        # Episodes: 1, 2 or 3 per spell, splitting the stay at random day boundaries.
        u = rng.random(n)
        n_ep = 1 + (u < story.two_episode_share + story.three_episode_share) + (
            u < story.three_episode_share
        )
        cuts = np.sort(rng.integers(0, los[:, None] + 1, (n, 2)), axis=1)
        bounds = np.zeros((n, 4), dtype=np.int64)
        bounds[:, 1] = np.where(n_ep == 1, los, cuts[:, 0])
        bounds[:, 2] = np.where(n_ep == 3, cuts[:, 1], los)
        bounds[:, 3] = los
        spell = np.repeat(np.arange(n), n_ep)
        first = np.cumsum(n_ep) - n_ep
        order = np.arange(len(spell)) - np.repeat(first, n_ep)
        is_last = order == n_ep[spell] - 1
        epi_start = admit[spell] + bounds[spell, order].astype("timedelta64[D]")
        epi_end = admit[spell] + bounds[spell, order + 1].astype("timedelta64[D]")
        discharge = admit + los.astype("timedelta64[D]")
        epikey = key_prefix * 10**8 + first_key + np.arange(len(spell), dtype=np.int64)
        return {
            "EPIKEY": epikey,
            "PSEUDO_HESID": hesid[spell],
            "PROCODE3": provider[spell],
            "ADMIDATE": admit[spell],
            "DISDATE": np.where(is_last, discharge[spell], np.datetime64("NaT")),
            "EPISTART": epi_start,
            "EPIEND": epi_end,
            "EPIORDER": order + 1,
            "ADMIMETH": method[spell],
            "STARTAGE": age[spell],
            "SEX": (sex + 1)[spell],
            "DIAG_4_01": diag[spell],
            "GPPRAC": gp[spell],
            # Not written: kept for the summary and tests.
            "_practice": practice[spell],
            "_emergency": emergency[spell],
            "_first": order == 0,
        }

    def _length_of_stay(self, rng: np.random.Generator, age: np.ndarray,
                        emergency: np.ndarray) -> np.ndarray:
        """Days from admission to discharge: right-skewed (lognormal), longer for 65+."""
        story = self.story
        n = len(age)
        median = np.where(
            emergency,
            np.where(age >= 65, story.los_median_65plus, story.los_median_under65),
            story.elective_los_median,
        )
        draw = np.ceil(np.exp(np.log(median) + story.los_sigma * rng.standard_normal(n)))
        same_day = rng.random(n) < np.where(
            emergency, story.emergency_same_day_share, story.elective_day_case_share
        )
        return np.where(same_day, 0, np.minimum(draw, 365)).astype(np.int64)


def _draw(rng: np.random.Generator, choices: tuple[tuple[str, float], ...], n: int) -> np.ndarray:
    """n draws from weighted labels."""
    labels = np.array([c for c, _ in choices], dtype=object)
    weights = np.array([w for _, w in choices], dtype=float)
    return labels[rng.choice(len(labels), size=n, p=weights / weights.sum())]


def _random_hex(rng: np.random.Generator, n: int) -> np.ndarray:
    """n random 32-character lowercase hex identifiers (no real patient identifiers)."""
    nibbles = rng.integers(0, 16, (n, 32), dtype=np.uint8)
    digits = np.frombuffer(b"0123456789abcdef", dtype="S1")[nibbles]
    return np.ascontiguousarray(digits).view("S32").ravel().astype(str).astype(object)


def logistic_progress(t: float, midpoint: float, width: float) -> float:
    """Share of a change achieved by month t: 0 at t = 0, rising along a logistic to 1."""
    def sig(x: float) -> float:
        return 1 / (1 + np.exp(-(x - midpoint) / width))

    return float(np.clip((sig(t) - sig(0)) / (1 - sig(0)), 0, 1))


class CarePackageModel:
    """Registers and completed elements per practice x package x element, month by month."""

    def __init__(self, geo: Geography, pop: Population, story: Story, seed: int) -> None:
        self.geo, self.pop, self.story, self.seed = geo, pop, story, seed
        structure = np.random.default_rng([geo_seed(geo), 2])
        n = len(geo.practices)
        self.practice_offset = structure.normal(0, story.care_package_practice_sd, n)
        mids = np.asarray(story.care_package_midpoint_months, dtype=float)
        # Networks take their midpoints in order; nationally they cycle through the list.
        self.network_midpoint = mids[np.arange(len(geo.networks)) % len(mids)]
        self._registers: dict[int, dict[str, np.ndarray]] = {}

    def target_register(self, t: int) -> dict[str, np.ndarray]:
        """Expected register per practice in month t."""
        counts = self.pop.at(t)
        list_size = counts.sum(axis=(1, 2)).astype(float)
        out = {
            pkg: list_size * self.geo.practices[f"{pkg}_prevalence"].to_numpy(float)
            for pkg in ("diabetes", "cvd", "copd")
        }
        out["childhood_imms"] = counts[:, :, 0].sum(axis=1).astype(float)
        return out

    def registers(self, t: int) -> dict[str, np.ndarray]:
        """Register sizes per practice in month t (stock and flow around the expected size)."""
        if t in self._registers:
            return self._registers[t]
        target = self.target_register(t)
        active = self.pop.active[t]
        if t == 0:
            regs = {k: np.round(v).astype(np.int64) for k, v in target.items()}
        else:
            prev = self.registers(t - 1)
            rng = noise_rng(self.seed, "registers", t)
            regs = {}
            for pkg, exp in target.items():
                p = np.where(prev[pkg] > 0, prev[pkg], np.round(exp).astype(np.int64))
                out = rng.binomial(p, 0.01)
                regs[pkg] = p - out + rng.poisson(0.01 * exp + 0.1 * (exp - p).clip(0))
                regs[pkg] = np.minimum(regs[pkg], np.round(exp * 1.2 + 5).astype(np.int64))
        regs = {k: np.where(active, v, 0) for k, v in regs.items()}
        self._registers = {k: v for k, v in self._registers.items() if k >= t - 1}
        self._registers[t] = regs
        return regs

    def month(self, t: int, net_idx: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
        """Completed counts {package: {element: per-practice array}} with 'register' included."""
        rng = noise_rng(self.seed, "care_packages", t)
        story = self.story
        regs = self.registers(t)
        mid = self.network_midpoint[np.maximum(net_idx[t], 0)]
        progress = np.array([
            logistic_progress(t, m, story.care_package_width_months) for m in mid
        ])
        out: dict[str, dict[str, np.ndarray]] = {}
        for pkg, elements in PACKAGE_ELEMENTS.items():
            reg = regs[pkg]
            done: dict[str, np.ndarray] = {"register": reg}
            for name, start, end in elements:
                p = _shift_logit(start + (end - start) * progress, self.practice_offset)
                done[name] = rng.binomial(reg, p)
            lowest = np.min([done[name] for name, _, _ in elements], axis=0)
            g = story.complete_given_all_start + (
                story.complete_given_all_end - story.complete_given_all_start
            ) * progress
            done["complete"] = rng.binomial(lowest, g)
            if pkg == "diabetes":
                measured = np.minimum.reduce(
                    [done["hba1c"], done["blood_pressure"], done["cholesterol"]]
                )
                q = story.targets_all3_start + (
                    story.targets_all3_end - story.targets_all3_start
                ) * progress
                done["targets_all3"] = rng.binomial(measured, q)
            out[pkg] = done
        return out


def _shift_logit(p: np.ndarray, offset: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return 1 / (1 + np.exp(-(np.log(p / (1 - p)) + offset)))


def network_populations(pop_t: np.ndarray, net_t: np.ndarray, n_networks: int
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Adults (18+) and people 65+ per network in one month."""
    # Ages 18 and 19 are two fifths of the 15-19 band.
    adult_w = np.array([0, 0, 0, 0.4] + [1.0] * (N_BANDS - 4))
    old_w = (np.asarray(AGE_STARTS) >= 65).astype(float)
    by_band = pop_t.sum(axis=1).astype(float)
    ok = net_t >= 0
    adults = np.bincount(net_t[ok], weights=(by_band[ok] * adult_w).sum(axis=1),
                         minlength=n_networks)
    old = np.bincount(net_t[ok], weights=(by_band[ok] * old_w).sum(axis=1), minlength=n_networks)
    return np.round(adults), np.round(old)


def social_care_month(geo: Geography, months: Months, story: Story, seed: int, t: int,
                      pop_t: np.ndarray, net_t: np.ndarray) -> dict[str, pd.DataFrame]:
    """Network-level delayed transfers, reablement and care-home admissions for month t."""
    n_net = len(geo.networks)
    adults, old = network_populations(pop_t, net_t, n_net)
    structure = np.random.default_rng([geo_seed(geo), 3])
    net_factor = np.exp(structure.normal(0, story.dtoc_network_sd, n_net))
    reable_p = np.clip(story.reablement_home_91 + structure.normal(0, 0.025, n_net), 0.5, 0.97)
    days = months.days(t)
    season = seasonal_factor(months.month_of_year(t), 1.10)
    codes = geo.networks["network_code"].to_numpy()
    period = months.periods[t]

    rng = noise_rng(seed, "delayed_transfers", t)
    total = rng.poisson(story.dtoc_beds_per_100k * net_factor * season * days * adults / 1e5)
    resp = rng.multinomial(total, DTOC_RESPONSIBLE_SHARE)
    reason_w = np.array([w for _, _, w in DTOC_REASONS], dtype=float)
    reasons = rng.multinomial(total, reason_w / reason_w.sum())
    dtoc = pd.DataFrame({
        "org_code": codes, "period": period,
        "delayed_days_nhs": resp[:, 0], "delayed_days_social_care": resp[:, 1],
        "delayed_days_both": resp[:, 2],
    })
    for k, (letter, _, _) in enumerate(DTOC_REASONS):
        dtoc[f"reason_{letter}"] = reasons[:, k]

    rng = noise_rng(seed, "reablement", t)
    discharged = rng.poisson(story.reablement_per_1000_65 * old / 1000 * days / AVG_DAYS_IN_MONTH)
    episodes = rng.poisson(
        story.reablement_episodes_per_1000_18 * adults / 1000 * days / AVG_DAYS_IN_MONTH
    )
    reable = pd.DataFrame({
        "org_code": codes, "period": period,
        "discharged_65_into_reablement": discharged,
        "at_home_91_days": rng.binomial(discharged, reable_p),
        "episodes_ended": episodes,
        "no_further_support": rng.binomial(episodes, story.reablement_no_further_support),
    })

    rng = noise_rng(seed, "care_home_admissions", t)
    admissions = rng.poisson(story.care_home_per_100k_65_year / 1e5 * old * days / 365.25)
    residential = rng.binomial(admissions, story.care_home_residential_share)
    care_home = pd.DataFrame({
        "org_code": codes, "period": period,
        "admissions_65_residential": residential,
        "admissions_65_nursing": admissions - residential,
    })
    return {"delayed_transfers": dtoc, "reablement": reable, "care_home_admissions": care_home,
            "_adults": adults, "_old": old}
