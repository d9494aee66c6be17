"""The read side over the KPI mart and the audit tables: one indexed query per dashboard question.

Used by the dashboard (through dashboard/queries.py), `carekpi export` and whatever comes next.
Every function takes an Engine or Connection and plain values and returns a DataFrame whose
columns its docstring lists. Suppression (kpis.md, "Small numbers") happens here, on the way out,
in one place: `suppress_rows`. Only `export --no-suppress` asks for the true counts.

Indexes each question uses (carekpi/warehouse.py): one organisation's rows by
`ix_kpi_mart_org_kpi` (org_code, kpi_id, form); one KPI's month by `ix_kpi_mart_kpi_period_level`
(kpi_id, period, level); membership is small (one row per organisation link) and read whole.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date

import pandas as pd
from sqlalchemy import and_, func, literal, or_, select, text, union_all
from sqlalchemy.engine import Connection, Engine

from carekpi import warehouse as wh
from carekpi.periods import first_day, last_day
from kpi.catalogue import load_catalogue
from kpi.payment import PackageTerms, PaymentTerms, payment_view, quarter_end_values
from kpi.suppression import SUPPRESSED, is_small

Bind = Engine | Connection

COUNT_COLUMNS = ("numerator", "denominator")
# Built on the counts, so hidden with them (the SPC mean and process limits describe the whole
# series, not one month's counts, so they stay).
HIDDEN_COLUMNS = ("value", "lower_95", "upper_95", "lower_998", "upper_998")
# Counts of the breakdown facts: each 1-7 is hidden on its own.
BREAKDOWN_COUNTS = ("delayed_days", "delayed_days_nhs", "delayed_days_social_care",
                    "delayed_days_both", "admissions", "emergency_admissions")
SUPPRESSIBLE = (*COUNT_COLUMNS, *HIDDEN_COLUMNS, *BREAKDOWN_COUNTS)

MART_COLUMNS = (
    "kpi_id", "level", "org_code", "period", "form", "numerator", "denominator", "value",
    "lower_95", "upper_95", "lower_998", "upper_998", "target", "rag", "spc_mean", "spc_lower",
    "spc_upper", "spc_special_cause", "variation_icon", "assurance_icon", "funnel_class", "trend",
    "provisional", "carried_forward", "suppressed", "provisional_reason",
)
# design.md "Interfaces": the export's columns, in this order (then any other mart columns); the
# analyst API (dashboard/api.py) answers with the same.
EXPORT_COLUMNS = [
    "kpi_id", "level", "org_code", "org_name", "period", "numerator", "denominator", "value",
    "lower_95", "upper_95", "lower_998", "upper_998", "target", "rag", "spc_mean", "spc_lower",
    "spc_upper", "spc_special_cause", "variation_icon", "assurance_icon", "funnel_class", "trend",
    "provisional", "suppressed", "provisional_reason",
]
# Feeds whose every practice submits each month, with the fact table and its month column.
PRACTICE_FEEDS = {
    "population": (wh.population, "period"),
    "care_packages": (wh.care_package_fact, "period"),
    "spells": (wh.spell_fact, "admission_period"),
}


@contextmanager
def _connected(bind: Bind) -> Iterator[Connection]:
    if isinstance(bind, Connection):
        yield bind
    else:
        with bind.connect() as conn:
            yield conn


def _read(bind: Bind, query) -> pd.DataFrame:
    with _connected(bind) as conn:
        return wh.read_frame(conn, query)


# --- suppression ------------------------------------------------------------------------------
def suppress_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy fit to leave the system: small counts and the values built on them are NaN.

    A row is suppressed when its numerator or denominator is 1-7 or the mart flags it. In such a
    row each small count is NaN (both counts where only the mart's flag says so), and so are the
    value and its 95% and 99.8% limits; a count that is not small stays (kpis.md: the small count
    is '*', the rates built on it are not shown). Breakdown counts (BREAKDOWN_COUNTS) are hidden
    one by one. `suppressed` says which rows were touched.
    """
    out = frame.copy()
    counts = [c for c in COUNT_COLUMNS if c in out.columns]
    small = pd.DataFrame({c: is_small(out[c]) for c in counts}, index=out.index)
    any_small = small.any(axis=1) if counts else pd.Series(False, index=out.index)
    flagged = (out["suppressed"].fillna(False).astype(bool) if "suppressed" in out.columns
               else pd.Series(False, index=out.index))
    row = any_small | flagged
    for column in counts:
        out[column] = out[column].astype(float).mask(small[column] | (flagged & ~any_small))
    for column in [c for c in HIDDEN_COLUMNS if c in out.columns]:
        out[column] = out[column].astype(float).mask(row)
    for column in [c for c in BREAKDOWN_COUNTS if c in out.columns]:
        tiny = is_small(out[column])
        out[column] = out[column].astype(float).mask(tiny)
        row = row | tiny
    out["suppressed"] = row.astype(bool)
    return out


