"""Synthetic feed files for the demo: a believable fictional borough, or all of England, month by
month, in the layouts of feeds.md (issue 3).

`generate(out, ...)` writes DIR/<feed>/... and returns a `GenerationSummary` of what it wrote and
the totals the files must parse back to. Same seed, same bytes; another seed, the same story
(docs/demo.md) with different noise.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from carekpi.periods import add_months, is_period, period_of
from carekpi_demo import writers
from carekpi_demo.simulate import (
    CarePackageModel,
    Geography,
    Months,
    Population,
    SpellModel,
    network_index,
    social_care_month,
)
from carekpi_demo.story import Story

__all__ = ["GenerationSummary", "Story", "generate", "default_end_month"]

NETWORK_FEEDS = {
    "delayed_transfers": "dtoc",
    "reablement": "reablement",
    "care_home_admissions": "care_home",
}


@dataclass
class GenerationSummary:
    """What a demo run wrote: files, per-feed totals, per-month totals and the story's dates."""

    out: Path
    scale: str
    seed: int
    periods: list[str]
    files: list[Path] = field(default_factory=list)
    totals: dict[str, dict[str, int]] = field(default_factory=dict)
    by_period: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    events: dict[str, str] = field(default_factory=dict)

    def add(self, feed: str, period: str | None, **counts: int) -> None:
        """Add counts to a feed's run totals (and to its month's totals when given)."""
        run = self.totals.setdefault(feed, {})
        for key, value in counts.items():
            run[key] = run.get(key, 0) + int(value)
            if period is not None:
                month = self.by_period.setdefault(feed, {}).setdefault(period, {})
                month[key] = month.get(key, 0) + int(value)


def default_end_month(today: dt.date | None = None) -> str:
    """The last complete month before today, 'YYYY-MM'."""
    today = today or dt.date.today()
    return add_months(period_of(today), -1)


def generate(out: Path, *, scale: str = "area", months: int = 36, seed: int = 20240401,
             faults: bool = False, end_month: str | None = None,
             story: Story | None = None) -> GenerationSummary:
    """Write synthetic feed files into out/<feed>/ and return what was written.

    Args:
        out: the inbox folder to write into (created if absent).
        scale: 'area' (the fictional borough Hartwell) or 'national' (every practice in England
            from the packaged 2021 reference geography).
        months: number of months ending at `end_month`.
        seed: noise seed; the same seed gives byte-identical files.
        faults: also write out/faults/<feed>/<defect>.<ext> files the ETL must refuse.
        end_month: last month 'YYYY-MM' (default: the last complete month before today).
        story: the demo's parameters (default `Story()`).

    Raises:
        ValueError: on an unknown scale, a bad month or months < 1.
    """
    if scale not in ("area", "national"):
        raise ValueError(f"scale must be 'area' or 'national', not {scale!r}")
    if months < 1:
        raise ValueError(f"months must be at least 1, not {months}")
    end_month = end_month or default_end_month()
    if not is_period(end_month):
        raise ValueError(f"end_month must be 'YYYY-MM', not {end_month!r}")
    story = story or Story()
    out = Path(out)
    window = Months.ending(end_month, months)
    if scale == "area":
        from carekpi_demo.area import area_age_share, area_geography

        geo = area_geography(story, window)
        base_share = area_age_share()
    else:
        from carekpi_demo.national import national_age_share, national_geography

        geo = national_geography(window, story)
        base_share = national_age_share()
    summary = GenerationSummary(out, scale, seed, window.periods)
    _write_story(summary, geo, window, story)
    _write_organisations(summary, geo)
    _write_months(summary, geo, window, story, seed, base_share)
    if faults:
        from carekpi_demo.faults import write_faults

        summary.files.extend(write_faults(out, window.periods[-1]))
    summary.files.sort()
    return summary


def _write_story(summary: GenerationSummary, geo: Geography, window: Months,
                 story: Story) -> None:
    """Record the calendar months of the story's events (area scale)."""
    periods = window.periods

    def at(offset: int) -> str:
        return periods[offset] if 0 <= offset < len(periods) else ""

    if geo.scale != "area":
        return
    summary.events = {
        "intervention": story.intervention_name,
        "intervention_start": at(story.intervention_start_offset),
        "intervention_networks": " ".join(story.intervention_networks),
        "outlier_practice": story.outlier_practice,
        "opening_practice": story.opening_practice, "opening_month": at(story.opening_offset),
        "closing_practice": story.closing_practice, "closing_month": at(story.closing_offset),
        "moving_practice": story.moving_practice, "moving_month": at(story.moving_offset),
        "moving_to_network": story.moving_to_network,
        "late_practice": story.late_practice,
        "late_month": at(len(periods) - 1 - story.late_offset_from_end),
    }


