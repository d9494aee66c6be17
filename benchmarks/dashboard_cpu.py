"""Benchmark: the process's own CPU time per dashboard request (fair on a shared machine).

Wall-clock times on a machine other people load vary 2-4x; the CPU this process spends per
request does not. For the network, KPI and practice pages (addresses as dashboard_callbacks.py
picks them): the first request's CPU and wall milliseconds, then the median CPU over --repeat.

    .venv/bin/python benchmarks/dashboard_cpu.py --data-dir /work/national_perf --json cpu.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import dashboard_callbacks as bench  # noqa: E402  (a sibling script, not a package)

from carekpi.settings import Settings  # noqa: E402

PAGES = ("/network", "/kpi", "/practice")


def measure(settings: Settings, repeat: int) -> list[dict]:
    """Rows: page, callback, first_cpu, first_wall, cpu_median (ms), bytes."""
    from dashboard.app import create_app

    client = create_app(settings).server.test_client()
    deps = client.get("/_dash-dependencies").get_json()

    def post(body: dict) -> tuple[float, float, bytes]:
        cpu, wall = time.process_time(), time.perf_counter()
        response = client.post("/_dash-update-component", json=body)
        return ((time.process_time() - cpu) * 1000, (time.perf_counter() - wall) * 1000,
                response.data)

    rows = []
    for address in [a for a in bench.page_addresses() if a.startswith(PAGES)]:
        path, _, query = address.partition("?")
        layout_body = {
            "output": bench.PAGES_CALLBACK, "state": [],
            "outputs": [{"id": "_pages_content", "property": "children"},
                        {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                       {"id": "_pages_location", "property": "search",
                        "value": "?" + query if query else ""}],
            "changedPropIds": ["_pages_location.pathname"]}
        first = post(layout_body)
        layout = json.loads(first[2])["response"]["_pages_content"]["children"]
        items = [("layout", layout_body, first)]
        for name, body in bench.callback_bodies(deps, bench.components(layout, address)):
            items.append((name, body, post(body)))
        for name, body, (cpu, wall, data) in items:
            cpus = [post(body)[0] for _ in range(repeat)]
            rows.append({"page": address, "callback": name, "first_cpu": cpu,
                         "first_wall": wall, "cpu_median": statistics.median(cpus),
                         "bytes": len(data)})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--url", help="warehouse URL (default: the SQLite file in --data-dir)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    rows = measure(Settings(data_dir=args.data_dir, warehouse_url=args.url), args.repeat)
    for r in rows:
        print(f"{r['page']}  {r['callback'][:50]}  first cpu {r['first_cpu']:.0f} ms, wall "
              f"{r['first_wall']:.0f} ms; median cpu {r['cpu_median']:.0f} ms; {r['bytes']:,} B")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
