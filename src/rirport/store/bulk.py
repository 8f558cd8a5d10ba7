"""Loading many delegation rows at driver speed: ``executemany`` on SQLite, ``COPY`` on PostgreSQL.

SQLAlchemy's row-at-a-time parameter processing would cost more than parsing the files; the
rows here are plain tuples of ints and strings, prepared with numpy, and handed to the driver on
the connection (and in the transaction) the unit of work already holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Connection

from rirport.domain.table import DelegationTable
from rirport.store.keys import join_fields, table_keys

_COLUMNS = "snapshot_id, lo, line, hi, opaque_id, record"
_PER_STATEMENT = 50  # rows per INSERT: amortises SQLite's per-statement cost (measured ~2x)


@dataclass(frozen=True)
class DelegationRows:
    """Column lists of delegation rows, built before the transaction that stores them."""

    lo: list[str]
    line: list[int]
    hi: list[str]
    opaque_id: list[str | None]
    record: list[str]

    def __len__(self) -> int:
        return len(self.line)

    def interleaved(self) -> list[object]:
        """All values row after row: lo, line, hi, opaque_id, record, lo, line, ..."""
        flat: list[object] = [None] * (5 * len(self))
        flat[0::5] = self.lo
        flat[1::5] = self.line
        flat[2::5] = self.hi
        flat[3::5] = self.opaque_id
        flat[4::5] = self.record
        return flat


def delegation_rows(table: DelegationTable, records: Sequence[str]) -> DelegationRows:
    """Rows for every row of ``table``, ready for :func:`insert_delegations`.

    ``records`` holds each row's statistics line (without newline); ``table.line`` numbers
    the rows. Built before the transaction starts, so a pipeline can prepare the next file
    while this one is written.
    """
    n = len(table)
    if n == 0:
        return DelegationRows([], [], [], [], [])
    opaque_chars = np.ascontiguousarray(table.opaque_id).view(np.uint8).reshape(n, -1)
    opaque: list[str | None] = list(join_fields(opaque_chars, (opaque_chars != 0).sum(axis=1)))
    for i in np.flatnonzero(~table.has_opaque).tolist():
        opaque[i] = None
    if len(records) != n:
        raise ValueError(f"{len(records)} record lines for {n} rows")
    return DelegationRows(table_keys(table, "lo"), table.line.tolist(), table_keys(table, "hi"),
                          opaque, list(records))


def insert_delegations(connection: Connection, snapshot_id: int, rows: DelegationRows) -> None:
    """Insert prepared rows under ``snapshot_id`` on the connection's current transaction."""
    if not len(rows):
        return
    raw = connection.connection.dbapi_connection
    if connection.dialect.name == "postgresql":
        _copy_postgresql(raw, int(snapshot_id), rows)
    else:
        _insert_sqlite(raw, int(snapshot_id), rows)


def _insert_sqlite(raw: Any, snapshot_id: int, rows: DelegationRows) -> None:
    one = f"({snapshot_id}, ?, ?, ?, ?, ?)"
    sql = f"INSERT INTO delegation ({_COLUMNS}) VALUES "
    flat = rows.interleaved()
    width = 5 * _PER_STATEMENT
    whole = len(flat) // width * width
    cursor = raw.cursor()
    try:
        if whole:
            chunks = list(zip(*[iter(flat[:whole])] * width, strict=True))
            cursor.executemany(sql + ", ".join([one] * _PER_STATEMENT), chunks)
        if whole < len(flat):
            rest = list(zip(*[iter(flat[whole:])] * 5, strict=True))
            cursor.executemany(sql + one, rest)
    finally:
        cursor.close()


def _copy_postgresql(raw: Any, snapshot_id: int, rows: DelegationRows) -> None:
    def text(values: list[str]) -> list[str]:
        return [_copy_escape(v) for v in values] if any("\\" in v or "\t" in v
                                                         for v in values) else values

    opaque = [r"\N" if v is None else _copy_escape(v) for v in rows.opaque_id]
    sid = str(snapshot_id)
    lines = map("\t".join, zip([sid] * len(rows), rows.lo, map(str, rows.line), rows.hi,
                               opaque, text(rows.record), strict=True))
    payload = "\n".join(lines) + "\n"
    with raw.cursor() as cursor, cursor.copy(f"COPY delegation ({_COLUMNS}) FROM STDIN") as copy:
        copy.write(payload)


def _copy_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace(
        "\r", "\\r")
