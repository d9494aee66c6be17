"""Spine-chart positions (Fingertips style): each KPI's spread across peers on one 0-1 scale.

Method: OHID Fingertips "spine chart" (Public health technical guidance, "Area profiles"):
the reference value (there England's, here the area's) sits at the centre; the scale runs to
the peer value furthest from it on either side, so the longer side fills half the chart; the
worst value is on the left and the best on the right, whatever the KPI's polarity. The bar shows
the peers' lowest to highest, with the 25th to 75th percentiles shaded darker.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["spine_positions"]

SPINE_QUANTILES = (0.0, 0.25, 0.5, 0.75, 1.0)


def spine_positions(peer_values: Any, reference: float | None, polarity: str,
                    markers: Mapping[str, float | None] = ()) -> dict[str, float]:
    """Positions (0 worst edge, 1 best edge, 0.5 the reference) of the peers' spread and markers.

    Keys: worst, worse_quartile, median, better_quartile, best (from the peers' quantiles,
    numpy's linear method), then each marker's name (NaN where its value is missing). The
    reference defaults to the peers' median. A marker beyond the peers' range widens the
    scale so that it stays on the chart. All positions NaN when no peer has a value.
    """
    if polarity not in ("higher", "lower"):
        raise ValueError(f"polarity must be 'higher' or 'lower', got {polarity!r}")
    values = np.asarray(peer_values, dtype=float)
    values = values[np.isfinite(values)]
    names = ("worst", "worse_quartile", "median", "better_quartile", "best")
    if values.size == 0:
        return dict.fromkeys([*names, *dict(markers)], float("nan"))
    q = np.quantile(values, SPINE_QUANTILES)
    centre = float(q[2]) if reference is None or not np.isfinite(reference) else float(reference)
    marker_values = {k: (np.nan if v is None else float(v)) for k, v in dict(markers).items()}
    spread = max(abs(q[0] - centre), abs(q[-1] - centre),
                 *(abs(v - centre) for v in marker_values.values() if np.isfinite(v)))
    sign = 1.0 if polarity == "higher" else -1.0  # better always to the right

    def place(v: float) -> float:
        return 0.5 if spread == 0 else 0.5 + sign * (v - centre) / (2 * spread)

    low_to_high = [place(v) for v in q]
    ordered = low_to_high if polarity == "higher" else low_to_high[::-1]
    out = dict(zip(names, ordered, strict=True))
    out.update({k: place(v) if np.isfinite(v) else float("nan")
                for k, v in marker_values.items()})
    return out
