"""Why a mart value's inputs are known to be incomplete: which values are withheld and which are
provisional, each with the reason the mart keeps in `provisional_reason`.

Three cases (docs/decisions/0004-incomplete-inputs.md):

* a stay measure (counted by discharge month) before the look-back it needs is loaded: the
  stays ending that month that began before the spells data start are missing, so the value is
  withheld (value and intervals NULL; the loaded counts stay);
* a sum missing some practices' submissions (a late care-package return): provisional;
* an outcome counted some days after the month ends (reablement's 91 days): provisional until
  then, and while the outcome has not arrived.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from carekpi.periods import last_day
from kpi.catalogue import Kpi

# The look-back a discharge month needs: stays longer than this hold at most 2% of the bed days
# of emergency spells of people 65+ (the most sensitive stay measure), so a month with this
# much loaded before it is complete to within 2% on every stay KPI (see the decision record).
STAY_LOOKBACK_DAYS = 180

# Measures counted by the month a stay ends (etl.measures.spell_measures): a stay ending in the
# month may have begun long before it.
DISCHARGE_MEASURES = frozenset({
    "emergency_spells_ended", "emergency_bed_days", "emergency_length_sq_sum",
    "emergency_spells_ended_65", "emergency_spells_ended_65_los21plus", "emergency_bed_days_65",
    "emergency_bed_days_65_los_over10",
})


def stay_lookback_reasons(months: pd.DataFrame,
                          lookback_days: int = STAY_LOOKBACK_DAYS) -> dict[str, str]:
    """Discharge months whose stays are known to be incomplete, each with the reason.

    `months` holds the distinct (admission_period, discharge_period) pairs of the spells data
    ('' or None for a patient still in hospital). The data start with the first admission
    month that also holds discharges of that month (a month whose own spells are in). Stays
    already under way then are loaded when the data also hold admissions of the month before it
    (files split by discharge or episode end carry them); otherwise a discharge month is
    complete only once `lookback_days` of admissions before it are loaded.
    """
    admitted = months["admission_period"].fillna("")
    ended = months["discharge_period"].fillna("")
    own_month = admitted[(admitted != "") & (admitted == ended)]
    if own_month.empty:
        return {}
    first = pd.Period(own_month.min(), freq="M")
    if (admitted == str(first - 1)).any():
        return {}  # the stays under way when the data start are in the data
    reasons = {}
    for period in sorted(set(ended[ended != ""])):
        loaded = (pd.Period(period, freq="M").start_time - first.start_time).days
        if loaded < lookback_days:
            reasons[period] = (
                f"withheld: stays that began before {first} (the first month of spells data) "
                f"are missing; {max(loaded, 0)} days of admissions before this month are loaded, "
                f"{lookback_days} needed")
    return reasons


def missing_submissions(counts: pd.DataFrame) -> pd.DataFrame:
    """For each row of the long counts frame: how many practices with a list that month sent no
    care-package return into the sum (`missing_returns`), of how many (`expected_returns`).

    Only care packages: every practice submits them, whereas no spell row for a practice simply
    means no admission. Zero where nothing is missing.
    """
    out = pd.DataFrame({"missing_returns": 0.0, "expected_returns": 0.0}, index=counts.index)
    cp = counts["measure"].str.startswith("cp:") & (counts["level"] != "practice")
    if not cp.any():
        return out
    listed = counts[counts["measure"] == "registered_patients"].set_index(
        ["org_code", "period"])["contributors"]
    expected = pd.MultiIndex.from_frame(counts[["org_code", "period"]]).map(listed.to_dict())
    expected = pd.Series(expected, index=counts.index, dtype=float)
    missing = (expected - counts["contributors"]).clip(lower=0)
    late = (cp & (missing > 0)).fillna(False).astype(bool)
    out.loc[late, "missing_returns"] = missing[late]
    out.loc[late, "expected_returns"] = expected[late]
    return out


def missing_submission_reason(missing: pd.Series, expected: pd.Series) -> pd.Series:
    """The reason text of a sum lacking some practices' returns (None where none lack)."""
    text = ("provisional: " + missing.fillna(0).astype(int).astype(str) + " of "
            + expected.fillna(0).astype(int).astype(str)
            + " practices' returns not yet received")
    return text.where(missing.fillna(0) > 0, None)


def outcome_due_date(kpi: Kpi, period: str) -> date:
    """The day a month's outcome is complete: its last day plus the KPI's provisional days."""
    return last_day(period) + timedelta(days=kpi.provisional_days)


def outcome_reasons(kpi: Kpi, periods: pd.Series, awaiting: pd.Series,
                    today: date) -> pd.Series:
    """Reasons for a KPI whose outcome is counted after the month (provisional until the due
    date) and for a row whose numerator has not arrived (None where neither applies)."""
    reasons = pd.Series(None, index=periods.index, dtype=object)
    early = pd.Series(False, index=periods.index)
    if kpi.provisional_days:
        due = {p: outcome_due_date(kpi, p) for p in periods.unique()}
        early = periods.map(lambda p: today < due[p]).astype(bool)
        reasons = periods.map(lambda p: (
            f"provisional: outcomes are counted {kpi.provisional_days} days after the month, "
            f"final from {due[p].isoformat()}")).where(early, None)
    return reasons.where(~(awaiting & ~early), "provisional: numerator not yet received")


def join_reasons(*parts: pd.Series) -> pd.Series:
    """Row by row, the reasons that apply joined with '; ' (None where none applies)."""
    joined = parts[0].astype(object)
    for part in parts[1:]:
        both = joined.notna() & part.notna()
        joined = joined.where(joined.notna(), part)
        joined[both] = joined[both] + "; " + part[both]
    return joined
