"""The KPI and practice pages' panels, called directly on a small hand-made mart served by fake
read-side queries: peer groups, funnel limits and classes, the view's URL and table, CSVs, and
the spine's positions, each against an independent calculation."""

from __future__ import annotations

import base64
import io

import numpy as np
import pandas as pd
import pytest

from carekpi import read
from dashboard import queries
from dashboard.panels import kpi_detail as panel
from dashboard.panels import practice as practice_panel
from dashboard.peers import compare, peer_group
from kpi.catalogue import get_kpi
from kpi.funnel import classify_funnel, funnel_curve
from kpi.spine import spine_positions

MONTH = "2026-10"
PRACTICES = list("ABCDEFGHIJ")  # A-E in network N1, F-J in N2; list sizes 1,000 ... 10,000
ORGS = pd.DataFrame({
    "org_code": ["S", "P", "N1", "N2", *PRACTICES],
    "level": ["system", "place", "network", "network", *["practice"] * 10],
    "org_name": ["System", "Place", "North", "South", *[f"Practice {c}" for c in PRACTICES]],
    "parent_code": [None, "S", "P", "P", *["N1"] * 5, *["N2"] * 5],
    "has_data": True,
})
PARENT = ORGS.set_index("org_code")["parent_code"]
NUMERATORS = dict(zip(PRACTICES, [9, 20, 4, 30, 60, 50, 70, 60, 90, 140], strict=True))


def _row(kpi_id, org, period, numerator, denominator, **extra) -> dict:
    value = numerator / denominator * 1000
    level = ORGS.set_index("org_code").loc[org, "level"]
    return {col: None for col in read.MART_COLUMNS} | {
        "kpi_id": kpi_id, "org_code": org, "period": period, "form": "month", "level": level,
        "numerator": float(numerator), "denominator": float(denominator), "value": value,
        "lower_95": value - 1, "upper_95": value + 1, "rag": None, "target": None,
        "spc_mean": 9.0, "spc_lower": 5.0, "spc_upper": 13.0, "funnel_class": "within",
        "trend": "decreasing", "provisional": False, "carried_forward": False,
        "suppressed": False} | extra


def _mart() -> pd.DataFrame:
    rows = []
    for i, code in enumerate(PRACTICES):
        rows.append(_row("ea_rate", code, MONTH, NUMERATORS[code], 1000 * (i + 1),
                         funnel_class="above_998" if code == "J" else "within"))
    for code, members in (("N1", PRACTICES[:5]), ("N2", PRACTICES[5:]), ("P", PRACTICES)):
        rows.append(_row("ea_rate", code, MONTH, sum(NUMERATORS[m] for m in members),
                         sum(1000 * (PRACTICES.index(m) + 1) for m in members)))
    for month, num in (("2026-08", 30), ("2026-09", 5)):  # D's history: one small count
        rows.append(_row("ea_rate", "D", month, num, 4000))
    return pd.DataFrame(rows)


@pytest.fixture
def mart(monkeypatch) -> pd.DataFrame:
    """The fake read side: the hand-made mart, suppressed on the way out as carekpi.read does."""
    frame = _mart()
    names = ORGS.set_index("org_code")["org_name"]

    def kpi_month(kpi_id, month, level, parent_code=None):
        rows = frame[(frame["kpi_id"] == kpi_id) & (frame["period"] == month)
                     & (frame["level"] == level)].copy()
        rows["org_name"] = rows["org_code"].map(names)
        rows["parent_code"] = rows["org_code"].map(PARENT)
        return read.suppress_rows(rows.reset_index(drop=True))

    def kpi_series(kpi_id, org, form="month"):
        rows = frame[(frame["kpi_id"] == kpi_id) & (frame["org_code"] == org)]
        return read.suppress_rows(rows.sort_values("period").reset_index(drop=True))

    def org_month(org, month):
        return read.suppress_rows(frame[(frame["org_code"] == org) & (frame["period"] == month)]
                                  .reset_index(drop=True))

    def orgs_month(codes, kpi_ids, month):
        rows = frame[frame["org_code"].isin(codes) & frame["kpi_id"].isin(kpi_ids)
                     & (frame["period"] == month)].copy()
        rows["org_name"] = rows["org_code"].map(names)
        return read.suppress_rows(rows.sort_values(["kpi_id", "org_code"]).reset_index(drop=True))

    def parent_chain(org):
        chain = [org]
        while isinstance(PARENT.get(chain[0]), str):
            chain.insert(0, PARENT[chain[0]])
        return chain

    empty = pd.DataFrame()
    fakes = {
        "organisations": lambda with_data=True: ORGS.copy(), "kpi_month": kpi_month,
        "orgs_month": orgs_month,
        "kpi_series": kpi_series, "org_month": org_month, "parent_chain": parent_chain,
        "kpi_ids": lambda: ["ea_rate"], "annotations": lambda org, kpi=None: pd.DataFrame(
            {"annotation_id": [1], "period": ["2026-09"], "kpi_id": [None],
             "text": ["Rapid response team"], "rebase": [False]}),
        "kpi_elements": lambda *a: empty, "spell_breakdown": lambda *a: pd.DataFrame({
            "age_band": ["65_69", "5_9", "10_14"], "sex": ["F", "M", "F"],
            "admissions": [20.0, np.nan, 9.0], "emergency_admissions": [12.0, np.nan, 8.0],
            "suppressed": [False, True, False]}),
    }
    for name, fake in fakes.items():
        monkeypatch.setattr(queries, name, fake)
    return frame


