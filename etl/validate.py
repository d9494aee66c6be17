"""Checking a parsed feed before it is loaded: every defect as a Problem a data manager can act on.

`validate_frame` runs a feed's pandera schema over the canonical frame (lazily, so every failure
is collected, not only the first) and says each failure in plain words with the file row it came
from (`source_row`). It then checks what a schema cannot know on its own: that each period is a
real month not in the future, and that each organisation code exists in the organisation
reference for that month (feeds.md, "Rules for every feed"). `check_duplicates` reports rows that
repeat another row's key, naming both rows.

The second half holds what the feed parsers share to read a file through its layout table:
detecting a layout from content, reading cells under canonical names with their file row, and
typed counts and dates with a Problem per unreadable cell.

Work is vectorised so that a 500,000-row national file validates in seconds; Python loops run only
over actual failures, and at most `max_per_rule` problems are listed per rule and column (the rest
are counted in one summary problem).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaError, SchemaErrors

from carekpi import periods
from etl.problems import FeedError, Problem

ODS_CODE_PATTERN = r"^[A-Z0-9]{3,10}$"


def period_column() -> pa.Column:
    """A feed schema's `period` column: a real month written YYYY-MM."""
    return pa.Column(str, pa.Check.str_matches(
        periods.PATTERN, error="period is not a real month in YYYY-MM form"))


def code_column(error: str) -> pa.Column:
    """A feed schema's organisation code column (ODS or ONS: 3-10 capitals or digits)."""
    return pa.Column(str, pa.Check.str_matches(ODS_CODE_PATTERN, error=error))
MAX_PER_RULE = 200

# pandera's own check names, said in words (feed schemas give their checks plain `error=` texts;
# these cover the built-in checks pandera runs itself).
_BUILTIN_RULES: list[tuple[str, str]] = [
    (r"^column_in_dataframe$", "required column is missing"),
    (r"^column_in_schema$", "column is not expected in this feed"),
    (r"^column_ordered$", "column is out of the expected order"),
    (r"^not_nullable$", "value is missing"),
    (r"^(field_uniqueness|unique|multiple_fields_uniqueness)$", "value is duplicated"),
    (r"^coerce_dtype\('?(.*?)'?\)$", "value cannot be read as {0}"),
    (r"^dtype\('?(.*?)'?\)$", "value is not of type {0}"),
    (r"^greater_than_or_equal_to\((.*)\)$", "value is below the minimum {0}"),
    (r"^greater_than\((.*)\)$", "value must be greater than {0}"),
    (r"^less_than_or_equal_to\((.*)\)$", "value is above the maximum {0}"),
    (r"^less_than\((.*)\)$", "value must be less than {0}"),
    (r"^in_range\((.*)\)$", "value is outside the range {0}"),
    (r"^isin\((.*)\)$", "value is not one of the allowed values"),
    (r"^str_matches\((.*)\)$", "value does not have the expected form"),
]


def _say(check: object) -> str:
    """A pandera check label as a rule a person can read."""
    text = str(check)
    for pattern, words in _BUILTIN_RULES:
        match = re.match(pattern, text)
        if match:
            return words.format(*match.groups())
    return text  # a feed schema's own `error=` text, already in plain words


def _shown(value: object) -> str | None:
    if value is None or (not isinstance(value, (list, tuple)) and pd.isna(value)):
        return None
    return str(value)


def problems_at(
    file: str, rule: str, column: str | None, rows: Sequence, values: Sequence,
    max_per_rule: int,
) -> list[Problem]:
    """One problem per failing row, at most `max_per_rule`, then one problem counting the rest."""
    shown = [
        Problem(file, rule, row=int(r), column=column, value=_shown(v))
        for r, v in zip(rows[:max_per_rule], values[:max_per_rule], strict=True)
    ]
    if len(rows) > max_per_rule:
        shown.append(Problem(file, f"... and {len(rows) - max_per_rule} more row(s): {rule}",
                             column=column))
    return shown


