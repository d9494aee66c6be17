"""Structured logs: JSON lines when stderr is not a terminal (a service's log collector), plain
text on a terminal; every line carries the ETL load id being worked on, when there is one."""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

# The load the current thread is loading (set by etl/load.py once its audit row exists).
LOAD_ID: ContextVar[int | None] = ContextVar("carekpi_load_id", default=None)
PLAIN = "%(asctime)s %(levelname)s %(name)s%(load_tag)s: %(message)s"


class LoadIdFilter(logging.Filter):
    """Puts the current load id on every record (load_id, and load_tag for plain text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.load_id = LOAD_ID.get()
        record.load_tag = f" [load {record.load_id}]" if record.load_id is not None else ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, load_id, exc."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(),
                 "level": record.levelname, "logger": record.name,
                 "message": record.getMessage()}
        if getattr(record, "load_id", None) is not None:
            entry["load_id"] = record.load_id
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def setup_logging(level: int = logging.WARNING, stream=None, *, as_json: bool | None = None
                  ) -> logging.Handler:
    """Replace the root logger's handlers with one writing to `stream` (stderr); JSON unless
    the stream is a terminal. Returns the handler."""
    stream = stream or sys.stderr
    if as_json is None:
        as_json = not (hasattr(stream, "isatty") and stream.isatty())
    handler = logging.StreamHandler(stream)
    handler.addFilter(LoadIdFilter())
    handler.setFormatter(JsonFormatter() if as_json else logging.Formatter(PLAIN))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler
