"""The hash-chained journal's rows."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from rirport.store import schema
from rirport.store.driver import Driver
from rirport.store.repos.meta import MetaRepo


@dataclass(frozen=True)
class JournalRow:
    serial: int
    created_at: str
    actor: str
    action: str
    payload: str
    prev_hash: str
    hash: str


class JournalRepo:
    """The append-only journal. Serials come from the store's write generation, whose row
    lock (held to commit) orders concurrent writers on PostgreSQL."""

    def __init__(self, connection: Connection, meta: MetaRepo) -> None:
        self._c = connection
        self._d = Driver(connection)
        self._meta = meta
        self._written: tuple[int, str] | None = None
        """The serial and hash of the entry this unit wrote last."""

    def reserve(self) -> int:
        """The serial of this transaction's entry (written later by :meth:`write`)."""
        return self._meta.bump_generation()

    # the append path (every write transaction) speaks plain SQL to the driver
    def _mark(self) -> str:
        return "%s" if self._c.dialect.name == "postgresql" else "?"

    def last_hash(self, before: int) -> str | None:
        if self._written is not None and self._written[0] == before - 1:
            return self._written[1]  # this unit wrote the entry before (a batch of steps)
        found = self._d.value(
            f"SELECT hash FROM journal WHERE serial < {self._mark()} ORDER BY serial DESC LIMIT 1",
            (before,),
        )
        return None if found is None else str(found)

    def write(self, row: JournalRow) -> None:
        m = self._mark()
        self._d.run(
            "INSERT INTO journal (serial, created_at, actor, action, payload, prev_hash, hash) "
            f"VALUES ({', '.join([m] * 7)})",
            (
                row.serial,
                row.created_at,
                row.actor,
                row.action,
                row.payload,
                row.prev_hash,
                row.hash,
            ),
        )
        self._written = (row.serial, row.hash)

    def chunks(self, size: int = 20_000) -> Iterator[Sequence[Any]]:
        """All entries in serial order as plain tuples (field order of :class:`JournalRow`)."""
        j = schema.journal.c
        cursor = self._c.execute(
            select(
                j.serial, j.created_at, j.actor, j.action, j.payload, j.prev_hash, j.hash
            ).order_by(j.serial)
        ).cursor
        assert cursor is not None
        while rows := cursor.fetchmany(size):
            yield rows

    def get(self, serial: int) -> JournalRow | None:
        row = self._c.execute(
            select(schema.journal).where(schema.journal.c.serial == serial)
        ).first()
        return JournalRow(**row._mapping) if row else None

    def count(self) -> int:
        return int(self._c.execute(select(func.count()).select_from(schema.journal)).scalar_one())
