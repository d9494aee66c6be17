"""Benchmark: demo feeds -> ETL load -> KPI mart, timed stage by stage.

    python benchmarks/etl_and_mart.py --scale area --months 36
    python benchmarks/etl_and_mart.py --scale national --months 12   # several minutes

Prints seconds per stage, rows, and peak memory (this process, RSS). Runs on the embedded
SQLite warehouse by default; pass --url for PostgreSQL (an empty database or schema).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

from carekpi.migrate import upgrade
from carekpi.settings import Settings
from carekpi.warehouse import make_engine
from carekpi_demo import generate
from etl.mart import rebuild_mart
from etl.pipeline import run_inbox


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=["area", "national"], default="area")
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--end-month", default="2025-06")
    parser.add_argument("--url", default=None, help="warehouse URL (default: SQLite in a tmp dir)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="carekpi-bench-"))
    try:
        settings = Settings(data_dir=root / "data", warehouse_url=args.url)
        clock = time.perf_counter()
        generate(settings.inbox, scale=args.scale, months=args.months, end_month=args.end_month)
        generated = time.perf_counter() - clock
        size = sum(p.stat().st_size for p in settings.inbox.rglob("*") if p.is_file())
        engine = make_engine(settings.database_url)
        upgrade(engine)
        today = date(int(args.end_month[:4]) + 1, 1, 15)
        clock = time.perf_counter()
        summary = run_inbox(engine, settings, today=today, progress=False)
        loaded = time.perf_counter() - clock
        clock = time.perf_counter()
        rows = rebuild_mart(engine, None, settings=settings, today=today)
        mart = time.perf_counter() - clock
        print(f"scale={args.scale} months={args.months} dialect={engine.dialect.name}")
        print(f"generate: {generated:8.1f} s   ({size / 2**20:,.0f} MiB of feed files)")
        print(f"load:     {loaded:8.1f} s   ({summary.describe()})")
        print(f"mart:     {mart:8.1f} s   ({rows:,} mart rows, full rebuild)")
        print(f"peak memory: {peak_mib():,.0f} MiB")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
