"""The warehouse: table definitions, the engine, and the one place that knows the dialects."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    false,
    text,
)
from sqlalchemy.engine import Connection, Engine

metadata = MetaData()


def _count(name: str) -> Column:
    return Column(name, Integer, nullable=True)


# --- dimensions -------------------------------------------------------------------------------
organisation = Table(
    "organisation",
    metadata,
    Column("org_code", String(16), primary_key=True),
    Column("level", String(12), nullable=False),  # practice | network | place | system
    Column("org_name", Text),
    Column("open_date", Date),
    Column("close_date", Date),
    Column("load_id", Integer),
)

# child -> parent with effective dates (practice->network, network->place, place->system).
membership = Table(
    "membership",
    metadata,
    Column("child_code", String(16), primary_key=True),
    Column("parent_code", String(16), primary_key=True),
    Column("valid_from", Date, primary_key=True),
    Column("valid_to", Date),
    Column("load_id", Integer),
)

population = Table(
    "population",
    metadata,
    Column("practice_code", String(16), primary_key=True),
    Column("period", String(7), primary_key=True),
    Column("sex", String(3), primary_key=True),  # M | F | ALL
    Column("age_band", String(6), primary_key=True),  # 0_4 ... 95+ | ALL
    _count("patients"),
    Column("load_id", Integer),
    Index("ix_population_period", "period"),
)

# --- facts (counts, never percentages) --------------------------------------------------------
SPELL_MEASURES = (
    "admissions",
    "emergency_admissions",
    "acsc_emergency_admissions",
    "emergency_bed_days",
    "emergency_los_sq_sum",
    "emergency_stays_7plus",
    "emergency_stays_21plus",
    "emergency_long_stay_bed_days",
    "emergency_discharges",
)
# Spells aggregated on the way in. Admission counts (from the spell's first episode) read by
# admission_period; discharge and length-of-stay measures (from the episode that closes the
# spell) by discharge_period ('' when the discharge is not in the row). coverage_period and
# coverage_org are what the contributing file restates (HES: episode-end month x provider; native
# CSV: admission month, '' for all providers): a later file of the same coverage replaces them.
spell_fact = Table(
    "spell_fact",
    metadata,
    Column("practice_code", String(16), primary_key=True),
    Column("admission_period", String(7), primary_key=True),
    Column("discharge_period", String(7), primary_key=True),
    Column("sex", String(3), primary_key=True),
    Column("age_band", String(7), primary_key=True),
    # '' when a row was written without a coverage (by hand, not by a load).
    Column("coverage_period", String(7), primary_key=True, server_default=""),
    Column("coverage_org", String(16), primary_key=True, server_default=""),
    *[_count(m) for m in SPELL_MEASURES],
    Column("load_id", Integer),
    Index("ix_spell_fact_discharge", "discharge_period"),
)

commissioner_admissions = Table(
    "commissioner_admissions",
    metadata,
    Column("org_code", String(16), primary_key=True),
    Column("period", String(7), primary_key=True),
    _count("emergency_admissions"),
    Column("load_id", Integer),
)

care_package_fact = Table(
    "care_package_fact",
    metadata,
    Column("practice_code", String(16), primary_key=True),
    Column("period", String(7), primary_key=True),
    Column("package", String(32), primary_key=True),
    Column("element", String(48), primary_key=True),
    _count("register"),
    _count("completed"),
    Column("load_id", Integer),
)

delayed_transfer_fact = Table(
    "delayed_transfer_fact",
    metadata,
    Column("org_code", String(16), primary_key=True),
    Column("period", String(7), primary_key=True),
    _count("delayed_days_nhs"),
    _count("delayed_days_social_care"),
    _count("delayed_days_both"),
    Column("load_id", Integer),
)

delay_reason_fact = Table(
    "delay_reason_fact",
    metadata,
    Column("org_code", String(16), primary_key=True),
    Column("period", String(7), primary_key=True),
    Column("reason_code", String(8), primary_key=True),
    _count("delayed_days"),
    Column("load_id", Integer),
)

reablement_fact = Table(
    "reablement_fact",
    metadata,
    Column("org_code", String(16), primary_key=True),
    Column("period", String(7), primary_key=True),
    _count("discharged_65_into_reablement"),
    _count("at_home_91_days"),  # null until the 91-day outcome is known
    _count("episodes_ended"),
    _count("no_further_support"),
    Column("load_id", Integer),
)

care_home_fact = Table(
    "care_home_fact",
    metadata,
    Column("org_code", String(16), primary_key=True),
    Column("period", String(7), primary_key=True),
    _count("admissions_65_residential"),
    _count("admissions_65_nursing"),
    Column("load_id", Integer),
)

# --- mart ------------------------------------------------------------------------------------
kpi_mart = Table(
    "kpi_mart",
    metadata,
    Column("kpi_id", String(64), primary_key=True),
    Column("org_code", String(16), primary_key=True),
    Column("period", String(7), primary_key=True),
    Column("form", String(12), primary_key=True),  # month | rolling12
    Column("level", String(12), nullable=False),
    Column("numerator", Float),
    Column("denominator", Float),
    Column("value", Float),
    Column("lower_95", Float),
    Column("upper_95", Float),
    Column("lower_998", Float),
    Column("upper_998", Float),
    Column("target", Float),
    Column("rag", String(8)),
    Column("spc_mean", Float),
    Column("spc_lower", Float),
    Column("spc_upper", Float),
    Column("spc_special_cause", String(16)),
    Column("variation_icon", String(24)),
    Column("assurance_icon", String(16)),
    Column("funnel_class", String(12)),
    Column("trend", String(24)),
    Column("provisional", Boolean, nullable=False, default=False),
    Column("carried_forward", Boolean, nullable=False, default=False),
    # a count from 1 to 7 (kpis.md): shown as '*' wherever the row leaves the system
    Column("suppressed", Boolean, nullable=False, default=False, server_default=false()),
    # why a value is provisional or withheld (its inputs are known to be incomplete)
    Column("provisional_reason", Text),
    Index("ix_kpi_mart_kpi_period_level", "kpi_id", "period", "level"),
    Index("ix_kpi_mart_org_kpi", "org_code", "kpi_id", "form"),
)

annotation = Table(
    "annotation",
    metadata,
    Column("annotation_id", Integer, primary_key=True, autoincrement=True),
    Column("org_code", String(16), nullable=False),
    Column("period", String(7), nullable=False),
    Column("kpi_id", String(64)),  # null = every KPI of the organisation
    Column("text", Text, nullable=False),
    Column("rebase", Boolean, nullable=False, default=False),
)

# --- audit -----------------------------------------------------------------------------------
etl_load = Table(
    "etl_load",
    metadata,
    Column("load_id", Integer, primary_key=True, autoincrement=True),
    Column("feed", String(32)),
    Column("layout", String(48)),
    Column("file_name", Text, nullable=False),
    Column("content_hash", String(64), nullable=False, index=True),
    Column("periods", Text),
    Column("rows_read", Integer),
    Column("rows_loaded", Integer),
    Column("rows_refused", Integer),
    Column("status", String(16), nullable=False),  # loaded | duplicate | refused
    Column("error_summary", Text),
    Column("archive_path", Text),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("duration_s", Float),
)

# Rows a later file replaced: the earlier version's figures and when they were superseded.
etl_revision = Table(
    "etl_revision",
    metadata,
    Column("revision_id", Integer, primary_key=True, autoincrement=True),
    Column("table_name", String(48), nullable=False),
    Column("replaced_load_id", Integer),
    Column("superseded_by_load_id", Integer, nullable=False, index=True),
    Column("superseded_at", DateTime(timezone=True), nullable=False),
    Column("org_code", String(16)),
    Column("period", String(7)),
    Column("figures", Text, nullable=False),  # JSON of the replaced row
)

# What each load restated: the (organisation, period) units of a fact table it replaced. A
# later load of the same unit replaces that load's contribution; other units add up.
etl_coverage = Table(
    "etl_coverage",
    metadata,
    Column("load_id", Integer, primary_key=True),
    Column("table_name", String(48), primary_key=True),
    Column("org_code", String(16), primary_key=True),  # '' = every organisation in the file
    Column("period", String(7), primary_key=True),
)

FACT_TABLES: dict[str, Table] = {
    t.name: t
    for t in (population, spell_fact, commissioner_admissions, care_package_fact,
              delayed_transfer_fact, delay_reason_fact, reablement_fact, care_home_fact)
}


def make_engine(url: str, schema: str | None = None) -> Engine:
    """An engine for the warehouse; `schema` pins PostgreSQL's search_path (tests use this)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60})
        if engine.url.database and engine.url.database != ":memory:":
            Path(engine.url.database).parent.mkdir(parents=True, exist_ok=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # WAL lets the dashboard read during a load
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    args = {"options": f"-csearch_path={schema}"} if schema else {}
    return create_engine(url, connect_args=args, pool_pre_ping=True)


def is_postgres(conn: Connection | Engine) -> bool:
    return conn.dialect.name == "postgresql"


def bulk_insert(conn: Connection, table: Table, frame: pd.DataFrame) -> int:
    """Insert a frame's rows set-wise: COPY on PostgreSQL, executemany on SQLite.

    Only the table's columns present in the frame are written; NA becomes NULL.
    """
    if frame.empty:
        return 0
    columns = [c.name for c in table.columns if c.name in frame.columns]
    rows = _plain_rows(frame[columns])
    if is_postgres(conn):
        raw = conn.connection.dbapi_connection
        with raw.cursor() as cur:
            cols = ", ".join(f'"{c}"' for c in columns)
            with cur.copy(f'COPY "{table.name}" ({cols}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
    else:
        placeholders = ", ".join("?" for _ in columns)
        cols = ", ".join(f'"{c}"' for c in columns)
        raw = conn.connection.dbapi_connection
        raw.cursor().executemany(
            f'INSERT INTO "{table.name}" ({cols}) VALUES ({placeholders})', rows
        )
    return len(rows)


def _plain_rows(frame: pd.DataFrame) -> list[tuple]:
    """Rows as tuples of plain Python values (None for any NA), as DB-API drivers want them."""
    out = frame.astype(object).where(frame.notna(), None)
    return list(out.itertuples(index=False, name=None))


def read_frame(conn: Connection, query, params: dict | None = None) -> pd.DataFrame:
    """A query's result as a DataFrame (SQLAlchemy Core select or text)."""
    result = conn.execute(query, params or {})
    # Plain tuples: pandas probes Row objects attribute by attribute, which is slow at scale.
    return pd.DataFrame([tuple(row) for row in result.fetchall()], columns=list(result.keys()))


def table_digest(conn: Connection, tables: Iterable[Table] | None = None) -> dict[str, str]:
    """A content digest per table (sorted rows as CSV, hashed): equal digests mean equal content."""
    digests = {}
    for table in tables or metadata.sorted_tables:
        rows = conn.execute(table.select()).fetchall()
        buf = io.StringIO()
        csv.writer(buf).writerows(sorted(tuple(map(str, r)) for r in rows))
        digests[table.name] = hashlib.sha256(buf.getvalue().encode()).hexdigest()
    return digests


def delete_keys(conn: Connection, table: Table, keys: pd.DataFrame) -> None:
    """Delete the rows of `table` matching each row of `keys` (its columns are table columns)."""
    if keys.empty:
        return
    names: Sequence[str] = list(keys.columns)
    cond = " AND ".join(f'"{c}" = :{c}' for c in names)
    conn.execute(text(f'DELETE FROM "{table.name}" WHERE {cond}'),
                 [dict(zip(names, r, strict=True)) for r in _plain_rows(keys)])
