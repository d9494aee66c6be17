"""Fair comparison for age and sex: indirectly standardised ratios of observed to expected.

Practices differ widely in the age of their patients, so their crude admission rates mislead.
For each organisation, expected = sum over sex x five-year age band of its registered population
x the reference group's rate in that band (the reference group is the area, or England where
national data are loaded); the ratio is observed / expected x 100, with the observed count's
Poisson limits (exact under 10, Byar's approximation from 10) divided by expected. This is the
method of PHE's technical guidance on standardised ratios (as PHEindicatormethods' `phe_isr`).
See docs/methods/standardisation.md.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from kpi.intervals import byar

STRATA = ("sex", "age_band")
MULTIPLIER = 100  # a ratio of 100 means "as many as expected"
_TOTAL_LABEL = "ALL"  # population files carry all-ages / both-sexes rows: never a stratum


def _check_strata(frame: pd.DataFrame, by: Sequence[str], what: str) -> None:
    missing = [c for c in by if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks stratum column(s) {missing}")
    for col in by:
        if (frame[col].astype(str) == _TOTAL_LABEL).any():
            raise ValueError(
                f"{what} has '{_TOTAL_LABEL}' rows in {col!r}: keep only single sexes and bands"
            )


def reference_rates(
    events: pd.DataFrame,
    population: pd.DataFrame,
    *,
    by: Sequence[str] = STRATA,
    events_col: str = "events",
    population_col: str = "patients",
) -> pd.DataFrame:
    """The reference group's rate in each stratum: columns `by`..., events, patients, rate.

    `events` and `population` hold the reference group's counts by stratum (any further
    columns, such as the organisation, are summed over).
    """
    by = list(by)
    _check_strata(events, by, "events")
    _check_strata(population, by, "population")
    e = events.groupby(by, dropna=False)[events_col].sum().rename("events")
    p = population.groupby(by, dropna=False)[population_col].sum().rename("patients")
    out = pd.concat([e, p], axis=1).fillna({"events": 0}).reset_index()
    if out["patients"].isna().any():
        bad = out.loc[out["patients"].isna(), by].to_dict("records")
        raise ValueError(f"events in stratum with no reference population: {bad[:5]}")
    out["events"] = out["events"].astype(float)
    out["patients"] = out["patients"].astype(float)
    out["rate"] = out["events"] / out["patients"].where(out["patients"] > 0)
    return out


def expected_events(
    population: pd.DataFrame,
    rates: pd.DataFrame,
    *,
    org_col: str | Sequence[str] = "org_code",
    by: Sequence[str] = STRATA,
    population_col: str = "patients",
) -> pd.Series:
    """Expected events for each organisation: sum over strata of its population x the rate.

    `org_col` may be several columns (e.g. organisation and month, with the month also among
    `by` so that each month has its own rates); the result is indexed by them.

    Raises:
        ValueError: an organisation has population in a stratum with no reference rate.
    """
    by = list(by)
    keys = [org_col] if isinstance(org_col, str) else list(org_col)
    _check_strata(population, by, "population")
    columns = list(dict.fromkeys([*keys, *by, population_col]))
    joined = population[columns].merge(
        rates[[*by, "rate"]], on=by, how="left", validate="many_to_one"
    )
    unrated = joined["rate"].isna() & (joined[population_col] > 0)
    if unrated.any():
        bad = joined.loc[unrated, by].drop_duplicates().to_dict("records")
        raise ValueError(f"no reference rate for stratum/strata {bad[:5]}")
    contribution = joined[population_col].astype(float) * joined["rate"].fillna(0.0)
    return contribution.groupby([joined[k] for k in keys]).sum().rename("expected")


def standardised_ratio(
    observed: pd.Series,
    expected: pd.Series,
    *,
    confidences: Sequence[float] = (0.95, 0.998),
) -> pd.DataFrame:
    """The standardised ratio (x100) with its limits for each organisation.

    `observed` and `expected` are Series indexed by organisation code. Returns columns observed,
    expected, ratio and lower_/upper_ for each confidence (lower_95, upper_95, lower_998, ...);
    NaN where expected is 0.
    """
    frame = pd.concat(
        [observed.rename("observed").astype(float), expected.rename("expected").astype(float)],
        axis=1,
    )
    frame["observed"] = frame["observed"].fillna(0.0)  # an organisation with no events
    per_expected = MULTIPLIER / frame["expected"].where(frame["expected"] > 0)
    frame["ratio"] = frame["observed"] * per_expected
    for confidence in confidences:
        label = f"{confidence * 100:g}".replace(".", "")
        lower, upper = byar(frame["observed"], confidence)
        frame[f"lower_{label}"] = lower * per_expected
        frame[f"upper_{label}"] = upper * per_expected
    return frame


def standardised_rate(ratios: pd.DataFrame, rates: pd.DataFrame, *,
                      multiplier: float) -> pd.DataFrame:
    """The indirectly standardised rate: each ratio and limit / 100 x the reference group's
    crude rate (its events / patients over every stratum of `rates`) x `multiplier`.

    `ratios` is `standardised_ratio`'s frame; observed and expected are kept, the others scaled.
    """
    crude = rates["events"].sum() / rates["patients"].sum()
    out = ratios.copy()
    scaled = [c for c in out.columns if c not in ("observed", "expected")]
    out[scaled] = out[scaled] / MULTIPLIER * crude * multiplier
    return out.rename(columns={"ratio": "rate"})


def indirectly_standardise(
    events: pd.DataFrame,
    population: pd.DataFrame,
    *,
    org_col: str = "org_code",
    by: Sequence[str] = STRATA,
    events_col: str = "events",
    population_col: str = "patients",
    rates: pd.DataFrame | None = None,
    confidences: Sequence[float] = (0.95, 0.998),
) -> pd.DataFrame:
    """Standardised ratios for the organisations of `population`, one row each (index org_col).

    `events` and `population` are by organisation x stratum (sex, five-year age band). The
    reference rates default to those of all the organisations given together (the area);
    pass `rates` (from `reference_rates`, e.g. England's) to compare against another group.
    """
    if rates is None:
        rates = reference_rates(
            events, population, by=by, events_col=events_col, population_col=population_col
        )
    expected = expected_events(
        population, rates, org_col=org_col, by=by, population_col=population_col
    )
    observed = events.groupby(org_col)[events_col].sum().reindex(expected.index, fill_value=0)
    return standardised_ratio(observed, expected, confidences=confidences).rename_axis(org_col)