def _write_organisations(summary: GenerationSummary, geo: Geography) -> None:
    """The native CSV (the whole hierarchy, with dates) and the ODS ePCN workbook (practice to
    PCN relationships, as ODS publishes them; its CCG is the commissioner, not the place)."""
    path = summary.out / "organisations" / "organisations.csv"
    writers.write_frame(path, geo.memberships)
    summary.files.append(path)
    ccg = geo.practices[["practice_code", "ccg_code"]].assign(
        ccg_name=lambda f: "NHS " + f["ccg_code"] + " CCG")
    linked = geo.memberships[geo.memberships["network_code"] != ""].merge(ccg, on="practice_code")
    epcn = summary.out / "organisations" / "ePCN.xlsx"
    writers.write_epcn_workbook(epcn, linked)
    summary.files.append(epcn)
    summary.add("organisations", None, rows=len(geo.memberships),
                practices=geo.memberships["practice_code"].nunique(),
                networks=geo.memberships["network_code"].nunique())


def _write_months(summary: GenerationSummary, geo: Geography, window: Months, story: Story,
                  seed: int, base_share: np.ndarray) -> None:
    """Every monthly feed, month by month (memory bounded by one month at a time)."""
    out = summary.out
    pop = Population(geo, window, story, seed, base_share)
    net_idx = network_index(geo, window)
    spells = SpellModel(geo, pop, story)
    extracts = writers.EpisodeEndExtracts()
    packages = CarePackageModel(geo, pop, story, seed)
    practices = geo.practices
    codes = practices["practice_code"].to_numpy().astype(object)
    late_t = len(window.periods) - 1 - story.late_offset_from_end
    late_code = story.late_practice if geo.scale == "area" else None
    reablement_first: dict[int, pd.DataFrame] = {}
    last = len(window.periods) - 1
    for t, period in enumerate(window.periods):
        counts = pop.at(t)
        active = pop.active[t]
        late = (codes == late_code) & (t == late_t)
        _write_population(summary, geo, period, counts, active & ~late, "")
        if late.any():
            _write_population(summary, geo, period, counts, active & late, f"_late_{late_code}")
        admitted = spells.spells(t, seed, net_idx)
        episodes = extracts.month(period, admitted)
        path = out / "spells" / f"hes_apc_{period}.csv"
        writers.write_spells(path, episodes)
        summary.files.append(path)
        first = episodes["_first"]
        emergency = episodes["_emergency"][first]
        # spells/emergency: spells whose first episode this extract holds; admitted: all
        # simulated admissions of the month, wherever their episodes end.
        summary.add("spells", period, episodes=len(first), spells=int(first.sum()),
                    emergency=int(emergency.sum()),
                    unattributed=int((episodes["GPPRAC"][first] == "V81999").sum()),
                    emergency_admitted=int((admitted["_emergency"] & admitted["_first"] & (
                        admitted["ADMIDATE"] >= window.starts[t])).sum()))  # not stays under way
        month = packages.month(t, net_idx)
        for suffix, keep in (("", active & ~late), (f"_late_{late_code}", active & late)):
            if not keep.any():
                continue
            frame = writers.care_package_frame(period, codes, month, keep)
            path = out / "care_packages" / f"care_packages_{period}{suffix}.csv"
            writers.write_frame(path, frame)
            summary.files.append(path)
            for pkg, done in month.items():
                summary.add("care_packages", period, **{
                    f"{pkg}_register": done["register"][keep].sum(),
                    f"{pkg}_complete": done["complete"][keep].sum(),
                })
        social = social_care_month(geo, window, story, seed, t, counts, net_idx[t])
        for feed, stem in NETWORK_FEEDS.items():
            frame = social[feed]
            if feed == "reablement":
                reablement_first[t] = frame
                frame = frame.assign(at_home_91_days=pd.array([pd.NA] * len(frame), "Int64"))
            path = out / feed / f"{stem}_{period}.csv"
            writers.write_frame(path, frame)
            summary.files.append(path)
            summary.add(feed, period, **{
                c: int(frame[c].sum()) for c in frame.columns if c not in ("org_code", "period")
            })
        if t >= 3:
            # The resubmission of month t-3 arrives with month t's return, named to sort after it.
            frame = reablement_first.pop(t - 3)
            path = out / "reablement" / f"reablement_{period}_resub_{window.periods[t - 3]}.csv"
            writers.write_frame(path, frame)
            summary.files.append(path)
            summary.add("reablement_resubmitted", window.periods[t - 3],
                        at_home_91_days=int(frame["at_home_91_days"].sum()))
        if geo.scale == "area":
            path = out / "delayed_transfers" / (
                f"LA_DTOC_{pd.Timestamp(period + '-01').strftime('%b_%y')}.xlsx"
            )
            writers.write_dtoc_workbook(path, period, _dtoc_rows(geo, social, seed, t, window))
            summary.files.append(path)
    assert t == last


