"""The KPI mart: one row per KPI x organisation x month, rebuilt from the facts after a load.

Counts are summed at the level each feed arrives at, rolled up through the membership valid in
each month (never averages of averages), turned into values with their intervals, then given
targets, RAG and the statistics of `kpi` (SPC, funnel, trend).
"""

from __future__ import annotations

import logging
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import delete, select
from sqlalchemy.engine import Connection, Engine

from carekpi import periods
from carekpi import warehouse as wh
from carekpi.settings import Settings
from etl.annotations import rebase_points
from etl.feeds import family_tables
from etl.incomplete_inputs import (
    DISCHARGE_MEASURES,
    join_reasons,
    missing_submission_reason,
    missing_submissions,
    outcome_reasons,
    stay_lookback_reasons,
)
from etl.mart_statistics import add_statistics
from etl.measures import (
    cp_measure,
    network_measures,
    practice_measures,
    stay_months,
)
from etl.standardised import standardised_measures
from etl.targets_file import load_targets
from kpi import intervals
from kpi.catalogue import Kpi, load_catalogue
from kpi.rag import rag_frame
from kpi.rollup import rollup
from kpi.spc import SpcSettings
from kpi.suppression import is_small

log = logging.getLogger(__name__)

LEVEL_CHAIN = (("practice", "network"), ("network", "place"), ("place", "system"))

def rebuild_mart(engine: Engine, affected: dict[str, set[str]] | None = None,
                 settings: Settings | None = None, today: date | None = None) -> int:
    """Rebuild the mart rows of the KPIs whose facts changed (all KPIs when `affected` is None).

    Returns the number of mart rows written.
    """
    tables = family_tables()  # organisation and membership feed every family
    kpis = [k for k in load_catalogue()
            if affected is None or tables[k.family] & set(affected)]
    if not kpis:
        return 0
    settings = settings or Settings()
    with engine.begin() as conn:
        counts = all_level_counts(conn)
        frame = kpi_values(counts, kpis, today or date.today(),
                           stays_withheld=stay_lookback_reasons(stay_months(conn)))
        add_targets_and_rag(frame, settings)
        frame["suppressed"] = is_small(frame["numerator"]) | is_small(frame["denominator"])
        add_statistics(frame, kpis, membership=wh.read_frame(conn, select(wh.membership)),
                       rebases=rebase_points(conn),
                       settings=SpcSettings(run_length=settings.spc_run_length,
                                            trend_length=settings.spc_trend_length))
        ids = [k.id for k in kpis]
        conn.execute(delete(wh.kpi_mart).where(wh.kpi_mart.c.kpi_id.in_(ids)))
        written = wh.bulk_insert(conn, wh.kpi_mart, frame)
        wh.bump_data_version(conn)  # dashboard caches: the mart changed
    log.info("mart: %d rows for %d KPIs", written, len(kpis))
    return written


def all_level_counts(conn: Connection) -> pd.DataFrame:
    """Every measure at every level: org_code, level, period, measure, value, carried_forward."""
    links = wh.read_frame(conn, select(wh.membership))
    levels = wh.read_frame(conn, select(wh.organisation.c.org_code, wh.organisation.c.level,
                                        wh.organisation.c.close_date))
    level_of = levels.set_index("org_code")["level"]
    # the standardised ratios' observed and expected counts are practice measures too
    base = pd.concat([practice_measures(conn), standardised_measures(conn)], ignore_index=True)
    closes = pd.to_datetime(base["org_code"].map(levels.set_index("org_code")["close_date"]))
    open_then = closes.isna() | (pd.to_datetime(base["period"] + "-01") <= closes)
    # Practices only (not UNATTRIBUTED spells), and only while open.
    base = base[(base["org_code"].map(level_of) == "practice") & open_then]
    base["level"] = "practice"
    base["contributors"] = 1
    arriving = network_measures(conn)
    arriving["level"] = arriving["org_code"].map(level_of).fillna("network")
    parts = [base]
    current = base
    for child, parent in LEVEL_CHAIN:
        members = links[links["child_code"].map(level_of) == child]
        rolled = _roll_up_long(current, members)
        rolled["level"] = parent
        arriving_here = arriving[arriving["level"] == parent]
        current = _combine(rolled, arriving_here)
        parts.append(current)
    arriving_practice = arriving[arriving["level"] == "practice"]
    parts.append(arriving_practice)
    out = pd.concat(parts, ignore_index=True)
    out["carried_forward"] = out["carried_forward"].fillna(False).astype(bool)
    return out.join(missing_submissions(out))


