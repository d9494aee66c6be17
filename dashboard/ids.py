"""Dash component ids, kebab-case and prefixed by page: tests select by these."""

KPI_SELECT = "kpi-kpi-dropdown"
KPI_ORG = "kpi-org-dropdown"
KPI_SPC = "kpi-spc-graph"
KPI_CAPTION = "kpi-caption"
