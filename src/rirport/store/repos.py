"""Repositories: the only code that writes SQL. Services reach them through a unit of work.

Rows come back as small dataclasses of plain values; turning a stored ``record`` line into a
:class:`~rirport.domain.delegation.Delegation` is the services' job (with the format reader).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

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
    id: int = 0


@dataclass(frozen=True)
class NewDelegation:
    """A row a transfer adds."""

    snapshot_id: int
    line: int
    lo: str
    hi: str
    opaque_id: str | None
    record: str


State = Literal["current", "original"]


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
        """Rows of these snapshots in their current state (transfers applied)."""
        ids = list(snapshot_ids)
        d = schema.delegation.c
        return int(self._c.execute(select(func.count()).select_from(schema.delegation).where(
            d.snapshot_id.in_(ids), d.retired_serial.is_(None))).scalar_one())

    def record_columns(self, snapshot_id: int, state: State = "current"
                       ) -> tuple[list[int], list[str]]:
        """(line numbers, record lines) of a snapshot in file order, fetched in bulk."""
        lines: list[int] = []
        records: list[str] = []
        for chunk_lines, chunk_records in self.record_chunks(snapshot_id, state=state):
            lines += chunk_lines
            records += chunk_records
        return lines, records

    def record_chunks(self, snapshot_id: int, size: int = 50_000, state: State = "current"
                      ) -> Iterator[tuple[list[int], list[str]]]:
        """As :meth:`record_columns`, ``size`` rows at a time (bounded memory).

        ``state="current"``: the registry as it stands, transfers applied (rows split off by a
        transfer share their original line); ``"original"``: the file as ingested.
        Half a million rows through SQLAlchemy's row objects take seconds; the driver's
        ``fetchmany`` of plain tuples takes a fraction of that.
        """
        d = schema.delegation.c
        wanted = d.retired_serial.is_(None) if state == "current" else d.added_serial.is_(None)
        stmt = (select(d.line, d.record).where(d.snapshot_id == snapshot_id, wanted)
                .order_by(d.line, d.lo, d.id))
        cursor = self._c.execute(stmt).cursor
        assert cursor is not None
        while rows := cursor.fetchmany(size):
            lines, records = zip(*rows, strict=True)
            yield list(lines), list(records)

    def overlapping(self, snapshot_ids: Sequence[int], lo: str, hi: str,
                    for_update: bool = False) -> list[RecordRow]:
        """Current records sharing at least one number with ``lo..hi``.

        ``for_update`` locks the rows until the transaction ends (PostgreSQL; SQLite's
        ``BEGIN IMMEDIATE`` already serialises writers), so two transfers of the same numbers
        cannot both see them current.
        """
        d = schema.delegation.c
        return self._select(and_(d.snapshot_id.in_(snapshot_ids), d.lo <= hi, d.hi >= lo,
                                 d.retired_serial.is_(None)), for_update)

    def holder(self, snapshot_ids: Sequence[int], opaque_id: str) -> list[RecordRow]:
        d = schema.delegation.c
        return self._select(and_(d.snapshot_id.in_(snapshot_ids), d.opaque_id == opaque_id,
                                 d.retired_serial.is_(None)))

    def retire(self, ids: Sequence[int], serial: int) -> int:
        """Take rows out of the current state (a transfer moved or split them)."""
        d = schema.delegation.c
        result = self._c.execute(update(schema.delegation).where(
            d.id.in_(ids), d.retired_serial.is_(None)).values(retired_serial=serial))
        return int(result.rowcount)

    def add(self, rows: Sequence[NewDelegation], serial: int) -> None:
        """Rows a transfer creates (the moved part, and remainders of split records)."""
        if rows:
            self._c.execute(insert(schema.delegation), [
                {"snapshot_id": r.snapshot_id, "line": r.line, "lo": r.lo, "hi": r.hi,
                 "opaque_id": r.opaque_id, "record": r.record, "added_serial": serial}
                for r in rows])

    def line_before(self, snapshot_id: int, lo: str) -> int:
        """The line of the snapshot's last record of this type starting at or before ``lo``
        (where a record added there sorts in the file), or 0."""
        d = schema.delegation.c
        found = self._c.execute(select(func.max(d.line)).where(
            d.snapshot_id == snapshot_id, d.lo <= lo, d.lo >= lo[0])).scalar_one_or_none()
        return int(found or 0)

    def _select(self, where: Any, for_update: bool = False) -> list[RecordRow]:
        d = schema.delegation.c
        stmt = select(d.id, d.snapshot_id, d.line, d.record).where(where).order_by(d.id)
        if for_update:
            stmt = stmt.with_for_update()
        rows = self._c.execute(stmt)
        return [RecordRow(r.snapshot_id, r.line, r.record, r.id) for r in rows]


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
        return self._c.execute(select(j.hash).where(j.serial < before)
                               .order_by(j.serial.desc()).limit(1)).scalar_one_or_none()

    def write(self, row: JournalRow) -> None:
        self._c.execute(insert(schema.journal).values(**row.__dict__))

    def chunks(self, size: int = 20_000) -> Iterator[Sequence[Any]]:
        """All entries in serial order as plain tuples (field order of :class:`JournalRow`)."""
        j = schema.journal.c
        cursor = self._c.execute(select(j.serial, j.created_at, j.actor, j.action, j.payload,
                                        j.prev_hash, j.hash).order_by(j.serial)).cursor
        assert cursor is not None
        while rows := cursor.fetchmany(size):
            yield rows

    def get(self, serial: int) -> JournalRow | None:
        row = self._c.execute(select(schema.journal).where(
            schema.journal.c.serial == serial)).first()
        return JournalRow(**row._mapping) if row else None

    def count(self) -> int:
        return int(self._c.execute(select(func.count()).select_from(schema.journal))
                   .scalar_one())


@dataclass(frozen=True)
class TransferRow:
    id: int
    state: str
    kind: str
    type: str
    resource: str
    lo: str
    hi: str
    source_registry: str
    source_holder: str
    recipient_registry: str
    recipient_holder: str
    transfer_date: dt.date
    regime: str
    decision: dict[str, Any]
    conditions_met: bool
    created_serial: int
    updated_serial: int


class TransferRepo:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add(self, values: dict[str, Any]) -> int:
        key = self._c.execute(insert(schema.transfer).values(**values)).inserted_primary_key
        assert key is not None
        return int(key[0])

    def get(self, transfer_id: int, for_update: bool = False) -> TransferRow | None:
        stmt = select(schema.transfer).where(schema.transfer.c.id == transfer_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = self._c.execute(stmt).first()
        return TransferRow(**row._mapping) if row else None

    def update(self, transfer_id: int, **values: Any) -> None:
        self._c.execute(update(schema.transfer).where(schema.transfer.c.id == transfer_id)
                        .values(**values))

    def all(self, states: Sequence[str] = ()) -> list[TransferRow]:
        t = schema.transfer.c
        stmt = select(schema.transfer).order_by(t.id)
        if states:
            stmt = stmt.where(t.state.in_(states))
        return [TransferRow(**r._mapping) for r in self._c.execute(stmt)]

    def completed_into(self, lo: str, hi: str) -> list[TransferRow]:
        """Completed transfers whose resource overlaps ``lo..hi``, newest last."""
        t = schema.transfer.c
        rows = self._c.execute(select(schema.transfer).where(
            t.state == "completed", t.lo <= hi, t.hi >= lo).order_by(t.updated_serial))
        return [TransferRow(**r._mapping) for r in rows]

    def open_overlapping(self, lo: str, hi: str, exclude: int | None = None
                         ) -> list[TransferRow]:
        """Transfers not yet finished whose resource overlaps ``lo..hi``."""
        t = schema.transfer.c
        stmt = select(schema.transfer).where(
            t.state.in_(["requested", "approved", "accepted"]), t.lo <= hi, t.hi >= lo)
        if exclude is not None:
            stmt = stmt.where(t.id != exclude)
        return [TransferRow(**r._mapping) for r in self._c.execute(stmt)]


@dataclass(frozen=True)
class HoldRow:
    id: int
    kind: str
    type: str
    resource: str
    lo: str
    hi: str
    reason: str
    reference: str | None
    since: dt.date
    until: dt.date | None
    created_serial: int
    lifted_serial: int | None


class HoldRepo:
    """Legal holds and disputes on resources (they block transfers under every regime)."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add(self, values: dict[str, Any]) -> int:
        key = self._c.execute(insert(schema.legal_hold).values(**values)).inserted_primary_key
        assert key is not None
        return int(key[0])

    def lift(self, hold_id: int, serial: int) -> bool:
        h = schema.legal_hold.c
        done = self._c.execute(update(schema.legal_hold).where(
            h.id == hold_id, h.lifted_serial.is_(None)).values(lifted_serial=serial))
        return bool(done.rowcount)

    def active(self, lo: str, hi: str, on: dt.date) -> list[HoldRow]:
        """Holds in force on ``on`` over numbers of ``lo..hi``."""
        h = schema.legal_hold.c
        rows = self._c.execute(select(schema.legal_hold).where(
            h.lifted_serial.is_(None), h.lo <= hi, h.hi >= lo, h.since <= on,
            or_(h.until.is_(None), h.until >= on)).order_by(h.id))
        return [HoldRow(**r._mapping) for r in rows]

    def all(self) -> list[HoldRow]:
        return [HoldRow(**r._mapping) for r in self._c.execute(
            select(schema.legal_hold).order_by(schema.legal_hold.c.id))]
