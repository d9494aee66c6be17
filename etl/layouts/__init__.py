"""Layout generations per feed, kept as data in <feed>.toml (one table per edition)."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources


@cache
def layouts_for(feed: str) -> dict[str, dict]:
    """The layouts of one feed, keyed by layout name, in the order the file declares them."""
    text = resources.files(__package__).joinpath(f"{feed}.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)
