"""The hash-chained journal's rows."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select

from rirport.store import schema
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
        self._meta = meta

    def reserve(self) -> int:
        """The serial of this transaction's entry (written later by :meth:`write`)."""
        return self._meta.bump_generation()

    def last_hash(self, before: int) -> str | None:
        j = schema.journal.c
        return self._c.execute(
            select(j.hash).where(j.serial < before).order_by(j.serial.desc()).limit(1)
        ).scalar_one_or_none()

    def write(self, row: JournalRow) -> None:
        self._c.execute(insert(schema.journal).values(**row.__dict__))

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
