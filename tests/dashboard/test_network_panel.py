"""The network page's helpers without a browser, on a hand-built warehouse (both dialects): what
changed since last month, the payment position, the matrix grid and where a cell click goes."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from carekpi import warehouse as wh
from dashboard import queries, state
from dashboard.panels import network as panel

ORGS = pd.DataFrame({"org_code": ["P", "N1", "A", "B"],
                     "level": ["place", "network", "practice", "practice"],
                     "org_name": ["Place", "North", "Alpha", "Bravo"]})
LINKS = pd.DataFrame({"child_code": ["N1", "A", "B"], "parent_code": ["P", "N1", "N1"],
                      "valid_from": [date(2020, 1, 1)] * 3})
EA, CP = "ea_rate", "cp_diabetes_complete"


def _row(kpi_id, org, period, value, **extra) -> dict:
    level = dict(zip(ORGS["org_code"], ORGS["level"], strict=True))[org]
    return {"kpi_id": kpi_id, "org_code": org, "period": period, "form": "month",
            "level": level, "numerator": 50.0, "denominator": 1000.0, "value": value,
            "target": None, "rag": None, "variation_icon": "common_cause",
            "spc_special_cause": None, "funnel_class": "within", "provisional": False,
            "carried_forward": False, "suppressed": False} | extra


MART = pd.DataFrame([
    _row(EA, "P", "2025-05", 8.0), _row(EA, "P", "2025-06", 8.5),
    _row(EA, "N1", "2025-05", 9.0),
    _row(EA, "N1", "2025-06", 9.5, variation_icon="concern_high"),
    _row(EA, "A", "2025-05", 7.0),
    _row(EA, "A", "2025-06", 12.0, spc_special_cause="concern"),
    _row(EA, "B", "2025-05", 10.0, spc_special_cause="concern"),
    _row(EA, "B", "2025-06", 11.0, spc_special_cause="concern", funnel_class="above_998"),
    _row(CP, "N1", "2025-06", 80.0, target=75.0, rag="green"),
    _row(CP, "A", "2025-05", 60.0, funnel_class="below_998"),
    # a new signal and a move outside the limits on 1-7 counts: never reported
    _row(CP, "A", "2025-06", 0.5, numerator=5.0, funnel_class="below_998",
         spc_special_cause="improvement", suppressed=True),
    _row(CP, "B", "2025-06", 0.6, numerator=6.0, funnel_class="above_998", suppressed=True),
])


@pytest.fixture
def network_warehouse(warehouse):
    with warehouse.begin() as conn:
        for table, frame in ((wh.organisation, ORGS), (wh.membership, LINKS),
                             (wh.kpi_mart, MART)):
            wh.bulk_insert(conn, table, frame)
    queries.configure(warehouse)
    return warehouse


def test_what_changed_since_last_month(network_warehouse):
    found = [(c.kind, c.org_code, c.kpi_id) for c in panel.changes("N1", "2025-06")]
    assert found == [("icon", "N1", EA), ("signal", "A", EA), ("limits", "B", EA)]
    words = {c.kind: c.words for c in panel.changes("N1", "2025-06")}
    assert words["icon"] == ("Emergency admissions: Common cause variation → "
                             "Special cause: concerning (higher)")
    assert words["limits"].startswith("Bravo (B), Emergency admissions: now outside the 99.8% "
                                      "limits (worse than peers: 11.00 per 1,000")
    assert panel.changes("N1", "2025-05") == []  # no April to compare with


def test_payment_position_at_the_latest_quarter_end(network_warehouse):
    rows, caption = panel.payment_rows("N1", "2025-06")
    assert rows == [{"package": "Diabetes care package complete", "quarter": "Q1 (Jun 2025)",
                     "value": "80.0%", "target": "75.0%", "met": "✔ Met", "earned": "25%",
                     "money": "no budget set"}]
    assert "2025/26" in caption
    rows, caption = panel.payment_rows("N1", "2025-05")
    assert rows == [] and "No quarter of 2025/26 has ended by May 2025" in caption


def test_matrix_grid_pins_area_and_network_and_cells_open_the_kpi(network_warehouse):
    grid = panel.matrix_grid("N1", "2025-06")
    assert [c["field"] for c in grid.column_defs] == ["org", CP, EA]
    assert grid.column_defs[1]["headerName"] == state.kpi_label(
        panel.get_kpi(CP))
    assert [r["org_code"] for r in grid.pinned_top] == ["P", "N1"]
    assert [r["org_code"] for r in grid.row_data] == ["A", "B"]
    assert grid.pinned_top[0]["org"] == "Area: [Place (P)](/?org=P&month=2025-06)"
    assert grid.row_data[0]["org"] == "[Alpha (A)](/practice?org=A&month=2025-06)"
    assert grid.row_data[0][f"{CP}__text"] == "*" and grid.row_data[1][f"{EA}__text"] == (
        "11.00 per 1,000 ◆")
    assert panel.cell_href({"colId": EA, "rowId": "B"}, "N1", "2025-06") == (
        "/kpi?kpi=ea_rate&org=B&month=2025-06")
    assert panel.cell_href({"colId": "org", "rowId": "B"}, "N1", "2025-06") is None
    assert panel.cell_href({"colId": EA, "rowId": "ZZZ"}, "N1", "2025-06") is None
    assert panel.cell_href(None, "N1", "2025-06") is None


def test_a_practice_or_the_area_asked_for_shows_a_network(network_warehouse):
    assert panel.resolve_network("A") == ("N1", ["Alpha (A) is a practice: showing its network."])
    assert panel.resolve_network(None) == ("N1", [])
    assert panel.resolve_network("P") == ("N1", [])
    assert panel.resolve_network("N1") == ("N1", [])
    view = panel.network_view("A", "2025-06")
    assert view.network == "N1" and view.search == "?org=N1&month=2025-06"
    assert view.heading == "North (N1): Jun 2025"
    assert [r["org_code"] for r in view.grid_options["pinnedTopRowData"]] == ["P", "N1"]
    definitions = [link.href for link in view.matrix_caption[2].children[1].children
                   if hasattr(link, "href")]
    assert definitions == [f"/definitions#{CP}", f"/definitions#{EA}"]
    csv = panel.matrix_frame("N1", "2025-06")
    assert set(csv["org_code"]) == {"P", "N1", "A", "B"}
    assert csv.loc[(csv["org_code"] == "A") & (csv["kpi_id"] == CP), "value"].isna().all()