def _schema_problems(
    frame: pd.DataFrame, schema: pa.DataFrameSchema, file: str, max_per_rule: int,
) -> list[Problem]:
    """Every failure of `schema` on `frame` (RangeIndex, with source_row), in plain words."""
    try:
        schema.validate(frame, lazy=True)
        return []
    except SchemaErrors as exc:
        cases = exc.failure_cases
    except SchemaError as exc:  # raised outside lazy collection, e.g. by a schema-level parser
        return [Problem(file, str(exc).splitlines()[0])]
    if cases is None or len(cases) == 0:
        return []
    cases = cases.reset_index(drop=True)
    rows = (frame["source_row"] if "source_row" in frame.columns
            else frame.index.to_series() + 2).to_numpy()
    problems: list[Problem] = []

    element = cases[cases["index"].notna()]
    whole = cases[cases["index"].isna()]
    column_cases = element[element["schema_context"] != "DataFrameSchema"]
    frame_cases = element[element["schema_context"] == "DataFrameSchema"]

    # Whole-column failures (missing column, wrong type) come first: they explain the rest.
    for case in whole.itertuples(index=False):
        label = str(case.check)
        failure = _shown(case.failure_case) or ""
        if label == "column_in_dataframe":
            problems.append(Problem(file, _say(label), column=failure))
        elif re.search(r"Error\(", failure):
            continue  # a check that could not run because of another failure: reported below
        else:
            column = _shown(case.column)
            problems.append(Problem(file, _say(label), column=column, value=failure or None))

    for (label, column), group in column_cases.groupby(["check", "column"], sort=False):
        problems += problems_at(file, _say(label), _shown(column), rows[group["index"].astype(int)],
                            group["failure_case"].tolist(), max_per_rule)

    # A dataframe-level check (e.g. completed <= register) lists each failing row once per
    # column; say it once per row, with the values of the columns the rule names.
    for label, group in frame_cases.groupby("check", sort=False):
        rule = _say(label)
        found = {c: re.search(rf"\b{re.escape(str(c))}\b", rule) for c in frame.columns}
        named = sorted((c for c in found if found[c]), key=lambda c: found[c].start())
        index = group["index"].astype(int).drop_duplicates().to_numpy()
        head = frame.iloc[index[:max_per_rule]]
        values = [", ".join(f"{c}={v}" for c, v in zip(named, vals, strict=True)) or None
                  for vals in head[named].itertuples(index=False, name=None)]
        values += [None] * (len(index) - len(values))
        problems += problems_at(file, rule, named[0] if named else None, rows[index], values,
                            max_per_rule)

    if not problems and len(whole):  # a check failed to run with no other explanation
        problems = [Problem(file, f"could not check rule: {_say(c.check)}", column=_shown(c.column),
                            value=_shown(c.failure_case)) for c in whole.itertuples(index=False)]
    return problems


def _period_problems(
    frame: pd.DataFrame, file: str, today: date, max_per_rule: int,
) -> tuple[list[Problem], pd.Series]:
    """Periods that are not real 'YYYY-MM' months or lie after `today`'s month; and the good."""
    period = frame["period"].astype("string")
    present = period.notna()
    real = period.str.fullmatch(periods.PATTERN).fillna(False).astype(bool)
    future = real & (period > f"{today.year:04d}-{today.month:02d}").fillna(False).astype(bool)
    unreal = present & ~real  # a missing period is the schema's "value is missing"
    rows, values = frame["source_row"].to_numpy(), frame["period"].to_numpy()
    unreal, future = unreal.to_numpy(), future.to_numpy()
    problems = problems_at(file, "period is not a real month in YYYY-MM form", "period",
                           rows[unreal], values[unreal], max_per_rule)
    problems += problems_at(file, f"period is in the future (today is {today.isoformat()})",
                            "period", rows[future], values[future], max_per_rule)
    return problems, real & ~pd.Series(future, index=frame.index)


