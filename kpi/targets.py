"""KPI targets: the catalogue's defaults, overridden per KPI, organisation and financial year.

A targets file (settings: `targets_file`) is CSV, or YAML when PyYAML is installed, with one row
per override and the columns

    kpi_id, org_code, year, target[, note]

`org_code` blank means every organisation; `year` is a financial year written `2024/25`
(April 2024 to March 2025), blank meaning every year; `target` is in the KPI's unit (a percentage
as 0-100). A YAML file is a list of mappings with the same keys (or a mapping whose `targets` key
holds that list). The most specific row wins: organisation and year, then organisation, then
year, then a row with neither (the whole area, every year), then the catalogue's default.
The file is read by `etl.targets_file.load_targets` (reading user files is the ETL's job; kpi/
imports nothing from etl).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kpi.catalogue import get_kpi, load_catalogue

COLUMNS = ("kpi_id", "org_code", "year", "target")
_YEAR = re.compile(r"^(\d{4})\s*[/-]\s*(\d{2})$")

# Override keys from least to most specific (later ones win in targets_frame).
_PRECEDENCE = (
    ("kpi_id",), ("kpi_id", "year"), ("kpi_id", "org_code"), ("kpi_id", "org_code", "year"),
)


def financial_year(period: str) -> str:
    """The NHS financial year ('2023/24') that the month `period` ('YYYY-MM') falls in."""
    year, month = int(period[:4]), int(period[5:7])
    start = year if month >= 4 else year - 1
    return f"{start}/{(start + 1) % 100:02d}"


def financial_years(periods: pd.Series) -> pd.Series:
    """financial_year for each period of a Series, vectorised."""
    text = periods.astype("str")
    year = text.str.slice(0, 4).astype(int)
    month = text.str.slice(5, 7).astype(int)
    start = year - (month < 4).astype(int)
    return start.astype(str) + "/" + ((start + 1) % 100).astype(str).str.zfill(2)


def normalise_year(text: str) -> str | None:
    """'2024/25' (or '2024-25') as '2024/25'; None when it is not a financial year."""
    match = _YEAR.match(text.strip())
    if not match:
        return None
    start, end = int(match.group(1)), int(match.group(2))
    return f"{start}/{end:02d}" if (start + 1) % 100 == end else None


@dataclass(frozen=True)
class Targets:
    """Targets for every KPI: catalogue defaults plus a file's overrides."""

    overrides: dict[tuple[str, str | None, str | None], float] = field(default_factory=dict)
    source: str | None = None  # the file the overrides came from

    def for_(self, kpi_id: str, org_code: str | None, period: str) -> float | None:
        """The target for one KPI, organisation and month; None when there is none.

        Raises:
            KeyError: for an unknown KPI id.
        """
        default = get_kpi(kpi_id).default_target
        year = financial_year(period)
        for key in (
            (kpi_id, org_code, year), (kpi_id, org_code, None), (kpi_id, None, year),
            (kpi_id, None, None),
        ):
            if key in self.overrides:
                return self.overrides[key]
        return default

    def targets_frame(self, frame: pd.DataFrame) -> pd.Series:
        """The target for each row of a frame with kpi_id, org_code and period (NaN: none).

        Raises:
            KeyError: naming KPI ids the catalogue does not know.
        """
        defaults = {k.id: k.default_target for k in load_catalogue()}
        unknown = sorted(set(frame["kpi_id"]) - set(defaults))
        if unknown:
            raise KeyError(f"unknown KPI id(s) {unknown}")
        keys = pd.DataFrame(
            {
                "kpi_id": frame["kpi_id"].to_numpy(),
                "org_code": frame["org_code"].to_numpy(),
                "year": financial_years(frame["period"]).to_numpy(),
            }
        )
        result = keys["kpi_id"].map(defaults).astype(float).to_numpy()
        table = self._table()
        for cols in _PRECEDENCE:
            # Rows with exactly these keys set (and the others blank) form one lookup.
            blank = [c for c in ("org_code", "year") if c not in cols]
            level = table
            for c in ("org_code", "year"):
                level = level[level[c].isna()] if c in blank else level[level[c].notna()]
            if level.empty:
                continue
            found = keys.merge(level[[*cols, "target"]], on=list(cols), how="left")["target"]
            found = found.to_numpy(dtype=float)
            result = np.where(np.isnan(found), result, found)
        return pd.Series(result, index=frame.index, name="target", dtype=float)

    def _table(self) -> pd.DataFrame:
        rows = [(k, o, y, t) for (k, o, y), t in self.overrides.items()]
        table = pd.DataFrame(rows, columns=[*COLUMNS], dtype=object)
        table["target"] = table["target"].astype(float)
        return table


def targets_frame(frame: pd.DataFrame, targets: Targets | None = None) -> pd.Series:
    """The target for each row of a frame with kpi_id, org_code and period (NaN: none)."""
    return (targets or Targets()).targets_frame(frame)
