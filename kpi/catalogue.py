"""The KPI catalogue: what each KPI measures, read from kpi/catalogue.toml and checked on load.

Each entry of the TOML file is one KPI (`[[kpi]]`); a care package's element drilldowns are listed
under it (`[[kpi.drilldown]]`) and inherit the package's family, unit, polarity, levels, interval
and source. Adding a KPI means adding an entry to the TOML file, not code.

Command line: `python -m kpi.catalogue --markdown > docs/kpis.md` writes the definitions page.
"""

from __future__ import annotations

import argparse
import calendar
import sys
import tomllib
from collections.abc import Mapping
from datetime import date, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Level = Literal["practice", "network", "place", "system"]
Family = Literal[
    "care_packages",
    "emergency_admissions",
    "delayed_transfers",
    "length_of_stay",
    "reablement",
    "care_home_admissions",
]
Unit = Literal["%", "per 1,000", "per 100,000", "days", "ratio x100"]
Interval = Literal["wilson", "byar", "mean_normal"]

LEVELS: tuple[Level, ...] = ("practice", "network", "place", "system")  # smallest first
FAMILY_TITLES: dict[str, str] = {
    "care_packages": "Care packages",
    "emergency_admissions": "Emergency admissions",
    "delayed_transfers": "Delayed transfers of care",
    "length_of_stay": "Length of stay",
    "reablement": "Reablement",
    "care_home_admissions": "Care-home admissions",
}
UNIT_MULTIPLIERS: dict[str, int] = {
    "%": 100, "per 1,000": 1000, "per 100,000": 100_000, "days": 1, "ratio x100": 100}
ROLLING_SUFFIX = "_12m"
STANDARDISED_SUFFIX = "_sr"  # the id of a standardisable KPI's ratio: ea_rate -> ea_rate_sr

_CATALOGUE_FILE = "catalogue.toml"


class CatalogueError(ValueError):
    """The catalogue file is wrong: names the file, the entry and what is wrong with it."""


