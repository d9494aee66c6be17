"""What every figure shares: its meta (KPI, organisation, month) and words for missing months."""

from __future__ import annotations

import pandas as pd

from dashboard import theme
from kpi.catalogue import Kpi

PRIVACY = "counts from 1 to 7 are suppressed to protect privacy"


def figure_meta(kpi: Kpi, org_label: str, month: str | None, chart: str) -> dict:
    """The layout.meta of a figure: read by tests, the PNG download and screen-reader labels."""
    return {"chart": chart, "kpi_id": kpi.id, "kpi": kpi.title, "org": org_label,
            "month": month, "month_label": theme.month_label(month) if month else None}


def missing_reason(series: pd.DataFrame) -> str:
    """'Not shown: Mar 2025 (counts from 1 to 7 ...)' for months without a value; '' if none."""
    gone = series[series["value"].isna()]
    if gone.empty:
        return ""
    suppressed = gone.get("suppressed", pd.Series(False, index=gone.index)).fillna(False)
    reasons = gone.get("provisional_reason", pd.Series(None, index=gone.index))
    why = [PRIVACY if s else (r if isinstance(r, str) and r else "no value in the warehouse")
           for s, r in zip(suppressed.astype(bool), reasons, strict=True)]
    groups: dict[str, list[str]] = {}
    for period, reason in zip(gone["period"], why, strict=True):
        groups.setdefault(reason, []).append(theme.month_label(period))
    return "Not shown: " + "; ".join(f"{', '.join(months)} ({reason})"
                                     for reason, months in groups.items()) + "."


def comparison(funnel_class: str | None, polarity: str) -> str:
    """better / similar / worse against peers from a funnel class and the KPI's polarity.

    Outside the 99.8% limits counts as different (Fingertips and the funnel guidance treat
    95% as a warning); 'not_compared' where there is no class.
    """
    if not isinstance(funnel_class, str):
        return "not_compared"
    if funnel_class in ("above_998", "below_998"):
        high = funnel_class.startswith("above")
        return "better" if high == (polarity == "higher") else "worse"
    return "similar"


def org_label(code: str, name: str | None) -> str:
    """'Name (CODE)', or the code alone when the name is unknown."""
    return f"{name} ({code})" if isinstance(name, str) and name and name != code else code
