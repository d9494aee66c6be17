"""axe-core in the page: the serious and critical accessibility violations it finds.

axe.min.js comes from npm's axe-core, installed by `make axe` (part of `make test`) into
build/axe; it is read from disk, never fetched while the tests run.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

AXE_JS = Path(os.environ.get(
    "CAREKPI_AXE_JS",
    Path(__file__).resolve().parents[2] / "build" / "axe" / "node_modules" / "axe-core"
    / "axe.min.js"))
BLOCKING = ("serious", "critical")
# WCAG 2.0-2.2 A and AA rules, plus axe's best practices (landmarks, one h1, ...).
RULE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]

_RUN = """
var done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})
  .then(function (r) { done(r.violations); })
  .catch(function (e) { done([{id: 'axe-error', impact: 'critical', help: String(e),
                               nodes: []}]); });
"""


@cache
def _axe_source() -> str:
    if not AXE_JS.is_file():
        raise FileNotFoundError(f"axe-core is not installed at {AXE_JS}: run `make axe` "
                                "(the test target does it)")
    return AXE_JS.read_text(encoding="utf-8")


def axe_violations(driver, impacts: tuple[str, ...] = BLOCKING) -> list[dict]:
    """Violations of the page in `driver` whose impact is one of `impacts`, each with its id,
    impact, help and the CSS targets of the offending nodes."""
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(_axe_source())
    driver.set_script_timeout(60)
    found = driver.execute_async_script(_RUN, RULE_TAGS)
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "targets": [n.get("target") for n in v.get("nodes", [])][:10]}
            for v in found if v.get("impact") in impacts]


def describe(violations: list[dict]) -> str:
    """One line per violation, for an assertion message."""
    return "\n".join(f"{v['impact']}: {v['id']} ({v['help']}) at {v['targets']}"
                     for v in violations)
