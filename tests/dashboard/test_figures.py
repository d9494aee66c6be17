"""Figure factories, tested on their traces and shapes against independently built inputs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from dashboard import theme
from dashboard.figures import funnel_figure, matrix, ranked_bar_figure, spc_figure, spine_figure
from dashboard.figures.common import comparison
from dashboard.figures.funnel import SCATTERGL_THRESHOLD
from dashboard.figures.ranked_bar import MAX_BARS, NEIGHBOURS
from dashboard.figures.spc import spc_caption
from kpi.catalogue import get_kpi
from kpi.funnel import funnel_curve, funnel_limits
from kpi.spc import xmr
from kpi.spine import spine_positions

EA = get_kpi("ea_rate")  # lower is better, per 1,000, 2 decimals
CVD = get_kpi("cp_cvd_complete")  # higher is better, %


def _trace(fig, meta):
    found = [t for t in fig.data if t.meta == meta]
    assert len(found) == 1, f"{len(found)} traces with meta {meta!r}"
    return found[0]


def _series_with_rebase() -> pd.DataFrame:
    """30 months in the mart's shape, limits recalculated at month 16, one month suppressed."""
    rng = np.random.default_rng(11)
    values = np.r_[rng.normal(9.0, 0.3, 15), rng.normal(8.0, 0.3, 15)]
    values[5] = 11.0  # beyond the first segment's upper limit: a concern (lower is better)
    result = xmr(values, polarity="lower", target=8.5, rebase_at=[15]).points
    series = pd.DataFrame({
        "period": pd.period_range("2024-01", periods=30, freq="M").strftime("%Y-%m"),
        "value": values, "spc_mean": result["mean"], "spc_lower": result["lower"],
        "spc_upper": result["upper"],
        "spc_special_cause": result["point_type"].where(
            result["point_type"].isin(["improvement", "concern", "neutral"]), None),
        "target": 8.5, "suppressed": False, "provisional": False})
    # the read side blanks a suppressed row's value and limits
    series.loc[20, ["value", "spc_mean", "spc_lower", "spc_upper"]] = np.nan
    series.loc[20, ["suppressed", "spc_special_cause"]] = [True, None]
    series.loc[29, "provisional"] = True
    series.attrs["values"] = values  # as charted before the read side blanked month 21
    return series


def test_spc_limits_are_the_mart_columns_drawn_as_separate_segments_at_a_rebase():
    series = _series_with_rebase()
    fig = spc_figure(series, EA, org_label="Alpha (A1)",
                     annotations=[{"period": "2025-04", "text": "Rapid response team"}])
    for column in ("spc_mean", "spc_upper", "spc_lower"):
        trace = _trace(fig, column)
        xs, ys = list(trace.x), list(trace.y)
        assert xs.count(None) == 1 and ys.count(None) == 1  # one break: two segments
        cut = xs.index(None)
        assert xs[:cut] == series["period"][:15].tolist()
        assert xs[cut + 1:] == series["period"][15:].drop(20).tolist()  # no gap at month 21
        assert [y for y in ys if y is not None] == series[column].dropna().tolist()
    first, second = _trace(fig, "spc_mean").y[0], _trace(fig, "spc_mean").y[-1]
    values = series.attrs["values"]
    assert first == pytest.approx(np.mean(values[:15]))  # independent: each segment's mean
    assert second == pytest.approx(np.mean(values[15:]))
    assert first != second  # the rebase is a step