EA = get_kpi("ea_rate")


def test_peer_groups_network_area_and_similar_list_size(mart):
    network = peer_group("D", MONTH, "network", orgs=ORGS)
    assert network.codes == tuple("ABCDE") and network.value_org == "N1"
    area = peer_group("D", MONTH, "area", orgs=ORGS)
    assert area.codes == tuple(PRACTICES) and area.value_org == "P"
    size = peer_group("D", MONTH, "size", orgs=ORGS)
    assert size.codes == ("C", "D")  # 3,000 and 4,000: the second fifth of ten list sizes
    assert size.value_org is None
    assert "fifth 2 of 5: 3,000 to 4,000 patients" in size.note
    assert peer_group("N2", MONTH, "network", orgs=ORGS).codes == tuple("FGHIJ")
    place = peer_group("P", MONTH, "size", orgs=ORGS)
    assert place.codes == tuple(PRACTICES) and "is for a practice" in place.note


def test_network_funnel_uses_the_network_value_and_the_mart_classes(mart):
    result = compare(EA, MONTH, peer_group("D", MONTH, "network", orgs=ORGS))
    n1 = sum(NUMERATORS[c] for c in "ABCDE") / 15000 * 1000  # the network's own mart value
    assert result.group_value == pytest.approx(n1)
    shown = result.points[result.points["value"].notna()]
    assert shown["org_code"].tolist() == ["A", "B", "D", "E"]  # C's count of 4 is suppressed
    want = funnel_curve(shown["denominator"], n1, kind="rate", multiplier=1000)
    pd.testing.assert_frame_equal(result.limits, want)
    assert result.points["funnel_class"].tolist() == ["within"] * 5


def test_similar_size_funnel_sums_the_shown_counts_and_classifies_against_the_group(mart):
    result = compare(EA, MONTH, peer_group("J", MONTH, "size", orgs=ORGS))
    assert result.points["org_code"].tolist() == ["I", "J"]
    group = (90 + 140) / (9000 + 10000) * 1000
    assert result.group_value == pytest.approx(group)
    want = classify_funnel(pd.Series([90.0, 140.0]), pd.Series([9000.0, 10000.0]), kind="rate",
                           group_value=group, multiplier=1000)
    assert result.points["funnel_class"].tolist() == want.tolist()
    assert want.tolist() != ["within", "above_998"]  # recomputed, not the mart's network class


def test_kpi_view_writes_the_state_to_the_url_and_never_shows_small_counts(mart):
    view = panel.kpi_view("ea_rate", "D", MONTH, "area")
    assert view.search == "?kpi=ea_rate&org=D&month=2026-10&peer=area"
    assert view.heading == "Emergency admissions: Practice D (D)"
    value = next(t for t in view.spc.data if t.name == "Value")
    assert list(value.x) == ["2026-08", "2026-09", "2026-10"]
    assert value.y[0] == pytest.approx(7.5) and np.isnan(value.y[1])  # 5 admissions: hidden
    assert [a.text for a in view.spc.layout.annotations] == ["Sep 2026: Rapid response team"]
    months = [r["month"] for r in view.table]
    assert months == ["Oct 2026", "Sep 2026", "Aug 2026"]
    hidden = view.table[1]
    assert hidden["value"] == hidden["numerator"] == hidden["denominator"] == "*"
    assert "suppressed" in hidden["status"]
    assert view.table[0]["value"] == "7.50 per 1,000" and view.table[0]["denominator"] == "4,000"
    assert "Not shown: Sep 2026 (counts from 1 to 7" in view.spc_caption
    assert "ranks" in view.ranked_caption and "Practice D (D) ranks" in view.ranked_caption
    star = next(t for t in view.funnel.data if t.meta == "highlight")
    assert list(star.customdata) == ["D"]
    crumbs = view.breadcrumb[0].children
    assert [c.children.children for c in crumbs[:-1]] == ["System (S)", "Place (P)", "North (N1)"]
    assert crumbs[0].children.href == "/kpi?kpi=ea_rate&org=S&month=2026-10"


