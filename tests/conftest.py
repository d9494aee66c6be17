"""Shared fixtures: a fresh warehouse on SQLite and PostgreSQL, settings, the real data folder.

What a test needs from outside the repository (PostgreSQL, the shared real-data folder) may be
absent on a user's own clone: such tests skip and say why. Where the matching require flag is set
(`.ci/run` sets them all) the absence fails the test instead, so CI can never pass on skips.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import NoReturn

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

# Environment variables that turn "skip: X is absent" into a failure (set by .ci/run).
REQUIRE_POSTGRES = "CAREKPI_REQUIRE_POSTGRES"
REQUIRE_REAL_DATA = "CAREKPI_REQUIRE_REAL_DATA"
REQUIRE_GOLDEN = "CAREKPI_REQUIRE_GOLDEN"


def required(flag: str) -> bool:
    """True when the environment sets `flag` to anything but empty, 0, false or no."""
    return os.environ.get(flag, "").strip().lower() not in ("", "0", "false", "no")


def require_or_skip(reason: str, flag: str) -> NoReturn:
    """Skip the test saying `reason`; fail it instead when the require `flag` is set."""
    if required(flag):
        pytest.fail(f"{reason} ({flag} is set, so this test must run)", pytrace=False)
    pytest.skip(reason)


def real_file(relative: str | Path) -> Path:
    """A file of the shared real-data folder, or skip (fail under CAREKPI_REQUIRE_REAL_DATA)."""
    path = REAL_DATA / relative
    if not path.exists():
        require_or_skip(f"real public file not present: {path}", REQUIRE_REAL_DATA)
    return path


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
        require_or_skip(f"real public data folder {REAL_DATA} is absent (a user's own clone)",
                        REQUIRE_REAL_DATA)
    return REAL_DATA


@pytest.fixture(scope="session")
def golden() -> Path:
    """PHE's published worked examples (SOURCES.md there), read in place: skips where the folder
    is absent, fails instead while CAREKPI_REQUIRE_GOLDEN is set."""
    if not GOLDEN_DATA.is_dir():
        require_or_skip(f"golden data folder {GOLDEN_DATA} is absent (a user's own clone)",
                        REQUIRE_GOLDEN)
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
        require_or_skip(reason, REQUIRE_POSTGRES)
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
