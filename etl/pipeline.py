"""One ETL run: every waiting file in the inbox, loaded once, then the affected mart rebuilt."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy.engine import Engine

from carekpi.settings import Settings
from etl.feeds import FEED_NAMES
from etl.load import LoadResult, load_file

log = logging.getLogger(__name__)


@dataclass
class RunSummary:
    results: list[LoadResult] = field(default_factory=list)
    mart_rows: int = 0
    stopped_early: bool = False

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def failed(self) -> bool:
        return self.count("refused") > 0

    def describe(self) -> str:
        text = (f"{self.count('loaded')} loaded, {self.count('duplicate')} duplicate, "
                f"{self.count('refused')} refused; {self.mart_rows} mart rows rebuilt")
        return text + (" (stopped before the end)" if self.stopped_early else "")


def waiting_files(inbox: Path) -> list[tuple[str | None, Path]]:
    """Files waiting in inbox/<feed>/, organisations first (others are checked against them)."""
    found: list[tuple[str | None, Path]] = []
    for feed in FEED_NAMES:
        folder = inbox / feed
        if folder.is_dir():
            found += [(feed, p) for p in sorted(folder.iterdir())
                      if p.is_file() and not p.name.startswith(".")]
    return found


def run_inbox(
    engine: Engine, settings: Settings, *, inbox: Path | None = None, today: date | None = None,
    stop: Callable[[], bool] = lambda: False, progress: bool | None = None,
) -> RunSummary:
    """Load every waiting file (each whole or not at all), then rebuild the affected mart rows.

    `stop` is checked between files, never inside a file's transaction.
    """
    from etl.mart import rebuild_mart

    files = waiting_files(inbox or settings.inbox)
    summary = RunSummary()
    affected: dict[str, set[str]] = {}
    show = sys.stderr.isatty() if progress is None else progress
    bar = _progress(len(files)) if show and files else None
    for feed, path in files:
        if stop():
            summary.stopped_early = True
            break
        result = load_file(engine, path, archive=settings.archive / feed,
                           quarantine=settings.quarantine / feed, feed_hint=feed, today=today)
        summary.results.append(result)
        for table, periods in result.affected.items():
            affected.setdefault(table, set()).update(periods)
        if bar:
            bar.update(1)
        else:
            log.info("%s %s: %s (%d rows)", feed, path.name, result.status, result.rows_loaded)
    if bar:
        bar.close()
    if affected:
        summary.mart_rows = rebuild_mart(engine, affected, settings=settings, today=today)
    return summary


def _progress(total: int):
    from tqdm import tqdm

    return tqdm(total=total, unit="file", desc="Loading")