def csv_frame(frame: pd.DataFrame, unsuppressed: pd.DataFrame | None = None) -> pd.DataFrame:
    """What a CSV download writes: in each suppressed row, hidden counts and values read '*'.

    Given the same rows before suppression, a count they lack (a 91-day outcome not yet known)
    stays empty rather than '*'.
    """
    out = frame.copy()
    if "suppressed" not in out.columns:
        return out
    rows = out["suppressed"].fillna(False).astype(bool)
    for column in [c for c in SUPPRESSIBLE if c in out.columns]:
        hidden = rows & out[column].isna()
        if unsuppressed is not None and column in COUNT_COLUMNS:
            hidden &= unsuppressed[column].notna()
        out[column] = out[column].astype(object).where(~hidden, SUPPRESSED)
    return out


def _finish(frame: pd.DataFrame, suppress: bool) -> pd.DataFrame:
    """Booleans as booleans (SQLite returns 0/1), then suppression unless asked not to."""
    for column in ("provisional", "carried_forward", "suppressed"):
        if column in frame.columns:
            frame[column] = frame[column].fillna(False).astype(bool)
    return suppress_rows(frame) if suppress else frame


def _mart(*columns: str):
    m = wh.kpi_mart
    return [m.c[c] for c in (columns or MART_COLUMNS)]


# --- organisations ----------------------------------------------------------------------------
def memberships(bind: Bind) -> pd.DataFrame:
    """Every child -> parent link: child_code, parent_code, valid_from, valid_to."""
    m = wh.membership
    return _read(bind, select(m.c.child_code, m.c.parent_code, m.c.valid_from, m.c.valid_to))


def _links(bind: Bind, *, children: Sequence[str] | None = None,
           parent: str | None = None) -> list[tuple]:
    """Membership rows (child, parent, valid_from, valid_to) of the given children, or of every
    child that `parent` ever had; all rows when the list of children is long."""
    m = wh.membership
    query = select(m.c.child_code, m.c.parent_code, m.c.valid_from, m.c.valid_to)
    if parent is not None:
        query = query.where(m.c.child_code.in_(
            select(m.c.child_code).where(m.c.parent_code == parent)))
    elif children is not None and len(children) <= 500:  # else one read beats a huge IN list
        query = query.where(m.c.child_code.in_(list(children)))
    with _connected(bind) as conn:
        return [tuple(r) for r in conn.execute(query)]


def _parent_on(links: Sequence[tuple], period: str) -> dict[str, str]:
    """Each child's parent in a month, as kpi.rollup.assign_parents decides it: the link covering
    the month's first day, else one starting within the month (the earliest)."""
    first, last = first_day(period), last_day(period)
    best: dict[str, tuple] = {}
    for child, parent, start, end in links:
        if (start is None or start <= first) and (end is None or end >= first):
            key = (0, start or date.min)
        elif start is not None and first < start <= last:
            key = (1, start)
        else:
            continue
        if child not in best or key < best[child][0]:
            best[child] = (key, parent)
    return {child: parent for child, (_, parent) in best.items()}


def parents_in(bind: Bind, codes: Sequence[str], period: str) -> dict[str, str]:
    """Each code's parent in the month `period` (codes with none that month are left out)."""
    if not codes:
        return {}
    wanted = set(codes)
    found = _parent_on(_links(bind, children=list(wanted)), period)
    return {c: p for c, p in found.items() if c in wanted}


def members_in(bind: Bind, parent_code: str, period: str) -> list[str]:
    """Codes of the children whose parent in the month `period` is `parent_code`, sorted."""
    found = _parent_on(_links(bind, parent=parent_code), period)
    return sorted(c for c, p in found.items() if p == parent_code)


