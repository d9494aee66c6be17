"""Structured logs: JSON lines off a terminal, each ETL line naming its load id."""

from __future__ import annotations

import io
import json
import logging

from carekpi.logs import setup_logging
from carekpi_demo import generate
from etl.pipeline import run_inbox


def test_etl_lines_are_json_with_the_load_id(settings, warehouse, tmp_path):
    stream = io.StringIO()  # not a terminal: JSON
    handler = setup_logging(logging.INFO, stream)
    try:
        generate(tmp_path / "inbox", months=1, end_month="2025-06")
        summary = run_inbox(warehouse, settings, inbox=tmp_path / "inbox", progress=False)
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    per_file = [line for line in lines if line["logger"] == "etl.pipeline"
                and line["message"].endswith("rows)")]
    assert len(per_file) == len(summary.results) > 0
    assert [line["load_id"] for line in per_file] == [r.load_id for r in summary.results]
    assert {"time", "level", "logger", "message"} <= set(per_file[0])


def test_a_terminal_gets_plain_text_with_the_load_tag():
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Tty()
    handler = setup_logging(logging.INFO, stream)
    try:
        from carekpi.logs import LOAD_ID

        token = LOAD_ID.set(42)
        logging.getLogger("etl.test").info("hello")
        LOAD_ID.reset(token)
    finally:
        logging.getLogger().removeHandler(handler)
    assert stream.getvalue().rstrip().endswith("INFO etl.test [load 42]: hello")
