"""Browser tests: a loaded demo warehouse, one server port per xdist worker, a real window size."""

from __future__ import annotations

import os
import shutil
import socket
from datetime import date
from pathlib import Path

import pytest

from carekpi.migrate import upgrade
from carekpi.settings import Settings
from carekpi.warehouse import make_engine

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory) -> Settings:
    """Settings of an SQLite warehouse loaded with six months of the demo area."""
    from etl.demo import generate
    from etl.pipeline import run_inbox

    root = tmp_path_factory.mktemp("browser")
    settings = Settings(data_dir=root / "data")
    feeds = root / "feeds"
    generate(feeds, scale="area", months=6, seed=5, end_month="2025-06")
    for feed in ("organisations", "population", "spells"):  # what the ea_rate page shows
        shutil.copytree(feeds / feed, settings.inbox / feed)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    summary = run_inbox(engine, settings, today=date(2025, 7, 20), progress=False)
    assert not summary.failed, summary.describe()
    engine.dispose()
    return settings


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
    dash_duo.driver.set_window_size(1280, 900)
    return dash_duo
