"""kpi/ is the statistics layer: it imports nothing from the ETL, the app or the dashboard."""

from __future__ import annotations

import ast
from pathlib import Path

import kpi

KPI_DIR = Path(kpi.__file__).parent
OUTSIDE = {"etl", "carekpi", "dashboard"}


def test_kpi_imports_no_etl_app_or_dashboard():
    found = []
    for path in sorted(KPI_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            found += [f"{path.name}: {n}" for n in names if n.split(".")[0] in OUTSIDE]
    assert len(list(KPI_DIR.glob("*.py"))) > 10
    assert found == []