def organisations(bind: Bind) -> pd.DataFrame:
    """Every organisation: org_code, level, org_name, parent_code (current parent or None),
    has_data (it has at least one mart value), ordered by level (smallest first) and code.

    The current parent is the link with no end date, else the latest-starting one.
    """
    o, m = wh.organisation, wh.kpi_mart
    # a probe of the (org_code, ...) index per organisation, stopping at the first value
    has_data = select(m.c.org_code).where(m.c.org_code == o.c.org_code,
                                          m.c.value.is_not(None)).exists()
    orgs = _read(bind, select(o.c.org_code, o.c.level, o.c.org_name,
                              has_data.label("has_data")))
    links = memberships(bind)
    links = links.assign(_open=links["valid_to"].isna()).sort_values(
        ["child_code", "_open", "valid_from"])
    current = links.drop_duplicates("child_code", keep="last").set_index("child_code")
    orgs["parent_code"] = orgs["org_code"].map(current["parent_code"])
    orgs["parent_code"] = orgs["parent_code"].astype(object).where(orgs["parent_code"].notna(),
                                                                   None)
    orgs["has_data"] = orgs["has_data"].astype(bool)
    rank = {level: i for i, level in enumerate(("practice", "network", "place", "system"))}
    orgs = orgs.sort_values(["level", "org_code"], key=lambda s: s.map(rank).fillna(9)
                            if s.name == "level" else s)
    return orgs[["org_code", "level", "org_name", "parent_code", "has_data"]].reset_index(
        drop=True)


def parent_chain(orgs: pd.DataFrame, org_code: str) -> list[str]:
    """Codes from the top ancestor down to `org_code` (a breadcrumb), from `organisations()`."""
    parent = orgs.set_index("org_code")["parent_code"]
    chain = [org_code]
    while (up := parent.get(chain[0])) and up not in chain:
        chain.insert(0, up)
    return chain


# --- mart questions ---------------------------------------------------------------------------
def kpi_series(bind: Bind, kpi_id: str, org_code: str, *, form: str = "month",
               suppress: bool = True) -> pd.DataFrame:
    """One organisation's series of one KPI, oldest first (MART_COLUMNS)."""
    m = wh.kpi_mart
    query = select(*_mart()).where(m.c.org_code == org_code, m.c.kpi_id == kpi_id,
                                   m.c.form == form).order_by(m.c.period)
    return _finish(_read(bind, query), suppress)


def org_month(bind: Bind, org_code: str, period: str, *, suppress: bool = True) -> pd.DataFrame:
    """One organisation's every KPI (both forms) for one month, by KPI id (MART_COLUMNS)."""
    m = wh.kpi_mart
    query = select(*_mart()).where(m.c.org_code == org_code, m.c.period == period).order_by(
        m.c.kpi_id, m.c.form)
    return _finish(_read(bind, query), suppress)


def org_kpis(bind: Bind, org_code: str, *, form: str = "month",
             suppress: bool = True) -> pd.DataFrame:
    """One organisation's every KPI and month, by KPI then newest month first (MART_COLUMNS)."""
    m = wh.kpi_mart
    query = select(*_mart()).where(m.c.org_code == org_code, m.c.form == form).order_by(
        m.c.kpi_id, m.c.period.desc())
    return _finish(_read(bind, query), suppress)


def kpi_month(bind: Bind, kpi_id: str, period: str, level: str, *,
              parent_code: str | None = None, form: str = "month",
              suppress: bool = True) -> pd.DataFrame:
    """One KPI and month for every organisation of a level (only the children of `parent_code`
    that month, if given): the funnel's and ranked bars' points, by org_code.

    Columns: MART_COLUMNS plus org_name and parent_code (the parent that month, or None).
    """
    m, o = wh.kpi_mart, wh.organisation
    query = (select(*_mart(), o.c.org_name)
             .join(o, o.c.org_code == m.c.org_code, isouter=True)
             .where(m.c.kpi_id == kpi_id, m.c.period == period, m.c.level == level,
                    m.c.form == form).order_by(m.c.org_code))
    with _connected(bind) as conn:
        if parent_code is not None:
            query = query.where(m.c.org_code.in_(members_in(conn, parent_code, period)))
        rows = wh.read_frame(conn, query)
        parents = parents_in(conn, rows["org_code"].tolist(), period)
    rows["parent_code"] = rows["org_code"].map(parents)
    rows["parent_code"] = rows["parent_code"].astype(object).where(rows["parent_code"].notna(),
                                                                   None)
    return _finish(rows, suppress)


IN_BATCH = 900  # codes per IN list: under SQLite's oldest bound-parameter limit (999)


