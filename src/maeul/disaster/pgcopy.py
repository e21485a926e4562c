"""PostgreSQL's binary COPY format, built from numpy columns.

A roll-call writes 100,000 entries when an alert arrives. Formatting them as text costs a Python f-string per row
and the server a text parse per field; in the binary format every column is one numpy operation and the server
copies the values as they are. The format (PostgreSQL documentation, "COPY", *Binary Format*): a signature and two
32-bit words, then per row a 16-bit field count and per field a 32-bit length (-1 for NULL) and the value in network
byte order, then a 16-bit -1.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, header extension length
TRAILER = b"\xff\xff"
POSTGRES_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Column:
    """One column's values in their wire type (big-endian numbers, or bytes for text) and where they are NULL."""

    values: np.ndarray
    null: np.ndarray | None = None

    def widths(self) -> np.ndarray:
        if self.values.dtype.kind == "S":
            widths = np.char.str_len(self.values).astype(np.int64)
        else:
            widths = np.full(self.values.size, self.values.dtype.itemsize, dtype=np.int64)
        return widths if self.null is None else np.where(self.null, 0, widths)


def bigint(values: np.ndarray, null: np.ndarray | None = None) -> Column:
    return Column(values.astype(">i8"), null)


def integer(values: np.ndarray, null: np.ndarray | None = None) -> Column:
    return Column(values.astype(">i4"), null)


def smallint(values: np.ndarray) -> Column:
    return Column(values.astype(">i2"))


def double(values: np.ndarray) -> Column:
    """Double precision; NaN is written as NULL."""
    return Column(values.astype(">f8"), np.isnan(values))


def text(values: np.ndarray) -> Column:
    try:
        return Column(values.astype("S"))  # ASCII (administrative codes): a plain cast
    except UnicodeEncodeError:
        return Column(np.char.encode(values.astype(str), "utf-8"))


def timestamptz(moment: datetime, rows: int) -> Column:
    """The same moment in every row: microseconds since 2000-01-01 UTC."""
    return Column(np.full(rows, _micros(moment), dtype=">i8"))


def _micros(moment: datetime) -> int:
    delta = moment - POSTGRES_EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def payload(columns: list[Column]) -> bytes:
    """The whole COPY stream for these columns (all of the same length). Rows with the same NULLs and text lengths
    have the same layout, so each such group is one numpy structured array written as it is: no per-row work in
    Python. The groups follow one another; within a group the rows keep their order."""
    rows = columns[0].values.size
    widths = [column.widths() for column in columns]
    # One integer names a row's layout: a bit per NULL, then each text column's length.
    layout = np.zeros(rows, dtype=np.int64)
    for i, column in enumerate(columns):
        if column.null is not None:
            layout |= column.null.astype(np.int64) << i
    for column, width in zip(columns, widths, strict=True):
        if column.values.dtype.kind == "S":
            layout = layout * (column.values.dtype.itemsize + 1) + width
    kinds, group_of_row = np.unique(layout, return_inverse=True)
    parts = [HEADER]
    for group in range(len(kinds)):
        members = np.flatnonzero(group_of_row == group)
        first = members[0]
        fields: list[tuple[str, str]] = [("count", ">i2")]
        for i, (column, width) in enumerate(zip(columns, widths, strict=True)):
            fields.append((f"length{i}", ">i4"))
            if column.null is None or not column.null[first]:
                wire = f"S{width[first]}" if column.values.dtype.kind == "S" else column.values.dtype.str
                fields.append((f"value{i}", wire))
        block = np.empty(members.size, dtype=np.dtype(fields))
        block["count"] = len(columns)
        for i, (column, width) in enumerate(zip(columns, widths, strict=True)):
            if column.null is not None and column.null[first]:
                block[f"length{i}"] = -1
            else:
                block[f"length{i}"] = width[first]
                block[f"value{i}"] = column.values[members]
        parts.append(block.tobytes())
    parts.append(TRAILER)
    return b"".join(parts)