def _roll_up_long(long: pd.DataFrame, members: pd.DataFrame) -> pd.DataFrame:
    """Sum child measures to parents through the membership valid on each month's first day.

    A parent sums the children that have the measure that month (codes with no membership that
    month, such as unattributed spells, roll up nowhere).
    """
    if long.empty or members.empty:
        return long.iloc[0:0].copy()
    facts = long[["org_code", "period", "measure", "value", "contributors"]].assign(
        carried_forward=long["carried_forward"].fillna(False).astype(int))
    summed = rollup(facts, members, child_col="org_code", by=["measure"],
                    measures=["value", "carried_forward", "contributors"],
                    unmatched="drop").rename(columns={"parent_code": "org_code"})
    summed["carried_forward"] = summed["carried_forward"] > 0
    return summed


def _combine(rolled: pd.DataFrame, arriving: pd.DataFrame) -> pd.DataFrame:
    """Rolled-up measures plus those arriving at this level; arriving data fill only what the
    children do not already give (a place's own return does not double a sum of networks)."""
    if arriving.empty:
        return rolled
    keys = ["org_code", "period", "measure"]
    have = rolled.set_index(keys).index
    extra = arriving[~arriving.set_index(keys).index.isin(have)]
    return pd.concat([rolled, extra], ignore_index=True)


def add_targets_and_rag(frame: pd.DataFrame, settings: Settings) -> None:
    """Each row's target (catalogue default or the targets file's override) and RAG status."""
    if frame.empty:
        return
    frame["target"] = load_targets(settings.targets_file).targets_frame(frame)
    frame["rag"] = rag_frame(frame, tolerance=settings.rag_tolerance)


def kpi_values(counts: pd.DataFrame, kpis: list[Kpi], today: date,
               stays_withheld: dict[str, str] | None = None) -> pd.DataFrame:
    """Mart rows (values, intervals, provisional flags and reasons) for the KPIs at their levels.

    `stays_withheld` maps a discharge month to the reason its stay measures are withheld
    (etl.incomplete_inputs.stay_lookback_reasons).
    """
    frames = [_one_kpi(counts, k, today, stays_withheld or {}) for k in kpis]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=[c.name for c in wh.kpi_mart.columns])
    return pd.concat(frames, ignore_index=True)


def _measure_name(kpi: Kpi, measure: str) -> str:
    return cp_measure(kpi.package, kpi.element, measure) if kpi.package else measure


