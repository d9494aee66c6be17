"""The network page's content for plain values (network, month): the KPI x practice matrix, the
care-package payment position and what changed since last month, with their CSV downloads.
Computed here so the page's callbacks stay a line each and tests need no browser.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

import pandas as pd
from dash import dcc, html

from carekpi.periods import add_months
from dashboard import queries, state, theme
from dashboard.components.download import send_csv
from dashboard.components.freshness import page_freshness
from dashboard.components.kpi_tile import VARIATION_WORDS
from dashboard.figures.common import comparison, org_label
from dashboard.figures.matrix import OUTSIDE_CLASSES, OUTSIDE_MARK, Grid, matrix
from dashboard.panels.common import breadcrumb_items, org_name
from kpi.catalogue import Kpi, get_kpi, load_catalogue

ROW_KINDS = {"area": "Area", "network": "Network", "practice": "Practice"}
# Columns of the matrix's CSV: one row per organisation and KPI, as the mart names them.
MATRIX_CSV_COLUMNS = [
    "row_kind", "org_code", "org_name", "kpi_id", "period", "numerator", "denominator", "value",
    "lower_95", "upper_95", "lower_998", "upper_998", "target", "rag", "funnel_class",
    "variation_icon", "provisional", "suppressed", "provisional_reason",
]
SIGNALS = ("improvement", "concern", "neutral")


def matrix_kpis() -> list[Kpi]:
    """The matrix's columns: headline monthly KPIs reported for practices, in catalogue order.

    Element drilldowns are on the KPI page under their package; KPIs that exist only for
    networks (delayed transfers, reablement, care homes) have no practice to compare.
    """
    return [k for k in load_catalogue()
            if "practice" in k.levels and not k.drilldown_of and not k.rolling_of]


def resolve_network(org: str | None) -> tuple[str | None, list[str]]:
    """The network to show for the organisation asked for, and what to say about it.

    A practice shows its (current) network; a place or system, or nothing, its first network
    by code; an organisation without a network, the first network of all.
    """
    orgs = queries.organisations()
    nets = orgs[orgs["level"] == "network"].sort_values("org_code")
    if nets.empty:
        return None, []
    level = dict(zip(orgs["org_code"], orgs["level"], strict=True)).get(org)
    if level == "network":
        return org, []
    if level == "practice":
        chain = queries.parent_chain(org)
        up = next((c for c in reversed(chain[:-1]) if c in set(nets["org_code"])), None)
        if up:
            return up, [f"{org_name(org)} is a practice: showing its network."]
    parent = dict(zip(orgs["org_code"], orgs["parent_code"], strict=True))

    def under(code: str) -> bool:  # the network lies below `org` (a place or a system)
        seen: set[str] = set()
        while code in parent and code not in seen:
            seen.add(code)
            code = parent[code]
            if code == org:
                return True
        return False

    below = [c for c in nets["org_code"] if org and under(c)]
    if below:
        return below[0], []
    first = nets["org_code"].iloc[0]
    if org:
        return first, [f"{org_name(org)} has no network: showing {org_name(first)}."]
    return first, []


def previous_month(month: str) -> str:
    """'2026-01' -> '2025-12'."""
    return add_months(month, -1)


def href(path: str, **params: str | None) -> str:
    """'/kpi?kpi=..&org=..' with the parameters that are set."""
    query = urlencode({k: v for k, v in params.items() if v})
    return path + ("?" + query if query else "")


# --- the matrix -------------------------------------------------------------------------------
def matrix_frame(network: str, month: str) -> pd.DataFrame:
    """The matrix's rows (suppressed): area, network and practices x the matrix KPIs."""
    frame = queries.network_matrix(network, month)
    ids = [k.id for k in matrix_kpis()]
    return frame[frame["kpi_id"].isin(ids)].reset_index(drop=True)


