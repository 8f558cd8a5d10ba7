"""A few writes of one transaction sent to the database together.

Every signed write ends with the same two to four small statements: the tree's new nodes,
the checkpoint, and the state-root part digests that changed. On PostgreSQL each statement is
a round trip to the server, and those round trips were most of what the log added to a small
write (measured with ``bench/log_append.py``: the node and checkpoint inserts alone about half
the log's time there); a :class:`Batch` sends them as one statement instead, the earlier ones
as data-modifying ``WITH`` members of the last (PostgreSQL runs every member once, to
completion, in the order of the statement, and our members touch different rows, so none needs
to see another's effect). SQLite has no round trip and no data-modifying ``WITH``: there the
statements run one after another on one cursor, and the rows of an insert go as one multi-row
``VALUES`` instead of an ``executemany``. Either way the statements run in this transaction, so
what is committed is what it was before, row for row; only the way it is sent changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from rirport.store.driver import Driver

ROWS_PER_STATEMENT = 64
"""An insert of more rows than this (a tree catching up on many entries) runs on its own as an
``executemany``: one statement's parameters stay well under either database's limit."""
JOINED_PARAMS = 2_000
"""At most this many parameters in one joined PostgreSQL statement."""
_INSERTS: dict[tuple[str, str, tuple[str, ...], int], str] = {}
"""Insert statements made, by (placeholder, table, columns, rows): the same few every write."""


class Batch:
    """Statements queued in order, sent by :meth:`send` (``mark``: the driver's parameter
    placeholder, to write the statements with)."""

    def __init__(self, connection: Connection) -> None:
        self._driver = Driver(connection)
        self.mark = self._driver.mark
        self._items: list[tuple[str, Sequence[Any], bool]] = []
        self.data = False
        """Whether a queued statement changes registry data (a transfer row): the state
        parts read it, so the log sends the batch before it computes them."""

    def __len__(self) -> int:
        return len(self._items)

    def add(self, sql: str, params: Sequence[Any] = (), *, data: bool = False) -> None:
        """Queue one INSERT, UPDATE or DELETE that returns no rows (``data``: it changes
        registry data, see :attr:`data`)."""
        self._items.append((sql, tuple(params), False))
        self.data = self.data or data

    def insert(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        data: bool = False,
    ) -> None:
        """Queue the insert of ``rows`` (one multi-row statement when there are few;
        ``data``: as for :meth:`add`)."""
        if not rows:
            return
        self.data = self.data or data
        many = len(rows) > ROWS_PER_STATEMENT
        key = (self.mark, table, tuple(columns), 1 if many else len(rows))
        sql = _INSERTS.get(key)
        if sql is None:
            one = f"({', '.join([self.mark] * len(columns))})"
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES " + ", ".join([one] * key[3])
            _INSERTS[key] = sql
        if many:
            self._items.append((sql, [tuple(r) for r in rows], True))
        else:
            self._items.append((sql, [v for r in rows for v in r], False))

    def send(self, last: bool = False) -> None:
        """Run what is queued, in order, and empty the queue. ``last``: nothing of the
        transaction reads what these statements do before its next statement or its commit
        (the log's rows of an entry): on PostgreSQL the final statement is left to go with
        that one (:meth:`~rirport.store.driver.Driver.defer`, a round trip saved)."""
        items, self._items = self._items, []
        self.data = False
        if not self._driver.pg:
            self._driver.each(items)
            return
        group: list[tuple[str, Sequence[Any]]] = []
        for sql, params, many in items:
            if many or sum(len(p) for _, p in group) + len(params) > JOINED_PARAMS:
                self._joined(group)
                group = []
            if many:
                self._driver.many(sql, params)
            else:
                group.append((sql, params))
        self._joined(group, last)

    def _joined(self, group: list[tuple[str, Sequence[Any]]], defer: bool = False) -> None:
        """Run statements as one (PostgreSQL): ``WITH w0 AS (s0), … s_last`` (``defer``:
        left to go with the transaction's next statement)."""
        if not group:
            return
        *members, (final, params) = group
        if members:
            head = ", ".join(f"w{i} AS ({sql})" for i, (sql, _) in enumerate(members))
            final = f"WITH {head} {final}"
            params = (*(v for _, p in members for v in p), *params)
        if defer:
            self._driver.defer(final, params)
        else:
            self._driver.run(final, params)
