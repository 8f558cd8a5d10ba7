"""Change events from the store: between two dates, and for each ingested snapshot.

The diff itself is pure (:mod:`rirport.domain.events`); this module picks the snapshots, reads
them back as the files were (``original``: transfers recorded here are not registry changes
the files show), and stores the events with their webhook deliveries in the caller's
transaction (:func:`events_for_ingest`), so an event is never stored without its deliveries
nor queued without being stored.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from rirport.domain.enums import Registry
from rirport.domain.events import Event, diff
from rirport.domain.table import DelegationTable
from rirport.errors import NotFoundError, QueryError
from rirport.services import journal
from rirport.services.view import read_snapshot_table
from rirport.services.watch import event_keys, queue_deliveries
from rirport.store.repos import SnapshotRow
from rirport.store.unit import Store, UnitOfWork


def snapshots_on(uow: UnitOfWork, date: dt.date) -> list[SnapshotRow]:
    """Each registry's newest stored snapshot dated on or before ``date``."""
    newest: dict[str, SnapshotRow] = {}
    for row in uow.snapshots.all():  # by registry, date, then ingest order
        if row.snapshot_date <= date:
            newest[row.registry] = row
    return sorted(newest.values(), key=lambda r: r.registry)


def events_between(store: Store, start: dt.date, end: dt.date,
                   registry: Registry | None = None) -> list[Event]:
    """Events from the snapshots in force on ``start`` to those in force on ``end``, all
    registries diffed together (so moves are seen), kept to ``registry`` when given.

    Raises:
        QueryError: ``start`` is after ``end``.
        NotFoundError: no snapshot is dated on or before ``start``.
    """
    if start > end:
        raise QueryError(f"--from {start} is after --to {end}")
    with store.transaction() as uow:
        old, new = snapshots_on(uow, start), snapshots_on(uow, end)
        if not old:
            raise NotFoundError(f"no stored snapshot is dated on or before {start}")
        cache: dict[int, DelegationTable] = {}
        events = diff(_tables(uow, old, cache), _tables(uow, new, cache))
    return [e for e in events if registry is None or involves(e, registry.value)]


def events_for_ingest(uow: UnitOfWork, new_snapshot: SnapshotRow) -> list[Event]:
    """Compute, store and queue (for webhooks) the events a newly stored snapshot brings.

    The old side is every registry as of the date of this registry's previous snapshot (a
    registry with nothing that old at its earliest snapshot before the new date), the new side
    every registry as of the new snapshot's date: a block that left another registry and
    appears here (or the reverse) is a move. Only events involving this registry are kept,
    so each change is reported by the ingest that reveals it. The first snapshot of a registry
    has nothing to compare with and yields no events. Runs in the caller's transaction.
    """
    previous = [s for s in uow.snapshots.all() if s.registry == new_snapshot.registry
                and s.id != new_snapshot.id and s.snapshot_date < new_snapshot.snapshot_date]
    if not previous:
        return []
    old = _world_before(uow, previous[-1].snapshot_date, new_snapshot)
    new = [s for s in snapshots_on(uow, new_snapshot.snapshot_date)
           if s.registry != new_snapshot.registry] + [new_snapshot]
    cache: dict[int, DelegationTable] = {}  # a registry unchanged in between is read once
    events = [e for e in diff(_tables(uow, old, cache), _tables(uow, new, cache))
              if involves(e, new_snapshot.registry)]
    record(uow, events, new_snapshot.id)
    return events


def _world_before(uow: UnitOfWork, date: dt.date, new_snapshot: SnapshotRow
                  ) -> list[SnapshotRow]:
    """Every registry as of ``date``; a registry with no snapshot that old is taken at its
    earliest snapshot before the new one's date (the RIRs publish on different days: ARIN's
    2017 file is a day newer than RIPE NCC's, and still says what ARIN held before)."""
    chosen = {s.registry: s for s in snapshots_on(uow, date)}
    for row in uow.snapshots.all():  # by registry, date: the first seen is the earliest
        if row.registry not in chosen and row.snapshot_date < new_snapshot.snapshot_date:
            chosen[row.registry] = row
    return sorted(chosen.values(), key=lambda r: r.registry)


def record(uow: UnitOfWork, events: Sequence[Event], snapshot_id: int | None) -> list[int]:
    """Store events and queue their webhook deliveries (same transaction); returns ids."""
    now = dt.datetime.now(dt.UTC)
    ids = uow.events.add_many([_row(e, snapshot_id, now) for e in events])
    queue_deliveries(uow, list(zip(ids, events, strict=True)), now)
    return ids


def involves(event: Event, registry: str) -> bool:
    return registry in (event.registry, event.from_registry, event.to_registry)


def _row(event: Event, snapshot_id: int | None, now: dt.datetime) -> dict[str, Any]:
    lo, hi = event_keys(event)
    return {"snapshot_id": snapshot_id, "kind": event.kind, "type": event.type,
            "registry": event.registry, "from_registry": event.from_registry,
            "to_registry": event.to_registry, "lo": lo, "hi": hi,
            "body": json.dumps(event.to_json(), sort_keys=True), "created_at": now}


def _tables(uow: UnitOfWork, snapshots: Sequence[SnapshotRow],
            cache: dict[int, DelegationTable] | None = None
            ) -> list[tuple[str, DelegationTable]]:
    """Each snapshot's records as its file had them (transfers recorded here excluded)."""
    cache = {} if cache is None else cache
    for s in snapshots:
        if s.id not in cache:
            cache[s.id] = read_snapshot_table(uow, s, "original")
    return [(s.file_name, cache[s.id]) for s in snapshots]


def record_between(store: Store, events: Sequence[Event], actor: str = "rirport") -> list[int]:
    """Store events computed by :func:`events_between` (one transaction, journalled), queuing
    their webhook deliveries; for events not produced by an ingest."""
    with store.transaction() as uow:
        ids = record(uow, events, None)
        journal.append(uow, actor, "events-record", {
            "events": len(ids), "first": ids[0] if ids else None,
            "last": ids[-1] if ids else None})
    return ids