def matrix_grid(network: str, month: str) -> Grid:
    """The grid: practices as rows, KPIs as columns, the network and area pinned on top; the
    organisation cell links to that organisation's page for the month."""
    frame = matrix_frame(network, month)
    kpis = [k for k in matrix_kpis() if k.id in set(frame["kpi_id"])]
    grid = matrix(frame, kpis)
    for row in [*grid.pinned_top, *grid.row_data]:
        code, kind = row["org_code"], row["row_kind"]
        path = "/practice" if kind == "practice" else "/"
        prefix = "" if kind == "practice" else f"{ROW_KINDS.get(kind, kind)}: "
        row["org"] = f"{prefix}[{row['org']}]({href(path, org=code, month=month)})"
    columns = [dict(c) for c in grid.column_defs]
    columns[0] = columns[0] | {"cellRenderer": "markdown", "minWidth": 300, "wrapText": True,
                               "autoHeight": True}
    for column, kpi in zip(columns[1:], kpis, strict=True):
        column["headerName"] = state.kpi_label(kpi)
        column["headerTooltip"] = f"{state.kpi_label(kpi)} ({theme.unit_text(kpi)}); " \
                                  f"{'lower' if kpi.polarity == 'lower' else 'higher'} is better"
    return Grid(columns, grid.row_data, grid.pinned_top)


def cell_href(cell: dict | None, network: str, month: str) -> str | None:
    """Where a click on a matrix cell goes: that KPI for that organisation and month (/kpi);
    None for the organisation column (its link does the work) or an empty click."""
    if not cell or not month:
        return None
    kpi_id, org = cell.get("colId"), cell.get("rowId")
    if kpi_id not in {k.id for k in matrix_kpis()} or not org:
        return None
    if org not in set(queries.network_matrix(network, month)["org_code"]):
        return None
    return href("/kpi", kpi=kpi_id, org=org, month=month)


def matrix_caption(network: str, month: str, grid: Grid) -> list:
    """What the matrix shows and its symbols, short; each KPI's definition one click away."""
    practices = len(grid.row_data)
    if not practices and not grid.pinned_top:
        return [html.P(f"No values for {org_name(network)} in {theme.month_label(month)}.")]
    links: list = []
    for column in grid.column_defs[1:]:
        links += [" · " if links else "", dcc.Link(column["headerName"],
                                                    href=f"/definitions#{column['field']}")]
    return [
        html.P(f"{len(grid.column_defs) - 1} KPIs for the {practices} practices of "
               f"{org_name(network)} in {theme.month_label(month)}; the area's and the "
               f"network's own values on top. Sort by any column; select a cell to open that "
               f"KPI for that practice."),
        html.P(f"✔ on target · ▲ near target · ✖ off target · – no target · {OUTSIDE_MARK} "
               f"outside the 99.8% funnel limits of its peers (the network's practices; for the "
               f"network, the area's networks) · * not shown: counts from 1 to 7 are "
               f"suppressed."),
        html.Details([html.Summary("Definitions of these KPIs"), html.P(links)]),
    ]


def matrix_csv(network: str, month: str) -> dict:
    """The matrix's data as CSV: one row per organisation and KPI, '*' in suppressed cells."""
    frame = matrix_frame(network, month)
    return send_csv(frame[MATRIX_CSV_COLUMNS], f"network_{network}_{month}_matrix.csv")


# --- payment position -------------------------------------------------------------------------
def payment_frame(network: str, month: str) -> pd.DataFrame:
    """The network's care-package position at each quarter end of the financial year of
    `month`, up to `month` (columns of kpi.payment.payment_view)."""
    view = queries.payment_status(network, _year(month))
    return view[view["period"] <= month].reset_index(drop=True)


def _year(month: str) -> str:
    """The NHS financial year of a month: '2025-03' -> '2024/25'."""
    start = int(month[:4]) - (int(month[5:]) < 4)
    return f"{start}/{(start + 1) % 100:02d}"


