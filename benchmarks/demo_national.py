"""Benchmark: the national demo (all 6,571 practices in England) for 12 months.

Runs `carekpi_demo.generate(scale="national")` in a child process under `/usr/bin/time -v` and
prints wall time, peak memory (maximum resident set size), files written and size on disk:

    .venv/bin/python benchmarks/demo_national.py [--months 12] [--out DIR] [--keep]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHILD = (
    "import sys; from pathlib import Path; from carekpi_demo import generate; "
    "s = generate(Path(sys.argv[1]), scale='national', months=int(sys.argv[2]), "
    "end_month=sys.argv[3]); "
    "print('emergency spells', s.totals['spells']['emergency']); "
    "print('episodes', s.totals['spells']['episodes'])"
)


def measure(out: Path, months: int, end_month: str) -> dict[str, str]:
    """Run one national generation and return its measurements as display strings."""
    cmd = ["/usr/bin/time", "-v", sys.executable, "-c", CHILD, str(out), str(months), end_month]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=True)
    stats = done.stderr
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", stats).group(1)
    peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", stats).group(1))
    files = [p for p in out.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    by_feed = {
        d.name: sum(p.stat().st_size for p in d.rglob("*") if p.is_file())
        for d in sorted(out.iterdir()) if d.is_dir()
    }
    result = {
        "months": str(months),
        "wall time (m:ss)": wall,
        "user + system CPU (s)": str(round(
            float(re.search(r"User time \(seconds\): ([\d.]+)", stats).group(1))
            + float(re.search(r"System time \(seconds\): ([\d.]+)", stats).group(1)), 1)),
        "peak memory (MiB)": f"{peak_kb / 1024:.0f}",
        "files": str(len(files)),
        "size on disk (MiB)": f"{size / 2**20:.0f}",
    }
    result.update({f"  {feed} (MiB)": f"{b / 2**20:.1f}" for feed, b in by_feed.items()})
    for line in done.stdout.splitlines():
        key, _, value = line.rpartition(" ")
        result[key] = f"{int(value):,}"
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--end-month", default="2024-03")
    parser.add_argument("--out", type=Path, default=None, help="folder (default: a temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="carekpi-national-"))
    try:
        for key, value in measure(out, args.months, args.end_month).items():
            print(f"{key:<28} {value}")
    finally:
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
