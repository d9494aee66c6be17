"""Red-red alerts as shown: the read side's red-red rows (carekpi.read.red_red) with the KPI's
title and the value in its unit, as a table for the overview, the network page and the pack."""

from __future__ import annotations

import pandas as pd
from dash import html

from dashboard.theme import format_value
from kpi.catalogue import get_kpi

COLUMNS = {"kpi_title": "KPI", "org_name": "Organisation", "org_code": "Code", "level": "Level",
           "value_text": "Value", "reasons": "Why"}
NONE_TEXT = "No network or practice is both worse than its peers and getting worse."


def red_red_display(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows with kpi_title and value_text (the value in the KPI's unit) added."""
    out = rows.copy()
    out["kpi_title"] = [get_kpi(k).title for k in out["kpi_id"]]
    out["value_text"] = [format_value(v, get_kpi(k)) for k, v in zip(out["kpi_id"], out["value"],
                                                                        strict=True)]
    return out


def red_red_table(rows: pd.DataFrame, table_id: str) -> html.Div:
    """A plain table of the red-red rows (or a sentence saying there are none)."""
    if rows.empty:
        return html.Div(html.P(NONE_TEXT), id=table_id)
    shown = red_red_display(rows)
    return html.Div(html.Table([
        html.Thead(html.Tr([html.Th(h, scope="col") for h in COLUMNS.values()])),
        html.Tbody([html.Tr([html.Td(str(r[c] if r[c] is not None else "")) for c in COLUMNS])
                    for r in shown.to_dict("records")]),
    ], className="red-red"), id=table_id)