def _write_population(summary: GenerationSummary, geo: Geography, period: str,
                      counts: np.ndarray, keep: np.ndarray, suffix: str) -> None:
    """One month's five-year-age file for the practices in `keep` (plus their CCGs' rows)."""
    practices = geo.practices[keep]
    kept = counts[keep]
    ccg_codes, ccg_pos = np.unique(practices["ccg_code"].to_numpy().astype(str),
                                   return_inverse=True)
    ons = practices.groupby("ccg_code")["ons_ccg_code"].first()
    ccg_totals = np.zeros((len(ccg_codes), *kept.shape[1:]), dtype=np.int64)
    np.add.at(ccg_totals, ccg_pos, kept)
    others = [("CCG", code, ons[code], ccg_totals[k]) for k, code in enumerate(ccg_codes)]
    cols = writers.population_frame(
        period, practices["practice_code"].to_numpy().astype(object),
        practices["postcode"].to_numpy().astype(object),
        practices["ccg_code"].to_numpy().astype(object),
        practices["ons_ccg_code"].to_numpy().astype(object), kept, others,
    )
    path = summary.out / "population" / f"gp-reg-pat-prac-quin-age_{period}{suffix}.csv"
    writers.write_csv_fast(path, cols)
    summary.files.append(path)
    summary.add("population", period, patients=int(kept.sum()), practices=int(keep.sum()),
                patients_65=int(kept[:, :, 13:].sum()))


# Real London boroughs shown beside the demo place as peers (codes from NHS England's LA DToC
# workbook, November 2015), with approximate adult registered populations; their delayed days
# are synthetic.
DTOC_PEERS: tuple[tuple[str, str, str, int], ...] = (
    ("E09000012", "704", "Hackney", 215_000),
    ("E09000019", "706", "Islington", 195_000),
    ("E09000025", "731", "Newham", 265_000),
    ("E09000030", "711", "Tower Hamlets", 250_000),
    ("E09000031", "735", "Waltham Forest", 210_000),
)
ENGLAND_ADULTS = 44_500_000  # adults registered with English practices, approximately


def _dtoc_rows(geo: Geography, social: dict[str, object], seed: int, t: int,
               window: Months) -> list[dict[str, object]]:
    """Rows of the LA-level workbook: England, the demo place (sum of its networks), peers and
    the pseudo-authorities that parsers must skip."""
    from carekpi_demo.simulate import noise_rng
    from carekpi_demo.story import DTOC_REASONS, DTOC_RESPONSIBLE_SHARE

    rng = noise_rng(seed, "dtoc_workbook", t)
    dtoc = social["delayed_transfers"]
    reasons = [f"reason_{letter}" for letter, _, _ in DTOC_REASONS]
    reason_w = np.array([w for _, _, w in DTOC_REASONS], dtype=float)
    days = window.days(t)

    def la_row(region: str, ons: str, code: str, name: str, total_or_parts: object
               ) -> dict[str, object]:
        if isinstance(total_or_parts, dict):
            parts = total_or_parts
            total = parts["nhs"] + parts["social_care"] + parts["both"]
        else:
            total = int(total_or_parts)
            resp = rng.multinomial(total, DTOC_RESPONSIBLE_SHARE)
            reason = rng.multinomial(total, reason_w / reason_w.sum())
            parts = {"nhs": resp[0], "social_care": resp[1], "both": resp[2],
                     **dict(zip(reasons, reason, strict=True))}
        acute = int(rng.binomial(total, 0.65))
        row = {"region": region, "ons": ons, "code": code, "name": name,
               "acute": acute, "non_acute": total - acute}
        row.update({k: int(v) for k, v in parts.items()})
        return row

    place = {
        "nhs": int(dtoc["delayed_days_nhs"].sum()),
        "social_care": int(dtoc["delayed_days_social_care"].sum()),
        "both": int(dtoc["delayed_days_both"].sum()),
        **{r: int(dtoc[r].sum()) for r in reasons},
    }
    england_total = rng.poisson(12.5 * days * ENGLAND_ADULTS / 1e5)
    rows = [la_row("-", "-", "-", "England", england_total)]
    las = [la_row("London", geo.place_code, "799", geo.place_name, place)]
    for ons, code, name, adults in DTOC_PEERS:
        las.append(la_row("London", ons, code, name, rng.poisson(12.5 * days * adults / 1e5)))
    las.sort(key=lambda r: str(r["name"]))
    # One peer has no "Both" category in its return: NA as the real workbooks print it.
    las[-1]["nhs"] = int(las[-1]["nhs"]) + int(las[-1]["both"])
    las[-1]["both"] = "NA"
    rows.extend(las)
    blank = dict.fromkeys(["nhs", "social_care", "both", "acute", "non_acute", *reasons], "-")
    rows.append({"region": "-", "ons": "-", "code": "9901", "name": "Resident in Scotland",
                 **blank})
    rows.append(la_row("-", "-", "9900", "Resident In Wales", rng.poisson(400)))
    rows.append(la_row("-", "-", "9902", "Resident outside GB", rng.poisson(40)))
    return rows
