"""Loading many delegation rows at driver speed: ``executemany`` on SQLite, ``COPY`` on PostgreSQL.

SQLAlchemy's row-at-a-time parameter processing would cost more than parsing the files; the
rows here are plain tuples of ints and strings, prepared with numpy, and handed to the driver on
the connection (and in the transaction) the unit of work already holds.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection

from rirport.domain.table import DelegationTable
from rirport.errors import StorageError
from rirport.store.head import FileLines, fingerprints
from rirport.store.keys import join_fields, table_keys

_COLUMNS = "snapshot_id, registry, valid_from, valid_to, id, lo, line, hi, opaque_id, record"
_PER_STATEMENT = 50  # rows per INSERT: amortises SQLite's per-statement cost (measured ~2x)


class DelegationRows:
    """Column lists of delegation rows, built before the transaction that stores them.

    Only the record lines (and their fingerprints, when the caller has them) are held for
    every row: a file over an existing history inserts a few new rows, so the range keys
    and holder ids are made from the table when asked for, for the rows asked for
    (:meth:`subset` first)."""

    def __init__(
        self,
        table: DelegationTable,
        record: list[str] | FileLines,
        prints: npt.NDArray[np.uint64] | None = None,
    ) -> None:
        if len(record) != len(table):
            raise ValueError(f"{len(record)} record lines for {len(table)} rows")
        self.table = table
        self._record = record
        self._prints = prints

    @property
    def record(self) -> list[str]:
        """Each row's statistics line (decoded from the file when first asked for)."""
        if isinstance(self._record, FileLines):
            self._record = self._record.texts()
        return self._record

    def __len__(self) -> int:
        return len(self.table)

    @functools.cached_property
    def line(self) -> list[int]:
        lines: list[int] = self.table.line.tolist()
        return lines

    @functools.cached_property
    def lo(self) -> list[str]:
        return table_keys(self.table, "lo") if len(self) else []

    @functools.cached_property
    def hi(self) -> list[str]:
        return table_keys(self.table, "hi") if len(self) else []

    @functools.cached_property
    def opaque_id(self) -> list[str | None]:
        return _opaque_texts(self.table)

    @property
    def prints(self) -> npt.NDArray[np.uint64]:
        """The fingerprint of each record line (:func:`rirport.store.head.fingerprints`)."""
        if self._prints is None:
            self._prints = fingerprints(self.record)
        return self._prints

    def subset(self, indices: Sequence[int]) -> DelegationRows:
        """The rows at ``indices`` (in that order)."""
        at = np.asarray(indices, dtype=np.int64)
        record = self._record
        return DelegationRows(
            self.table.take(at),
            record.take(at) if isinstance(record, FileLines) else [record[i] for i in indices],
            None if self._prints is None else self._prints[at],
        )

    def interleaved(self, ids: Sequence[int] | None = None) -> list[object]:
        """All values row after row: (id,) lo, line, hi, opaque_id, record, (id,) lo, ..."""
        width = 5 if ids is None else 6
        flat: list[object] = [None] * (width * len(self))
        columns: list[Sequence[object]] = [self.lo, self.line, self.hi, self.opaque_id, self.record]
        if ids is not None:
            columns.insert(0, ids)
        for at, column in enumerate(columns):
            flat[at::width] = column
        return flat


def _opaque_texts(table: DelegationTable) -> list[str | None]:
    n = len(table)
    if n == 0:
        return []
    opaque_chars = np.ascontiguousarray(table.opaque_id).view(np.uint8).reshape(n, -1)
    opaque: list[str | None] = list(join_fields(opaque_chars, (opaque_chars != 0).sum(axis=1)))
    for i in np.flatnonzero(~table.has_opaque).tolist():
        opaque[i] = None
    return opaque


