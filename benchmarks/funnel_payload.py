"""Benchmark: the largest funnel and ranked bars a view can draw (every practice of a KPI and
month, e.g. all 6,571 of England), their server time and the bytes Dash would send.

    .venv/bin/python benchmarks/funnel_payload.py --data-dir /work/national_perf --kpi ea_rate

The KPI page's peer groups are smaller (a network, an area, a fifth of an area); this is the
bound: the whole level as one group, through the same read side, statistics and factories.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import plotly

from carekpi.settings import Settings


def measure(settings: Settings, kpi_id: str, month: str | None) -> dict:
    """Points, trace types, milliseconds and JSON bytes of the funnel and the ranked bars."""
    from dashboard import peers, queries
    from dashboard.app import create_app
    from dashboard.figures import funnel_figure, ranked_bar_figure
    from kpi.catalogue import get_kpi

    create_app(settings)  # binds the queries to the warehouse
    kpi = get_kpi(kpi_id)
    month = month or queries.latest_month(kpi_id)
    start = time.perf_counter()
    rows = queries.kpi_month(kpi_id, month, "practice")
    read_ms = (time.perf_counter() - start) * 1000
    group = peers.PeerGroup("area", "All practices", tuple(rows["org_code"]), None)
    start = time.perf_counter()
    result = peers.compare(kpi, month, group)
    funnel = funnel_figure(result.points.assign(denominator=result.points[
        "effective_denominator"]), result.limits, kpi, month=month, peer_label=group.label)
    bars = ranked_bar_figure(result.points, kpi, month=month, peer_label=group.label,
                             peer_value=result.group_value, bands=result.bands)
    draw_ms = (time.perf_counter() - start) * 1000
    size = {name: len(json.dumps(fig, cls=plotly.utils.PlotlyJSONEncoder))
            for name, fig in (("funnel", funnel), ("ranked", bars))}
    return {"kpi": kpi_id, "month": month, "points": len(rows), "read_ms": round(read_ms, 1),
            "compute_and_draw_ms": round(draw_ms, 1),
            "funnel_traces": sorted({t.type for t in funnel.data}),
            "funnel_bytes": size["funnel"], "ranked_bars": sum(len(t.y or ()) for t in bars.data
                                                               if t.type == "bar"),
            "ranked_bytes": size["ranked"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--url", help="warehouse URL (default: the SQLite file in --data-dir)")
    parser.add_argument("--kpi", default="ea_rate")
    parser.add_argument("--month", help="YYYY-MM (default: the KPI's latest)")
    args = parser.parse_args(argv)
    found = measure(Settings(data_dir=args.data_dir, warehouse_url=args.url), args.kpi,
                    args.month)
    print(json.dumps(found, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