def test_spc_points_by_type_with_shape_as_well_as_colour_and_gaps_for_suppressed():
    series = _series_with_rebase()
    fig = spc_figure(series, EA, org_label="Alpha (A1)")
    kinds = series["spc_special_cause"].fillna("common_cause").where(series["value"].notna())
    for kind in ("common_cause", "improvement", "concern"):
        want = series.loc[kinds == kind, "period"].tolist()
        if not want:
            assert not [t for t in fig.data if t.meta == kind]
            continue
        trace = _trace(fig, kind)
        assert list(trace.x) == want
        assert list(trace.y) == series.loc[kinds == kind, "value"].tolist()
        assert set(trace.marker.symbol) <= {theme.MDC_SYMBOLS[kind],
                                            theme.MDC_SYMBOLS[kind] + "-open"}
        assert trace.marker.color == theme.MDC[kind]
    assert series.loc[5, "spc_special_cause"] == "concern"
    assert "2024-06" in _trace(fig, "concern").x
    line = fig.data[0]
    assert math.isnan(line.y[20]) and line.connectgaps is False
    assert "2025-09" not in [x for t in fig.data if t.mode == "markers" for x in t.x]
    assert list(_trace(fig, "target").y) == [8.5] * 30
    # the provisional last month is an open marker and says so on hover
    last = next(t for t in fig.data if t.mode == "markers" and "2026-06" in t.x)
    at = list(last.x).index("2026-06")
    assert last.marker.symbol[at].endswith("-open") and "provisional" in last.text[at]
    assert "Jun 2026: " in last.text[at]


def test_spc_takes_string_dtype_columns_as_the_read_side_gives_them():
    series = _series_with_rebase()
    series["spc_special_cause"] = series["spc_special_cause"].astype("str")  # pandas 3: NaN
    series["period"] = series["period"].astype("str")
    fig = spc_figure(series, EA, org_label="Alpha (A1)")
    assert "2025-09" not in [x for t in fig.data if t.mode == "markers" for x in t.x]
    assert list(_trace(fig, "concern").x) == ["2024-06"]


def test_spc_annotations_meta_and_caption():
    series = _series_with_rebase()
    fig = spc_figure(series, EA, org_label="Alpha (A1)",
                     annotations=[{"period": "2025-04", "text": "Rapid response team"}])
    assert [(s.x0, s.x1, s.yref) for s in fig.layout.shapes] == [("2025-04", "2025-04", "paper")]
    assert [a.text for a in fig.layout.annotations] == ["Apr 2025: Rapid response team"]
    assert fig.layout.meta["kpi_id"] == "ea_rate" and fig.layout.meta["org"] == "Alpha (A1)"
    assert fig.layout.meta["month"] == "2026-06" and "Alpha (A1)" in fig.layout.title.text
    assert fig.layout.xaxis.tickformat == "%b %Y"
    shaded = spc_figure(series, EA, org_label="Alpha (A1)", month="2025-04").layout.shapes
    assert [(s.type, s.x0[:10], s.x1[:10]) for s in shaded] == [
        ("rect", "2025-03-17", "2025-04-16")]
    caption = spc_caption(series, EA, "Alpha (A1)")
    assert "Jan 2024 to Jun 2026" in caption and "recalculated 1 time(s)" in caption
    assert "Not shown: Sep 2025 (counts from 1 to 7" in caption
    assert caption.endswith("The mean and limits come from every month, those not shown too.")
    assert "1 special cause: concern" in caption


def test_spc_with_fewer_than_13_points_has_no_limits_and_says_why():
    series = pd.DataFrame({"period": pd.period_range("2025-01", periods=8, freq="M")
                           .strftime("%Y-%m"), "value": np.linspace(5, 6, 8),
                           "spc_mean": np.nan, "spc_lower": np.nan, "spc_upper": np.nan,
                           "spc_special_cause": None, "target": np.nan})
    fig = spc_figure(series, CVD, org_label="Beta (B1)")
    assert not [t for t in fig.data if t.meta in ("spc_mean", "spc_upper", "spc_lower",
                                                  "target")]
    assert "fewer than 13 months" in fig.layout.annotations[0].text
    assert "needs at least 13 months in a segment and this series has 8." in spc_caption(
        series, CVD, "B")
    # kpi.spc gives a short segment its mean but no limits: the mean alone is drawn
    series["spc_mean"] = 5.5
    fig = spc_figure(series, CVD, org_label="Beta (B1)")
    assert list(_trace(fig, "spc_mean").y) == [5.5] * 8
    assert not [t for t in fig.data if t.meta in ("spc_upper", "spc_lower")]


def _peers(n: int, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    den = rng.integers(2000, 20000, n).astype(float)
    num = rng.poisson(den * 0.009)
    return pd.DataFrame({"org_code": [f"P{i:05d}" for i in range(n)],
                         "org_name": [f"Practice {i}" for i in range(n)],
                         "numerator": num, "denominator": den, "value": num / den * 1000})


def test_funnel_limit_traces_are_kpi_funnel_limits_and_the_chosen_practice_is_highlighted():
    peers = _peers(40)
    group = peers["numerator"].sum() / peers["denominator"].sum() * 1000
    limits = funnel_curve(peers["denominator"], group, kind="rate", multiplier=1000)
    peers["funnel_class"] = "within"
    peers.loc[3, "funnel_class"] = "above_998"  # worse: ea_rate is lower-is-better
    fig = funnel_figure(peers, limits, EA, month="2026-10", peer_label="Network N1",
                        highlight="P00007")
    direct = funnel_limits(limits["denominator"].to_numpy(), group, kind="rate",
                           multiplier=1000)
    for column in ("lower_95", "upper_95", "lower_998", "upper_998"):
        trace = _trace(fig, column)
        assert list(trace.x) == limits["denominator"].tolist()
        assert np.allclose(trace.y, direct[column])
    assert list(_trace(fig, "group_value").y) == [group] * len(limits)
    chosen = _trace(fig, "highlight")
    assert list(chosen.customdata) == ["P00007"] and chosen.y[0] == peers.loc[7, "value"]
    others = _trace(fig, "peers")
    assert others.type == "scatter" and len(others.x) == 39
    assert "P00007" not in list(others.customdata)
    at = list(others.customdata).index("P00003")
    assert others.marker.color[at] == theme.COMPARISON["worse"]
    assert others.marker.symbol[at] == theme.COMPARISON_SYMBOLS["worse"]
    assert "Oct 2026" in fig.layout.title.text and fig.layout.meta["org"] == "Practice 7 (P00007)"


def test_funnel_curve_spans_the_denominators_and_a_big_peer_group_is_webgl():
    peers = _peers(SCATTERGL_THRESHOLD + 1)
    limits = funnel_curve(peers["denominator"], 9.0, kind="rate", multiplier=1000, points=50)
    assert limits["denominator"].iloc[0] == pytest.approx(peers["denominator"].min() * 0.5)
    assert limits["denominator"].iloc[-1] == pytest.approx(peers["denominator"].max() * 1.1)
    assert set(peers["denominator"].agg(["min", "max"])) <= set(limits["denominator"])
    assert limits["denominator"].is_monotonic_increasing and len(limits) >= 50
    assert (limits["upper_998"] > limits["upper_95"]).all()
    assert limits["upper_998"].is_monotonic_decreasing  # the funnel narrows
    assert funnel_curve([], 9.0, kind="rate").empty
    share = funnel_curve([301.0, 512.0, 698.0], 76.5, kind="proportion", multiplier=100)
    assert share["denominator"].tolist() == share["denominator"].round().tolist()
    assert share.notna().all().all() and {301, 698} <= set(share["denominator"])
    peers["funnel_class"] = None
    fig = funnel_figure(peers, limits, EA, month="2026-10", peer_label="England")
    assert _trace(fig, "peers").type == "scattergl"


def test_comparison_is_polarity_aware():
    assert comparison("above_998", "lower") == "worse"
    assert comparison("above_998", "higher") == "better"
    assert comparison("below_998", "lower") == "better"
    assert comparison("above_95", "higher") == "similar"
    assert comparison(None, "higher") == "not_compared"


def _bars(n: int) -> pd.DataFrame:
    values = np.arange(n, dtype=float)[::-1] * 0.1 + 5
    return pd.DataFrame({"org_code": [f"P{i:05d}" for i in range(n)], "org_name": None,
                         "value": values, "lower_95": values - 0.5, "upper_95": values + 0.7})


def test_ranked_bars_are_best_first_by_polarity_with_intervals():
    points = _bars(10).sample(frac=1, random_state=2)
    lower = ranked_bar_figure(points, EA, month="2026-10", peer_label="Network N1",
                              peer_value=5.4, highlight="P00004")
    bars = _trace(lower, "bars")
    assert list(bars.x) == sorted(points["value"])  # lower is better: smallest on top
    assert bars.y[0] == "1. P00009" and lower.layout.yaxis.autorange == "reversed"
    assert np.allclose(bars.error_x.array, [0.7] * 10)
    assert np.allclose(bars.error_x.arrayminus, [0.5] * 10)
    chosen = list(bars.customdata).index("P00004")
    assert bars.marker.color[chosen] == theme.NHS["dark_blue"]
    assert bars.marker.color[0] == theme.NHS["mid_grey"]
    assert [s.x0 for s in lower.layout.shapes] == [5.4]
    higher = ranked_bar_figure(points, CVD, month="2026-10", peer_label="Network N1")
    assert list(_trace(higher, "bars").x) == sorted(points["value"], reverse=True)


def test_thousands_of_peers_show_the_chosen_neighbourhood_and_say_so():
    points = _bars(3000)
    bands = {0.1: 5.3, 0.25: 6.0, 0.75: 29.0, 0.9: 32.0}
    fig = ranked_bar_figure(points, CVD, month="2026-10", peer_label="England",
                            highlight="P01500", bands=bands)
    bars = _trace(fig, "bars")
    assert len(bars.x) == 2 * NEIGHBOURS + 1 > 0 and MAX_BARS < 3000
    assert list(bars.customdata)[NEIGHBOURS] == "P01500"  # in the middle
    assert "Ranks 1,476–1,526 of 3,000 shown" in fig.layout.title.text
    assert sorted((s.x0, s.x1) for s in fig.layout.shapes) == [(5.3, 32.0), (6.0, 29.0)]
    assert fig.layout.meta["shown"] == 51 and fig.layout.meta["peers"] == 3000
    top = ranked_bar_figure(points, CVD, month="2026-10", peer_label="England")
    assert _trace(top, "bars").customdata[0] == "P00000"


def test_spine_figure_draws_the_positions_it_is_given():
    rows = []
    for kpi, practice in ((EA, 12.0), (CVD, 45.0)):
        pos = spine_positions([10, 20, 30, 40, 50], 30, kpi.polarity,
                              {"practice": practice, "network": 33, "area": 30})
        rows.append({"kpi_id": kpi.id, "label": kpi.title,
                     "comparison": "better" if kpi is EA else "worse",
                     "practice_text": "p", "network_text": "n", "area_text": "a",
                     "range_text": "r"} | pos)
    frame = pd.DataFrame(rows)
    fig = spine_figure(frame, practice_label="Alpha (A1)", network_label="Network N1",
                       area_label="Area", peer_label="Similar list size", month="2026-10")
    rng = _trace(fig, "range")
    assert list(rng.base) == frame["worst"].tolist()
    assert np.allclose(np.asarray(rng.base) + np.asarray(rng.x), frame["best"])
    assert list(_trace(fig, "quartiles").base) == frame["worse_quartile"].tolist()
    assert list(_trace(fig, "area").x) == [0.5, 0.5]
    assert list(_trace(fig, "practice_better").x) == [frame.loc[0, "practice"]]
    assert list(_trace(fig, "practice_better").customdata) == ["ea_rate"]
    assert _trace(fig, "practice_worse").marker.symbol == theme.COMPARISON_SYMBOLS["worse"]
    assert frame.loc[0, "practice"] == 0.95  # ea_rate 12 is better (lower): right of centre
    assert [a.text for a in fig.layout.annotations] == ["<b>◀ Worse</b>", "<b>Better ▶</b>"]


def test_matrix_cells_carry_value_unit_rag_symbol_and_outside_mark():
    frame = pd.DataFrame([
        ("E1", "Area", "area", "ea_rate", 8.612, "red", None, False),
        ("N1", "Network", "network", "ea_rate", 7.0, "green", "within", False),
        ("P1", "Alpha", "practice", "ea_rate", 9.5, "red", "above_998", False),
        ("P1", "Alpha", "practice", "cp_cvd_complete", 76.04, "green", "within", False),
        ("P2", "Beta", "practice", "ea_rate", np.nan, None, None, True),
    ], columns=["org_code", "org_name", "row_kind", "kpi_id", "value", "rag", "funnel_class",
                "suppressed"])
    grid = matrix(frame, [EA, CVD])
    assert [c["field"] for c in grid.column_defs] == ["org", "ea_rate", "cp_cvd_complete"]
    assert [r["org_code"] for r in grid.pinned_top] == ["E1", "N1"]
    alpha, beta = grid.row_data
    assert alpha["ea_rate"] == 9.5  # the number sorts the column
    assert alpha["ea_rate__text"] == "✖ 9.50 per 1,000 ◆"
    assert alpha["cp_cvd_complete__text"] == "✔ 76.0%" and alpha["org"] == "Alpha (P1)"
    assert "outside the 99.8%" in alpha["ea_rate__tip"]
    assert beta["ea_rate"] is None and beta["ea_rate__text"] == "*"
    assert grid.pinned_top[0]["ea_rate__text"] == "✖ 8.61 per 1,000"
    style = grid.column_defs[1]["cellStyle"]["styleConditions"]
    assert style[2]["style"]["backgroundColor"] == theme.RAG["red"].tint


def test_breakdown_bars_per_series_with_stars_for_suppressed_counts():
    from dashboard.figures.breakdown import breakdown_figure
    frame = pd.DataFrame({"reason": ["A: assessment", "E: care package", "NHS", "Both"],
                          "days": [20.0, np.nan, 65.0, 8.0],
                          "kind": ["Delay reason", "Delay reason", "Responsible", "Responsible"]})
    fig = breakdown_figure(frame, category="reason", value="days", series="kind",
                           title="t", value_title="Delayed days", meta={"chart": "breakdown"},
                           barmode="overlay")
    reasons, responsible, stars = fig.data
    assert list(stars.y) == ["E: care package"] and stars.meta == "suppressed"
    assert list(reasons.y) == ["A: assessment", "E: care package"]
    assert list(reasons.text) == ["20", "*"] and list(responsible.x) == [65.0, 8.0]
    assert fig.layout.barmode == "overlay" and reasons.marker.pattern.fillmode == "overlay"
    assert reasons.marker.pattern.shape != responsible.marker.pattern.shape  # not colour alone


def test_spc_figure_of_a_rebased_mart_series_draws_the_mart_columns(tmp_path):
    """End to end: demo feeds loaded, an annotation recalculating limits, the mart rebuilt; the
    figure drawn from the read side's series shows that series' columns, step included."""
    import shutil
    from datetime import date

    from sqlalchemy import insert

    from carekpi import read
    from carekpi import warehouse as wh
    from carekpi.migrate import upgrade
    from carekpi.settings import Settings
    from carekpi_demo import generate
    from etl.mart import rebuild_mart
    from etl.pipeline import run_inbox

    settings = Settings(data_dir=tmp_path / "data")
    generate(tmp_path / "demo", months=30, seed=31, end_month="2025-06")
    for feed in ("organisations", "population", "spells"):
        shutil.copytree(tmp_path / "demo" / feed, settings.inbox / feed)
    engine = wh.make_engine(settings.database_url)
    upgrade(engine)
    today = date(2025, 7, 20)
    assert not run_inbox(engine, settings, today=today, progress=False).failed
    with engine.begin() as conn:
        conn.execute(insert(wh.annotation).values(org_code="U00002", period="2024-04",
                                                  text="Rapid response team", rebase=True))
    rebuild_mart(engine, None, settings=settings, today=today)
    series = read.kpi_series(engine, "ea_rate", "U00002")
    notes = read.annotations(engine, "U00002", "ea_rate")
    engine.dispose()
    assert series["spc_mean"].nunique() == 2  # the rebase: two centre lines, and limits
    assert series["spc_upper"].notna().all() and series["spc_upper"].nunique() == 2

    fig = spc_figure(series, EA, org_label="Network", annotations=notes.to_dict("records"))
    cut = series.index[series["period"] == "2024-04"][0]
    for column in ("spc_mean", "spc_upper", "spc_lower"):
        trace = _trace(fig, column)
        xs = list(trace.x)
        assert xs == [*series["period"][:cut], None, *series["period"][cut:]], column
        assert [y for y in trace.y if y is not None] == series[column].tolist()
    for kind in ("improvement", "concern"):
        want = series.loc[series["spc_special_cause"] == kind, "period"].tolist()
        drawn = [t for t in fig.data if t.meta == kind]
        assert (list(drawn[0].x) if drawn else []) == want
    assert [a.text for a in fig.layout.annotations] == ["Apr 2024: Rapid response team"]
