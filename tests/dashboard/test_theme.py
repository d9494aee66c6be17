"""Theme: badge contrast (WCAG AA), units in words, numbers and months formatted for people."""

from __future__ import annotations

import math

import pytest

from dashboard import theme
from kpi.catalogue import get_kpi


def test_contrast_ratio_matches_wcag_reference_values():
    assert theme.contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert theme.contrast_ratio("#FFFFFF", "#FFFFFF") == pytest.approx(1.0)
    # WebAIM's checker gives 4.54:1 for #767676 on white, the lightest AA grey
    assert theme.contrast_ratio("#767676", "#FFFFFF") == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize("status", ["green", "amber", "red", "none"])
def test_every_rag_badge_has_aa_text_contrast_and_a_symbol(status):
    style = theme.RAG[status]
    assert theme.contrast_ratio(style.text, style.background) >= 4.5
    assert theme.contrast_ratio(theme.NHS["text"], style.tint) >= 4.5  # matrix cells
    assert style.symbol and style.words  # never colour alone
    assert len({s.symbol for s in theme.RAG.values()}) == 4
    assert len({s.marker for s in theme.RAG.values()}) == 4


def test_special_cause_types_differ_by_symbol_as_well_as_colour():
    assert len(set(theme.MDC_SYMBOLS.values())) == 4
    assert theme.MDC["improvement"] != theme.MDC["concern"]
    # the outline drawn round every SPC marker is visible on white (WCAG 1.4.11, 3:1)
    assert theme.contrast_ratio(theme.MDC["outline"], "#FFFFFF") >= 3


def test_units_in_words():
    assert theme.unit_text(get_kpi("ea_rate")) == "per 1,000 registered patients a month"
    assert theme.unit_text(get_kpi("dtoc_rate")) == \
        "per 100,000 registered patients aged 18+ a day"
    assert theme.unit_text(get_kpi("care_home_admissions_65_12m")) == \
        "per 100,000 registered patients aged 65+ in the month over 12 months"
    assert theme.unit_text(get_kpi("cp_cvd_complete")) == "% of patients on the CVD register"
    assert theme.axis_title(get_kpi("ea_rate")) == "Per 1,000 registered patients a month"


def test_values_and_differences_carry_units_and_rounding():
    ea, cvd = get_kpi("ea_rate"), get_kpi("cp_cvd_complete")
    assert theme.format_value(8.6251, ea) == "8.63 per 1,000"
    assert theme.format_value(1234.5, ea) == "1,234.50 per 1,000"
    assert theme.format_value(75.04, cvd) == "75.0%"
    assert theme.format_value(75.04, cvd, suppressed=True) == "*"
    assert theme.format_value(math.nan, cvd) == "no value"
    assert theme.format_difference(1.25, cvd) == "+1.2 percentage points"  # round half even
    assert theme.format_difference(-0.351, ea) == "−0.35 per 1,000"
    assert theme.format_number(None, 1) == "–"


def test_months_and_hover_text():
    assert theme.month_label("2026-10") == "Oct 2026"
    assert theme.hover_text("2025-01", 9.95668979648861, get_kpi("ea_rate")) == \
        "Jan 2025: 9.96 per 1,000"
    assert theme.hover_text("2025-01", 2.0, get_kpi("ea_rate"), suppressed=True,
                            extra="counts of 1 to 7") == "Jan 2025: *<br>counts of 1 to 7"
    with pytest.raises(ValueError, match="'Oct 2026'"):
        theme.month_label("Oct 2026")
    with pytest.raises(ValueError):
        theme.month_label("2026-13")


def test_trend_words_say_better_or_worse_by_polarity():
    assert theme.trend_words("increasing", "lower") == \
        "Increasing (worse) over the last 5 months"
    assert theme.trend_words("decreasing", "lower") == \
        "Decreasing (better) over the last 5 months"
    assert theme.trend_words("increasing", "higher").startswith("Increasing (better)")
    assert theme.trend_words("no_significant_change", "higher").startswith("No significant")
    assert theme.trend_words("cannot_be_calculated", "higher").startswith("Trend not calc")
    assert theme.trend_words(None, "higher").startswith("No trend test")


def test_template_is_registered_and_keeps_axis_titles_inside():
    import plotly.io as pio
    template = pio.templates["carekpi"]
    assert template.layout.xaxis.automargin and template.layout.yaxis.automargin
    assert template.layout.font.size >= 16