class Kpi(BaseModel):
    """One KPI: its definition, the mart measures it is built from and how it is judged."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Stable id, used in URLs/exports.")
    family: Family
    title: str
    definition: str = Field(description="Plain-words definition for the definitions page.")
    numerator: str
    denominator: str
    numerator_measure: str = Field(description="Mart count measure summed for the numerator.")
    denominator_measure: str = Field(description="Mart count measure for the denominator.")
    spread_measure: str | None = Field(
        None, description="Mart measure holding the sum of squares (mean_normal interval only)."
    )
    package: str | None = Field(None, description="Care-package feed: the `package` value.")
    element: str | None = Field(None, description="Care-package feed: the `element` value.")
    drilldown_of: str | None = Field(None, description="The headline KPI this one breaks down.")
    unit: Unit
    multiplier: int
    per_day_of_month: bool = Field(
        False, description="Numerator divided by the days in the period (DToC: beds per day)."
    )
    polarity: Literal["higher", "lower"]
    levels: tuple[Level, ...] = Field(description="Levels reported at, smallest first.")
    arrives_at: Level = Field(description="Level the feed arrives at; rolled up from there.")
    interval: Interval
    interval_note: str | None = None
    default_target: float | None = Field(None, description="In the KPI's unit; None: no default.")
    target_note: str = ""
    rolling_12: bool = Field(False, description="Also shown as a rolling 12-month sum (_12m).")
    rolling_of: str | None = Field(None, description="For a rolling form: the monthly KPI.")
    window_months: int = Field(1, ge=1, description="Months summed into one value.")
    denominator_kind: Literal["flow", "stock"] = Field(
        "flow",
        description="flow: summed over the window like the numerator; stock (a population): "
        "taken at the window's last month.",
    )
    provisional_days: int = Field(
        0, ge=0, description="A month's value is provisional until this many days after its end."
    )
    standardisable: bool = Field(False, description="Offers the age-sex standardised ratio.")
    standardised_of: str | None = Field(
        None, description="For an indirectly standardised ratio (unit 'ratio x100'): the crude "
        "KPI whose events it compares with those expected for the age and sex mix.")
    decimals: int = Field(1, ge=0, le=3, description="Decimal places shown.")
    source: str = Field(description="Framework or publication that owns the definition.")

    @model_validator(mode="after")
    def _consistent(self) -> Kpi:
        if UNIT_MULTIPLIERS[self.unit] != self.multiplier:
            raise ValueError(
                f"unit {self.unit!r} needs multiplier {UNIT_MULTIPLIERS[self.unit]}, "
                f"not {self.multiplier}"
            )
        if self.arrives_at not in self.levels:
            raise ValueError(f"arrives_at {self.arrives_at!r} is not one of levels {self.levels}")
        # Levels are a contiguous run upwards from the level the feed arrives at.
        start = LEVELS.index(self.arrives_at)
        if self.levels != LEVELS[start : start + len(self.levels)]:
            raise ValueError(f"levels {self.levels} must run upwards from {self.arrives_at!r}")
        if self.interval == "wilson" and self.unit != "%":
            raise ValueError("a Wilson interval is for proportions: unit must be '%'")
        if self.interval == "mean_normal" and not self.spread_measure:
            raise ValueError("interval mean_normal needs spread_measure (sum of squares)")
        if (self.window_months > 1) != (self.rolling_of is not None):
            raise ValueError("rolling_of and window_months > 1 go together")
        if (self.unit == "ratio x100") != (self.standardised_of is not None):
            raise ValueError("unit 'ratio x100' and standardised_of go together")
        if self.drilldown_of and not (self.package and self.element):
            raise ValueError("a drilldown needs package and element")
        if self.default_target is not None and self.unit == "%" and not (
            0 <= self.default_target <= 100
        ):
            raise ValueError(f"a percentage target must be 0-100, not {self.default_target}")
        return self

    @property
    def is_proportion(self) -> bool:
        """True when the value is a percentage of the denominator."""
        return self.unit == "%"

    @property
    def family_title(self) -> str:
        return FAMILY_TITLES[self.family]

    def is_provisional(self, period: str, today: date) -> bool:
        """True while the month `period` ('YYYY-MM') is within its provisional days of `today`."""
        if not self.provisional_days:
            return False
        year, month = (int(part) for part in period.split("-"))
        month_end = date(year, month, calendar.monthrange(year, month)[1])
        return today < month_end + timedelta(days=self.provisional_days)


# Fields an element drilldown inherits from its package's headline entry.
_INHERITED = (
    "family", "numerator_measure", "denominator_measure", "package", "unit", "multiplier",
    "polarity", "levels", "arrives_at", "interval", "decimals", "source",
)


def _expand(entry: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The entry itself, then one entry per element drilldown it lists."""
    head = {k: v for k, v in entry.items() if k != "drilldown"}
    out = [head]
    for item in entry.get("drilldown", []):
        child = {k: head[k] for k in _INHERITED if k in head}
        child.update(
            id=f"cp_{head.get('package')}_{item.get('element')}",
            drilldown_of=head.get("id"),
            numerator=f"patients on the register with {item.get('done', '?')} "
            "in the last 12 months",
            denominator=head.get("denominator"),
            definition=item.get("definition")
            or f"Share of patients on the {head.get('package')} register with "
            f"{item.get('done', '?')} in the last 12 months.",
            target_note="none: a drilldown of the package",
        )
        child.update({k: v for k, v in item.items() if k != "done"})
        out.append(child)
    return out


def read_catalogue(path: Path | str | None = None) -> tuple[Kpi, ...]:
    """Every KPI in a catalogue file, checked; the packaged catalogue when `path` is None.

    Raises:
        CatalogueError: naming the file, the entry and every problem found.
    """
    if path is None:
        name = f"kpi/{_CATALOGUE_FILE}"
        text = resources.files(__package__).joinpath(_CATALOGUE_FILE).read_text("utf-8")
    else:
        name = str(path)
        text = Path(path).read_text(encoding="utf-8")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{name}: not valid TOML: {exc}") from exc
    unknown = set(raw) - {"kpi"}
    if unknown:
        raise CatalogueError(
            f"{name}: unknown top-level key(s) {sorted(unknown)}; expected [[kpi]]"
        )

    problems: list[str] = []
    kpis: list[Kpi] = []
    for number, entry in enumerate(raw.get("kpi", []), start=1):
        for item in _expand(entry):
            label = f"{name}, [[kpi]] entry {number} ({item.get('id', 'no id')})"
            try:
                kpis.append(Kpi.model_validate(item))
            except ValidationError as exc:
                for err in exc.errors():
                    where = ".".join(str(p) for p in err["loc"]) or "entry"
                    problems.append(f"{label}, field {where!r}: {err['msg']}")
    problems += _check_links(kpis, name)
    if problems:
        raise CatalogueError("\n".join(problems))
    return tuple(kpis)