def orgs_month(bind: Bind, org_codes: Sequence[str], kpi_ids: Sequence[str], period: str, *,
               form: str = "month", suppress: bool = True) -> pd.DataFrame:
    """Every given KPI of a set of organisations (a practice's peers) for one month, by KPI and
    org_code (MART_COLUMNS plus org_name).

    One query per 900 codes instead of one whole-level read per KPI: each (kpi_id, org_code,
    period, form) is a seek of the mart's primary key.
    """
    m, o = wh.kpi_mart, wh.organisation
    codes, ids = sorted(set(org_codes)), sorted(set(kpi_ids))
    parts = []
    with _connected(bind) as conn:
        for start in range(0, max(len(codes), 1), IN_BATCH):
            query = (select(*_mart(), o.c.org_name)
                     .join(o, o.c.org_code == m.c.org_code, isouter=True)
                     .where(m.c.kpi_id.in_(ids), m.c.org_code.in_(codes[start:start + IN_BATCH]),
                            m.c.period == period, m.c.form == form))
            parts.append(wh.read_frame(conn, query))
    rows = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    rows = rows.sort_values(["kpi_id", "org_code"]).reset_index(drop=True)
    return _finish(rows, suppress)


def network_matrix(bind: Bind, network_code: str, period: str, *,
                   suppress: bool = True) -> pd.DataFrame:
    """Every monthly KPI for one month of a network's practices (that month's members), the
    network itself and its area (the network's parent that month).

    Columns: MART_COLUMNS plus org_name and row_kind ('area', 'network' or 'practice'); ordered
    area, network, then practices by code, each by KPI id.
    """
    m, o = wh.kpi_mart, wh.organisation
    with _connected(bind) as conn:
        practices = members_in(conn, network_code, period)
        area = parents_in(conn, [network_code], period).get(network_code)
        roles = {code: "practice" for code in practices} | {network_code: "network"}
        if area:
            roles[area] = "area"
        query = (select(*_mart(), o.c.org_name)
                 .join(o, o.c.org_code == m.c.org_code, isouter=True)
                 .where(m.c.org_code.in_(list(roles)), m.c.period == period,
                        m.c.form == "month"))
        rows = wh.read_frame(conn, query)
    rows["row_kind"] = rows["org_code"].map(roles)
    order = rows["row_kind"].map({"area": 0, "network": 1, "practice": 2})
    rows = rows.assign(_order=order).sort_values(["_order", "org_code", "kpi_id"]).drop(
        columns="_order").reset_index(drop=True)
    return _finish(rows, suppress)


def kpi_elements(bind: Bind, kpi_id: str, org_code: str, period: str, *,
                 suppress: bool = True) -> pd.DataFrame:
    """The care-package element KPIs under a headline KPI for one organisation and month
    (MART_COLUMNS plus element), by KPI id; empty for a KPI without elements."""
    drilldowns = {k.id: k.element for k in load_catalogue() if k.drilldown_of == kpi_id}
    if not drilldowns:
        return pd.DataFrame(columns=[*MART_COLUMNS, "element"])
    m = wh.kpi_mart
    query = select(*_mart()).where(m.c.org_code == org_code, m.c.kpi_id.in_(list(drilldowns)),
                                   m.c.form == "month", m.c.period == period).order_by(m.c.kpi_id)
    rows = _finish(_read(bind, query), suppress)
    rows["element"] = rows["kpi_id"].map(drilldowns)
    return rows


def months(bind: Bind, *, kpi_id: str | None = None, org_code: str | None = None) -> list[str]:
    """The months with mart rows ('YYYY-MM', oldest first) for a KPI, an organisation, or both.

    Raises:
        ValueError: neither given (every month of the whole mart is no one question's answer).
    """
    if kpi_id is None and org_code is None:
        raise ValueError("months() needs a kpi_id, an org_code or both")
    m = wh.kpi_mart
    query = select(m.c.period).distinct().order_by(m.c.period)
    if kpi_id is not None:
        query = query.where(m.c.kpi_id == kpi_id)
    if org_code is not None:
        query = query.where(m.c.org_code == org_code)
    return _read(bind, query)["period"].tolist()