def payment_rows(network: str, month: str) -> tuple[list[dict], str]:
    """One row per care package at its latest quarter end so far this year, and a caption."""
    frame = payment_frame(network, month)
    year = _year(month)
    if frame.empty:
        return [], (f"No quarter of {year} has ended by {theme.month_label(month)}: the "
                    f"first payment assessment is at the end of June.")
    latest = frame.sort_values("quarter").groupby("kpi_id").tail(1)
    rows = []
    for r in latest.itertuples(index=False):
        kpi = get_kpi(r.kpi_id)
        met = None if pd.isna(r.met) else bool(r.met)
        rows.append({
            "package": state.kpi_label(kpi),
            "quarter": f"Q{int(r.quarter)} ({theme.month_label(r.period)})",
            "value": theme.format_value(r.value, kpi, suppressed=pd.isna(r.value)),
            "target": theme.format_value(r.target, kpi) if pd.notna(r.target) else "none",
            "met": "–" if met is None else ("✔ Met" if met else "✖ Not met"),
            "earned": f"{r.share_to_date:.0%}" if pd.notna(r.share_to_date) else "–",
            "money": (f"£{r.earned_to_date:,.0f} of £{r.performance_pot:,.0f}"
                      if pd.notna(r.performance_pot) else "no budget set"),
        })
    caption = (f"Each care package's headline KPI at the latest quarter end of {year} up to "
               f"{theme.month_label(month)}, against its target, and the share of the year's "
               f"performance element earned so far (a quarter met earns a quarter of it).")
    return rows, caption


def payment_csv(network: str, month: str) -> dict:
    """Every quarter end of the year so far, as CSV."""
    return send_csv(payment_frame(network, month), f"network_{network}_{month}_payment.csv")


# --- what changed since last month ------------------------------------------------------------
@dataclass(frozen=True)
class Change:
    """One thing that changed: its kind, where, on what, and in words."""

    kind: str  # icon | signal | limits
    org_code: str
    kpi_id: str
    words: str


def changes(network: str, month: str) -> list[Change]:
    """KPIs of the network whose variation icon changed since the month before, new special-
    cause points (network and practices), and practices that moved outside their 99.8% limits.

    Uses each month's verdicts as stored in the mart; suppressed rows are left out.
    """
    before = previous_month(month)
    now = queries.network_matrix(network, month)
    then = queries.network_matrix(network, before)
    if now.empty or then.empty:
        return []
    headline = {k.id for k in load_catalogue() if not k.drilldown_of and not k.rolling_of}
    keys = ["org_code", "kpi_id"]
    both = now[now["kpi_id"].isin(headline)].merge(
        then[keys + ["variation_icon", "spc_special_cause", "funnel_class", "suppressed"]],
        on=keys, how="left", suffixes=("", "_before"))
    both = both[~both["suppressed"] & ~both["suppressed_before"].fillna(False).astype(bool)]
    # which rows changed, found column-wise; only those are put into words
    kind = both["row_kind"]
    icon = (kind == "network") & both["variation_icon"].notna() & both[
        "variation_icon_before"].notna() & (both["variation_icon"] != both["variation_icon_before"])
    signal = kind.isin(["network", "practice"]) & both["spc_special_cause"].isin(SIGNALS) & ~both[
        "spc_special_cause_before"].isin(SIGNALS)
    limits = (kind == "practice") & both["funnel_class"].isin(OUTSIDE_CLASSES) & ~both[
        "funnel_class_before"].isin(OUTSIDE_CLASSES)
    names = dict(zip(both["org_code"], both["org_name"], strict=True))
    found: list[Change] = []
    for r in both[icon].itertuples(index=False):
        found.append(Change("icon", r.org_code, r.kpi_id, (
            f"{state.kpi_label(get_kpi(r.kpi_id))}: "
            f"{VARIATION_WORDS.get(r.variation_icon_before, r.variation_icon_before)} → "
            f"{VARIATION_WORDS.get(r.variation_icon, r.variation_icon)}")))
    for r in both[signal].itertuples(index=False):
        kpi = get_kpi(r.kpi_id)
        found.append(Change("signal", r.org_code, r.kpi_id, (
            f"{org_label(r.org_code, names.get(r.org_code))}, {state.kpi_label(kpi)}: "
            f"{theme.MDC_WORDS[r.spc_special_cause].lower()} "
            f"({theme.format_value(r.value, kpi)})")))
    for r in both[limits].itertuples(index=False):
        kpi = get_kpi(r.kpi_id)
        words = theme.COMPARISON_WORDS[comparison(r.funnel_class, kpi.polarity)].lower()
        found.append(Change("limits", r.org_code, r.kpi_id, (
            f"{org_label(r.org_code, names.get(r.org_code))}, {state.kpi_label(kpi)}: now "
            f"outside the 99.8% limits ({words}: {theme.format_value(r.value, kpi)})")))
    return found