def test_breakdown_by_age_band_sorted_and_suppressed_bars_said(mart):
    fig, caption = panel.breakdown_panel(EA, "D", MONTH, "Practice D (D)")
    female = next(t for t in fig.data if t.name == "Female")
    assert list(female.y) == ["10–14", "65–69"]  # numeric order, readable labels
    assert "1 bar(s) not drawn (*)" in caption


def test_csv_of_the_series_is_the_suppressed_mart_rows(mart):
    payload = panel.csv_for("spc", "ea_rate", "D", MONTH, "network")
    text = base64.b64decode(payload["content"]).decode() if payload.get("base64") \
        else payload["content"]
    got = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    series = mart[(mart["kpi_id"] == "ea_rate") & (mart["org_code"] == "D")].sort_values("period")
    assert got["period"].tolist() == series["period"].tolist()
    assert got["numerator"].tolist() == ["30.0", "*", "30.0"]
    assert got.loc[1, "value"] == "*" and payload["filename"] == "ea_rate_D_2026-10_spc.csv"


def test_a_click_carries_the_practice_code():
    assert panel.clicked_org({"points": [{"customdata": "F84003", "x": 1}]}) == "F84003"
    assert panel.clicked_org(None) is None and panel.clicked_org({"points": []}) is None


def test_no_data_says_what_to_do():
    view = panel.kpi_view(None, None, None, None)
    assert view.heading == "No data" and "carekpi etl run" in view.spc.layout.annotations[0].text


def test_practice_spine_positions_come_from_the_peers_network_and_area(mart):
    view = practice_panel.practice_view("D", MONTH)
    (row,) = view.rows
    peers = [30 / 4000 * 1000]  # C (4 admissions) is suppressed: only D's value is shown
    network = sum(NUMERATORS[c] for c in "ABCDE") / 15000 * 1000
    area = sum(NUMERATORS.values()) / 55000 * 1000
    want = spine_positions(peers, area, "lower", {"practice": peers[0], "network": network,
                                                  "area": area})
    assert row.positions == pytest.approx(want)
    assert row.practice == "7.50 per 1,000" and row.trend.startswith("Decreasing (better)")
    assert row.peer_range == "7.50 per 1,000 (1 of 2 practices shown)"
    assert row.href == "/kpi?kpi=ea_rate&org=D&month=2026-10&peer=size"
    assert view.search == "?org=D&month=2026-10"
    assert list(view.figure.layout.meta["kpis"]) == ["ea_rate"]
    data = practice_panel.practice_data("D", MONTH)
    assert data[["org_code", "role"]].values.tolist() == [["D", "practice"], ["N1", "network"],
                                                           ["P", "area"]]


@pytest.fixture
def pages(monkeypatch, tmp_path):
    """The page modules (registered on an app over an empty warehouse), with the choices of
    the hand-made mart."""
    import importlib

    from carekpi.settings import Settings
    from dashboard import state
    from dashboard.app import create_app

    create_app(Settings(data_dir=tmp_path))
    coverage = pd.DataFrame({"kpi_id": ["ea_rate"], "form": ["month"], "period": [MONTH],
                             "n_values": [10]})
    choices = state.choices_from(coverage, ORGS[["org_code", "level", "org_name"]], ["P"])
    monkeypatch.setattr(state, "available", lambda: choices)
    return (importlib.import_module("dashboard.pages.kpi_detail"),
            importlib.import_module("dashboard.pages.practice"))


def _text(component) -> str:
    """Every string in a Dash component tree, joined."""
    children = getattr(component, "children", component)
    if isinstance(children, str):
        return children
    if isinstance(children, (list, tuple)):
        return " ".join(_text(c) for c in children if c is not None)
    return _text(children) if children is not None and children is not component else ""


def test_page_layouts_name_what_they_could_not_show(pages):
    kpi_page, practice_page = pages
    page = kpi_page.layout(kpi="nope", org="D", month="2026-10")
    assert "KPI 'nope' is not a KPI of this dashboard" in _text(page)
    page = practice_page.layout(org="N1", month="2026-10")
    assert "North (N1) is a network, not a practice: showing Practice A (A)" in _text(page)


def test_chart_labels_name_the_kind_and_the_title():
    import plotly.graph_objects as go

    from dashboard.panels.common import figure_label
    fig = go.Figure(layout={"title": {"text": "Emergency admissions, Oct 2026: ranked<br>"
                                              "<sup>Ranks 1–51 of 3,000 shown</sup>"}})
    assert figure_label(fig, "Ranked bars") == \
        "Ranked bars: Emergency admissions, Oct 2026: ranked Ranks 1–51 of 3,000 shown"
    assert figure_label(go.Figure(), "Ranked bars") == "Ranked bars"
