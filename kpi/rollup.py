"""Summing an organisation's monthly counts to its parent through the membership valid that month.

Practices move between networks over time, so each month rolls up through the membership in
force in that month. The rule: **a month belongs to the membership that covers its first day**
(valid_from <= 1st <= valid_to, with valid_to inclusive and blank meaning still open). A practice
that moves mid-month counts for the whole month where it was on the 1st, and from the next month
in its new network. A practice that opens after the 1st has no membership on the 1st: its first
month goes to the earliest membership that starts within that month, so no count is lost. A
practice that closes counts up to and including the month its membership ends in.

Counts are summed (numerators and denominators separately; never averages of averages). A
parent's measure is missing (NA) when any of its children's is missing that month, so a partial
sum is never shown as the whole. Vectorised: one merge and a filter, no loop over organisations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

MEMBERSHIP_COLUMNS = ("child_code", "parent_code", "valid_from", "valid_to")


class RollupError(ValueError):
    """Facts that cannot be rolled up: no membership, or two memberships on the same day."""


def assign_parents(
    child_months: pd.DataFrame,
    membership: pd.DataFrame,
    *,
    child_col: str = "practice_code",
    period_col: str = "period",
) -> pd.DataFrame:
    """The parent of each distinct (child, period): columns child_col, period_col, parent_code.

    Children with no membership for a month are left out.

    Raises:
        RollupError: when two memberships of one child cover the same month's first day.
    """
    missing = [c for c in MEMBERSHIP_COLUMNS if c not in membership.columns]
    if missing:
        raise RollupError(f"membership lacks column(s) {missing}")
    keys = child_months[[child_col, period_col]].drop_duplicates()
    m = pd.DataFrame(
        {
            "child_code": membership["child_code"].astype(object).to_numpy(),
            "parent_code": membership["parent_code"].astype(object).to_numpy(),
            "valid_from": pd.to_datetime(membership["valid_from"]).to_numpy(),
            "valid_to": pd.to_datetime(membership["valid_to"]).to_numpy(),
        }
    )
    j = keys.astype({child_col: object}).merge(m, left_on=child_col, right_on="child_code")
    first = pd.to_datetime(j[period_col].astype(str) + "-01", format="%Y-%m-%d")
    last = first + pd.offsets.MonthEnd(0)
    start_ok = j["valid_from"].isna() | (j["valid_from"] <= first)
    covers = start_ok & (j["valid_to"].isna() | (j["valid_to"] >= first))
    starts_in_month = (j["valid_from"] > first) & (j["valid_from"] <= last)
    clash = j[covers].duplicated([child_col, period_col], keep=False)
    if clash.any():
        bad = j[covers][clash][[child_col, period_col, "parent_code"]].head(10)
        raise RollupError(
            "overlapping memberships (a child in two parents on a month's first day):\n"
            + bad.to_string(index=False)
        )
    j = j[covers | starts_in_month].assign(_rank=np.where(covers[covers | starts_in_month], 0, 1))
    j = j.sort_values([child_col, period_col, "_rank", "valid_from"])
    j = j.drop_duplicates([child_col, period_col], keep="first")
    return j[[child_col, period_col, "parent_code"]].reset_index(drop=True)


def rollup(
    facts: pd.DataFrame,
    membership: pd.DataFrame,
    *,
    child_col: str = "practice_code",
    measures: Sequence[str],
    by: Sequence[str] = (),
    period_col: str = "period",
    parent_col: str = "parent_code",
    unmatched: Literal["raise", "drop"] = "raise",
) -> pd.DataFrame:
    """Counts summed to the parent of each child in each month.

    The result keeps the period and the breakdown columns named in `by` (such as sex, age_band,
    package, element) as keys; any other column of `facts` is refused, so that a measure left
    out of `measures` is never silently taken for a key. `membership` has child_code,
    parent_code, valid_from and valid_to (dates; valid_to None or NaT = open).

    Returns:
        One row per parent x keys: parent_col, the key columns, then the summed measures.

    Raises:
        RollupError: facts for a child with no membership that month (unless unmatched="drop"),
            or overlapping memberships.
    """
    measures = list(measures)
    keys = [period_col, *by]
    absent = [c for c in [child_col, *keys, *measures] if c not in facts.columns]
    if absent:
        raise RollupError(f"facts lack column(s) {absent}")
    stray = [c for c in facts.columns if c not in {child_col, *keys, *measures}]
    if stray:
        raise RollupError(f"column(s) {stray} are neither measures nor keys (by=)")
    parents = assign_parents(facts, membership, child_col=child_col, period_col=period_col)
    merged = facts.astype({child_col: object}).merge(
        parents, on=[child_col, period_col], how="left", validate="many_to_one"
    )
    orphan = merged["parent_code"].isna()
    if orphan.any():
        if unmatched == "raise":
            bad = merged.loc[orphan, [child_col, period_col]].drop_duplicates().head(10)
            raise RollupError(
                f"{int(orphan.sum())} row(s) whose {child_col} has no membership in that month:\n"
                + bad.to_string(index=False)
            )
        merged = merged[~orphan]
    group = ["parent_code", *keys]
    grouped = merged.groupby(group, dropna=False, sort=True)
    sums = grouped[measures].sum(min_count=1)
    # Strict: one missing child value makes the parent's value missing.
    any_missing = merged[measures].isna().groupby(
        [merged[c] for c in group], dropna=False, sort=True
    ).any()
    sums = sums.mask(any_missing.to_numpy())
    out = sums.reset_index().rename(columns={"parent_code": parent_col})
    return out[[parent_col, *keys, *measures]]


def rollup_levels(
    facts: pd.DataFrame,
    memberships: Mapping[str, pd.DataFrame],
    *,
    child_col: str = "practice_code",
    child_level: str = "practice",
    measures: Sequence[str],
    by: Sequence[str] = (),
    period_col: str = "period",
    unmatched: Literal["raise", "drop"] = "raise",
) -> pd.DataFrame:
    """Counts at the child level and every level above it, stacked: level, org_code, keys, measures.

    `memberships` maps each higher level, lowest first, to the membership linking the level
    below to it (e.g. {"network": practice->network, "place": network->place,
    "system": place->system}). Each level is summed from the one below (sums compose).
    """
    current = facts.rename(columns={child_col: "org_code"})
    frames = [current.assign(level=child_level)]
    for level, membership in memberships.items():
        current = rollup(
            current, membership, child_col="org_code", measures=measures, by=by,
            period_col=period_col, parent_col="org_code", unmatched=unmatched,
        )
        frames.append(current.assign(level=level))
    out = pd.concat(frames, ignore_index=True)
    return out[["level", "org_code", *[c for c in out.columns if c not in ("level", "org_code")]]]
