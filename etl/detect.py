"""Which feed and layout a file is in, read from its content (the folder is only a hint)."""

from __future__ import annotations

from pathlib import Path

from etl.feeds import FEED_NAMES, FEEDS
from etl.problems import FeedError, Problem


def detect_layout(path: Path, feed_hint: str | None = None) -> tuple[str, str]:
    """(feed, layout) of a file; the hinted feed (its inbox folder) is tried first.

    Raises FeedError naming the layouts expected when no feed recognises the content.
    """
    path = Path(path)
    if path.stat().st_size == 0:
        raise FeedError(path.name, [Problem(path.name, "file is empty")])
    order = [feed_hint] if feed_hint in FEED_NAMES else []
    order += [f for f in FEED_NAMES if f not in order]
    for feed in order:
        try:
            layout = FEEDS[feed].detect(path)
        except FeedError:
            raise
        except Exception:  # a parser's detect failing on foreign content means "not mine"
            layout = None
        if layout:
            return feed, layout
    near = _nearest_csv_layout(path, feed_hint)
    if near:
        raise FeedError(path.name, near)
    expected = _expected_layouts(feed_hint)
    raise FeedError(
        path.name,
        [Problem(path.name, f"file is in no known layout; expected one of: {expected}")],
    )


def _nearest_csv_layout(path: Path, feed: str | None) -> list[Problem]:
    """For a CSV that nearly matches a layout of its folder's feed (at least half its required
    columns found), say which required columns are missing, and what names they may have."""
    from etl.layout_reader import first_csv_row
    from etl.layouts import layouts_for
    from etl.readers import fold_label

    if feed not in FEED_NAMES:
        return []
    header = {fold_label(x) for x in first_csv_row(path)}
    best: tuple[float, str, list[str], dict] | None = None
    for name, layout in layouts_for(feed).items():
        required, aliases = layout.get("required", []), layout.get("aliases", {})
        if layout.get("format") != "csv" or not required:
            continue
        missing = [f for f in required
                   if not any(fold_label(a) in header for a in aliases.get(f, [f]))]
        found = 1 - len(missing) / len(required)
        if found >= 0.5 and (best is None or found > best[0]):
            best = (found, name, missing, aliases)
    if best is None:
        return []
    _, name, missing, aliases = best
    return [Problem(path.name, f"required column is missing for layout {feed}/{name} "
                               f"(accepted headers: {', '.join(aliases.get(f, [f]))})",
                    row=1, column=f) for f in missing]


def _expected_layouts(feed_hint: str | None) -> str:
    from etl.layouts import layouts_for

    feeds = [feed_hint] if feed_hint in FEED_NAMES else list(FEED_NAMES)
    names = []
    for feed in feeds:
        try:
            names += [f"{feed}/{name}" for name in layouts_for(feed)]
        except FileNotFoundError:
            continue
    return ", ".join(names) or "(no layouts installed)"
