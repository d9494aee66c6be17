"""Benchmark: the whole-mart statistics (spc_frame, funnel_frame, trend_frame) at national-like
sizes, against a loop.

National scale (design.md): 6,571 practices × about 50 KPIs = 330,000 series of up to 60
months. This times each batch function on a synthetic long frame (by default 50,000 series ×
36 months for SPC and trend, and one national month per KPI for funnels: 50 KPIs × 6,571
practices, compared nationally and within 1,252 networks), times the single-series test
oracle (tests/kpi/oracles) in a plain loop over a sample of groups, and extrapolates both to
national size:

    .venv/bin/python benchmarks/stats_batch.py [--series 50000] [--months 36] [--loop 500]
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc
from collections.abc import Callable

import numpy as np
import pandas as pd

from kpi.funnel import funnel_frame
from kpi.spc import spc_frame
from kpi.trend import trend_frame
from tests.kpi.oracles.funnel import classify_funnel
from tests.kpi.oracles.spc import xmr
from tests.kpi.oracles.trend import recent_trend

PRACTICES, NETWORKS, KPIS = 6_571, 1_252, 50  # design.md "Scale"
NATIONAL_SERIES = PRACTICES * KPIS


def timed(work: Callable[[], object], memory: bool = False) -> float:
    """Wall time of ``work``; with ``memory``, run it once more under tracemalloc (which sees
    numpy's arrays but slows Python allocations, so not timed) and print its peak."""
    start = time.perf_counter()
    work()
    elapsed = time.perf_counter() - start
    if memory:
        tracemalloc.start()
        work()
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        print(f"  (peak allocated during the batch call: {peak:,.0f} MB)")
    return elapsed


def series_frame(series: int, months: int, seed: int = 1) -> pd.DataFrame:
    """``series`` KPI × practice series of ``months`` months: counts, a value, a target."""
    rng = np.random.default_rng(seed)
    rows = series * months
    n = rng.integers(50, 5_000, rows).astype(float)
    o = rng.binomial(n.astype(int), rng.uniform(0.2, 0.8, series).repeat(months)).astype(float)
    frame = pd.DataFrame({
        "kpi_id": np.repeat(np.arange(series) % KPIS, months),
        "org_code": np.repeat(np.arange(series) // KPIS, months),
        "period": np.tile(pd.period_range("2022-01", periods=months, freq="M").astype(str),
                          series),
        "o": o, "n": n, "value": 100 * o / n,
    })
    frame["target"] = 55.0
    frame["rebase"] = False
    frame.loc[frame["value"].sample(frac=0.01, random_state=seed).index, "value"] = np.nan
    return frame


def funnel_month(seed: int = 2) -> pd.DataFrame:
    """One national month: every practice × every KPI, each practice in one network."""
    rng = np.random.default_rng(seed)
    rows = PRACTICES * KPIS
    n = rng.integers(0, 8_000, rows).astype(float)
    o = rng.binomial(n.astype(int), rng.uniform(0.05, 0.9, KPIS).repeat(PRACTICES))
    return pd.DataFrame({
        "kpi_id": np.repeat(np.arange(KPIS), PRACTICES),
        "network": np.tile(rng.integers(0, NETWORKS, PRACTICES), KPIS),
        "period": "2025-03", "o": o.astype(float), "n": n,
        "kind": np.where(np.repeat(np.arange(KPIS), PRACTICES) % 3, "proportion", "rate"),
        "multiplier": 100.0,
    })


def sample_groups(frame: pd.DataFrame, by: list[str], count: int) -> list[pd.DataFrame]:
    keys = frame[by].drop_duplicates().head(count)
    chosen = frame.merge(keys, on=by)
    return [group for _, group in chosen.groupby(by, sort=False)]


def report(name: str, batch_s: float, batch_units: int, loop_s: float, loop_units: int,
           national_units: int, unit: str) -> None:
    per_batch = batch_s / batch_units
    per_loop = loop_s / loop_units
    print(f"{name}: batch {batch_s:.2f} s for {batch_units:,} {unit} "
          f"({per_batch * 1e6:.1f} µs each); loop {loop_s:.2f} s for {loop_units:,} "
          f"({per_loop * 1e3:.2f} ms each); batch is {per_loop / per_batch:,.0f}× faster")
    print(f"  national ({national_units:,} {unit}): batch ≈ {per_batch * national_units:.0f} s, "
          f"loop ≈ {per_loop * national_units:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=50_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--loop", type=int, default=500, help="groups timed in the loop")
    args = parser.parse_args()
    bench_series(args.series, args.months, args.loop)
    bench_funnel(args.loop)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak:,.0f} MB")


def bench_series(series: int, months: int, loop_groups: int) -> None:
    """spc_frame and trend_frame on ``series`` series, and their loops on a sample."""
    by = ["kpi_id", "org_code"]
    frame = series_frame(series, months)
    print(f"{len(frame):,} rows: {series:,} series × {months} months")
    batch = timed(lambda: spc_frame(frame, by=by, polarity="higher", target="target",
                                    rebase="rebase"), memory=True)
    groups = sample_groups(frame, by, loop_groups)
    loop = timed(lambda: [xmr(g.sort_values("period")["value"].dropna(), polarity="higher",
                              target=55.0) for g in groups])
    report("spc_frame", batch, series, loop, len(groups), NATIONAL_SERIES, "series")

    # half the KPIs proportions (Cochran-Armitage), half rates (weighted regression)
    kinds = pd.Series(np.where(frame["kpi_id"] % 2, "rate", "proportion"), index=frame.index)
    batch = timed(lambda: trend_frame(frame, by=by, numerator="o", denominator="n",
                                      kind=kinds), memory=True)
    # the loop answers every row, as trend_frame does: one recent_trend per row
    loop = timed(lambda: [recent_trend(g["o"].iloc[:end], g["n"].iloc[:end],
                                       "rate" if g["kpi_id"].iloc[0] % 2 else "proportion")
                          for g in (g.sort_values("period") for g in groups)
                          for end in range(1, len(g) + 1)])
    report("trend_frame", batch, series, loop, len(groups), NATIONAL_SERIES, "series")


def bench_funnel(loop_groups: int) -> None:
    """funnel_frame on one national month, nationally and within networks."""
    month = funnel_month()
    for peers in (["kpi_id", "period"], ["kpi_id", "period", "network"]):
        batch = timed(lambda peers=peers: funnel_frame(
            month, by=peers, numerator="o", denominator="n", kind=month["kind"],
            multiplier=month["multiplier"]), memory=True)
        sample = sample_groups(month, peers, 20 if len(peers) == 2 else loop_groups)
        loop = timed(lambda sample=sample: [classify_funnel(
            g["o"], g["n"], kind=g["kind"].iloc[0], multiplier=100.0) for g in sample])
        units = sum(len(g) for g in sample)
        report(f"funnel_frame by {'+'.join(peers)}", batch, len(month), loop, units,
               len(month), "practice-KPI rows of one month")


if __name__ == "__main__":
    main()
