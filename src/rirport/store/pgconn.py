"""PostgreSQL connections that send a transaction's ``BEGIN`` with its first statement and
its last write with its ``COMMIT``.

psycopg, outside autocommit, sends ``BEGIN`` as a round trip of its own before the first
statement of a transaction, and ``COMMIT`` as another after the last: a transfer step is four
to seven round trips, two of them these (measured by
``tests/services/test_transfer_round_trips.py``). Here the connection runs in psycopg's
autocommit mode and the store opens the transaction itself: :meth:`Connection.begin_with_next`
queues the ``BEGIN`` (and a ``SET LOCAL``), which goes with the next statement in one
round trip (psycopg's pipeline mode: the statements are sent together and answered
together, each still on its own and prepared as before), and :meth:`Connection.defer` queues
a write whose answer nobody reads (the journal entry with its log rows, the last statement
of a write), which goes with whatever statement comes next or else with the ``COMMIT``.
Every way a statement reaches the server (a cursor's ``execute``, ``executemany``, ``copy``,
a commit or a rollback) first sends what is queued, so the statements run in the order they
were given, in the one transaction: only how they travel changes. A failure in a queued
statement is raised by the statement it went with (or by the commit), and the transaction
is then rolled back as any failed one is.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus

IDLE = TransactionStatus.IDLE

Queued = tuple[str, Sequence[Any] | None]


class Cursor(psycopg.Cursor[Any]):
    """A cursor whose statements first send what the connection has queued."""

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Cursor:
        conn = self.connection
        if isinstance(conn, Connection) and conn.queued:
            with conn.sending_queued():
                super().execute(query, params, **kwargs)
            return self
        super().execute(query, params, **kwargs)
        return self

    def executemany(self, query: Any, params_seq: Any, **kwargs: Any) -> None:
        conn = self.connection
        if isinstance(conn, Connection):
            conn.flush()
        super().executemany(query, params_seq, **kwargs)

    @contextmanager
    def copy(self, statement: Any, params: Any = None, **kwargs: Any) -> Iterator[Any]:
        conn = self.connection
        if isinstance(conn, Connection):
            conn.flush()
        with super().copy(statement, params, **kwargs) as copy:
            yield copy


class Connection(psycopg.Connection[Any]):
    """A psycopg connection with statements queued to go with the next one (see the
    module's docstring). The store keeps it in autocommit mode and begins each transaction
    with :meth:`begin_with_next`."""

    queued: list[Queued]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queued = []
        self.cursor_factory = Cursor

    def begin_with_next(self, statements: Sequence[str]) -> None:
        """Open a transaction with ``statements`` (``BEGIN`` and any ``SET LOCAL``), sent
        with the transaction's first statement (none: none is sent)."""
        self.queued = [(s, None) for s in statements]

    def defer(self, sql: str, params: Sequence[Any]) -> None:
        """Queue a statement that returns nothing anyone reads, to go with the next one."""
        self.queued.append((sql, tuple(params)))

    @contextmanager
    def sending_queued(self) -> Iterator[None]:
        """A pipeline that first sends what is queued; what the block executes goes with it,
        in the same round trip (the block's results are read when it ends)."""
        queued, self.queued = self.queued, []
        with self.pipeline():
            plain = psycopg.Cursor(self)
            for sql, params in queued:
                plain.execute(sql, params)
            yield

    def flush(self) -> None:
        """Send what is queued now, on its own (a round trip; nothing when nothing is)."""
        if self.queued:
            with self.sending_queued():
                pass

    def commit(self) -> None:
        queued = self.queued
        if not queued:
            super().commit()
            return
        if all(params is None for _, params in queued) and self.pgconn.transaction_status == IDLE:
            self.queued = []  # only the BEGIN, never sent: the transaction ran no statement
            return
        with self.sending_queued():
            psycopg.Cursor(self).execute("COMMIT")

    def rollback(self) -> None:
        self.queued = []  # nothing queued was sent: there is nothing of it to undo
        super().rollback()
