"""One ETL at a time: a PostgreSQL advisory lock, or a lock file beside an SQLite warehouse."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout
from sqlalchemy import text
from sqlalchemy.engine import Engine

from carekpi.settings import Settings

# Arbitrary but fixed key shared by every carekpi ETL process on one PostgreSQL database; the
# second half of the two-part key is the warehouse's schema, so warehouses kept in different
# schemas of one database (the tests' throwaway schemas, a staging copy) do not block each other.
ADVISORY_KEY = 731_455_210


class LockBusy(RuntimeError):
    """Another ETL process holds the lock."""


@contextmanager
def etl_lock(engine: Engine, settings: Settings, wait: bool = True) -> Iterator[None]:
    """Hold the warehouse's ETL lock for the block; with wait=False raise LockBusy if taken."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            key = {"k": ADVISORY_KEY, "s": _schema_key(conn.execute(
                text("SELECT current_schema()")).scalar())}
            if wait:
                conn.execute(text("SELECT pg_advisory_lock(:k, :s)"), key)
            elif not conn.execute(text("SELECT pg_try_advisory_lock(:k, :s)"), key).scalar():
                raise LockBusy("another ETL process is loading this warehouse")
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k, :s)"), key)
                conn.commit()
        return
    lock = FileLock(str(_lock_path(engine, settings)))
    try:
        lock.acquire(timeout=-1 if wait else 0)
    except Timeout as exc:
        raise LockBusy("another ETL process is loading this warehouse") from exc
    try:
        yield
    finally:
        lock.release()


def _schema_key(schema: str | None) -> int:
    """A schema name as the signed 32-bit half of a two-part advisory-lock key."""
    value = zlib.crc32((schema or "").encode())
    return value - (1 << 32) if value >= 1 << 31 else value


def _lock_path(engine: Engine, settings: Settings) -> Path:
    database = engine.url.database
    if database and database != ":memory:":
        return Path(database).with_suffix(".etl.lock")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings.data_dir / "etl.lock"
