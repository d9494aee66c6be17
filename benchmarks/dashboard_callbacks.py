"""Benchmark: each dashboard page's server time and payload, through Flask's test client.

For each page address it times the page's layout (the Dash Pages callback that renders it) and
then every server callback whose inputs are on that page, posted to /_dash-update-component with
the values the layout drew (a dropdown's `search_value` gets a typed letter, as a user would),
repeated --repeat times: median and 95th percentile in milliseconds, and response bytes.

    .venv/bin/python benchmarks/dashboard_callbacks.py --data-dir /tmp/demo
    .venv/bin/python benchmarks/dashboard_callbacks.py --data-dir DIR \
        --url postgresql+psycopg://user@host/db --repeat 20

The page addresses use organisations the warehouse holds (the area, its first network and that
network's first practice), so the same command serves the demo area and a national warehouse.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from carekpi.settings import Settings

PAGES_CALLBACK = ".._pages_content.children..._pages_store.data.."
TYPED = "a"  # what the benchmark "types" into a searchable dropdown


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of `values` (share 0.95 for the 95th)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(share * len(ordered) + 0.5)))
    return ordered[rank - 1]


def _parsed(component_id: Any) -> Any:
    """A dict id from its JSON text (how /_dash-dependencies writes pattern-matching ids)."""
    if isinstance(component_id, str) and component_id.startswith("{"):
        return json.loads(component_id)
    return component_id


def _key(component_id: Any) -> str:
    return json.dumps(component_id, sort_keys=True) if isinstance(component_id, dict) \
        else str(component_id)


def components(tree: Any, address: str, found: dict[str, dict] | None = None
               ) -> dict[str, dict]:
    """Every component with an id in a layout's JSON: {id key: props}; a dcc.Location gets the
    address's pathname, search and href as the browser would give it."""
    found = {} if found is None else found
    if isinstance(tree, list):
        for item in tree:
            components(item, address, found)
    elif isinstance(tree, dict):
        props = tree.get("props")
        if isinstance(props, dict):
            if tree.get("type") == "Location":
                path, _, query = address.partition("?")
                props = props | {"pathname": path, "search": "?" + query if query else "",
                                 "href": "http://localhost" + address, "hash": ""}
            if props.get("id") is not None:
                found[_key(props["id"])] = props
            for value in props.values():
                components(value, address, found)
    return found


def _matches(pattern: Any, concrete: Any) -> bool:
    if not isinstance(pattern, dict):
        return pattern == concrete
    if not isinstance(concrete, dict) or set(pattern) != set(concrete):
        return False
    return all(v == ["MATCH"] or v == concrete[k] for k, v in pattern.items())


def _resolve(pattern: Any, on_page: dict[str, dict]) -> list[Any]:
    """Concrete ids on the page that a dependency's id (maybe with MATCH) stands for."""
    ids = [json.loads(k) if k.startswith("{") else k for k in on_page]
    return [i for i in ids if _matches(pattern, i)]


def _outputs(dep: dict) -> list[tuple[Any, str]]:
    """(id, property) of each output from the dependency's output string."""
    text = dep["output"]
    parts = text[2:-2].split("...") if text.startswith("..") else [text]
    out = []
    for part in parts:
        ident, _, prop = part.rpartition(".")
        out.append((json.loads(ident) if ident.startswith("{") else ident, prop))
    return out


def callback_bodies(deps: list[dict], on_page: dict[str, dict]) -> list[tuple[str, dict]]:
    """(name, request body) of each server callback whose inputs are all on the page."""
    bodies = []
    for dep in deps:
        if dep.get("clientside_function") or dep["output"] == PAGES_CALLBACK:
            continue
        dep = dep | {kind: [item | {"id": _parsed(item["id"])} for item in dep[kind]]
                     for kind in ("inputs", "state")}
        if any(isinstance(i["id"], dict) and any(v in (["ALL"], ["ALLSMALLER"])
                                                  for v in i["id"].values())
               for i in dep["inputs"] + dep["state"]):
            continue
        first = _resolve(dep["inputs"][0]["id"], on_page)
        if not first:
            continue
        concrete = first[0]

        def bind(pattern, concrete=concrete):
            if isinstance(pattern, dict):
                return {k: (concrete[k] if v == ["MATCH"] else v) for k, v in pattern.items()}
            return pattern

        entries = []
        for item in dep["inputs"] + dep["state"]:
            ident = bind(item["id"])
            props = on_page.get(_key(ident))
            if props is None:
                break
            value = props.get(item["property"])
            if item["property"] == "search_value":
                value = TYPED
            entries.append({"id": ident, "property": item["property"], "value": value})
        else:
            outputs = [{"id": bind(i), "property": p} for i, p in _outputs(dep)]
            n_in = len(dep["inputs"])
            body = {"output": dep["output"],
                    "outputs": outputs if len(outputs) > 1 else outputs[0],
                    "inputs": entries[:n_in], "state": entries[n_in:],
                    "changedPropIds": [f"{_key(entries[0]['id'])}.{entries[0]['property']}"]}
            name = ", ".join(f"{o['id'] if isinstance(o['id'], str) else o['id'].get('type')}."
                             f"{o['property']}" for o in outputs)
            bodies.append((name, body))
    return bodies


