"""Shared fixtures: a fresh warehouse on SQLite and PostgreSQL, settings, the real data folder."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from carekpi.migrate import upgrade
from carekpi.settings import Settings
from carekpi.warehouse import make_engine

REPO = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get(
    "CAREKPI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REAL_DATA = Path(os.environ.get("CAREKPI_REAL_DATA", REPO.parent / "shared" / "data" / "real"))
GOLDEN_DATA = Path(os.environ.get("CAREKPI_GOLDEN_DATA",
                                  REPO.parent / "shared" / "data" / "golden"))


def _postgres_required() -> bool:
    return bool(os.environ.get("CAREKPI_REQUIRE_POSTGRES") or os.environ.get("CI"))


def _postgres_reason() -> str | None:
    """None when the test PostgreSQL answers, else why not."""
    try:
        with create_engine(PG_URL).connect() as conn:
            conn.execute(text("SELECT 1"))
        return None
    except Exception as exc:  # any driver or network failure means "not available here"
        return f"PostgreSQL not reachable at {PG_URL}: {exc.__class__.__name__}"


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The shared real public NHS files, read in place (skips where the folder is absent)."""
    if not REAL_DATA.is_dir():
        pytest.skip(f"real public data folder {REAL_DATA} is absent (a user's own clone)")
    return REAL_DATA


@pytest.fixture(scope="session")
def golden() -> Path:
    """PHE's published worked examples (SOURCES.md there), read in place: skips where the folder
    is absent, fails instead while CAREKPI_REQUIRE_GOLDEN is set."""
    if not GOLDEN_DATA.is_dir():
        reason = f"golden data folder {GOLDEN_DATA} is absent (a user's own clone)"
        if os.environ.get("CAREKPI_REQUIRE_GOLDEN"):
            pytest.fail(reason + " (CAREKPI_REQUIRE_GOLDEN is set, so it must run)")
        pytest.skip(reason)
    return GOLDEN_DATA


@pytest.fixture(params=["sqlite", "postgresql"])
def warehouse_url(request, tmp_path) -> tuple[str, str | None]:
    """(URL, schema) of an empty, migrated warehouse: an SQLite file or a throwaway PG schema."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
        upgrade(make_engine(url))
        yield url, None
        return
    reason = _postgres_reason()
    if reason:
        if _postgres_required():
            pytest.fail(reason + " (CAREKPI_REQUIRE_POSTGRES/CI is set, so it must run)")
        pytest.skip(reason)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        upgrade(make_engine(PG_URL, schema=schema))
        yield PG_URL, schema
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def warehouse(warehouse_url):
    """An engine on a fresh, migrated warehouse (parametrised over SQLite and PostgreSQL)."""
    url, schema = warehouse_url
    engine = make_engine(url, schema=schema)
    yield engine
    engine.dispose()


@pytest.fixture
def settings(tmp_path, warehouse_url) -> Settings:
    """Settings whose folders live in tmp_path and whose warehouse is the `warehouse` fixture's."""
    url, schema = warehouse_url
    if schema:
        url = url + f"?options=-csearch_path%3D{schema}"
    return Settings(data_dir=tmp_path / "data", warehouse_url=url)