def _check_links(kpis: list[Kpi], name: str) -> list[str]:
    """Problems between entries: duplicate ids, dangling references, missing rolling forms."""
    problems = []
    by_id: dict[str, Kpi] = {}
    for k in kpis:
        if k.id in by_id:
            problems.append(f"{name}: id {k.id!r} appears more than once")
        by_id[k.id] = k
    for k in kpis:
        for ref in (k.drilldown_of, k.rolling_of, k.standardised_of):
            if ref and ref not in by_id:
                problems.append(f"{name}: {k.id!r} refers to unknown KPI {ref!r}")
        if k.standardisable:
            ratio = by_id.get(k.id + STANDARDISED_SUFFIX)
            if ratio is None or ratio.standardised_of != k.id:
                problems.append(f"{name}: {k.id!r} is standardisable but has no entry "
                                f"{k.id + STANDARDISED_SUFFIX!r} with standardised_of = {k.id!r}")
        if k.standardised_of in by_id and not by_id[k.standardised_of].standardisable:
            problems.append(f"{name}: {k.id!r} standardises {k.standardised_of!r}, which is "
                            "not marked standardisable")
        if k.rolling_12:
            form = by_id.get(k.id + ROLLING_SUFFIX)
            if form is None or form.rolling_of != k.id or form.window_months != 12:
                problems.append(
                    f"{name}: {k.id!r} has rolling_12 = true but no entry "
                    f"{k.id + ROLLING_SUFFIX!r} with rolling_of = {k.id!r}, window_months = 12"
                )
    return problems


@cache
def load_catalogue() -> tuple[Kpi, ...]:
    """Every KPI of the packaged catalogue, in file order (cached)."""
    return read_catalogue()


@cache
def _index() -> dict[str, Kpi]:
    return {k.id: k for k in load_catalogue()}


def get_kpi(kpi_id: str) -> Kpi:
    """The KPI with this id.

    Raises:
        KeyError: naming the unknown id.
    """
    try:
        return _index()[kpi_id]
    except KeyError:
        raise KeyError(f"unknown KPI id {kpi_id!r}") from None


def kpis_by_family() -> dict[str, tuple[Kpi, ...]]:
    """The KPIs grouped by family, families in the catalogue's order."""
    groups: dict[str, list[Kpi]] = {}
    for k in load_catalogue():
        groups.setdefault(k.family, []).append(k)
    return {fam: tuple(ks) for fam, ks in groups.items()}


def _fmt_target(k: Kpi) -> str:
    if k.default_target is None:
        return k.target_note or "none"
    shown = f"{k.default_target:g}{'%' if k.unit == '%' else ''}"
    return f"{shown} ({k.target_note})" if k.target_note else shown


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


GENERATED_NOTE = (
    "<!-- Generated by `python -m kpi.catalogue --markdown > docs/kpis.md`: do not edit. -->")
INTRO = (
    "Every KPI is a numerator over a denominator, summed at each organisation level (never an\n"
    "average of averages). Rates use the registered GP population, not the ONS resident\n"
    "population used by the official ASCOF and BCF returns, so that practice, network and\n"
    "place figures add up."
)
DRILLDOWN_TITLE = "Care-package elements (drilldowns)"
DRILLDOWN_INTRO = (
    "Each is the share of the package's register with that element done in the last\n"
    "12 months (Wilson 95% interval, higher is better, no default target)."
)


