"""Observed and expected admissions for the indirectly standardised ratios (kpis.md, "Fair
comparison for age and sex"), by practice and month.

For each admission count that has a standardised ratio KPI (`ea_rate_sr`, `ea_rate_65_sr`,
`ea_acsc_rate_sr`), and each month that has spells:

* strata are sex (M, F) x five-year age band; admissions of unknown sex or age, and of a practice
  with no registered population that month, are in no stratum and counted in neither observed
  nor expected (so that over the reference group the two are equal);
* the reference rate of a stratum is the admissions / registered patients of every practice in
  the warehouse that month: the area's rates, or England's when the warehouse holds every
  practice of the national extract (`reference_group` names which);
* expected = sum over strata of the practice's registered patients (the latest extract, carried
  forward as for the crude rate) x the reference rate; observed = its admissions in the strata.

They are ordinary count measures (`observed_<count>`, `expected_<count>`), so the mart sums them
to networks (expected adds up because every practice shares the month's reference rates) and
turns them into ratio x 100 with Byar/exact limits on the observed count, as for any count KPI.
"""

from __future__ import annotations

import logging

import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Connection

from carekpi import warehouse as wh
from etl.measures import BANDS_65PLUS, MEASURE_COLUMNS, carry_forward
from kpi.standardise import expected_events, reference_rates

__all__ = ["NATIONAL_PRACTICES", "STANDARDISED_COUNTS", "expected_name", "observed_name",
           "reference_group", "standardised_measures"]

log = logging.getLogger(__name__)

# The admission count of each standardised ratio, and the age bands it covers (None: all).
STANDARDISED_COUNTS: dict[str, tuple[str, ...] | None] = {
    "emergency_admissions": None,
    "emergency_admissions_65": BANDS_65PLUS,
    "acsc_emergency_admissions": None,
}
STRATA = ["sex", "age_band"]
# England has about 6,500 practices; an area (an ICB) a few hundred at most. A month whose
# registrations cover this many practices is national data, so its reference is England's.
NATIONAL_PRACTICES = 6000


def reference_group(practices: int) -> str:
    """The name of the standard for a month whose reference covers `practices` practices."""
    return "England" if practices >= NATIONAL_PRACTICES else "the area"


def observed_name(count: str) -> str:
    return f"observed_{count}"


def expected_name(count: str) -> str:
    return f"expected_{count}"


def standardised_measures(conn: Connection, periods: list[str] | None = None) -> pd.DataFrame:
    """observed_<count> and expected_<count> per practice and month (org_code, period,
    measure, value, carried_forward), for the months with spells (all, or those asked for)."""
    events = _stratum_admissions(conn, periods)
    if events.empty:
        return pd.DataFrame(columns=[*MEASURE_COLUMNS, "carried_forward"])
    population = _stratum_population(conn, sorted(events["period"].unique()))
    if population.empty:
        return pd.DataFrame(columns=[*MEASURE_COLUMNS, "carried_forward"])
    keys = ["practice_code", "period"]
    # events with no registered population in their stratum belong to no stratum
    events = events.merge(population[[*keys, *STRATA]], on=[*keys, *STRATA], how="inner")
    carried = population.groupby(keys)["carried_forward"].any()
    practices = population.groupby("period")["practice_code"].nunique()
    log.info("standardised ratios: %s's age-sex rates (%d practices in the latest month)",
             reference_group(int(practices.iloc[-1])), practices.iloc[-1])
    parts = []
    for count, bands in STANDARDISED_COUNTS.items():
        pop = population if bands is None else population[population["age_band"].isin(bands)]
        ev = events if bands is None else events[events["age_band"].isin(bands)]
        # one month's strata are that month's: the period is part of every stratum
        rates = reference_rates(ev, pop, by=["period", *STRATA], events_col=count)
        expected = expected_events(pop, rates, org_col=keys, by=["period", *STRATA])
        observed = ev.groupby(keys)[count].sum().reindex(expected.index, fill_value=0)
        parts += [observed.rename(observed_name(count)), expected.rename(expected_name(count))]
    wide = pd.concat(parts, axis=1)
    wide["carried_forward"] = carried.reindex(wide.index).fillna(False).astype(bool)
    out = wide.reset_index().melt([*keys, "carried_forward"], var_name="measure")
    return out.rename(columns={"practice_code": "org_code"})[[*MEASURE_COLUMNS,
                                                               "carried_forward"]]


def _stratum_admissions(conn: Connection, periods: list[str] | None) -> pd.DataFrame:
    """practice_code, period (admission month), sex, age_band and each standardised count."""
    t = wh.spell_fact
    query = select(t.c.practice_code, t.c.admission_period, t.c.sex, t.c.age_band,
                   t.c.emergency_admissions, t.c.acsc_emergency_admissions)
    if periods:
        query = query.where(t.c.admission_period.in_(periods))
    spells = wh.read_frame(conn, query)
    if spells.empty:
        return spells
    spells["emergency_admissions_65"] = spells["emergency_admissions"].where(
        spells["age_band"].isin(BANDS_65PLUS), 0)
    spells = spells.rename(columns={"admission_period": "period"})
    counts = list(STANDARDISED_COUNTS)
    return spells.groupby(["practice_code", "period", *STRATA], as_index=False)[counts].sum()


def _stratum_population(conn: Connection, periods: list[str]) -> pd.DataFrame:
    """practice_code, period, sex, age_band, patients, carried_forward: registered patients by
    sex and five-year band in each month asked for, the latest earlier extract carried forward
    while the practice is open (as the crude rates' denominators)."""
    pop = wh.read_frame(conn, select(wh.population))
    pop = pop[pop["sex"].isin(["M", "F"]) & (pop["age_band"] != "ALL")]
    if pop.empty:
        return pd.DataFrame(columns=["practice_code", "period", *STRATA, "patients",
                                     "carried_forward"])
    # one column per stratum, named as carry_forward expects its value columns
    pop = pop.assign(stratum="registered_" + pop["sex"] + "|" + pop["age_band"])
    # (practice, period, sex, band) is the table's key, so each cell holds one count
    wide = pop.set_index(["practice_code", "period", "stratum"])["patients"].unstack()
    wide = wide.reset_index().rename_axis(columns=None)
    closes = wh.read_frame(conn, select(wh.organisation.c.org_code, wh.organisation.c.close_date))
    wide = carry_forward(wide, periods, closes.set_index("org_code")["close_date"].dropna())
    long = wide.melt(["practice_code", "period", "carried_forward"], var_name="stratum",
                     value_name="patients").dropna(subset=["patients"])
    names = {s: s.removeprefix("registered_").split("|") for s in long["stratum"].unique()}
    long["sex"] = long["stratum"].map({s: sex for s, (sex, _) in names.items()})
    long["age_band"] = long["stratum"].map({s: band for s, (_, band) in names.items()})
    long["patients"] = long["patients"].astype(float)
    return long[["practice_code", "period", *STRATA, "patients", "carried_forward"]]
