"""The mart's statistics: SPC (Making Data Count), funnel classes and recent trends, computed
for every KPI x organisation x month at once with `kpi.spc.spc_frame`,
`kpi.funnel.funnel_frame` and `kpi.trend.trend_frame`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from carekpi import periods
from kpi.catalogue import Kpi
from kpi.funnel import funnel_frame, ratio_classes
from kpi.rollup import assign_parents
from kpi.spc import SpcSettings, spc_frame
from kpi.trend import trend_frame

SERIES = ["org_code", "form"]  # one chart per organisation and form (month, rolling 12)
ICONS = ("variation_icon", "assurance_icon")
# Rows charted at once when judging each month's icons: about 330 bytes a row in spc_frame
# (kpi.spc.spc_frame), so some 130 MB at most.
PREFIX_ROWS = 400_000
# Interval method -> the count model of funnels and trend tests (means have neither).
KIND = {"wilson": "proportion", "byar": "rate"}


def add_statistics(frame: pd.DataFrame, kpis: list[Kpi], *, membership: pd.DataFrame,
                   rebases: pd.DataFrame, settings: SpcSettings) -> None:
    """Fill the SPC, funnel and trend columns of mart rows in place.

    `membership` (child_code, parent_code, valid_from, valid_to) gives each organisation's peer
    group: the organisations sharing its parent that month (practices of one network, networks
    of one place). `rebases` (org_code, period, kpi_id or None) start new SPC limits.
    """
    if frame.empty:
        return
    for column in ("spc_mean", "spc_lower", "spc_upper"):
        frame[column] = np.nan
    for column in ("spc_special_cause", "variation_icon", "assurance_icon", "funnel_class",
                   "trend"):
        frame[column] = None
    frame["_rebase"] = _rebase_flags(frame, rebases)
    frame["_peer"] = _peer_groups(frame, membership)
    # a row without a value (withheld, or its numerator not yet in) is compared with nothing
    frame["_den"] = _effective_denominator(frame, {k.id: k for k in kpis}).where(
        frame["value"].notna())
    for kpi in kpis:
        rows = frame["kpi_id"] == kpi.id
        if not rows.any():
            continue
        part = frame.loc[rows]
        chart = spc_frame(part, by=SERIES, polarity=kpi.polarity, target="target",
                          rebase="_rebase", settings=settings)
        for column in ("spc_mean", "spc_lower", "spc_upper", "spc_special_cause"):
            frame.loc[rows, column] = chart[column]
        icons = as_judged_icons(part, polarity=kpi.polarity, settings=settings)
        for column in ICONS:
            frame.loc[rows, column] = icons[column]
        kind = KIND.get(kpi.interval)
        if kind is None:
            continue
        if kpi.standardised_of:  # a ratio is judged by its own interval against 100 (PHE)
            frame.loc[rows, "funnel_class"] = ratio_classes(part)
        else:
            frame.loc[rows, "funnel_class"] = funnel_frame(
                part, by=["form", "period", "level", "_peer"], numerator="numerator",
                denominator="_den", kind=kind, multiplier=float(kpi.multiplier))
        frame.loc[rows, "trend"] = trend_frame(part, by=["org_code", "form"],
                                               numerator="numerator", denominator="_den",
                                               kind=kind)
    frame.drop(columns=["_rebase", "_peer", "_den"], inplace=True)


def as_judged_icons(part: pd.DataFrame, *, polarity: str | None,
                    settings: SpcSettings) -> pd.DataFrame:
    """Each row's variation and assurance icons as judged with its series' data up to and
    including its month (rebases and the minimum of points respected), as a month's report
    showed them; not the latest chart's icons repeated on every month.

    One chart per cut-off month over the rows up to it, each series' row at the cut-off kept.
    Cut-offs earlier than the minimum number of points give no icon and are skipped. Prefixes
    are charted together, several cut-offs to one call, up to PREFIX_ROWS rows (one prefix
    alone when it is larger), so memory stays bounded at any scale.
    """
    icons = pd.DataFrame({column: pd.Series([None] * len(part), index=part.index, dtype=object)
                          for column in ICONS})
    # only what a chart reads, in period order: a prefix is then the first rows
    slim = part[[*SERIES, "period", "value", "target", "_rebase"]].sort_values(
        "period", kind="stable")
    periods = slim["period"].to_numpy()
    cuts = sorted(set(periods))[settings.min_points - 1:]
    sizes = dict(zip(cuts, np.searchsorted(periods, cuts, side="right"), strict=True))
    batches: list[list[str]] = []
    for cut in cuts:
        if batches and sum(sizes[c] for c in batches[-1]) + sizes[cut] <= PREFIX_ROWS:
            batches[-1].append(cut)
        else:
            batches.append([cut])
    for batch in batches:
        lengths = [sizes[cut] for cut in batch]
        prefixes = slim.iloc[np.concatenate([np.arange(n) for n in lengths])].assign(
            _cut=np.repeat(batch, lengths))
        chart = spc_frame(prefixes, by=[*SERIES, "_cut"], polarity=polarity, target="target",
                          rebase="_rebase", settings=settings)
        at_cut = (prefixes["period"] == prefixes["_cut"]).to_numpy()
        for column in ICONS:
            icons.loc[prefixes.index[at_cut], column] = chart[column].to_numpy()[at_cut]
    return icons


def _effective_denominator(frame: pd.DataFrame, kpis: dict[str, Kpi]) -> pd.Series:
    """The denominator the value is divided by (DToC: adults x days in the month)."""
    per_day = frame["kpi_id"].map(lambda k: kpis[k].per_day_of_month)
    days = periods.days_in_each(frame["period"])
    return frame["denominator"].astype(float) * np.where(per_day, days, 1)


def _peer_groups(frame: pd.DataFrame, membership: pd.DataFrame) -> pd.Series:
    """Each row's parent that month ('' where it has none: compared with every such peer)."""
    keys = frame[["org_code", "period"]].drop_duplicates()
    if membership.empty:
        return pd.Series("", index=frame.index)
    parents = assign_parents(keys, membership, child_col="org_code")
    merged = frame[["org_code", "period"]].merge(parents, on=["org_code", "period"], how="left")
    return pd.Series(merged["parent_code"].fillna("").to_numpy(), index=frame.index)


def _rebase_flags(frame: pd.DataFrame, rebases: pd.DataFrame) -> pd.Series:
    """True where an annotation recalculates limits (for that KPI, or for every KPI)."""
    if rebases.empty:
        return pd.Series(False, index=frame.index)
    every = rebases[rebases["kpi_id"].isna()][["org_code", "period"]].drop_duplicates()
    one = rebases[rebases["kpi_id"].notna()][["org_code", "period", "kpi_id"]].drop_duplicates()
    keys = frame[["org_code", "period", "kpi_id"]]
    hit_every = keys.merge(every.assign(_hit=True), on=["org_code", "period"], how="left")["_hit"]
    hit_one = keys.merge(one.assign(_hit=True), on=["org_code", "period", "kpi_id"],
                         how="left")["_hit"]
    hits = hit_every.fillna(False).astype(bool) | hit_one.fillna(False).astype(bool)
    return pd.Series(hits.to_numpy(), index=frame.index)
