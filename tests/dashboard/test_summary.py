"""The written summary: deterministic sentences whose numbers are the mart's (summary.py)."""

from __future__ import annotations

import re

import pandas as pd

from dashboard.summary import practices_outside, summary_sentence
from kpi.catalogue import get_kpi
from kpi.verdicts import latest_shift

EA = get_kpi("ea_rate")  # lower is better, 2 decimals, per 1,000

ROW = {"period": "2026-10", "value": 8.6, "spc_lower": 7.123, "spc_upper": 9.876, "target": 8.0,
       "variation_icon": "common_cause", "assurance_icon": "hit_and_miss",
       "trend": "no_significant_change", "suppressed": False, "numerator": 860,
       "denominator": 100000}


def _practices() -> pd.DataFrame:
    rows = [("P1", "Ash", 12.5, "above_998", False), ("P2", "Birch", 11.9, "above_998", False),
            ("P3", "Cedar", 3.1, "below_998", False), ("P4", "Damson", None, "above_998", True),
            ("P5", "Elm", 8.0, "within", False), ("P6", "Fir", 8.4, "above_95", False)]
    return pd.DataFrame(rows, columns=["org_code", "org_name", "value", "funnel_class",
                                       "suppressed"])


def test_the_sentence_says_value_range_target_signal_trend_and_practices():
    sentence = summary_sentence(EA, ROW, "Hartwell", _practices())
    assert sentence == (
        "Emergency admissions in Hartwell, Oct 2026: 8.60 per 1,000, within the usual "
        "range of 7.12 per 1,000 to 9.88 per 1,000 and above the 8.00 per 1,000 target; "
        "common cause variation; target hit and miss; no significant change over the last 5 "
        "months; 2 of 5 practices are above the upper 99.8% funnel limit: Ash (P1), Birch (P2); "
        "1 of 5 practices is below the lower 99.8% funnel limit: Cedar (P3).")


def test_every_number_in_the_sentence_is_a_mart_value_rounded():
    sentence = summary_sentence(EA, ROW, "Hartwell", _practices())
    # every value in the KPI's unit (the other number is the funnel's 99.8% level)
    numbers = {float(n.replace(",", "")) for n in re.findall(r"(\d[\d,]*\.\d+) per 1,000",
                                                             sentence)}
    assert set(re.findall(r"\d[\d,]*\.\d+%", sentence)) == {"99.8%"}
    mart = {round(ROW[c], EA.decimals) for c in ("value", "spc_lower", "spc_upper", "target")}
    assert numbers == mart


def test_a_suppressed_value_is_never_written():
    row = ROW | {"suppressed": True, "value": float("nan"), "numerator": float("nan")}
    sentence = summary_sentence(EA, row, "Hartwell", _practices())
    assert sentence == ("Emergency admissions in Hartwell, Oct 2026: not shown "
                        "(built on a count of 1 to 7).")
    assert not re.search(r"\d\.\d", sentence)


def test_a_suppressed_practice_is_counted_out_and_never_named():
    text = practices_outside(_practices())
    assert "Damson" not in text and "P4" not in text
    assert text.startswith("2 of 5 practices are above")
    within = _practices().assign(funnel_class="within")
    assert practices_outside(within) == "none of 5 practices is outside its 99.8% funnel limits"


def test_a_shift_names_the_current_process():
    values = [9.0, 11.0] * 10 + [15.0, 16.0] * 4
    shift = latest_shift(values, 11.0, polarity="lower", target=8.0)
    row = ROW | {"value": 16.0, "spc_lower": 5.68, "spc_upper": 16.32}
    sentence = summary_sentence(EA, row, "Hartwell", None, shift)
    assert ("a sustained shift above the mean over the last 8 months: the current process runs "
            "from 12.84 per 1,000 to 18.16 per 1,000 (target consistently missed)") in sentence
    assert "target hit and miss" not in sentence  # the whole-series verdict is not repeated
