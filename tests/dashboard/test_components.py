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


def test_breadcrumb_links_every_level_above_and_marks_the_current_one():
    from dashboard.components.breadcrumb import breadcrumb_nav
    from dashboard.state import Org

    chain = [Org("E09000099", "place", "Hartwell"), Org("U00003", "network", "North PCN"),
             Org("Y91017", "practice", "Oak Surgery")]
    nav = breadcrumb_nav(chain, lambda o: f"/kpi?kpi=ea_rate&org={o.code}&month=2026-08")
    assert nav.to_plotly_json()["props"]["aria-label"] == "Breadcrumb"
    items = nav.children[0].children
    assert [i.children.href for i in items[:2]] == [
        "/kpi?kpi=ea_rate&org=E09000099&month=2026-08", "/kpi?kpi=ea_rate&org=U00003&month=2026-08"]
    assert [i.children.children for i in items] == [
        "Hartwell (E09000099)", "North PCN (U00003)", "Oak Surgery (Y91017)"]
    assert items[2].children.to_plotly_json()["props"]["aria-current"] == "page"
    assert not hasattr(items[2].children, "href")


def _many_practices():
    from dashboard.state import Choices, Org

    orgs = {f"P{i:05d}": Org(f"P{i:05d}", "practice", f"Surgery {i:05d}") for i in range(6571)}
    orgs["U1"] = Org("U1", "network", "Riverside PCN")
    orgs["P00042"] = Org("P00042", "practice", "Oak Tree Surgery")
    return Choices(kpis=("ea_rate",), orgs=orgs, months=("2026-08",))


def test_org_search_stays_small_with_6571_practices_and_keeps_the_current_one():
    from dashboard.components.org_picker import MAX_OPTIONS, org_search

    choices = _many_practices()
    options = org_search(choices, "practice", None, "P06000")
    assert len(options) == MAX_OPTIONS == 50
    assert options[0] == {"label": "Surgery 06000 (P06000)", "value": "P06000"}
    assert org_search(choices, "practice", "oak tree", None) == [
        {"label": "Oak Tree Surgery (P00042)", "value": "P00042"}]
    by_code = org_search(choices, "practice", "p0650", "P00042")
    assert [o["value"] for o in by_code] == ["P00042"] + [f"P0650{i}" for i in range(10)]
    assert org_search(choices, "network", "", "P00042") == [
        {"label": "Oak Tree Surgery (P00042)", "value": "P00042"},
        {"label": "Riverside PCN (U1)", "value": "U1"}]
    assert org_search(choices, "network", "nothing like it", None) == []


def test_org_picker_offers_only_levels_present_and_starts_at_the_current_level():
    from dashboard.components.org_picker import org_picker

    picker = org_picker("overview", _many_practices(), "U1")
    radio = picker.children[0].children[1]
    dropdown = picker.children[1].children[1]
    assert [o["value"] for o in radio.options] == ["network", "practice"]
    assert radio.value == "network" and dropdown.value == "U1"
    assert dropdown.options == [{"label": "Riverside PCN (U1)", "value": "U1"}]
    assert dropdown.id == {"type": "org-picker", "page": "overview"}


def test_freshness_banner_names_the_month_provisional_months_loads_and_late_practices():
    from dashboard.components.freshness import freshness_banner, lagging_practices, missing_lines
    from dashboard.state import Org

    feeds = pd.DataFrame({"feed": ["spells", "organisations"],
                          "finished_at": [pd.Timestamp("2026-09-20 14:05:09"), None],
                          "latest_period": ["2026-08", None]})
    provisional = pd.DataFrame({"kpi_id": ["reablement_home_91"] * 3 + ["cp_diabetes_bmi"],
                                "period": ["2026-06", "2026-07", "2026-08", "2026-08"]})
    orgs = {"Y91022": Org("Y91022", "practice", "Oak Surgery")}
    late = lagging_practices({"Y91022": {"spells": "2026-07", "population": "2026-08"},
                              "Y91023": {"spells": "2026-08", "population": "2026-08"}},
                             {"spells": "2026-08", "population": "2026-08"}, orgs)
    assert late == ["Oak Surgery (Y91022): Hospital spells to Jul 2026 (area: Aug 2026)"]
    missing = pd.DataFrame({"feed": ["spells", "population"], "period": ["2026-08", "2026-08"],
                            "practice_code": ["Y91022", "Y91022"]})
    assert missing_lines(missing, orgs) == [
        "Oak Surgery (Y91022): no Hospital spells for Aug 2026, no Registered population for "
        "Aug 2026"]

    banner = freshness_banner("2026-08", feeds, provisional, late)
    text = _text(banner)
    assert "Showing Aug 2026." in text
    assert ("Provisional (figures may still change): Diabetes: BMI: Aug 2026; At home 91 days "
            "after reablement: Jun 2026 to Aug 2026.") in text
    assert "Hospital spells: loaded 20 Sep 2026 14:05, data to Aug 2026" in text
    assert "Organisations (ODS): loaded unknown" in text
    assert "⚠ Behind the area: " in text and late[0] in text
    quiet = _text(freshness_banner("2026-08", feeds, provisional.iloc[0:0]))
    assert "No month shown is provisional." in quiet and "Behind" not in quiet


def _text(component) -> str:
    """Every string inside a Dash component tree, joined."""
    children = getattr(component, "children", component)
    if isinstance(children, str):
        return children
    if isinstance(children, list | tuple):
        return " ".join(_text(c) for c in children)
    return _text(children) if children is not None and children is not component else ""


def test_page_freshness_filters_provisional_months_to_the_page_kpi_and_flags_late_practices(
        monkeypatch):
    from dashboard import queries
    from dashboard.components.freshness import page_freshness
    from dashboard.state import Org

    feeds = pd.DataFrame({"feed": ["spells", "population"], "finished_at": [None, None],
                          "latest_period": ["2026-08", "2026-08"]})
    provisional = pd.DataFrame({"kpi_id": ["reablement_home_91", "ea_rate"],
                                "period": ["2026-08", "2026-07"]})
    missing = pd.DataFrame({"feed": ["spells", "spells"], "period": ["2026-08", "2026-08"],
                            "practice_code": ["Y1", "Y2"], "parent_code": ["U1", "U2"]})
    monkeypatch.setattr(queries, "feed_freshness", lambda: feeds)
    monkeypatch.setattr(queries, "provisional_months", lambda code: provisional)
    monkeypatch.setattr(queries, "practice_feed_months",
                        lambda code: {"spells": "2026-06", "population": "2026-08"})
    monkeypatch.setattr(queries, "missing_submissions", lambda months: missing)
    orgs = {"Y1": Org("Y1", "practice", "Oak"), "U1": Org("U1", "network", "North")}

    practice = _text(page_freshness(orgs["Y1"], "2026-08", orgs, kpi_ids=["ea_rate"]))
    assert "Emergency admissions: Jul 2026." in practice and "reablement" not in practice
    assert "Oak (Y1): Hospital spells to Jun 2026 (area: Aug 2026)" in practice
    network = _text(page_freshness(orgs["U1"], "2026-08", orgs))
    assert "Oak (Y1): no Hospital spells for Aug 2026" in network and "Y2" not in network
    assert "At home 91 days after reablement: Aug 2026" in network
