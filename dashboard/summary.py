"""The written summary: one deterministic sentence per KPI, organisation and month, from mart rows.

Built from what the read side returns (already suppressed), never from a language model: the
value, the target, the usual range (the SPC process limits), the SPC signal, the recent trend, the
practices outside their 99.8% funnel limits, and, in a sustained shift, the current process. A
suppressed value is never written: the sentence says it is not shown.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from dashboard.components.kpi_tile import ASSURANCE_WORDS, VARIATION_WORDS
from dashboard.theme import format_value, month_label, trend_words
from kpi.catalogue import Kpi
from kpi.verdicts import Shift


def _missing(value: object) -> bool:
    return value is None or bool(pd.isna(value))


def _usual_range(row: Mapping, kpi: Kpi) -> str:
    lower, upper, value = row.get("spc_lower"), row.get("spc_upper"), row["value"]
    if _missing(lower) or _missing(upper):
        return "too few months for a usual range"
    where = ("above" if value > upper else "below" if value < lower else "within")
    return (f"{where} the usual range of {format_value(lower, kpi)} to "
            f"{format_value(upper, kpi)}")


def _against_target(row: Mapping, kpi: Kpi) -> str:
    target = row.get("target")
    if _missing(target):
        return "no target set"
    shown_value, shown_target = format_value(row["value"], kpi), format_value(target, kpi)
    if shown_value == shown_target:
        return f"at the {shown_target} target"
    return f"{'above' if row['value'] > target else 'below'} the {shown_target} target"


def _names(rows: pd.DataFrame) -> str:
    return ", ".join(f"{r.org_name or r.org_code} ({r.org_code})"
                     for r in rows.itertuples(index=False))


def practices_outside(practices: pd.DataFrame) -> str:
    """'2 of 36 practices are above the upper 99.8% limit: A (X), B (Y)' from one month's
    practice rows (suppressed ones are counted as not shown, never named)."""
    shown = practices[~practices["suppressed"].astype(bool) & practices["value"].notna()]
    if shown.empty:
        return ""
    parts = []
    for side, words in (("above", "above the upper"), ("below", "below the lower")):
        outside = shown[shown["funnel_class"] == f"{side}_998"].sort_values("org_code")
        if len(outside):
            verb = "is" if len(outside) == 1 else "are"
            parts.append(f"{len(outside)} of {len(shown)} practices {verb} {words} 99.8% "
                         f"funnel limit: {_names(outside)}")
    if not parts:
        return f"none of {len(shown)} practices is outside its 99.8% funnel limits"
    return "; ".join(parts)


def summary_sentence(kpi: Kpi, row: Mapping, org_label: str,
                     practices: pd.DataFrame | None = None, shift: Shift | None = None) -> str:
    """One KPI's sentence for an organisation's month (`row`: its suppressed mart row)."""
    when = month_label(row["period"])
    if bool(row.get("suppressed")) or _missing(row.get("value")):
        why = "built on a count of 1 to 7" if bool(row.get("suppressed")) else "no value"
        return f"{kpi.title} in {org_label}, {when}: not shown ({why})."
    clauses = [f"{kpi.title} in {org_label}, {when}: {format_value(row['value'], kpi)}, "
               f"{_usual_range(row, kpi)} and {_against_target(row, kpi)}"]
    signal = VARIATION_WORDS.get(row.get("variation_icon") or "")
    if signal:
        clauses.append(signal[0].lower() + signal[1:])
    if shift is not None:
        assurance = ASSURANCE_WORDS.get(shift.assurance or "", "")
        clauses.append(
            f"a sustained shift {'above' if shift.side > 0 else 'below'} the mean over the last "
            f"{shift.points} months: the current process runs from "
            f"{format_value(shift.lower, kpi)} to {format_value(shift.upper, kpi)}"
            + (f" ({assurance.lower()})" if assurance else ""))
    elif not _missing(row.get("assurance_icon")):
        clauses.append(ASSURANCE_WORDS.get(row["assurance_icon"], "").lower())
    trend = row.get("trend")
    if isinstance(trend, str) and trend:
        clauses.append(trend_words(trend, kpi.polarity).lower())
    if practices is not None and len(practices):
        outside = practices_outside(practices)
        if outside:
            clauses.append(outside)
    return "; ".join(c for c in clauses if c) + "."