def _code_problems(
    frame: pd.DataFrame, file: str, code_column: str, known_codes: Callable[[str], set[str]],
    usable: pd.Series, max_per_rule: int,
) -> list[Problem]:
    """Codes absent from the organisation reference for their month (reported, never guessed)."""
    problems: list[Problem] = []
    codes = frame[code_column]
    present = usable & codes.notna()
    for period, index in frame.index[present].groupby(frame.loc[present, "period"]).items():
        unknown = index[~codes.loc[index].isin(known_codes(str(period)))]
        problems += problems_at(file, f"code is not in the organisation reference for {period}",
                            code_column, frame.loc[unknown, "source_row"].to_numpy(),
                            codes.loc[unknown].to_numpy(), max_per_rule)
    return problems


def validate_frame(
    frame: pd.DataFrame, *, feed: str, file: str, schema: pa.DataFrameSchema, today: date,
    known_codes: Callable[[str], set[str]] | None = None, code_column: str | None = None,
    max_per_rule: int = MAX_PER_RULE,
) -> list[Problem]:
    """Every problem in a parsed `feed` frame from `file`: schema failures, bad or future periods,
    and (when `known_codes` and `code_column` are given) codes unknown for their month.

    Problems point at `source_row`, the row number a person sees in the file; at most
    `max_per_rule` are listed per rule and column, plus one counting the rest. An empty list
    means the frame may be loaded.
    """
    frame = frame.reset_index(drop=True)
    problems = _schema_problems(frame, schema, file, max_per_rule)
    if "period" in frame.columns and "source_row" in frame.columns:
        period_problems, usable = _period_problems(frame, file, today, max_per_rule)
        flagged = {(p.row, p.column) for p in problems if p.row is not None}
        problems += [p for p in period_problems if (p.row, p.column) not in flagged]
        if known_codes is not None and code_column is not None and code_column in frame.columns:
            problems += _code_problems(frame, file, code_column, known_codes, usable,
                                       max_per_rule)
    return problems


def check_duplicates(
    frame: pd.DataFrame, key_columns: Iterable[str], file: str, max_per_rule: int = MAX_PER_RULE,
) -> list[Problem]:
    """Rows whose key repeats an earlier row's key, each naming the earlier row it repeats."""
    keys = list(key_columns)
    frame = frame.reset_index(drop=True)
    rows = frame["source_row"] if "source_row" in frame.columns else frame.index.to_series() + 2
    repeat = frame.duplicated(keys, keep="first")
    if not repeat.any():
        return []
    first_row = rows.groupby([frame[k] for k in keys], dropna=False, sort=False).transform("first")
    head = frame.loc[repeat, keys].head(max_per_rule)
    problems = [
        Problem(file, f"same {', '.join(keys)} as row {int(first)}", row=int(r), column=keys[0],
                value=" / ".join("" if pd.isna(v) else str(v) for v in key))
        for r, first, key in zip(rows[repeat], first_row[repeat],
                                 head.itertuples(index=False, name=None), strict=False)
    ]
    more = int(repeat.sum()) - len(head)
    if more > 0:
        problems.append(Problem(file, f"... and {more} more row(s) repeating an earlier key",
                                column=keys[0]))
    return problems


# --- Reading a feed file through its layout table (etl/layouts/<feed>.toml) -------------------
def refuse(
    file: str, problems: list[Problem], frame: pd.DataFrame | None = None,
    schema: pa.DataFrameSchema | None = None, max_per_rule: int = MAX_PER_RULE,
    derived: dict[str, str] | None = None,
) -> None:
    """Raise FeedError for `problems` when there are any, adding the schema's own findings on
    `frame` (so one report lists every bad row) except where a cell was already reported.

    `derived` maps a canonical column to the file column it is computed from (period from
    extract_date): a bad source cell is not reported again as a missing derived value.
    """
    if not problems:
        return
    if frame is not None and schema is not None:
        flagged = {(p.row, p.column) for p in problems}
        for target, source in (derived or {}).items():
            flagged |= {(p.row, target) for p in problems if p.column == source}
        more = _schema_problems(frame.reset_index(drop=True), schema, file, max_per_rule)
        problems = problems + [p for p in more if (p.row, p.column) not in flagged]
    raise FeedError(file, problems)
