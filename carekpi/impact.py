"""Programme impact from the warehouse: the counts, the start, the estimate and the peers.

The model is kpi/impact.py (pure); this module reads the mart and the annotations for it and
suppresses what leaves (kpis.md, "Small numbers"). Used by `carekpi impact` and the impact page.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select

from carekpi import read
from carekpi import warehouse as wh
from kpi.impact import COUNT_KPIS, ImpactError, Tariff, estimate_impact, suppress_impact
from kpi.suppression import SUPPRESSED

PEER_COLUMNS = ("org_code", "org_name", "role", "month", "value")


def count_series(bind: read.Bind, kpi_id: str, org_code: str) -> pd.DataFrame:
    """An organisation's monthly counts of a count KPI: month, count, population (true counts:
    the model needs them; what leaves is suppressed by `programme_impact`)."""
    if kpi_id not in COUNT_KPIS:
        raise ImpactError(f"{kpi_id!r} is not a count KPI; impact is estimated for "
                          f"{', '.join(COUNT_KPIS)}")
    rows = read.kpi_series(bind, kpi_id, org_code, suppress=False)
    if rows.empty:
        raise ImpactError(f"no {kpi_id} data for organisation {org_code!r}")
    return pd.DataFrame({"month": rows["period"], "count": rows["numerator"],
                         "population": rows["denominator"]})


def programme_start(bind: read.Bind, org_code: str, kpi_id: str | None = None,
                    annotation_id: int | None = None) -> str:
    """The month a programme started: annotation `annotation_id`'s, else the organisation's
    latest annotation (for `kpi_id` or every KPI). Raises ImpactError when there is none."""
    if annotation_id is not None:
        a = wh.annotation
        with read._connected(bind) as conn:
            row = conn.execute(select(a.c.period, a.c.org_code).where(
                a.c.annotation_id == annotation_id)).first()
        if row is None:
            raise ImpactError(f"there is no annotation {annotation_id}")
        return str(row.period)
    notes = read.annotations(bind, org_code, kpi_id)
    if notes.empty:
        raise ImpactError(f"organisation {org_code!r} has no annotation to take the programme "
                          "start from: give the start month (YYYY-MM)")
    return str(notes["period"].iloc[-1])


def programme_impact(bind: read.Bind, kpi_id: str, org_code: str, start: str,
                     tariff: Tariff) -> pd.DataFrame:
    """kpi.impact.COLUMNS plus `suppressed`, one row per month, small numbers suppressed."""
    series = count_series(bind, kpi_id, org_code)
    impact = estimate_impact(series, start, unit_cost=tariff.unit_cost(kpi_id))
    return suppress_impact(impact)


def peer_values(bind: read.Bind, kpi_id: str, org_code: str) -> pd.DataFrame:
    """The KPI's monthly value for the organisation, the other organisations under its parent
    (other networks of the area) and England when national data are loaded (more than one
    system: the sum of the systems' counts). PEER_COLUMNS; suppressed values are NaN."""
    orgs = read.organisations(bind).set_index("org_code")
    parent = orgs["parent_code"].get(org_code)
    codes = [org_code]
    if parent:
        codes += [c for c in orgs.index[orgs["parent_code"] == parent] if c != org_code]
    m = wh.kpi_mart
    query = select(m.c.org_code, m.c.level, m.c.period, m.c.numerator, m.c.denominator,
                   m.c.value, m.c.suppressed).where(
        m.c.kpi_id == kpi_id, m.c.form == "month",
        m.c.org_code.in_(codes) | (m.c.level == "system")).order_by(m.c.period)
    rows = read._finish(read._read(bind, query), suppress=False)
    systems = rows[rows["level"] == "system"]
    frames = []
    ours = read.suppress_rows(rows[rows["org_code"].isin(codes)])
    frames.append(pd.DataFrame({
        "org_code": ours["org_code"], "org_name": ours["org_code"].map(orgs["org_name"]),
        "role": ours["org_code"].map(lambda c: "chosen" if c == org_code else "peer"),
        "month": ours["period"], "value": ours["value"]}))
    if systems["org_code"].nunique() > 1:
        totals = systems.groupby("period")[["numerator", "denominator"]].sum()
        scale = _value_scale(rows)
        frames.append(pd.DataFrame({
            "org_code": "ENG", "org_name": "England", "role": "england",
            "month": totals.index,
            "value": totals["numerator"] / totals["denominator"] * scale.reindex(totals.index)}))
    return pd.concat(frames, ignore_index=True)[list(PEER_COLUMNS)]


def _value_scale(rows: pd.DataFrame) -> pd.Series:
    """Each month's multiplier from numerator/denominator to value (per 1,000, per 100,000;
    dtoc_rate also divides by the month's days), read off that month's own rows."""
    usable = rows.dropna(subset=["value", "numerator", "denominator"])
    usable = usable[usable["numerator"] > 0]
    ratio = usable["value"] * usable["denominator"] / usable["numerator"]
    return ratio.groupby(usable["period"]).median()


def impact_csv(impact: pd.DataFrame) -> pd.DataFrame:
    """What a CSV of the impact writes: one row per month, figures rounded to one decimal
    (pounds to whole pounds), the suppressed ones '*'."""
    out = impact.round(1)
    out["cumulative_cost"] = impact["cumulative_cost"].round(0)
    rows = out["suppressed"]
    for column in ("actual", "difference", "cumulative_difference", "cumulative_lower",
                   "cumulative_upper", "cumulative_cost"):
        hidden = rows & out[column].isna() & (out["phase"] == "programme"
                                              if column.startswith("cumulative") else True)
        out[column] = out[column].astype(object).where(~hidden, SUPPRESSED)
    return out
