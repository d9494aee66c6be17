"""Browser tests: ONE demo warehouse with every feed shared by all of them, a free port per test,
a real window size, and a folder for each test's screenshots.

The warehouse is built once per test session, behind a file lock, in a folder all pytest-xdist
workers share (the first worker builds it, the others wait and reuse it). Tests only read it.
CAREKPI_BROWSER_WAREHOUSE names a folder to keep it in between sessions (built when absent), so
running one browser test again while working on a page does not rebuild it.
"""

from __future__ import annotations

import os
import shutil
import socket
from datetime import date
from pathlib import Path

import pytest
from filelock import FileLock

from carekpi.migrate import upgrade
from carekpi.settings import Settings
from carekpi.warehouse import make_engine

pytestmark = pytest.mark.browser

FEEDS = ("organisations", "population", "spells", "care_packages", "delayed_transfers",
         "reablement", "care_home_admissions")
MONTHS = 16  # >= 15, so SPC limits and icons exist
END_MONTH = "2026-08"
TODAY = date(2026, 9, 20)  # the last months of the slow feeds are still provisional
SEED = 7
# A file the ETL must refuse, so the data-quality page has a refused load and a quarantined file.
FAULT = ("care_packages", "missing_column.csv")


def build_demo_warehouse(root: Path) -> Settings:
    """Generate the demo area's feeds, load them all plus one faulty file; the settings."""
    from carekpi_demo import generate
    from etl.pipeline import run_inbox

    settings = Settings(data_dir=root / "data")
    feeds = root / "feeds"
    generate(feeds, scale="area", months=MONTHS, seed=SEED, faults=True, end_month=END_MONTH)
    for feed in FEEDS:
        shutil.copytree(feeds / feed, settings.inbox / feed)
    shutil.copy(feeds / "faults" / FAULT[0] / FAULT[1], settings.inbox / FAULT[0])
    engine = make_engine(settings.database_url)
    upgrade(engine)
    summary = run_inbox(engine, settings, today=TODAY, progress=False)
    engine.dispose()
    if summary.count("refused") != 1:  # exactly the planted fault
        raise RuntimeError(f"demo warehouse for the browser tests: {summary.describe()}")
    return settings


def _at_head(root: Path) -> bool:
    """True when a kept warehouse has the newest schema (else it is built again)."""
    from alembic.script import ScriptDirectory

    from carekpi.migrate import alembic_config, current_revision

    engine = make_engine(Settings(data_dir=root / "data").database_url)
    try:
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        return current_revision(engine) == head
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory, worker_id) -> Settings:
    """Settings of the shared demo warehouse (every feed, 16 months, one refused file)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if worker_id != "master" else base  # the folder xdist workers share
    kept = os.environ.get("CAREKPI_BROWSER_WAREHOUSE")
    if kept:
        shared = Path(kept)
        shared.mkdir(parents=True, exist_ok=True)
    root = shared / "browser-warehouse"
    ready = root / "ready"
    with FileLock(str(shared / "browser-warehouse.lock")):
        if not ready.exists() or not _at_head(root):
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir(parents=True)
            build_demo_warehouse(root)
            ready.touch()
    return Settings(data_dir=root / "data")


@pytest.fixture(scope="session")
def demo_engine(demo_warehouse):
    """A read-only engine on the shared demo warehouse (for expected values)."""
    engine = make_engine(demo_warehouse.database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def server_port() -> int:
    """A port free right now (each test and each xdist worker gets its own)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def output_dir(request) -> Path:
    """test-output/<test name>/ at the repository root (CAREKPI_TEST_OUTPUT overrides)."""
    root = Path(os.environ.get("CAREKPI_TEST_OUTPUT", Path(__file__).parents[2] / "test-output"))
    folder = root / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def browser(dash_duo):
    """dash_duo in a 1280x900 window (the smallest screen dashboard.md asks to read well)."""
    dash_duo.driver.set_window_size(1280, 900)
    return dash_duo


def save_full_page(driver, path: Path) -> None:
    """A screenshot of the whole page, not only the window (the window size is restored)."""
    width, height = driver.get_window_size()["width"], driver.get_window_size()["height"]
    full = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(max(full + 120, height), 6000))
    try:
        driver.save_screenshot(str(path))
    finally:
        driver.set_window_size(width, height)
