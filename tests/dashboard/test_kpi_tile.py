"""Tile words: value and unit, RAG never by colour alone, SPC in words, small numbers hidden, the
latest final month shown when later months are provisional, a described sparkline."""

from __future__ import annotations

from urllib.parse import unquote

import pandas as pd

from dashboard.components.kpi_tile import (
    kpi_tile,
    sparkline,
    sparkline_svg,
    tile_rows,
    tile_text,
    unit_words,
)
from dashboard.components.rag_badge import rag_text
from kpi.catalogue import get_kpi


def _row(**values) -> pd.Series:
    base = {"kpi_id": "ea_rate", "period": "2025-06", "numerator": 120, "denominator": 15000,
            "value": 8.0, "target": 7.5, "rag": "red", "variation_icon": "improvement_low",
            "assurance_icon": "hit_and_miss", "trend": "decreasing", "provisional": False,
            "suppressed": False}
    return pd.Series(base | values)


def test_a_lower_is_better_rate():
    text = tile_text(get_kpi("ea_rate"), _row(), _row(period="2024-06", value=8.5))
    assert text.value == "8.00 per 1,000"
    assert text.rag == "red" and rag_text(text.rag) == "✖ Off target"
    assert text.target == "Target 7.50 per 1,000"
    assert text.variation == "Special cause: improving (lower)"
    assert text.trend == "Decreasing (better) over 5 months"
    assert text.change == "−0.50 per 1,000 since Jun 2024"
    assert text.period == "Jun 2025"


def test_small_counts_show_a_star_and_no_rag_or_change():
    text = tile_text(get_kpi("ea_rate"), _row(numerator=5, value=0.33),
                     _row(period="2024-06", value=0.5))
    assert text.value == "*" and text.rag is None and rag_text(text.rag) == "– No target"
    assert text.change == ""
    suppressed = tile_text(get_kpi("ea_rate"), _row(numerator=float("nan"), value=float("nan"),
                                                    suppressed=True), None)
    assert suppressed.value == "*"


def test_percentages_change_in_points_and_provisional_months_say_so():
    kpi = get_kpi("reablement_home_91")
    text = tile_text(kpi, _row(kpi_id=kpi.id, value=82.0, numerator=82, denominator=100,
                               target=82.0, rag="green", trend="increasing", provisional=True),
                     _row(kpi_id=kpi.id, period="2024-06", value=80.0, numerator=80,
                          denominator=100))
    assert text.value == "82.0%" and rag_text(text.rag) == "✔ On target"
    assert text.change == "+2.0 percentage points since Jun 2024"
    assert text.period == "Jun 2025 (provisional)"
    assert text.trend == "Increasing (better) over 5 months"
    assert unit_words(kpi).startswith("of ") and unit_words(get_kpi("ea_rate")) == (
        "registered patients a month")


def _series(provisional_from: str) -> pd.DataFrame:
    periods = [f"2026-{m:02d}" for m in range(1, 9)]
    return pd.DataFrame({"kpi_id": "reablement_home_91", "period": periods,
                         "numerator": 80, "denominator": 100,
                         "value": [80.0 + i for i in range(8)],
                         "provisional": [p >= provisional_from for p in periods],
                         "suppressed": False, "target": 82.0, "rag": "green"})


def test_the_tile_shows_the_latest_final_month_and_names_the_provisional_ones():
    kpi = get_kpi("reablement_home_91")
    shown, later = tile_rows(_series("2026-06"), "2026-08")
    assert shown["period"] == "2026-05" and [r["period"] for r in later] == [
        "2026-06", "2026-07", "2026-08"]
    text = tile_text(kpi, shown, None, later)
    assert text.value == "84.0%" and text.period == "May 2026"
    assert text.provisional_note == ("Jun 2026, Jul 2026 and Aug 2026 are provisional (latest "
                                     "87.0%): showing May 2026, the latest final month.")
    # A month chosen before the provisional ones: nothing provisional after it.
    shown, later = tile_rows(_series("2026-06"), "2026-04")
    assert shown["period"] == "2026-04" and later == []
    # Every month provisional: the latest, said to be provisional.
    shown, later = tile_rows(_series("2026-01"), None)
    assert shown["period"] == "2026-08" and later == []
    assert tile_text(kpi, shown, None, later).period == "Aug 2026 (provisional)"


def test_sparkline_draws_the_values_with_gaps_and_says_them_in_words():
    svg = sparkline_svg([1.0, 2.0, None, 3.0], size=(104, 48))
    assert svg.count("<polyline") == 2  # the missing month breaks the line
    # x from 4 to 100 in three steps of 32; y from 44 (lowest) to 4 (highest)
    assert 'points="4.0,44.0 36.0,24.0"' in svg and 'points="100.0,4.0"' in svg
    assert '<circle cx="100.0" cy="4.0"' in svg
    kpi = get_kpi("reablement_home_91")
    image = sparkline(kpi, _series("2026-09"), "tile-x")
    assert image.alt == ("At home 91 days after reablement by month, Jan 2026 to Aug 2026: "
                         "from 80.0% to 87.0%; lowest 80.0%, highest 87.0%.")
    assert unquote(image.src).startswith("data:image/svg+xml;utf8,<svg")


def test_the_tile_links_its_name_to_the_definition_and_its_chart_to_the_kpi_page():
    kpi = get_kpi("ea_rate")
    tile = kpi_tile(kpi, "U00003", tile_text(kpi, _row(), None), None, "2025-06")
    title = tile.children[0].children
    assert title.href == "/definitions#ea_rate" and title.children == "Emergency admissions"
    more = tile.children[-1]
    assert more.href == "/kpi?kpi=ea_rate&org=U00003&month=2025-06"


def test_no_target_is_said_once_and_provisional_months_without_values_say_so():
    kpi = get_kpi("reablement_home_91")
    text = tile_text(kpi, _row(kpi_id=kpi.id, target=float("nan"), rag=None), None)
    assert text.target == "" and rag_text(text.rag) == "– No target"
    series = _series("2026-07")
    series.loc[series["provisional"], "value"] = float("nan")
    shown, later = tile_rows(series, None)
    assert tile_text(kpi, shown, None, later).provisional_note == (
        "Jul 2026 and Aug 2026 are provisional (no value yet): showing Jun 2026, the latest "
        "final month.")
