"""Shared components without a browser: RAG badge contrast and words, downloads, plotly config."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from dashboard.components.download import (
    GRAPH_CONFIG,
    csv_download,
    file_name,
    graph,
    png_caption,
    png_download,
    send_csv,
)
from dashboard.components.rag_badge import rag_badge, rag_text


def _luminance(hex_colour: str) -> float:
    """WCAG 2.2 relative luminance, written out here independently of dashboard.theme."""
    channels = []
    for i in (1, 3, 5):
        c = int(hex_colour[i:i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("rag", ["green", "amber", "red", None, "nonsense"])
def test_every_badge_meets_aa_contrast_and_has_a_symbol_and_words(rag):
    badge = rag_badge(rag)
    ratio = _contrast(badge.style["color"], badge.style["backgroundColor"])
    assert ratio >= 4.5, f"{rag}: {ratio:.2f}:1"
    symbol, words = badge.children.split(" ", 1)
    assert symbol in "✔▲✖–" and words in ("On target", "Near target", "Off target", "No target")


def test_badges_differ_in_words_and_symbol_not_only_in_colour():
    texts = {rag_text(r) for r in ("green", "amber", "red", None)}
    assert texts == {"✔ On target", "▲ Near target", "✖ Off target", "– No target"}
    assert {t[0] for t in texts} == {"✔", "▲", "✖", "–"}


def test_contrast_of_known_pairs_matches_wcag_examples():
    assert _contrast("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert _contrast("#767676", "#FFFFFF") == pytest.approx(4.54, abs=0.01)


def test_graph_config_has_no_cloud_share_or_edit_link():
    assert GRAPH_CONFIG["displaylogo"] is False
    assert GRAPH_CONFIG["showSendToCloud"] is False
    assert GRAPH_CONFIG["showEditInChartStudio"] is False
    assert GRAPH_CONFIG["showLink"] is False
    assert {"sendDataToCloud", "editInChartStudio", "toImage"} <= set(
        GRAPH_CONFIG["modeBarButtonsToRemove"])
    figure = graph("kpi-spc-graph", "Emergency admissions by month")
    assert figure.children[1].config is GRAPH_CONFIG
    assert figure.children[0].children == "Emergency admissions by month"


def test_csv_download_writes_a_star_in_suppressed_cells():
    frame = pd.DataFrame({"org_code": ["A", "B"], "numerator": [120.0, float("nan")],
                          "denominator": [1500.0, 1400.0], "value": [80.0, float("nan")],
                          "suppressed": [False, True]})
    payload = send_csv(frame, "ea_rate_A.csv")
    assert payload["filename"] == "ea_rate_A.csv"
    written = pd.read_csv(io.StringIO(payload["content"]), dtype=str)
    assert written.to_dict("records") == [
        {"org_code": "A", "numerator": "120.0", "denominator": "1500.0", "value": "80.0",
         "suppressed": "False"},
        {"org_code": "B", "numerator": "*", "denominator": "1400.0", "value": "*",
         "suppressed": "True"}]
    button, download = csv_download("kpi-csv").children
    assert button.id == "kpi-csv-button" and download.id == "kpi-csv"


def test_png_caption_carries_title_organisation_month_and_source():
    caption = png_caption("Emergency admissions", "Oak Surgery (F84003)", "Oct 2026")
    button, store = png_download("kpi-spc-graph", caption).children
    assert store.data["title"] == "Emergency admissions"
    assert store.data["subtitle"] == "Oak Surgery (F84003) · Oct 2026"
    assert store.data["source"].startswith("Source:") and store.data["graph"] == "kpi-spc-graph"
    assert store.data["filename"] == "Emergency-admissions_Oak-Surgery-F84003-Oct-2026"
    assert button.id == {"type": "png-button", "graph": "kpi-spc-graph"}


def test_file_names_are_safe():
    assert file_name("ea_rate", "F84003", "2026-10", ext="csv") == "ea_rate_F84003_2026-10.csv"
    assert file_name("a/b c", "", ext="png") == "a-b-c.png"
    assert file_name(ext="csv") == "carekpi.csv"
