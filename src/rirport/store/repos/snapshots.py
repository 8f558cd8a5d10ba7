"""Snapshots: one row per ingested file and where it came from."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select

from rirport.store import schema


@dataclass(frozen=True)
class SnapshotRow:
    """A stored snapshot: one ingested file and where it came from."""

    id: int
    registry: str
    snapshot_date: dt.date
    file_name: str
    source_url: str | None
    file_sha256: str
    content_sha256: str
    compression: str | None
    extended: bool
    version: str
    serial: str
    start_date: str
    end_date: str
    utc_offset: str
    declared_records: int
    records: int
    summary: list[list[Any]]
    preamble: str
    skipped_lines: int
    skipped: list[str]
    ingested_at: dt.datetime


class SnapshotRepo:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add(self, values: dict[str, Any]) -> int:
        result = self._c.execute(insert(schema.snapshot).values(**values))
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def get(self, snapshot_id: int) -> SnapshotRow | None:
        row = self._c.execute(
            select(schema.snapshot).where(schema.snapshot.c.id == snapshot_id)
        ).first()
        return SnapshotRow(**row._mapping) if row else None

    def find_content(self, registry: str, content_sha256: str) -> SnapshotRow | None:
        row = self._c.execute(
            select(schema.snapshot).where(
                schema.snapshot.c.registry == registry,
                schema.snapshot.c.content_sha256 == content_sha256,
            )
        ).first()
        return SnapshotRow(**row._mapping) if row else None

    def find_sha(self, content_sha256: str) -> SnapshotRow | None:
        """A snapshot with this content in any registry (content hashes do not collide)."""
        row = self._c.execute(
            select(schema.snapshot)
            .where(schema.snapshot.c.content_sha256 == content_sha256)
            .limit(1)
        ).first()
        return SnapshotRow(**row._mapping) if row else None

    def find_dated(self, registry: str, date: dt.date) -> list[SnapshotRow]:
        rows = self._c.execute(
            select(schema.snapshot).where(
                schema.snapshot.c.registry == registry, schema.snapshot.c.snapshot_date == date
            )
        )
        return [SnapshotRow(**r._mapping) for r in rows]

    def all(self) -> list[SnapshotRow]:
        rows = self._c.execute(
            select(schema.snapshot).order_by(
                schema.snapshot.c.registry, schema.snapshot.c.snapshot_date, schema.snapshot.c.id
            )
        )
        return [SnapshotRow(**r._mapping) for r in rows]

    def current(self) -> list[SnapshotRow]:
        """The newest snapshot of each registry (by snapshot date, then ingest order)."""
        return self.as_of(None)

    def as_of(self, date: dt.date | None) -> list[SnapshotRow]:
        """Each registry's newest snapshot dated on or before ``date`` (None: the newest);
        a registry with no snapshot that old is left out."""
        newest: dict[str, SnapshotRow] = {}
        for row in self.all():  # ordered by date then id within a registry
            if date is None or row.snapshot_date <= date:
                newest[row.registry] = row
        return sorted(newest.values(), key=lambda r: r.registry)

    def neighbours(
        self, registry: str, date: dt.date
    ) -> tuple[SnapshotRow | None, SnapshotRow | None]:
        """The registry's snapshots just before and just after ``date``."""
        rows = [r for r in self.all() if r.registry == registry]
        before = [r for r in rows if r.snapshot_date < date]
        after = [r for r in rows if r.snapshot_date > date]
        return (before[-1] if before else None), (after[0] if after else None)
