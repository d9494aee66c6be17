"""Pure figure factories: computed frames in, plotly figures (or grid definitions) out; no
queries and no statistics here (those come from kpi/ through the pages' panel helpers)."""

from dashboard.figures.funnel import funnel_figure
from dashboard.figures.matrix import matrix
from dashboard.figures.ranked_bar import ranked_bar_figure
from dashboard.figures.spc import spc_figure
from dashboard.figures.spine import spine_figure

__all__ = ["funnel_figure", "matrix", "ranked_bar_figure", "spc_figure", "spine_figure"]
