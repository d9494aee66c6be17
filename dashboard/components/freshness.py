"""The freshness banner every page shows: the month on screen, which months are provisional, when
each feed was last loaded, and practices whose latest month lags the area's."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from dash import html

from dashboard.state import Org, kpi_label
from dashboard.theme import month_label
from kpi.catalogue import get_kpi

FEED_NAMES = {
    "organisations": "Organisations (ODS)", "population": "Registered population",
    "spells": "Hospital spells", "care_packages": "Care packages",
    "delayed_transfers": "Delayed transfers of care", "reablement": "Reablement",
    "care_home_admissions": "Care-home admissions",
}
MAX_LAGGING = 10  # practices named in the banner; the data-quality page lists them all


def loaded_text(finished_at: object) -> str:
    """'20 Sep 2026 14:05' (UTC) for a load's finish time; 'unknown' when missing."""
    if finished_at is None or (not isinstance(finished_at, str) and pd.isna(finished_at)):
        return "unknown"
    stamp = pd.Timestamp(finished_at)
    return f"{stamp.day} {stamp.strftime('%b %Y %H:%M')}"


def provisional_text(provisional: pd.DataFrame) -> str:
    """'Jun 2026 to Aug 2026 (At home 91 days after reablement)' for each KPI with provisional
    months, or '' when none."""
    if provisional.empty:
        return ""
    parts = []
    for kpi_id, rows in provisional.groupby("kpi_id", sort=True):
        periods = sorted(set(rows["period"]))
        span = month_label(periods[0]) if len(periods) == 1 else (
            f"{month_label(periods[0])} to {month_label(periods[-1])}")
        try:
            name = kpi_label(get_kpi(kpi_id))
        except KeyError:
            name = kpi_id
        parts.append(f"{name}: {span}")
    return "; ".join(parts)


def lagging_practices(feed_months: dict[str, dict[str, str | None]],
                      latest: dict[str, str], orgs: dict[str, Org]) -> list[str]:
    """'Oak Surgery (Y91022): Hospital spells to Jul 2026 (area: Aug 2026)' for each practice
    whose latest month of a practice-level feed is before that feed's latest month."""
    found = []
    for code, months in sorted(feed_months.items()):
        behind = [f"{FEED_NAMES.get(feed, feed)} to "
                  f"{month_label(month) if month else 'no month'} "
                  f"(area: {month_label(latest[feed])})"
                  for feed, month in months.items()
                  if latest.get(feed) and (month is None or month < latest[feed])]
        if behind:
            label = orgs[code].label if code in orgs else code
            found.append(f"{label}: {', '.join(behind)}")
    return found


def missing_lines(missing: pd.DataFrame, orgs: dict[str, Org]) -> list[str]:
    """'Oak Surgery (Y91022): no Hospital spells for Aug 2026' for each practice missing from a
    feed's latest month (rows of carekpi.read.missing_submissions)."""
    lines = []
    for code, rows in missing.groupby("practice_code", sort=True):
        label = orgs[code].label if code in orgs else code
        gaps = ", ".join(f"no {FEED_NAMES.get(r.feed, r.feed)} for {month_label(r.period)}"
                         for r in rows.itertuples(index=False))
        lines.append(f"{label}: {gaps}")
    return lines


def page_freshness(org: Org | None, month: str | None, orgs: dict[str, Org],
                   kpi_ids: Sequence[str] | None = None) -> html.Aside:
    """The banner for an organisation's page, from the warehouse (dashboard.queries).

    Provisional months are those of the KPIs `kpi_ids` (a KPI page passes its KPI), else of every
    KPI. A practice is flagged when a practice-level feed's latest month for it is before the
    area's; for a network or an area, its practices missing from each feed's latest month are
    named.
    """
    from dashboard import queries  # here, so the pure functions above import no database code

    feeds = queries.feed_freshness()
    if org is None:
        return freshness_banner(month, feeds, pd.DataFrame(columns=["kpi_id", "period"]))
    provisional = queries.provisional_months(org.code)
    if kpi_ids is not None:
        provisional = provisional[provisional["kpi_id"].isin(list(kpi_ids))]
    if org.level == "practice":
        latest = {f: p for f, p in zip(feeds["feed"], feeds["latest_period"], strict=True)
                  if isinstance(p, str)}
        lagging = lagging_practices({org.code: queries.practice_feed_months(org.code)}, latest,
                                    orgs)
    else:
        missing = queries.missing_submissions(1)
        if org.level == "network":
            missing = missing[missing["parent_code"] == org.code]
        elif org.level == "place" and month:
            missing = missing[missing["parent_code"].isin(queries.members(org.code, month))]
        lagging = missing_lines(missing, orgs)
    return freshness_banner(month, feeds, provisional, lagging)


def freshness_banner(month: str | None, feeds: pd.DataFrame, provisional: pd.DataFrame,
                     lagging: Sequence[str] = (), **props) -> html.Aside:
    """The banner: month shown and provisional months up front, feeds' loads in a <details>.

    Args:
        month: the month the page shows ('YYYY-MM'), None before any data.
        feeds: feed, finished_at, latest_period (carekpi.read.feed_freshness).
        provisional: kpi_id, period of the organisation's provisional rows.
        lagging: lines from `lagging_practices`.
    """
    shown = f"Showing {month_label(month)}." if month else "No data loaded yet."
    lines = [html.P([html.Strong(shown), " ", _provisional_sentence(provisional)],
                    className="freshness-month")]
    if lagging:
        more = len(lagging) - MAX_LAGGING
        lines.append(html.Div([
            html.Strong("⚠ Behind the area: "),
            html.Ul([html.Li(line) for line in lagging[:MAX_LAGGING]]
                    + ([html.Li(f"and {more} more (see Data quality)")] if more > 0 else [])),
        ], className="freshness-lagging"))
    loads = [html.Li(f"{FEED_NAMES.get(r.feed, r.feed)}: loaded {loaded_text(r.finished_at)}"
                     + (f", data to {month_label(r.latest_period)}"
                        if isinstance(r.latest_period, str) else ""))
             for r in feeds.itertuples(index=False)]
    lines.append(html.Details([html.Summary("When each feed was last loaded"),
                               html.Ul(loads or [html.Li("No feed loaded yet.")])]))
    return html.Aside(lines, className="freshness", **{"aria-label": "Data freshness"}, **props)


def _provisional_sentence(provisional: pd.DataFrame) -> str:
    text = provisional_text(provisional)
    if not text:
        return "No month shown is provisional."
    return f"Provisional (figures may still change): {text}."