CHANGE_HEADINGS = {
    "icon": "The network's KPIs whose variation icon changed",
    "signal": "New special-cause points",
    "limits": "Practices now outside their 99.8% funnel limits",
}


def changes_section(network: str, month: str) -> list:
    """The 'What changed since last month' content: a list per kind, each item a link."""
    before = previous_month(month)
    found = changes(network, month)
    intro = html.P(f"{theme.month_label(month)} against {theme.month_label(before)}, as each "
                   f"month was judged with the data up to it.", className="caption")
    if not queries.network_matrix(network, before).shape[0]:
        return [html.P(f"No data for {theme.month_label(before)} to compare with.",
                       className="caption")]
    parts: list = [intro]
    for kind, heading in CHANGE_HEADINGS.items():
        items = [c for c in found if c.kind == kind]
        parts.append(html.H3(f"{heading} ({len(items)})"))
        if not items:
            parts.append(html.P("None.", className="caption"))
            continue
        # spaced so each link is a 24 px target (WCAG 2.2 target size)
        parts.append(html.Ul([html.Li(dcc.Link(c.words, href=href(
            "/kpi", kpi=c.kpi_id, org=c.org_code, month=month)), style={"margin": "0.6em 0"})
            for c in items], className="changes"))
    return parts


# --- the URL --------------------------------------------------------------------------------
def search(network: str | None, month: str | None) -> str:
    """The page's query string."""
    return state.to_query(state.PageState(kpi=None, org=network, month=month), ("org", "month"))


# --- the whole page ---------------------------------------------------------------------------
GRID_OPTIONS = {"domLayout": "autoHeight", "suppressColumnVirtualisation": True,
                "tooltipShowDelay": 300, "enableCellTextSelection": True}
# The network's and the area's rows (pinned on top) in bold, so they read as the benchmarks.
ROW_STYLE = {"styleConditions": [{"condition": "params.node.rowPinned",
                                  "style": {"fontWeight": "bold"}}]}


@dataclass(frozen=True)
class NetworkView:
    """Everything the page's main callback writes."""

    network: str | None
    search: str
    heading: str
    breadcrumb: list
    freshness: object
    column_defs: list[dict]
    row_data: list[dict]
    grid_options: dict
    matrix_caption: str
    payment_rows: list[dict]
    payment_caption: str
    changes: list


def network_view(org: str | None, month: str | None) -> NetworkView:
    """The page's content for the organisation picked (a network, or a practice or area that
    leads to one) and a month (plain values)."""
    network, _ = resolve_network(org)
    choices = state.available()
    if not network or not month:
        return NetworkView(network, search(network, month), "No network data", [],
                           page_freshness(None, month, choices.orgs), [], [], GRID_OPTIONS,
                           "No data loaded yet: run `carekpi etl run`.", [], "", [])
    grid = matrix_grid(network, month)
    rows, caption = payment_rows(network, month)
    return NetworkView(
        network=network, search=search(network, month),
        heading=f"{org_name(network)}: {theme.month_label(month)}",
        breadcrumb=breadcrumb_items(network, month),
        freshness=page_freshness(choices.orgs.get(network), month, choices.orgs),
        column_defs=grid.column_defs, row_data=grid.row_data,
        grid_options=GRID_OPTIONS | {"pinnedTopRowData": grid.pinned_top},
        matrix_caption=matrix_caption(network, month, grid),
        payment_rows=rows, payment_caption=caption,
        changes=changes_section(network, month))
