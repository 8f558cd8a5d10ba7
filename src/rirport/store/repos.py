"""Repositories: the only code that writes SQL. Services reach them through a unit of work.

Rows come back as small dataclasses of plain values; turning a stored ``record`` line into a
:class:`~rirport.domain.delegation.Delegation` is the services' job (with the format reader).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    Text,
    and_,
    cast,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)

from rirport.store import schema
from rirport.store.bulk import DelegationRows, insert_delegations


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


@dataclass(frozen=True)
class RecordRow:
    """A stored delegation: its snapshot, source line and statistics line."""

    snapshot_id: int
    line: int
    record: str


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
            select(schema.snapshot).where(schema.snapshot.c.id == snapshot_id)).first()
        return SnapshotRow(**row._mapping) if row else None

    def find_content(self, registry: str, content_sha256: str) -> SnapshotRow | None:
        row = self._c.execute(select(schema.snapshot).where(
            schema.snapshot.c.registry == registry,
            schema.snapshot.c.content_sha256 == content_sha256)).first()
        return SnapshotRow(**row._mapping) if row else None

    def find_sha(self, content_sha256: str) -> SnapshotRow | None:
        """A snapshot with this content in any registry (content hashes do not collide)."""
        row = self._c.execute(select(schema.snapshot).where(
            schema.snapshot.c.content_sha256 == content_sha256).limit(1)).first()
        return SnapshotRow(**row._mapping) if row else None

    def find_dated(self, registry: str, date: dt.date) -> list[SnapshotRow]:
        rows = self._c.execute(select(schema.snapshot).where(
            schema.snapshot.c.registry == registry, schema.snapshot.c.snapshot_date == date))
        return [SnapshotRow(**r._mapping) for r in rows]

    def all(self) -> list[SnapshotRow]:
        rows = self._c.execute(select(schema.snapshot).order_by(
            schema.snapshot.c.registry, schema.snapshot.c.snapshot_date, schema.snapshot.c.id))
        return [SnapshotRow(**r._mapping) for r in rows]

    def current(self) -> list[SnapshotRow]:
        """The newest snapshot of each registry (by snapshot date, then ingest order)."""
        newest: dict[str, SnapshotRow] = {}
        for row in self.all():
            newest[row.registry] = row  # all() is ordered by date then id within a registry
        return sorted(newest.values(), key=lambda r: r.registry)


class DelegationRepo:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add_rows(self, snapshot_id: int, rows: DelegationRows) -> None:
        """Store rows prepared by :func:`rirport.store.bulk.delegation_rows`."""
        insert_delegations(self._c, snapshot_id, rows)

    def count(self, snapshot_ids: Iterable[int]) -> int:
        ids = list(snapshot_ids)
        return int(self._c.execute(select(func.count()).select_from(schema.delegation).where(
            schema.delegation.c.snapshot_id.in_(ids))).scalar_one())

    def record_columns(self, snapshot_id: int) -> tuple[list[int], list[str]]:
        """(line numbers, record lines) of a snapshot in file order, fetched in bulk."""
        lines: list[int] = []
        records: list[str] = []
        for chunk_lines, chunk_records in self.record_chunks(snapshot_id):
            lines += chunk_lines
            records += chunk_records
        return lines, records

    def record_chunks(self, snapshot_id: int, size: int = 50_000
                      ) -> Iterator[tuple[list[int], list[str]]]:
        """As :meth:`record_columns`, ``size`` rows at a time (bounded memory).

        Half a million rows through SQLAlchemy's row objects take seconds; the driver's
        ``fetchmany`` of plain tuples takes a fraction of that.
        """
        d = schema.delegation.c
        stmt = select(d.line, d.record).where(d.snapshot_id == snapshot_id).order_by(d.line)
        cursor = self._c.execute(stmt).cursor
        assert cursor is not None
        while rows := cursor.fetchmany(size):
            lines, records = zip(*rows, strict=True)
            yield list(lines), list(records)

    def overlapping(self, snapshot_ids: Sequence[int], lo: str, hi: str) -> list[RecordRow]:
        """Records sharing at least one number with ``lo..hi``."""
        d = schema.delegation.c
        return self._select(and_(d.snapshot_id.in_(snapshot_ids), d.lo <= hi, d.hi >= lo))

    def holder(self, snapshot_ids: Sequence[int], opaque_id: str) -> list[RecordRow]:
        d = schema.delegation.c
        return self._select(and_(d.snapshot_id.in_(snapshot_ids), d.opaque_id == opaque_id))

    def _select(self, where: Any) -> list[RecordRow]:
        d = schema.delegation.c
        rows = self._c.execute(select(d.snapshot_id, d.line, d.record).where(where))
        return [RecordRow(r.snapshot_id, r.line, r.record) for r in rows]


class MetaRepo:
    """Small key/value facts about the store, chiefly its write generation."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def get(self, key: str) -> str | None:
        return self._c.execute(
            select(schema.meta.c.value).where(schema.meta.c.key == key)).scalar_one_or_none()

    def generation(self) -> int:
        """A counter every write transaction bumps; caches keyed by it are never stale."""
        return int(self.get("generation") or 0)

    def bump_generation(self) -> int:
        m = schema.meta.c
        bumped = cast(cast(m.value, Integer) + 1, Text)
        updated = self._c.execute(update(schema.meta).where(m.key == "generation")
                                  .values(value=bumped))
        if updated.rowcount == 0:
            self._c.execute(insert(schema.meta).values(key="generation", value="1"))
        return self.generation()


@dataclass(frozen=True)
class IanaRow:
    source: str
    lo: str
    hi: str
    prefix: str
    designation: str
    registry: str | None
    status: str
    date: str | None
    note: str | None


class IanaRepo:
    """IANA's allocations to the RIRs, one set of rows per source registry file."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def replace(self, source: str, file_name: str, sha256: str, rows: Sequence[IanaRow]) -> None:
        b, s = schema.iana_block, schema.iana_source
        self._c.execute(delete(b).where(b.c.source == source))
        self._c.execute(delete(s).where(s.c.source == source))
        if rows:
            self._c.execute(insert(b), [r.__dict__ for r in rows])
        self._c.execute(insert(s).values(source=source, file_name=file_name, sha256=sha256,
                                         ingested_at=dt.datetime.now(dt.UTC)))

    def sources(self) -> dict[str, str]:
        """Source name → sha256 of the file it was read from."""
        s = schema.iana_source.c
        return {r.source: r.sha256 for r in self._c.execute(select(s.source, s.sha256))}

    def file_names(self) -> dict[str, str]:
        """Source name → name of the file it was read from (for saying which copy is used)."""
        s = schema.iana_source.c
        return {r.source: r.file_name for r in self._c.execute(select(s.source, s.file_name))}

    def blocks(self) -> list[IanaRow]:
        b = schema.iana_block.c
        rows = self._c.execute(select(b.source, b.lo, b.hi, b.prefix, b.designation,
                                      b.registry, b.status, b.date, b.note).order_by(b.lo))
        return [IanaRow(**r._mapping) for r in rows]

    def covering(self, lo: str, hi: str) -> list[IanaRow]:
        b = schema.iana_block.c
        rows = self._c.execute(select(b.source, b.lo, b.hi, b.prefix, b.designation,
                                      b.registry, b.status, b.date, b.note)
                               .where(or_(and_(b.lo <= lo, b.hi >= lo),
                                          and_(b.lo <= hi, b.hi >= hi))).order_by(b.lo))
        return [IanaRow(**r._mapping) for r in rows]
