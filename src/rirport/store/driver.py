"""Plain SQL on a unit of work's own DBAPI connection, for the statements every write runs.

A transfer is four transactions of a dozen or so small statements each (the generation, the
journal's head, the transfer row, the holds, the rows over its range). Through
``Connection.exec_driver_sql`` each paid about five times its own cost in SQLAlchemy's
result set-up (measured: 27 µs against 5 µs on SQLite); here the statement goes straight to
a cursor of the same connection, so it runs in the unit's transaction, and the driver's
errors are raised as SQLAlchemy's (the store turns those into its own errors, a busy store
included). Values come back as the driver decodes them, as with ``exec_driver_sql``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, StatementError

from rirport.store import pgconn


class Driver:
    """One connection's statements in the driver's own parameter style (``mark``)."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection
        self.pg = connection.dialect.name == "postgresql"
        self.mark = "%s" if self.pg else "?"

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Every row the statement returns (fetched at once: the cursor is not kept)."""
        cursor = self._run(sql, params)
        return [tuple(r) for r in cursor.fetchall()] if cursor.description else []

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        """The first row, or None."""
        found = self.rows(sql, params)
        return found[0] if found else None

    def value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first column of the first row, or None."""
        row = self.one(sql, params)
        return None if row is None else row[0]

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Execute a statement that returns no rows; the rows it changed."""
        return int(self._run(sql, params).rowcount)

    def defer(self, sql: str, params: Sequence[Any]) -> None:
        """Execute a statement whose result nobody reads: on PostgreSQL it goes with the
        transaction's next statement or its commit (:meth:`rirport.store.pgconn.Connection.defer`:
        a round trip saved, its failure raised there), elsewhere now."""
        raw = self._c.connection.dbapi_connection
        if isinstance(raw, pgconn.Connection):
            raw.defer(sql, params)
            return
        self.run(sql, params)

    def many(self, sql: str, params: Sequence[Sequence[Any]]) -> None:
        """Execute a statement once per parameter tuple (one round of the driver)."""
        raw = self._c.connection.dbapi_connection
        assert raw is not None
        cursor = raw.cursor()
        try:
            cursor.executemany(sql, params)
        except self._c.dialect.loaded_dbapi.Error as exc:
            raise self._error(sql, params, exc) from exc

    def each(self, statements: Sequence[tuple[str, Sequence[Any], bool]]) -> None:
        """Execute statements that return no rows, in order, on one cursor: (sql, params,
        many), ``many`` for an ``executemany`` of a sequence of parameter tuples."""
        raw = self._c.connection.dbapi_connection
        assert raw is not None
        cursor = raw.cursor()
        for sql, params, many in statements:
            try:
                if many:
                    cursor.executemany(sql, params)
                else:
                    cursor.execute(sql, params)
            except self._c.dialect.loaded_dbapi.Error as exc:
                raise self._error(sql, params, exc) from exc

    def _run(self, sql: str, params: Sequence[Any]) -> Any:
        raw = self._c.connection.dbapi_connection
        assert raw is not None
        cursor = raw.cursor()
        try:
            cursor.execute(sql, tuple(params))
        except self._c.dialect.loaded_dbapi.Error as exc:
            raise self._error(sql, params, exc) from exc
        return cursor

    def _error(self, sql: str, params: Any, exc: Exception) -> StatementError:
        """The driver's error as SQLAlchemy would raise it (``DBAPIError`` and its kinds)."""
        return DBAPIError.instance(
            sql, params, exc, self._c.dialect.loaded_dbapi.Error, dialect=self._c.dialect
        )