# Every (KPI, month) of the mart by a skip scan of the (kpi_id, period, ...) index: one seek per
# KPI and month instead of reading millions of rows; then one probe for a value in each.
_COVERAGE = text("""
WITH RECURSIVE ids(kpi_id) AS (
    SELECT MIN(kpi_id) FROM kpi_mart
    UNION ALL
    SELECT (SELECT MIN(m.kpi_id) FROM kpi_mart m WHERE m.kpi_id > ids.kpi_id)
    FROM ids WHERE ids.kpi_id IS NOT NULL
),
months(kpi_id, period) AS (
    SELECT ids.kpi_id, (SELECT MIN(m.period) FROM kpi_mart m WHERE m.kpi_id = ids.kpi_id)
    FROM ids WHERE ids.kpi_id IS NOT NULL
    UNION ALL
    SELECT months.kpi_id, (SELECT MIN(m.period) FROM kpi_mart m
                           WHERE m.kpi_id = months.kpi_id AND m.period > months.period)
    FROM months WHERE months.period IS NOT NULL
)
SELECT months.kpi_id,
       (SELECT m.form FROM kpi_mart m WHERE m.kpi_id = months.kpi_id
        AND m.period = months.period LIMIT 1) AS form,
       months.period,
       CASE WHEN EXISTS (SELECT 1 FROM kpi_mart m WHERE m.kpi_id = months.kpi_id
                         AND m.period = months.period AND m.value IS NOT NULL)
            THEN 1 ELSE 0 END AS n_values
FROM months WHERE months.period IS NOT NULL
ORDER BY months.kpi_id, months.period
""")


def kpi_coverage(bind: Bind) -> pd.DataFrame:
    """Which KPIs have values in which months: kpi_id, form, period, n_values (1 when some
    organisation has a value that month, 0 when its rows there have none).

    n_values says whether, not how many: counting would read the whole mart (seconds at
    national scale), while this answers from index seeks. A KPI id has one form.
    """
    rows = _read(bind, _COVERAGE)
    rows["n_values"] = rows["n_values"].astype(int)
    return rows


def latest_months(bind: Bind, kpi_ids: Sequence[str] | None = None) -> dict[str, str]:
    """The latest month with data of each KPI ({kpi_id: 'YYYY-MM'}; KPIs with none left out).

    One max() per KPI, each answered from the (kpi_id, period, level) index; default: every
    KPI of the catalogue.
    """
    m = wh.kpi_mart
    ids = list(kpi_ids) if kpi_ids is not None else [k.id for k in load_catalogue()]
    if not ids:
        return {}
    parts = [select(literal(k).label("kpi_id"),
                    select(func.max(m.c.period)).where(m.c.kpi_id == k).scalar_subquery()
                    .label("period")) for k in ids]
    rows = _read(bind, union_all(*parts))
    return {r.kpi_id: r.period for r in rows.itertuples() if isinstance(r.period, str)}


def latest_month(bind: Bind, kpi_id: str | None = None) -> str | None:
    """The latest month with data of one KPI, or of any KPI; None before any data."""
    found = latest_months(bind, None if kpi_id is None else [kpi_id])
    return max(found.values(), default=None)


def provisional_months(bind: Bind, org_code: str) -> pd.DataFrame:
    """One organisation's provisional mart rows: kpi_id, form, period, provisional_reason."""
    m = wh.kpi_mart
    query = select(m.c.kpi_id, m.c.form, m.c.period, m.c.provisional_reason).where(
        m.c.org_code == org_code, m.c.provisional.is_(True)).order_by(m.c.period, m.c.kpi_id)
    return _read(bind, query)


def annotations(bind: Bind, org_code: str, kpi_id: str | None = None) -> pd.DataFrame:
    """Notes on an organisation's charts: annotation_id, period, kpi_id (None: every KPI), text,
    rebase; with `kpi_id`, only that KPI's and the every-KPI notes. Oldest first."""
    a = wh.annotation
    query = select(a.c.annotation_id, a.c.period, a.c.kpi_id, a.c.text, a.c.rebase).where(
        a.c.org_code == org_code)
    if kpi_id is not None:
        query = query.where(or_(a.c.kpi_id == kpi_id, a.c.kpi_id.is_(None)))
    rows = _read(bind, query.order_by(a.c.period, a.c.annotation_id))
    rows["rebase"] = rows["rebase"].astype(bool)
    return rows


# --- breakdowns from the facts ----------------------------------------------------------------
def _arriving_codes(bind: Bind, org_code: str, period: str | None) -> list[str]:
    """The organisation and its children (that month, or now): network-level facts of a place
    are its networks' rows."""
    if period is None:
        links = memberships(bind)
        return [org_code, *links.loc[links["parent_code"] == org_code, "child_code"]]
    return [org_code, *members_in(bind, org_code, period)]


