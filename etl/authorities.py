"""Which rows of a national publication of local authorities the area keeps.

A national workbook (NHS England's DToC) names every English authority. It is never refused whole
for one the reference does not know yet:
- a row of an authority in force that month (reference or warehouse) is kept;
- a row of an authority absent from the reference, which the file itself names with an ONS
  authority code and a name, is kept, and the authority becomes known under the file's name;
- any other row (a code the reference says was not in force that month, an old code with no ONS
  code, a code of another kind) is set aside and reported with its row, column and reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from etl.problems import Problem
from etl.reference import local_authorities

# ONS codes of authorities with social-services responsibility: unitary, metropolitan, London,
# county (districts, E07, have none).
AUTHORITY_CODE = re.compile(r"^E(06|08|09|10)\d{6}$")


@dataclass
class Placed:
    """A publication's rows sorted out: kept frame, authorities it introduces, rows set aside."""

    frame: pd.DataFrame
    described: dict[str, str] = field(default_factory=dict)  # new authority code -> file's name
    set_aside: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def place_authorities(
    frame: pd.DataFrame, file: str, known_codes: Callable[[str], set[str]],
    described_by_file: dict[str, str],
) -> Placed:
    """Keep the rows of known authorities and of new ones the file describes; set the rest aside.

    `frame` has org_code, period and source_row; `described_by_file` maps the ONS codes the file
    gives to the names it gives them.
    """
    reference = local_authorities().set_index("ons_code")
    code, period = frame["org_code"].astype(str), frame["period"].astype(str)
    keep = pd.Series(False, index=frame.index)
    for month, index in frame.groupby(period).groups.items():
        keep.loc[index] = code.loc[index].isin(known_codes(str(month)))
    new = ~keep & ~code.isin(reference.index) & code.isin(list(described_by_file)) \
        & code.str.match(AUTHORITY_CODE)
    described = {c: described_by_file[c] for c in sorted(set(code[new]))}
    aside = ~keep & ~new
    problems = [Problem(file, _why(c, p, reference), row=int(r), column="org_code", value=c)
                for c, p, r in zip(code[aside], period[aside], frame.loc[aside, "source_row"],
                                   strict=True)]
    notes = []
    if described:
        notes.append(f"{len(described)} authority(ies) new to the reference, named by the file, "
                     "added: " + ", ".join(f"{c} {n}" for c, n in described.items()))
    return Placed(frame[(keep | new).to_numpy()], described, problems, notes)


def _why(code: str, period: str, reference: pd.DataFrame) -> str:
    """Why a row's authority cannot be placed, in words a data manager can check."""
    if code in reference.index:
        row = reference.loc[code]
        span = f"from {row['valid_from'] or 'before 2010'} to {row['valid_to'] or 'today'}"
        successor = f", replaced by {row['replaced_by']}" if row["replaced_by"] else ""
        return (f"authority {code} ({row['name']}) is not in force in {period}: the reference "
                f"has it {span}{successor}")
    return (f"code is not in the organisation reference for {period}, and the file gives no "
            "ONS authority code and name for it")
