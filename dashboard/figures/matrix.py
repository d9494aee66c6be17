"""The KPI x organisation matrix for dash-ag-grid: column definitions and row data from a frame.

Each cell keeps the number (so a column sorts by value) and shows the formatted value with its
unit, the RAG symbol (never colour alone) and ◆ when the organisation lies outside its funnel's
99.8% limits; cellStyle tints the cell by RAG and cellClassRules name it (matrix-rag-*).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from dashboard import theme
from dashboard.figures.common import org_label
from kpi.catalogue import Kpi

OUTSIDE_MARK = "◆"
OUTSIDE_CLASSES = ("above_998", "below_998")
PINNED_KINDS = ("area", "network")  # rows drawn on top, in this order


@dataclass(frozen=True)
class Grid:
    """What dash_ag_grid.AgGrid takes: columnDefs, rowData, and the rows pinned on top."""

    column_defs: list[dict]
    row_data: list[dict]
    pinned_top: list[dict] = field(default_factory=list)


def cell_text(value: float | None, kpi: Kpi, *, rag: str | None, funnel_class: str | None,
              suppressed: bool = False) -> str:
    """'✖ 8.62 per 1,000 ◆': RAG symbol, value with unit, outside-limits mark."""
    if suppressed:
        return "*"
    style = theme.RAG.get(rag) if isinstance(rag, str) else None
    parts = [style.symbol] if style else []
    parts.append(theme.format_value(value, kpi))
    if funnel_class in OUTSIDE_CLASSES:
        parts.append(OUTSIDE_MARK)
    return " ".join(parts)


def _cell_style(kpi_id: str) -> dict:
    """Pale RAG tints under dark text (AA contrast) for a KPI's column."""
    return {"styleConditions": [
        {"condition": f"params.data && params.data['{kpi_id}__rag'] === '{status}'",
         "style": {"backgroundColor": theme.RAG[status].tint, "color": theme.NHS["text"]}}
        for status in ("green", "amber", "red")]}


def _cell_rules(kpi_id: str) -> dict:
    return {f"matrix-rag-{status}": f"params.data && params.data['{kpi_id}__rag'] === "
            f"'{status}'" for status in ("green", "amber", "red")}


def matrix(frame: pd.DataFrame, kpis: Sequence[Kpi]) -> Grid:
    """The grid of a long frame (org_code, org_name, row_kind, kpi_id, value, rag,
    funnel_class, suppressed): one row per organisation, one column per KPI.

    row_kind 'area' and 'network' rows go to pinned_top; the rest are the practices.
    """
    columns = [{"field": "org", "headerName": "Organisation", "pinned": "left",
                "minWidth": 240, "sortable": True, "filter": True}]
    for kpi in kpis:
        columns.append({
            "field": kpi.id, "headerName": kpi.title, "headerTooltip": kpi.title,
            "sortable": True, "type": "numericColumn", "minWidth": 150,
            "valueFormatter": {"function": f"params.data ? params.data['{kpi.id}__text'] : ''"},
            "cellClassRules": _cell_rules(kpi.id), "cellStyle": _cell_style(kpi.id),
            "tooltipValueGetter": {"function": f"params.data ? params.data['{kpi.id}__tip'] "
                                               ": ''"}})
    by_kpi = {k.id: k for k in kpis}
    rows: dict[str, dict] = {}
    for r in frame[frame["kpi_id"].isin(by_kpi)].itertuples(index=False):
        kpi = by_kpi[r.kpi_id]
        row = rows.setdefault(r.org_code, {"org_code": r.org_code, "row_kind": r.row_kind,
                                           "org": org_label(r.org_code, r.org_name)})
        suppressed = bool(getattr(r, "suppressed", False))
        value = None if suppressed or pd.isna(r.value) else float(r.value)
        rag = r.rag if isinstance(r.rag, str) and not suppressed else None
        row[kpi.id] = value
        row[f"{kpi.id}__rag"] = rag
        row[f"{kpi.id}__text"] = cell_text(value, kpi, rag=rag, funnel_class=r.funnel_class,
                                           suppressed=suppressed)
        row[f"{kpi.id}__tip"] = _tip(kpi, rag, r.funnel_class, suppressed)
    pinned = [row for kind in PINNED_KINDS for row in rows.values() if row["row_kind"] == kind]
    body = [row for row in rows.values() if row["row_kind"] not in PINNED_KINDS]
    return Grid(columns, body, pinned)


def _tip(kpi: Kpi, rag: str | None, funnel_class: str | None, suppressed: bool) -> str:
    if suppressed:
        return "Not shown: counts from 1 to 7 are suppressed to protect privacy"
    words = [theme.RAG[rag].words if rag else "No target"]
    if funnel_class in OUTSIDE_CLASSES:
        words.append(f"{OUTSIDE_MARK} outside the 99.8% funnel limits of its peers")
    return f"{kpi.title}: " + "; ".join(words)
