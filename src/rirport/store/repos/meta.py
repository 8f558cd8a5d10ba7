"""The store's key/value facts, chiefly its write generation."""

from __future__ import annotations

import sqlite3

from sqlalchemy import Connection, select

from rirport.store import schema
from rirport.store.driver import Driver
from rirport.store.peek import StoreHead, head_from_rows


class MetaRepo:
    """Small key/value facts about the store, chiefly its write generation.

    Every write transaction reads and writes a few of these (the generation, the data
    generation, the log's pending parts), so they speak plain SQL to the driver: building
    SQLAlchemy expressions cost more than the statements."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection
        self._d = Driver(connection)
        self._m = self._d.mark
        self.returning = connection.dialect.name == "postgresql" or (
            sqlite3.sqlite_version_info >= (3, 35)
        )
        """Whether the engine returns an updated row (``UPDATE … RETURNING``)."""
        self._known: dict[str, str | None] = {}
        """Values read with another statement under a lock that holds them to commit (the
        bump's :data:`~rirport.store.repos.journal.PREFETCHED`), then as :meth:`put` wrote
        them: :meth:`get` answers these without asking."""

    def known(self, key: str, value: str | None) -> None:
        """``key``'s value, read under a row lock this transaction holds to commit (so no
        other writer changes it before then; None: no such row, known only where no other
        writer can add it, SQLite): :meth:`get` returns it without a statement, and
        :meth:`put` keeps it up to date."""
        self._known[key] = value

    def get(self, key: str) -> str | None:
        if key in self._known:
            return self._known[key]
        found = self._d.value(f'SELECT value FROM meta WHERE "key" = {self._m}', (key,))
        return None if found is None else str(found)

    def put(self, key: str, value: str) -> None:
        m = self._m
        if not self._d.run(f'UPDATE meta SET value = {m} WHERE "key" = {m}', (value, key)):
            self._d.run(f'INSERT INTO meta ("key", value) VALUES ({m}, {m})', (key, value))
        if key in self._known:
            self._known[key] = value

    def generation(self) -> int:
        """The journal's newest serial: a counter every journaled write bumps (its row lock
        orders concurrent writers on PostgreSQL)."""
        return int(self.get("generation") or 0)

    def data_generation(self) -> int:
        """The serial of the newest write that changed registry data (not bookkeeping such
        as accounts or webhook deliveries): what the read side follows, and what its caches
        are keyed by, so they are never stale and never dropped for nothing. A store from
        before this key existed reads as its journal generation."""
        return int(self.get("data_generation") or self.get("generation") or 0)

    def mark_data_changed(self, serial: int) -> None:
        self.put("data_generation", str(serial))

    def bump_generation(self) -> int:
        """The next serial, counted up in ``meta`` (one statement where the engine returns
        the updated row: PostgreSQL, SQLite 3.35 on)."""
        bump = (
            "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) "
            "WHERE \"key\" = 'generation'"
        )
        if self.returning:
            found = self._d.value(bump + " RETURNING value")
            if found is not None:
                return int(found)
        elif self._d.run(bump):
            return self.generation()
        self._d.run("INSERT INTO meta (\"key\", value) VALUES ('generation', '1')")
        return 1

    def lock_generation(self) -> None:
        """Hold the generation row for this transaction (PostgreSQL ``FOR UPDATE``: the row
        every journaled write updates first, so a write in flight finishes before this goes
        on and the next waits for this transaction). SQLite's writers are serialised by
        ``BEGIN IMMEDIATE`` already."""
        if self._d.pg:
            self._d.rows("SELECT value FROM meta WHERE \"key\" = 'generation' FOR UPDATE")

    def head(self) -> StoreHead:
        """The state of the registry data, as :func:`rirport.store.peek.peek` reads it: what
        view caches are keyed by."""
        m = schema.meta.c
        rows = self._c.execute(
            select(m.key, m.value).where(m.key.in_(("data_generation", "generation")))
        )
        meta = {str(k): str(v) for k, v in rows}
        generation = int(meta.get("data_generation") or meta.get("generation") or 0)
        j = schema.journal.c
        found = self._c.execute(select(j.hash).where(j.serial == generation)).scalar()
        revisions = self._c.exec_driver_sql(
            "SELECT version_num FROM alembic_version ORDER BY version_num"
        )
        return head_from_rows(meta, found, [str(r[0]) for r in revisions])