def timed(client, body: dict, repeat: int) -> tuple[int, list[float], int]:
    """Status, milliseconds of each request, and bytes of the last response."""
    times, status, size = [], 0, 0
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.post("/_dash-update-component", json=body)
        times.append((time.perf_counter() - start) * 1000)
        status, size = response.status_code, len(response.data)
    return status, times, size


def page_addresses() -> list[str]:
    """An address per page, with organisations and a month the warehouse holds."""
    from dashboard import queries, state

    choices = state.available()
    area = state.default_org(choices)
    month = choices.latest_month
    networks = queries.members(area, month) if area and month else []
    network = networks[0] if networks else area
    practices = queries.members(network, month) if network and month else []
    practice = practices[0] if practices else network
    return ["/", f"/?org={network}", f"/network?org={network}&month={month}",
            f"/kpi?kpi=ea_rate&org={practice}&month={month}",
            f"/kpi?kpi=ea_rate&org={area}&month={month}&peer=area",
            f"/practice?org={practice}&month={month}", "/data-quality", "/definitions"]


def run(settings: Settings, repeat: int) -> list[dict]:
    """Rows of measurements: page, callback, status, first request (the query cache filling),
    median, p95, bytes."""
    from dashboard.app import create_app

    client = create_app(settings).server.test_client()
    deps = client.get("/_dash-dependencies").get_json()
    rows = []
    for address in page_addresses():
        path, _, query = address.partition("?")
        body = {"output": PAGES_CALLBACK,
                "outputs": [{"id": "_pages_content", "property": "children"},
                            {"id": "_pages_store", "property": "data"}],
                "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                           {"id": "_pages_location", "property": "search",
                            "value": "?" + query if query else ""}],
                "changedPropIds": ["_pages_location.pathname"], "state": []}
        first = timed(client, body, 1)[1][0]  # the first request fills the query cache
        status, times, size = timed(client, body, repeat)
        rows.append(_row(address, "layout", status, times, size, first))
        response = client.post("/_dash-update-component", json=body).get_json() or {}
        layout = response.get("response", {}).get("_pages_content", {}).get("children")
        on_page = components(layout, address)
        for name, cb_body in callback_bodies(deps, on_page):
            first = timed(client, cb_body, 1)[1][0]
            status, times, size = timed(client, cb_body, repeat)
            rows.append(_row(address, name, status, times, size, first))
    return rows


def _row(page: str, name: str, status: int, times: list[float], size: int,
         first: float) -> dict:
    return {"page": page, "callback": name, "status": status, "first_ms": first,
            "median_ms": statistics.median(times), "p95_ms": percentile(times, 0.95),
            "bytes": size}


def print_table(rows: list[dict]) -> None:
    """The measurements as a fixed-width table."""
    page_w = max(len(r["page"]) for r in rows)
    cb_w = min(max(len(r["callback"]) for r in rows), 60)
    print(f"{'page':<{page_w}}  {'callback':<{cb_w}}  status  first ms  median ms   p95 ms"
          "      bytes")
    for r in rows:
        print(f"{r['page']:<{page_w}}  {r['callback'][:cb_w]:<{cb_w}}  {r['status']:>6}  "
              f"{r['first_ms']:>8.1f}  {r['median_ms']:>9.1f}  {r['p95_ms']:>7.1f}  "
              f"{r['bytes']:>9,}")


def schema_behind(settings: Settings) -> str | None:
    """Why the warehouse cannot be read by this version (its schema is older), or None."""
    from alembic.script import ScriptDirectory

    from carekpi.migrate import alembic_config, current_revision
    from carekpi.warehouse import make_engine

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    current = current_revision(make_engine(settings.database_url))
    if current == head:
        return None
    return (f"the warehouse {settings.database_url} is at schema revision {current}, this "
            f"version reads {head}: run `CAREKPI_DATA_DIR={settings.data_dir} carekpi db "
            "upgrade` (or benchmark an upgraded copy)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True,
                        help="the warehouse's data folder (its SQLite file and quarantine)")
    parser.add_argument("--url", help="warehouse URL (default: the SQLite file in --data-dir)")
    parser.add_argument("--repeat", type=int, default=20, help="requests per measurement")
    parser.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    settings = Settings(data_dir=args.data_dir, warehouse_url=args.url)
    behind = schema_behind(settings)
    if behind:
        parser.error(behind)
    rows = run(settings, args.repeat)
    print_table(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
