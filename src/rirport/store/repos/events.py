"""Change events, watchlists and the webhook outbox."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from rirport.store import schema
from rirport.store.eventbody import pack, unpack
from rirport.store.repos.ids import _draw_ids


# -- change events and monitoring ---------------------------------------------------------------
@dataclass(frozen=True)
class EventRow:
    """A stored change event; ``body`` is its JSON text (stored packed, ``event.body_z``)."""

    id: int
    snapshot_id: int | None
    kind: str
    type: str | None
    registry: str
    from_registry: str | None
    to_registry: str | None
    lo: str | None
    hi: str | None
    body: str
    created_at: dt.datetime


class EventRepo:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add_many(self, rows: Sequence[dict[str, Any]]) -> list[int]:
        """Insert events and return their ids in the order given. The ids are drawn first
        (the writer holds SQLite's lock; PostgreSQL's sequence), so the insert is a plain
        ``executemany``: SQLite's ``RETURNING`` inserts one row a statement."""
        if not rows:
            return []
        ids = _draw_ids(self._c, "event", len(rows))
        self._c.execute(
            insert(schema.event), [_packed(row, i) for row, i in zip(rows, ids, strict=True)]
        )
        return ids

    def chunks(self, after: int = 0, size: int = 5_000) -> Iterator[list[EventRow]]:
        """All events with id above ``after``, in id order, a chunk at a time."""
        e = schema.event.c
        while True:
            rows = [
                _event(r._mapping)
                for r in self._c.execute(
                    select(schema.event).where(e.id > after).order_by(e.id).limit(size)
                )
            ]
            if not rows:
                return
            yield rows
            after = rows[-1].id

    def of_snapshots(self, snapshot_ids: Sequence[int]) -> list[EventRow]:
        """The events the ingests of these snapshots stored, in id order."""
        e = schema.event.c
        return [
            _event(r._mapping)
            for r in self._c.execute(
                select(schema.event).where(e.snapshot_id.in_(list(snapshot_ids))).order_by(e.id)
            )
        ]

    def moves(self) -> list[tuple[Any, ...]]:
        """Every stored ``moved`` event as ``(date, type, from registry, to registry,
        body)``, dated by the file the move was first seen in: the snapshot whose ingest
        stored it, else (events recorded apart from an ingest) the newer file the body names."""
        e, s = schema.event.c, schema.snapshot.c
        stmt = (
            select(s.snapshot_date, e.type, e.from_registry, e.to_registry, e.body_z, e.id)
            .select_from(schema.event.outerjoin(schema.snapshot, s.id == e.snapshot_id))
            .where(e.kind == "moved")
            .order_by(e.id)
        )
        cursor = self._c.execute(stmt).cursor
        assert cursor is not None
        rows = [(*r[:4], unpack(r[4], r[5])) for r in cursor.fetchall()]
        if any(r[0] is None for r in rows):
            dated = dict(self._c.execute(select(s.file_name, s.snapshot_date)).tuples().all())
            rows = [
                (r[0] if r[0] is not None else dated.get(_newer_file(r[4])), *r[1:]) for r in rows
            ]
        return [r for r in rows if r[0] is not None]

    def get_many(self, ids: Sequence[int]) -> dict[int, EventRow]:
        rows = self._c.execute(select(schema.event).where(schema.event.c.id.in_(list(ids))))
        return {int(r.id): _event(r._mapping) for r in rows}

    def count(self) -> int:
        return int(self._c.execute(select(func.count()).select_from(schema.event)).scalar_one())


@dataclass(frozen=True)
class WatchRow:
    """A watchlist."""

    id: int
    name: str
    criteria: dict[str, list[str]]
    url: str | None
    secret: str | None
    created_at: dt.datetime
    removed_at: dt.datetime | None


class WatchRepo:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add(self, values: dict[str, Any]) -> int:
        key = self._c.execute(insert(schema.watch).values(**values)).inserted_primary_key
        assert key is not None
        return int(key[0])

    def active(self) -> list[WatchRow]:
        w = schema.watch.c
        return [
            WatchRow(**r._mapping)
            for r in self._c.execute(
                select(schema.watch).where(w.removed_at.is_(None)).order_by(w.id)
            )
        ]

    def get(self, watch_id: int) -> WatchRow | None:
        row = self._c.execute(select(schema.watch).where(schema.watch.c.id == watch_id)).first()
        return WatchRow(**row._mapping) if row else None

    def find(self, name: str) -> WatchRow | None:
        w = schema.watch.c
        row = self._c.execute(
            select(schema.watch).where(w.name == name, w.removed_at.is_(None))
        ).first()
        return WatchRow(**row._mapping) if row else None

    def remove(self, watch_id: int, when: dt.datetime) -> bool:
        w = schema.watch.c
        done = self._c.execute(
            update(schema.watch)
            .where(w.id == watch_id, w.removed_at.is_(None))
            .values(removed_at=when)
        )
        return bool(done.rowcount)


@dataclass(frozen=True)
class OutboxRow:
    """One queued webhook delivery."""

    id: int
    watch_id: int
    event_id: int
    state: str
    attempts: int
    next_attempt_at: dt.datetime
    last_error: str | None
    delivered_at: dt.datetime | None


class OutboxRepo:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def enqueue(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self._c.execute(insert(schema.outbox), list(rows))

    def due(self, now: dt.datetime, limit: int = 100, for_update: bool = False) -> list[OutboxRow]:
        """Pending deliveries whose next attempt is due, oldest first (locked on PostgreSQL
        when ``for_update``, skipping rows another worker holds)."""
        o = schema.outbox.c
        query = (
            select(schema.outbox)
            .where(o.state == "pending", o.next_attempt_at <= now)
            .order_by(o.next_attempt_at, o.id)
            .limit(limit)
        )
        if for_update:
            query = query.with_for_update(skip_locked=True)
        return [OutboxRow(**r._mapping) for r in self._c.execute(query)]

    def update(self, outbox_id: int, **values: Any) -> None:
        self._c.execute(
            update(schema.outbox).where(schema.outbox.c.id == outbox_id).values(**values)
        )

    def by_state(self, watch_id: int | None = None) -> dict[str, int]:
        o = schema.outbox.c
        query = select(o.state, func.count()).group_by(o.state)
        if watch_id is not None:
            query = query.where(o.watch_id == watch_id)
        return {str(state): int(n) for state, n in self._c.execute(query)}

    def all(self) -> list[OutboxRow]:
        return [
            OutboxRow(**r._mapping)
            for r in self._c.execute(select(schema.outbox).order_by(schema.outbox.c.id))
        ]

    def add_dead_letter(self, values: dict[str, Any]) -> None:
        self._c.execute(insert(schema.dead_letter).values(**values))

    def dead_letters(self) -> list[dict[str, Any]]:
        return [
            dict(r._mapping)
            for r in self._c.execute(select(schema.dead_letter).order_by(schema.dead_letter.c.id))
        ]


def _packed(row: dict[str, Any], event_id: int) -> dict[str, Any]:
    """An event's values as inserted: its id, and its body packed."""
    values = {k: v for k, v in row.items() if k != "body"}
    values.update(id=event_id, body_z=pack(row["body"]))
    return values


def _event(values: Any) -> EventRow:
    """A stored row (its mapping) as an event, its body unpacked."""
    fields = dict(values)
    fields["body"] = unpack(fields.pop("body_z"), fields["id"])
    return EventRow(**fields)


def _newer_file(body: str) -> str | None:
    """The newer of the two files an event's body names."""
    import json

    named = json.loads(body).get("snapshots") or {}
    return named.get("to") if isinstance(named, dict) else None