def _network_fact(bind: Bind, table, org_code: str, period: str | None, by: Sequence[str],
                  counts: Sequence[str]) -> pd.DataFrame:
    """Counts of a fact arriving at network (or place) level for one organisation, by period
    and `by`: the sum of its children's rows, or in a month they have none, its own (as the
    mart rolls up: a place's own return does not double its networks')."""
    codes = _arriving_codes(bind, org_code, period)
    query = select(table.c.org_code, table.c.period, *[table.c[c] for c in (*by, *counts)]).where(
        table.c.org_code.in_(codes))
    if period is not None:
        query = query.where(table.c.period == period)
    rows = _read(bind, query)
    child_months = set(rows.loc[rows["org_code"] != org_code, "period"])
    rows = rows[(rows["org_code"] != org_code) | ~rows["period"].isin(child_months)]
    summed = rows.groupby(["period", *by], as_index=False)[list(counts)].sum(min_count=1)
    return suppress_rows(summed.sort_values(["period", *by]).reset_index(drop=True))


def delay_reasons(bind: Bind, org_code: str, period: str | None = None) -> pd.DataFrame:
    """Delayed days by reason: period, reason_code, delayed_days (suppressed), suppressed."""
    return _network_fact(bind, wh.delay_reason_fact, org_code, period, ["reason_code"],
                         ["delayed_days"])


def delay_responsibility(bind: Bind, org_code: str, period: str | None = None) -> pd.DataFrame:
    """Delayed days by responsible organisation: period, delayed_days_nhs,
    delayed_days_social_care, delayed_days_both (suppressed), suppressed."""
    return _network_fact(bind, wh.delayed_transfer_fact, org_code, period, [],
                         ["delayed_days_nhs", "delayed_days_social_care", "delayed_days_both"])


def _practices_under(bind: Bind, org_code: str, period: str) -> list[str]:
    """The practices under an organisation in a month (itself, if a practice)."""
    o = wh.organisation
    codes = [org_code]
    level = _read(bind, select(o.c.level).where(o.c.org_code == org_code))["level"]
    if not level.empty and level.iloc[0] == "practice":
        return codes
    practices: list[str] = []
    while codes:
        children = [c for code in codes for c in members_in(bind, code, period)]
        kinds = _read(bind, select(o.c.org_code, o.c.level).where(o.c.org_code.in_(children)))
        practices += kinds.loc[kinds["level"] == "practice", "org_code"].tolist()
        codes = kinds.loc[kinds["level"] != "practice", "org_code"].tolist()
    return sorted(practices)


def spell_breakdown(bind: Bind, org_code: str, period: str) -> pd.DataFrame:
    """Admissions in a month by age band and sex for an organisation's practices: age_band,
    sex, admissions, emergency_admissions (suppressed), suppressed."""
    s = wh.spell_fact
    practices = _practices_under(bind, org_code, period)
    query = (select(s.c.age_band, s.c.sex, func.sum(s.c.admissions).label("admissions"),
                    func.sum(s.c.emergency_admissions).label("emergency_admissions"))
             .where(s.c.practice_code.in_(practices), s.c.admission_period == period)
             .group_by(s.c.age_band, s.c.sex).order_by(s.c.age_band, s.c.sex))
    return suppress_rows(_read(bind, query))


# --- loads and data quality -------------------------------------------------------------------
LOAD_COLUMNS = ("load_id", "feed", "layout", "file_name", "periods", "rows_read", "rows_loaded",
                "rows_refused", "status", "error_summary", "archive_path", "started_at",
                "finished_at")


def recent_loads(bind: Bind, limit: int = 50) -> pd.DataFrame:
    """The latest audit rows, newest first (LOAD_COLUMNS)."""
    e = wh.etl_load
    return _read(bind, select(*[e.c[c] for c in LOAD_COLUMNS]).order_by(
        e.c.load_id.desc()).limit(limit))


def refused_loads(bind: Bind, limit: int = 200) -> pd.DataFrame:
    """Files refused, and loaded files with rows refused, newest first, with their reasons
    (LOAD_COLUMNS; error_summary names file, row, column and rule)."""
    e = wh.etl_load
    query = select(*[e.c[c] for c in LOAD_COLUMNS]).where(
        or_(e.c.status == "refused", e.c.rows_refused > 0)).order_by(e.c.load_id.desc())
    return _read(bind, query.limit(limit))


def _periods_of(text: str | None) -> list[str]:
    return [p.strip() for p in (text or "").replace(";", ",").split(",") if p.strip()]