def families(kpis: tuple[Kpi, ...] | None = None) -> dict[str, tuple[list[Kpi], list[Kpi]]]:
    """For each family in catalogue order: its headline KPIs and its element drilldowns."""
    kpis = load_catalogue() if kpis is None else kpis
    groups: dict[str, tuple[list[Kpi], list[Kpi]]] = {}
    for k in kpis:
        headline, drill = groups.setdefault(k.family, ([], []))
        (drill if k.drilldown_of else headline).append(k)
    return groups


def render_markdown(kpis: tuple[Kpi, ...] | None = None, *, generated_note: bool = True) -> str:
    """The definitions page (docs/kpis.md) as Markdown text, generated from the catalogue.

    Each KPI's heading is preceded by an anchor named by its id (`kpis.md#ea_rate`), as are the
    rows of the drilldown tables. `generated_note=False` leaves out the HTML comment that says
    the file is generated (a page showing the text would show the comment).
    """
    lines = ["# KPI definitions", ""]
    if generated_note:
        lines += [GENERATED_NOTE, ""]
    lines += [INTRO, ""]
    for family, (headline, drill) in families(kpis).items():
        lines += [f"## {FAMILY_TITLES[family]}", ""]
        for k in headline:
            lines += [f'<a id="{k.id}"></a>', ""] + kpi_markdown(k)
        if drill:
            lines += [f"### {DRILLDOWN_TITLE}", "", DRILLDOWN_INTRO, "",
                      "| id | package | element | definition |", "|---|---|---|---|"]
            lines += [f'| <a id="{k.id}"></a>`{k.id}` | {k.package} | {_cell(k.title)} | '
                      f"{_cell(k.definition)} |" for k in drill]
            lines.append("")
    return "\n".join(lines)


def kpi_markdown(k: Kpi) -> list[str]:
    """Lines of one KPI's definition: a heading and a table of its fields."""
    rows = [
        ("Definition", k.definition),
        ("Numerator", f"{k.numerator} (`{k.numerator_measure}`)"),
        ("Denominator", f"{k.denominator} (`{k.denominator_measure}`)"),
        ("Unit", k.unit + (f" (x{k.multiplier:,})" if k.multiplier not in (1, 100) else "")
         + (" (100 = as many as expected)" if k.standardised_of else "")),
        ("Better", "higher" if k.polarity == "higher" else "lower"),
        ("Levels", f"{', '.join(k.levels)} (arrives at {k.arrives_at})"),
        ("Interval", {"wilson": "Wilson score 95%", "byar": "Byar 95% (Poisson)",
                      "mean_normal": "normal approximation on the mean"}[k.interval]
         + (f"; {k.interval_note}" if k.interval_note else "")),
        ("Default target", _fmt_target(k)),
    ]
    if k.rolling_of:
        rows.append(("Rolling form", f"sum of the last {k.window_months} months of "
                     f"`{k.rolling_of}`; the denominator is the latest month's"))
    elif k.rolling_12:
        rows.append(("Rolling form", f"also as `{k.id}{ROLLING_SUFFIX}` (12-month sum)"))
    if k.provisional_days:
        rows.append(("Provisional", f"until {k.provisional_days} days after the month's end"))
    if k.standardisable:
        rows.append(("Fair comparison", "indirectly age-sex standardised ratio offered: "
                     f"`{k.id}{STANDARDISED_SUFFIX}`"))
    if k.standardised_of:
        rows.append(("Standardises", f"`{k.standardised_of}`: observed / expected x 100"))
    rows.append(("Source", k.source))
    return [f"### `{k.id}`: {_cell(k.title)}", "", "| | |", "|---|---|"] + [
        f"| {name} | {_cell(text)} |" for name, text in rows
    ] + [""]


def main(argv: list[str] | None = None) -> int:
    """Command line: print the catalogue as Markdown (or check it loads)."""
    parser = argparse.ArgumentParser(prog="python -m kpi.catalogue", description=__doc__)
    parser.add_argument("--markdown", action="store_true", help="print docs/kpis.md")
    args = parser.parse_args(argv)
    kpis = load_catalogue()
    if args.markdown:
        sys.stdout.write(render_markdown(kpis) + "\n")
    else:
        print(f"{len(kpis)} KPIs OK")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