def _one_kpi(counts: pd.DataFrame, kpi: Kpi, today: date,
             stays_withheld: dict[str, str]) -> pd.DataFrame:
    num_name = _measure_name(kpi, kpi.numerator_measure)
    den_name = _measure_name(kpi, kpi.denominator_measure)
    wanted = {num_name: "numerator", den_name: "denominator"}
    if kpi.spread_measure:
        wanted[kpi.spread_measure] = "spread"
    rows = counts[counts["measure"].isin(wanted) & counts["level"].isin(kpi.levels)]
    if rows.empty:
        return pd.DataFrame()
    wide = rows.pivot_table(index=["level", "org_code", "period"], columns="measure",
                            values="value", aggfunc="sum").rename(columns=wanted)
    keys = rows.groupby(["level", "org_code", "period"])
    flags = keys[["carried_forward"]].any().join(
        keys[["missing_returns", "expected_returns"]].max())
    wide = wide.join(flags).reset_index()
    for col in ("numerator", "denominator", "spread"):
        if col not in wide:
            wide[col] = np.nan
    # No rows for a practice in a month its feed covers means none happened: zero, not missing.
    covered = wide["period"].isin(set(rows.loc[rows["measure"] == num_name, "period"]))
    zero = covered & wide["numerator"].isna() & wide["denominator"].notna()
    wide.loc[zero, "numerator"] = 0
    if kpi.spread_measure:
        wide.loc[zero, "spread"] = 0
    wide = wide[wide["denominator"].notna()]  # nothing to divide by (e.g. no population yet)
    # A month the numerator's feed has not reached yet has no row, unless the KPI's numerator
    # arrives later by design (reablement's 91-day outcome): then the row waits, provisional.
    if not kpi.provisional_days:
        wide = wide[wide["numerator"].notna() | covered.loc[wide.index]]
    if kpi.window_months > 1:
        wide = _windowed(wide, kpi)
    out = wide[["level", "org_code", "period", "numerator", "denominator"]].copy()
    out["kpi_id"] = kpi.id
    out["form"] = "rolling12" if kpi.window_months == 12 else "month"
    _add_value_and_intervals(out, wide["spread"], kpi)
    out["carried_forward"] = wide["carried_forward"].astype(bool)
    awaiting = out["numerator"].isna() & out["denominator"].notna()  # e.g. a 91-day outcome
    withheld = pd.Series(None, index=out.index, dtype=object)
    if DISCHARGE_MEASURES & {num_name, den_name}:
        withheld = out["period"].map(stays_withheld).astype(object)
        out.loc[withheld.notna(), ["value", "lower_95", "upper_95", "lower_998",
                                   "upper_998"]] = np.nan
    out["provisional_reason"] = join_reasons(
        withheld, missing_submission_reason(wide["missing_returns"], wide["expected_returns"]),
        outcome_reasons(kpi, out["period"], awaiting, today))
    out["provisional"] = out["provisional_reason"].notna()
    return out


def _windowed(wide: pd.DataFrame, kpi: Kpi) -> pd.DataFrame:
    """Rolling sums over `window_months` consecutive months (stock denominators: last month)."""
    wide = wide.sort_values(["org_code", "period"])
    idx = pd.PeriodIndex(wide["period"], freq="M")
    wide["_month"] = idx.year * 12 + idx.month
    grouped = wide.groupby("org_code")
    window = kpi.window_months
    span = grouped["_month"].diff(window - 1)
    wide["numerator"] = grouped["numerator"].transform(
        lambda s: s.rolling(window, min_periods=window).sum())
    if kpi.denominator_kind == "flow":
        wide["denominator"] = grouped["denominator"].transform(
            lambda s: s.rolling(window, min_periods=window).sum())
    complete = span == window - 1  # the window holds consecutive months only
    return wide[complete & wide["numerator"].notna()].drop(columns="_month")


def _add_value_and_intervals(out: pd.DataFrame, spread: pd.Series, kpi: Kpi) -> None:
    num = out["numerator"].astype(float)
    den = out["denominator"].astype(float)
    scale = float(kpi.multiplier)
    if kpi.per_day_of_month:  # DToC: delayed days / days in month = average beds per day
        days = periods.days_in_each(out["period"])
        den = den * days
    with np.errstate(divide="ignore", invalid="ignore"):
        out["value"] = np.where(den > 0, num / den * scale, np.nan)
        for level, suffix in ((0.95, "95"), (0.998, "998")):
            if kpi.interval == "wilson":
                lo, hi = intervals.wilson(num, den, confidence=level)
                lo, hi = np.asarray(lo) * scale, np.asarray(hi) * scale
            elif kpi.interval == "byar":
                lo, hi = intervals.byar(num, confidence=level)
                lo = np.where(den > 0, np.asarray(lo) / den * scale, np.nan)
                hi = np.where(den > 0, np.asarray(hi) / den * scale, np.nan)
            else:
                lo, hi = intervals.mean_interval(num, spread.astype(float), den, confidence=level)
            out[f"lower_{suffix}"] = lo
            out[f"upper_{suffix}"] = hi
