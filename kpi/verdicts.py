"""SPC verdicts that hold together, and Fingertips-style red-red alerts: pure rules on mart values.

Making Data Count ("Making Data Count: Strengthening your decisions", NHS England, and its
guidance on recalculating limits): when the latest points form a sustained shift (a run of 7 or
more on one side of the mean), the old limits no longer describe the process. The verdict is then
read against the current process (limits from the shift's own points) and a recalculation point
(the shift's first month) is proposed for a user to accept as a rebase annotation; nothing here
rebases the mart. A tile never shows "on target" beside "target consistently missed" without a
sentence saying why both hold.

Red-red (OHID Fingertips' "red-red" list): an organisation both worse than its peers (beyond the
99.8% funnel limit on the bad side, by polarity) and getting worse (a special cause of concern as
judged that month, or a significant recent trend the wrong way).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from kpi.spc import SpcSettings, xmr

__all__ = ["Shift", "Verdict", "latest_shift", "red_red_reasons", "reconcile_verdict"]

RUN_LENGTH = 7  # MDC: a shift is 7 or more points in a row on one side of the mean


@dataclass(frozen=True)
class Shift:
    """A sustained shift ending at the latest point: where it starts and its process."""

    start: int  # position of the shift's first point in the values given
    points: int
    side: int  # +1 above the mean, -1 below
    mean: float
    lower: float
    upper: float
    assurance: str | None  # against the shift's own limits


@dataclass(frozen=True)
class Verdict:
    """What a tile says about variation and assurance, and why, when they seem to disagree."""

    shift: Shift | None
    assurance: str | None  # the assurance icon the tile shows (the current process's in a shift)
    why: str  # '' or a sentence reconciling the month's RAG with the assurance


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def latest_shift(values: Sequence[float | None], mean: float | None, *, polarity: str | None,
                 target: float | None = None, run_length: int = RUN_LENGTH) -> Shift | None:
    """The sustained shift the latest values belong to, or None.

    The shift is the unbroken run of values on the latest value's side of `mean` (the mart's
    centre line of the latest segment) ending at the latest value, when it is `run_length` long or
    more. Missing (suppressed) values are left out of the run, not counted as breaking it. Its
    limits are the shift's own XmR limits (mean ± 2.66 × mean moving range of its points).
    """
    known = [(i, float(v)) for i, v in enumerate(values) if not _missing(v)]
    if _missing(mean) or not known:
        return None
    side = int(np.sign(known[-1][1] - mean))
    if side == 0:
        return None
    run = 0
    for _, value in reversed(known):
        if int(np.sign(value - mean)) != side:
            break
        run += 1
    if run < run_length:
        return None
    shift_values = [v for _, v in known[-run:]]
    # limits from the shift's points alone: MDC recalculates from the shift once it is sustained
    result = xmr(shift_values, polarity=polarity, target=target,  # type: ignore[arg-type]
                 settings=SpcSettings(min_points=run_length))
    last = result.points.iloc[-1]
    return Shift(start=known[-run][0], points=run, side=side, mean=float(last["mean"]),
                 lower=float(last["lower"]), upper=float(last["upper"]),
                 assurance=result.assurance_icon)


def reconcile_verdict(rag: str | None, assurance: str | None, shift: Shift | None) -> Verdict:
    """The assurance a tile shows and, where this month's RAG and that assurance seem to
    contradict each other, the sentence saying why both are true.

    In a shift the assurance is the current process's (the shift's limits), else the mart's.
    """
    shown = shift.assurance if shift is not None else assurance
    why = ""
    if rag == "green" and shown == "fail":
        why = ("On target this month, but the usual range lies wholly on the wrong side of the "
               "target, so most months are expected to miss it.")
    elif rag == "red" and shown == "pass":
        why = ("Off target this month, an unusual month: the usual range lies wholly on the right "
               "side of the target.")
    return Verdict(shift=shift, assurance=shown, why=why)


def red_red_reasons(row: Mapping, polarity: str) -> list[str]:
    """Why a mart row is red-red (worse than peers AND getting worse), or [] when it is not.

    Reads the mart's funnel_class (99.8% limits), variation_icon (as judged that month) and trend.
    A suppressed row is never red-red: its value is not shown, so it cannot be named.
    """
    if bool(row.get("suppressed")) or _missing(row.get("value")):
        return []
    bad_side = "above" if polarity == "lower" else "below"
    if row.get("funnel_class") != f"{bad_side}_998":
        return []
    worsening = []
    if str(row.get("variation_icon") or "").startswith("concern"):
        worsening.append("special cause of concern")
    bad_trend = "increasing" if polarity == "lower" else "decreasing"
    if row.get("trend") == bad_trend:
        worsening.append(f"significantly {bad_trend} over 5 months")
    if not worsening:
        return []
    return [f"{bad_side} the 99.8% funnel limit of its peers", *worsening]