@dataclass(frozen=True)
class Version:
    """What new rows share: the snapshot they are read from, their registry, the snapshot
    date they start on and the one they end on (``end`` None: that date too; the open end
    :data:`~rirport.store.schema.OPEN_END` for rows of the newest file)."""

    snapshot_id: int
    registry: str
    date: dt.date
    end: dt.date | None = None

    @property
    def last(self) -> dt.date:
        return self.end or self.date

    def literals(self) -> str:
        """The shared columns as SQL literals (all three are validated values, not text
        from a file: an int, a registry name checked against the five, an ISO date)."""
        assert self.registry.isalpha() and self.registry.islower()
        day, last = self.date.isoformat(), self.last.isoformat()
        return f"{int(self.snapshot_id)}, '{self.registry}', '{day}', '{last}'"


def delegation_rows(
    table: DelegationTable,
    records: Sequence[str] | FileLines,
    prints: npt.NDArray[np.uint64] | None = None,
) -> DelegationRows:
    """Rows for every row of ``table``, ready for :func:`insert_delegations`.

    ``records`` holds each row's statistics line (without newline), or where the file has
    them (decoded only for the rows stored), ``prints`` their fingerprints when the caller
    has them; ``table.line`` numbers the rows. Built before the transaction starts, so a
    pipeline can prepare the next file while this one is written.
    """
    return DelegationRows(
        table, records if isinstance(records, FileLines) else list(records), prints
    )


def insert_delegations(
    connection: Connection, version: Version, rows: DelegationRows, ids: Sequence[int]
) -> None:
    """Insert prepared rows with the given ids as new versions, on the connection's current
    transaction."""
    if not len(rows):
        return
    if len(ids) != len(rows):
        raise ValueError(f"{len(ids)} ids for {len(rows)} rows")
    raw = connection.connection.dbapi_connection
    if connection.dialect.name == "postgresql":
        _copy_postgresql(raw, version, rows, ids)
    else:
        _insert_sqlite(raw, version, rows, ids)


def _insert_sqlite(raw: Any, version: Version, rows: DelegationRows, ids: Sequence[int]) -> None:
    """SQLite numbers rows max(id)+1, +2, ... itself, so the ids are not sent (measured: the
    explicit column cost about 5% of the insert); the caller checks the last id."""
    one = f"({version.literals()}, ?, ?, ?, ?, ?)"
    sql = f"INSERT INTO delegation ({_COLUMNS.replace(' id,', '')}) VALUES "
    flat = rows.interleaved()
    width = 5 * _PER_STATEMENT
    whole = len(flat) // width * width
    cursor = raw.cursor()
    try:
        if whole:
            chunks = [flat[at : at + width] for at in range(0, whole, width)]  # list slices:
            cursor.executemany(sql + ", ".join([one] * _PER_STATEMENT), chunks)  # 2x zip's speed
        if whole < len(flat):
            rest = list(zip(*[iter(flat[whole:])] * 5, strict=True))
            cursor.executemany(sql + one, rest)
        last = cursor.execute("SELECT max(id) FROM delegation").fetchone()[0]
    finally:
        cursor.close()
    if last != ids[-1]:
        raise StorageError(f"SQLite numbered the rows up to {last}, expected {ids[-1]}")


def _copy_postgresql(raw: Any, version: Version, rows: DelegationRows, ids: Sequence[int]) -> None:
    def text(values: list[str]) -> list[str]:
        return (
            [_copy_escape(v) for v in values]
            if any("\\" in v or "\t" in v for v in values)
            else values
        )

    opaque = [r"\N" if v is None else _copy_escape(v) for v in rows.opaque_id]
    day = version.date.isoformat()
    shared = "\t".join(
        [str(int(version.snapshot_id)), version.registry, day, version.last.isoformat()]
    )
    lines = map(
        "\t".join,
        zip(
            [shared] * len(rows),
            map(str, ids),
            rows.lo,
            map(str, rows.line),
            rows.hi,
            opaque,
            text(rows.record),
            strict=True,
        ),
    )
    payload = "\n".join(lines) + "\n"
    with raw.cursor() as cursor, cursor.copy(f"COPY delegation ({_COLUMNS}) FROM STDIN") as copy:
        copy.write(payload)


def _copy_escape(value: str) -> str:
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )
