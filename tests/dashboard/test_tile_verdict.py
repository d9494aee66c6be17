"""A tile's SPC verdicts hold together (kpi_tile.with_verdict): the issue's Elm Surgery case."""

from __future__ import annotations

import numpy as np

from dashboard.components.kpi_tile import tile_rows, tile_text, with_verdict
from kpi.catalogue import get_kpi
from kpi.spc import SpcSettings, xmr

KPI = get_kpi("cp_diabetes_complete")  # higher is better, target 75%


def _rows(values: list[float], target: float = 75.0) -> list[dict]:
    """Mart-like rows whose limits and icons come from kpi.spc over the whole series."""
    result = xmr(values, polarity="higher", target=target)
    months = [f"{2023 + (i // 12)}-{i % 12 + 1:02d}" for i in range(len(values))]
    mean = result.points["mean"].iloc[-1]
    return [{"period": m, "value": v, "target": target, "numerator": 780, "denominator": 1000,
             "rag": "green" if v >= target else "red", "variation_icon": result.variation_icon,
             "assurance_icon": result.assurance_icon, "trend": "increasing",
             "spc_mean": mean, "provisional": False, "suppressed": False}
            for m, v in zip(months, values, strict=True)]


def test_elm_surgery_no_longer_says_on_target_beside_consistently_missed_without_why():
    # 8% rising to 72% over 30 months, then a plateau around 78% for 10 months
    values = list(np.linspace(8.0, 72.0, 30)) + [77.0, 79.0] * 5
    rows = _rows(values)
    shown, later = tile_rows(rows, None)
    plain = tile_text(KPI, shown, None, later)
    assert (plain.rag, plain.assurance) == ("green", "Target consistently missed")  # the bug
    text = with_verdict(plain, KPI, rows, shown)
    # the plateau and the end of the rise sit above the whole-series mean: one sustained shift
    mean = float(np.mean(values))
    start = next(i for i in range(len(values)) if all(v > mean for v in values[i:]))
    assert text.shift.startswith("Sustained shift above the mean since ")
    assert f"({len(values) - start} months)" in text.shift
    own = xmr(values[start:], polarity="higher", target=75.0, settings=SpcSettings(min_points=7))
    assert own.assurance_icon == "hit_and_miss"  # the current process straddles 75%
    assert text.assurance == "Target hit and miss" and text.why == ""


def test_a_plateau_long_enough_is_read_on_its_own_and_agrees_with_the_rag():
    values = [40.0, 42.0] * 10 + [77.0, 79.0] * 5  # a step up to a stable 77-79%
    rows = _rows(values)
    shown, later = tile_rows(rows, None)
    text = with_verdict(tile_text(KPI, shown, None, later), KPI, rows, shown)
    assert "since 2024-09" not in text.shift and "since Sep 2024" in text.shift
    assert "(10 months)" in text.shift
    # own limits 78 ± 2.66 × 2 = 72.68 to 83.32: target 75 is inside, hit and miss
    assert text.assurance == "Target hit and miss" and text.why == ""


def test_without_a_shift_a_contradiction_is_explained():
    values = [70.0, 74.0] * 9 + [76.0]  # common cause around 72, this month 76: green
    rows = _rows(values, target=80.0)
    rows[-1]["rag"] = "green"  # met on a lower month's target, as a changed target would do
    rows[-1]["assurance_icon"] = "fail"
    shown, later = tile_rows(rows, None)
    text = with_verdict(tile_text(KPI, shown, None, later), KPI, rows, shown)
    assert text.shift == ""
    assert text.assurance == "Target consistently missed"
    assert text.why.startswith("On target this month, but the usual range")
