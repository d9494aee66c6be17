"""Reading a targets file (settings: `targets_file`) into `kpi.targets.Targets`.

The file's format is described in kpi/targets.py. Every problem in it is reported together,
naming the file, row, column and value (FeedError), as for a feed file.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from etl.problems import FeedError, Problem
from etl.readers import decode_text
from kpi.catalogue import load_catalogue
from kpi.targets import COLUMNS, Targets, normalise_year

OPTIONAL_COLUMNS = ("note",)


def load_targets(path: Path | str | None) -> Targets:
    """The targets: catalogue defaults, with the overrides of `path` when one is given.

    Raises:
        FeedError: listing every bad row (file, row, column, value, rule).
    """
    if path is None:
        return Targets()
    path = Path(path)
    if not path.is_file():
        raise FeedError(path.name, [Problem(str(path), "targets file not found")])
    if path.suffix.lower() in (".yaml", ".yml"):
        records, header = _read_yaml(path)
    else:
        records, header = _read_csv(path)
    return Targets(overrides=_check(path.name, records, header), source=str(path))


def _read_csv(path: Path) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    reader = csv.DictReader(io.StringIO(decode_text(path), newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    records = []
    for row in reader:
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue  # blank line
        records.append((reader.line_num, row))  # line number as the user sees it
    return records, header


def _read_yaml(path: Path) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    try:
        import yaml  # PyYAML is optional: CSV needs nothing more
    except ImportError:
        raise FeedError(
            path.name,
            [Problem(str(path), "YAML targets need PyYAML (pip install pyyaml); or use CSV")],
        ) from None
    try:
        data = yaml.safe_load(decode_text(path)) or []
    except yaml.YAMLError as exc:
        raise FeedError(path.name, [Problem(path.name, f"not valid YAML: {exc}")]) from exc
    if isinstance(data, dict):
        data = data.get("targets", [])
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise FeedError(path.name, [Problem(path.name, "expected a list of targets mappings")])
    header = sorted({str(k) for r in data for k in r})
    records = [
        (i, {str(k): "" if v is None else str(v) for k, v in r.items()})
        for i, r in enumerate(data, start=1)
    ]
    return records, header


def _check(
    name: str, records: list[tuple[int, dict[str, str]]], header: list[str]
) -> dict[tuple[str, str | None, str | None], float]:
    """The overrides of a file's rows; every problem in the file raised together."""
    problems = [
        Problem(name, f"required column {c!r} is missing", column=c)
        for c in ("kpi_id", "target")
        if c not in header
    ]
    problems += [
        Problem(name, f"unknown column (expected {', '.join(COLUMNS + OPTIONAL_COLUMNS)})",
                column=c)
        for c in header
        if c not in COLUMNS + OPTIONAL_COLUMNS
    ]
    if problems:
        raise FeedError(name, problems)

    known = {k.id: k for k in load_catalogue()}
    overrides: dict[tuple[str, str | None, str | None], float] = {}
    seen_at: dict[tuple[str, str | None, str | None], int] = {}
    for row_number, row in records:
        bad = len(problems)

        def problem(column: str, value: str, rule: str, row_number: int = row_number) -> None:
            problems.append(Problem(name, rule, row=row_number, column=column, value=value))

        kpi_id = (row.get("kpi_id") or "").strip()
        org = (row.get("org_code") or "").strip() or None
        year_text = (row.get("year") or "").strip()
        target_text = (row.get("target") or "").strip()
        kpi = known.get(kpi_id)
        if kpi is None:
            problem("kpi_id", kpi_id, "unknown KPI id (see docs/kpis.md)")
        year = normalise_year(year_text) if year_text else None
        if year_text and year is None:
            problem("year", year_text, "financial year must look like 2024/25")
        try:
            target = float(target_text)
            if not math.isfinite(target) or target < 0:
                raise ValueError
        except ValueError:
            problem("target", target_text, "target must be a non-negative number")
            target = None
        if kpi is not None and target is not None and kpi.unit == "%" and target > 100:
            problem("target", target_text, "a percentage target must be 0-100")
        if len(problems) > bad:
            continue
        key = (kpi_id, org, year)
        if key in seen_at:
            problem("kpi_id", kpi_id,
                    f"duplicate of row {seen_at[key]} (same kpi_id, org_code and year)")
            continue
        seen_at[key] = row_number
        overrides[key] = target
    if problems:
        raise FeedError(name, problems)
    return overrides
