"""Tile words: value and unit, RAG never by colour alone, SPC in words, small numbers hidden."""

from __future__ import annotations

import pandas as pd

from dashboard.components.kpi_tile import tile_text
from kpi.catalogue import get_kpi


def _row(**values) -> pd.Series:
    base = {"kpi_id": "ea_rate", "period": "2025-06", "numerator": 120, "denominator": 15000,
            "value": 8.0, "target": 7.5, "rag": "red", "variation_icon": "improvement_low",
            "assurance_icon": "hit_and_miss", "trend": "decreasing", "provisional": False,
            "suppressed": False}
    return pd.Series(base | values)


def test_a_lower_is_better_rate():
    text = tile_text(get_kpi("ea_rate"), _row(), _row(period="2024-06", value=8.5))
    assert text.value == "8.00 per 1,000" or text.value.startswith("8.0")
    assert text.rag == "✖ Off target" and text.rag_class == "rag-red"
    assert text.target.startswith("Target 7.5")
    assert text.variation == "Special cause: improving (lower)"
    assert text.trend == "Decreasing (better) over 5 months"
    assert text.change.startswith("−0.5") and "a year before" in text.change


def test_small_counts_show_a_star_and_no_rag_or_change():
    text = tile_text(get_kpi("ea_rate"), _row(numerator=5, value=0.33),
                     _row(period="2024-06", value=0.5))
    assert text.value == "*" and text.rag == "No RAG" and text.change == ""


def test_percentages_change_in_points_and_provisional_months_say_so():
    kpi = get_kpi("reablement_home_91")
    text = tile_text(kpi, _row(kpi_id=kpi.id, value=82.0, numerator=82, denominator=100,
                               target=82.0, rag="green", trend="increasing", provisional=True),
                     _row(kpi_id=kpi.id, value=80.0, numerator=80, denominator=100))
    assert text.value.endswith("%") and text.rag == "✔ On target"
    assert "percentage points" in text.change and text.period == "2025-06 (provisional)"
    assert text.trend == "Increasing (better) over 5 months"