def feed_freshness(bind: Bind) -> pd.DataFrame:
    """Each feed's last successful load: feed, load_id, finished_at, latest_period (the newest
    month any of its loads carried), by feed."""
    e = wh.etl_load
    loads = _read(bind, select(e.c.feed, e.c.load_id, e.c.finished_at, e.c.periods).where(
        e.c.status == "loaded", e.c.feed.is_not(None)).order_by(e.c.load_id))
    columns = ["feed", "load_id", "finished_at", "latest_period"]
    if loads.empty:
        return pd.DataFrame(columns=columns)
    loads["latest_period"] = loads["periods"].map(lambda t: max(_periods_of(t), default=None))
    last = loads.groupby("feed").agg(load_id=("load_id", "max"),
                                     finished_at=("finished_at", "max"),
                                     latest_period=("latest_period", "max"))
    return last.reset_index()[columns]


def practice_feed_months(bind: Bind, practice_code: str) -> dict[str, str | None]:
    """Each practice-level feed's latest month for one practice ({feed: 'YYYY-MM' or None})."""
    parts = [select(literal(feed).label("feed"), func.max(table.c[col]).label("period"))
             .where(table.c.practice_code == practice_code)
             for feed, (table, col) in PRACTICE_FEEDS.items()]
    rows = _read(bind, union_all(*parts))
    return {feed: period if isinstance(period, str) else None
            for feed, period in zip(rows["feed"], rows["period"], strict=True)}


def feed_months(bind: Bind, feeds: Sequence[str]) -> dict[str, list[str]]:
    """The months each feed's loaded files carried ({feed: ['YYYY-MM', ...] oldest first}),
    from the load audit (small), not from scanning the facts."""
    e = wh.etl_load
    loads = _read(bind, select(e.c.feed, e.c.periods).where(
        e.c.status == "loaded", e.c.feed.in_(list(feeds))))
    months: dict[str, set[str]] = {feed: set() for feed in feeds}
    for feed, periods in zip(loads["feed"], loads["periods"], strict=True):
        months[feed].update(_periods_of(periods))
    return {feed: sorted(found) for feed, found in months.items()}


def missing_submissions(bind: Bind, *, last_months: int = 3) -> pd.DataFrame:
    """Practices open in a month a practice-level feed covers (a loaded file carried it) with no
    rows of their own, over each feed's last `last_months` months.

    One NOT EXISTS probe of the fact's (practice_code, month, ...) key per open practice.
    Columns: feed, period, practice_code, org_name, parent_code (that month); by feed, period
    and practice.
    """
    o = wh.organisation
    found = []
    with _connected(bind) as conn:
        covered = feed_months(conn, list(PRACTICE_FEEDS))
        for feed, (table, col) in PRACTICE_FEEDS.items():
            for period in covered[feed][-last_months:] if last_months > 0 else []:
                first, last = first_day(period), last_day(period)
                own_rows = select(table.c.practice_code).where(
                    table.c.practice_code == o.c.org_code, table.c[col] == period).exists()
                query = select(o.c.org_code.label("practice_code"), o.c.org_name).where(
                    o.c.level == "practice",
                    or_(o.c.open_date.is_(None), o.c.open_date <= last),
                    or_(o.c.close_date.is_(None), o.c.close_date >= first), ~own_rows)
                missing = wh.read_frame(conn, query)
                if missing.empty:
                    continue
                parents = parents_in(conn, missing["practice_code"].tolist(), period)
                found.append(missing.assign(feed=feed, period=period, parent_code=[
                    parents.get(code) for code in missing["practice_code"]]))
    columns = ["feed", "period", "practice_code", "org_name", "parent_code"]
    if not found:
        return pd.DataFrame(columns=columns)
    out = pd.concat(found, ignore_index=True)[columns]
    out["parent_code"] = out["parent_code"].astype(object).where(out["parent_code"].notna(), None)
    return out.sort_values(["feed", "period", "practice_code"]).reset_index(drop=True)


# --- payment and export -----------------------------------------------------------------------
def default_payment_terms() -> PaymentTerms:
    """Tower Hamlets defaults: every care package's headline KPI, 70/30, all or nothing."""
    headline = [k.id for k in load_catalogue()
                if k.family == "care_packages" and k.element == "complete"]
    return PaymentTerms(terms=tuple(PackageTerms(kpi_id=k) for k in headline))


