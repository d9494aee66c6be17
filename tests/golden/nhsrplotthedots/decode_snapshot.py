"""Decode an NHSRplotthedots testthat snapshot (R `serialize()` XDR, base64) into a CSV.

The `expect_snapshot_value(style = "serialize")` blocks in NHSRplotthedots'
tests/testthat/_snaps/integration_tests.md hold the package's own `ptd_spc()` output data
frame. This one-off reader understands just the R serialisation types those frames use
(lists, pairlists, double, integer, logical and character vectors, symbols and references)
and writes each column of the data frame to CSV, so the golden test reads plain numbers.

Usage: python decode_snapshot.py SNAPSHOT.b64 OUT.csv
"""

from __future__ import annotations

import base64
import csv
import math
import struct
import sys
from datetime import UTC, datetime
from pathlib import Path

NA_INTEGER = -(2**31)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.refs: list[object] = []

    def take(self, n: int) -> bytes:
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def int(self) -> int:
        return struct.unpack(">i", self.take(4))[0]

    def item(self) -> object:
        flags = self.int()
        kind = flags & 0xFF
        has_attr = bool(flags & (1 << 9))
        has_tag = bool(flags & (1 << 10))
        if kind in (254, 242, 253):  # NULL, empty env, global env
            return None
        if kind == 255:  # reference to an earlier symbol
            index = flags >> 8 or self.int()
            return self.refs[index - 1]
        if kind == 1:  # symbol
            name = self.item()
            self.refs.append(name)
            return name
        if kind == 2:  # pairlist (attributes)
            out = {}
            attr = self.item() if has_attr else None
            del attr
            tag = self.item() if has_tag else None
            out[tag] = self.item()
            rest = self.item()
            if isinstance(rest, dict):
                out.update(rest)
            return out
        if kind == 9:  # CHARSXP
            length = self.int()
            return None if length == -1 else self.take(length).decode("utf-8")
        length = self.int()
        if kind == 14:
            values = list(struct.unpack(f">{length}d", self.take(8 * length)))
        elif kind in (13, 10):
            ints = struct.unpack(f">{length}i", self.take(4 * length))
            values = [None if v == NA_INTEGER else v for v in ints]
        elif kind in (16, 19):
            values = [self.item() for _ in range(length)]
        else:
            raise ValueError(f"unsupported R type {kind} at byte {self.pos}")
        attrs = self.item() if has_attr else {}
        return {"kind": kind, "values": values, "attrs": attrs}


def decode(path: Path) -> dict[str, list]:
    raw = base64.b64decode("".join(path.read_text().split()))
    reader = _Reader(raw)
    assert reader.take(2) == b"X\n", "not an XDR serialisation"
    version = reader.int()
    reader.int(), reader.int()
    if version == 3:
        reader.take(reader.int())
    frame = reader.item()
    names = frame["attrs"]["names"]["values"]
    columns = {}
    for name, column in zip(names, frame["values"], strict=True):
        values = column["values"]
        classes = column["attrs"].get("class", {}).get("values", []) if column["attrs"] else []
        if "POSIXct" in classes:  # seconds since 1970 in UTC: write the calendar date
            values = [datetime.fromtimestamp(v, tz=UTC).date().isoformat() for v in values]
        elif column["kind"] == 14:
            values = ["" if math.isnan(v) else repr(v) for v in values]
        elif column["kind"] == 10:
            values = ["" if v is None else ("TRUE" if v else "FALSE") for v in values]
        columns[name] = values
    return columns


def main() -> None:
    columns = decode(Path(sys.argv[1]))
    with open(sys.argv[2], "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(zip(*columns.values(), strict=True))


if __name__ == "__main__":
    main()