def payment_status(bind: Bind, terms: PaymentTerms | None = None, year: str | None = None,
                   network_code: str | None = None) -> pd.DataFrame:
    """Each network's (or one network's) care-package KPIs at each quarter end against target,
    and what is earned (kpis.md "Payment view"); `year` like '2024/25' keeps one financial
    year. Columns as `kpi.payment.payment_view`; a suppressed value earns nothing shown."""
    terms = terms or default_payment_terms()
    ids = sorted({t.kpi_id for t in terms.terms})
    m = wh.kpi_mart
    query = select(m.c.kpi_id, m.c.org_code, m.c.period, m.c.numerator, m.c.denominator,
                   m.c.value, m.c.target, m.c.suppressed).where(
        m.c.kpi_id.in_(ids), m.c.level == "network", m.c.form == "month")
    if network_code is not None:
        query = query.where(m.c.org_code == network_code)
    monthly = _finish(_read(bind, query), suppress=True)
    quarters = quarter_end_values(monthly[["kpi_id", "org_code", "period", "value", "target"]])
    if year:
        quarters = quarters[quarters["year"] == year]
    return payment_view(quarters, terms)


def mart_rows(bind: Bind, *, kpi_id: str | None = None, level: str | None = None,
              from_month: str | None = None, to_month: str | None = None,
              suppress: bool = True) -> pd.DataFrame:
    """Mart rows with organisation names (MART_COLUMNS plus org_name), filtered, ordered by KPI,
    form, level, organisation and month: what `carekpi export` writes."""
    m, o = wh.kpi_mart, wh.organisation
    query = select(*_mart(), o.c.org_name).join(o, o.c.org_code == m.c.org_code, isouter=True)
    conditions = [
        m.c.kpi_id == kpi_id if kpi_id else None,
        m.c.level == level if level else None,
        m.c.period >= from_month if from_month else None,
        m.c.period <= to_month if to_month else None,
    ]
    conditions = [c for c in conditions if c is not None]
    if conditions:
        query = query.where(and_(*conditions))
    query = query.order_by(m.c.kpi_id, m.c.form, m.c.level, m.c.org_code, m.c.period)
    return _finish(_read(bind, query), suppress)



def export_rows(bind: Bind, *, suppress: bool = True, **filters) -> pd.DataFrame:
    """The rows `carekpi export` writes for mart_rows' filters: EXPORT_COLUMNS then the other
    mart columns; suppressed, hidden counts and values read '*' (kpis.md), unless not asked."""
    rows = mart_rows(bind, suppress=False, **filters)
    if suppress:  # unsuppressed, the mart's flag still says which rows are small
        rows = csv_frame(suppress_rows(rows), unsuppressed=rows)
    extra = [c for c in rows.columns if c not in EXPORT_COLUMNS]
    return rows[[*EXPORT_COLUMNS, *extra]]


def practices_under(bind: Bind, org_code: str, period: str) -> list[str]:
    """The practices under an organisation in a month (itself, if a practice), sorted."""
    return _practices_under(bind, org_code, period)


def every_annotation(bind: Bind) -> pd.DataFrame:
    """Every annotation as `carekpi annotations load` reads them: org_code, period, text, kpi_id,
    rebase; by organisation, month and id."""
    a = wh.annotation
    rows = _read(bind, select(a.c.org_code, a.c.period, a.c.text, a.c.kpi_id, a.c.rebase)
                 .order_by(a.c.org_code, a.c.period, a.c.annotation_id))
    rows["rebase"] = rows["rebase"].astype(bool)
    return rows


RED_RED_COLUMNS = ["kpi_id", "level", "org_code", "org_name", "period", "value", "reasons"]


def red_red(bind: Bind, org_code: str, period: str) -> pd.DataFrame:
    """The networks and practices under `org_code` in a month that are worse than their peers
    and getting worse (kpi.verdicts.red_red_reasons, on suppressed rows: a hidden value is never
    named), by KPI, level (networks first) and code: RED_RED_COLUMNS, reasons joined by '; '."""
    from kpi.verdicts import red_red_reasons

    found = []
    with _connected(bind) as conn:
        practices = set(_practices_under(conn, org_code, period))
        networks = set(members_in(conn, org_code, period)) - practices
        for kpi in load_catalogue():
            if kpi.drilldown_of or kpi.rolling_of:
                continue
            for level, codes in (("network", networks), ("practice", practices)):
                if not codes or level not in kpi.levels:
                    continue
                rows = kpi_month(conn, kpi.id, period, level)
                for row in rows[rows["org_code"].isin(codes)].to_dict("records"):
                    reasons = red_red_reasons(row, kpi.polarity)
                    if reasons:
                        found.append({**{c: row.get(c) for c in RED_RED_COLUMNS[:-1]},
                                      "reasons": "; ".join(reasons)})
    return pd.DataFrame(found, columns=RED_RED_COLUMNS)
