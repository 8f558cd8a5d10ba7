"""Change events from the store: between two dates, and for each ingested snapshot.

The diff itself is pure (:mod:`rirport.domain.events`); this module picks the snapshots, reads
them back as the files were (``original``: transfers recorded here are not registry changes
the files show), and stores the events with their webhook deliveries in the caller's
transaction (:func:`events_for_ingest`), so an event is never stored without its deliveries
nor queued without being stored.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
from collections.abc import Sequence
from typing import Any

from rirport.domain.enums import Registry, ResourceType
from rirport.domain.events import Event, changed_rows, diff, identity
from rirport.domain.table import DelegationTable
from rirport.errors import NotFoundError, QueryError, StorageError
from rirport.formats.statsfile import read_record_lines
from rirport.query.view import read_snapshot_table
from rirport.services.audit import journal
from rirport.services.monitoring.tables import TABLES, overlapping
from rirport.services.monitoring.watch import queue_deliveries
from rirport.services.registry.versioning import MAX_GAP
from rirport.store.keys import key_of, table_keys
from rirport.store.repos.snapshots import SnapshotRow
from rirport.store.unit import Store, UnitOfWork


def snapshots_on(uow: UnitOfWork, date: dt.date) -> list[SnapshotRow]:
    """Each registry's newest stored snapshot dated on or before ``date``."""
    return uow.snapshots.as_of(date)


_JSON = json.JSONEncoder(sort_keys=True)
#: The RIRs publish on different days (APNIC's October 2018 file is dated a day after ARIN's):
#: on an ingest, another registry's snapshot dated this much after the new one is "now" too,
#: or a move between them would be seen by neither ingest.
PUBLISHING_SKEW = dt.timedelta(days=3)


def events_between(
    store: Store, start: dt.date, end: dt.date, registry: Registry | None = None
) -> list[Event]:
    """Events from the snapshots in force on ``start`` to those in force on ``end``, all
    registries diffed together (so moves are seen), kept to ``registry`` when given.

    Raises:
        QueryError: ``start`` is after ``end``.
        NotFoundError: no snapshot is dated on or before ``start``.
    """
    if start > end:
        raise QueryError(f"--from {start} is after --to {end}")
    with store.read() as uow:
        old, new = snapshots_on(uow, start), snapshots_on(uow, end)
        if not old:
            raise NotFoundError(f"no stored snapshot is dated on or before {start}")
        cache: dict[int, DelegationTable] = {}
        events = diff(_tables(uow, old, cache), _tables(uow, new, cache))
    return [e for e in events if registry is None or involves(e, registry.value)]


def events_for_ingest(
    uow: UnitOfWork,
    new_snapshot: SnapshotRow,
    table: DelegationTable | None = None,
    previous: DelegationTable | None = None,
) -> list[Event]:
    """Compute, store and queue (for webhooks) the events a newly stored snapshot brings.

    The events are the diff of this registry against its neighbours: from its previous
    snapshot to the new one, and, for a late file slotting in before a newer snapshot, from
    the new one to that newer one, less the changes already stored for the newer one (they
    were reported when it came in; nothing is retracted). All registries take part (each as
    of the old date, and as of the new date give or take :data:`PUBLISHING_SKEW`), so a block
    that left another registry and appears here (or the reverse) is a move; only events
    involving this registry are kept. The first snapshot of a registry yields none. Events
    across a gap (:data:`~rirport.services.registry.versioning.MAX_GAP`) carry a ``gap`` entry.
    ``table``: the new file's records, when the caller has them parsed; ``previous``: the
    registry's previous file's, when the caller has them (an append rebuilds them from the new
    file and the rows it lacks). Runs in the caller's transaction.
    """
    registry = new_snapshot.registry
    before, after = uow.snapshots.neighbours(registry, new_snapshot.snapshot_date)
    cache: dict[int, DelegationTable] = {}
    if table is not None:
        cache[new_snapshot.id] = table
        TABLES.put(new_snapshot, table)
    if previous is not None and before is not None:
        cache[before.id] = previous
    events: list[Event] = []
    if before is not None:
        events += _between(uow, before, new_snapshot, cache)
    if after is not None:
        known = _reported_up_to(uow, after)
        events += [e for e in _between(uow, new_snapshot, after, cache) if identity(e) not in known]
    record(uow, events, new_snapshot.id)
    return events


def _between(
    uow: UnitOfWork, old: SnapshotRow, new: SnapshotRow, cache: dict[int, DelegationTable]
) -> list[Event]:
    """The events involving one registry from its snapshot ``old`` to its snapshot ``new``.

    Other registries are read only where this registry's rows changed (see
    :func:`~rirport.domain.events.changed_rows`): the rest of their records cannot take part
    in a change involving this registry.
    """
    own_old, own_new = _own_table(uow, old, cache), _own_table(uow, new, cache)
    changed = changed_rows(own_old, own_new)
    ranges = list(zip(table_keys(changed, "lo"), table_keys(changed, "hi"), strict=True))
    old_others = [
        s
        for s in _world_before(uow, old.snapshot_date, new.snapshot_date)
        if s.registry != old.registry
    ]
    new_others = [
        s
        for s in snapshots_on(uow, new.snapshot_date + PUBLISHING_SKEW)
        if s.registry != new.registry
    ]
    near = _near_tables(uow, {s.id: s for s in old_others + new_others}, changed, ranges)
    events = diff(
        [(old.file_name, own_old), *((s.file_name, near[s.id]) for s in old_others)],
        [(new.file_name, own_new), *((s.file_name, near[s.id]) for s in new_others)],
    )
    kept = [e for e in events if involves(e, new.registry)]
    gap = gap_between(old, new)
    if gap is not None:
        for e in kept:  # fresh from the diff, shared with nobody
            e.detail["gap"] = gap
    return kept


def gap_between(old: SnapshotRow, new: SnapshotRow) -> dict[str, Any] | None:
    """The gap between two consecutive snapshots of a registry, if they are one (events
    across it carry it: what happened in between is seen only as its sum)."""
    days = (new.snapshot_date - old.snapshot_date).days
    if dt.timedelta(days=days) <= MAX_GAP:
        return None
    return {
        "from": old.snapshot_date.isoformat(),
        "to": new.snapshot_date.isoformat(),
        "days": days,
    }


def _reported_up_to(uow: UnitOfWork, snapshot: SnapshotRow) -> set[tuple[object, ...]]:
    """What the stored events already report up to ``snapshot`` (by its own ingest, or by a
    late file's ingest before this one), by :func:`~rirport.domain.events.identity`."""
    ids = uow.snapshots.ids_of(snapshot.registry)
    known: set[tuple[object, ...]] = set()
    for row in uow.events.of_snapshots(ids):
        body = json.loads(row.body)
        if body.get("snapshots", {}).get("to") == snapshot.file_name:
            known.add(
                (
                    row.kind,
                    row.type,
                    body.get("start"),
                    body.get("value"),
                    row.registry,
                    row.from_registry,
                    row.to_registry,
                )
            )
    return known


def _own_table(
    uow: UnitOfWork, snap: SnapshotRow, cache: dict[int, DelegationTable]
) -> DelegationTable:
    if snap.id not in cache:
        known = TABLES.get(snap)
        cache[snap.id] = (
            known if known is not None else _parse(snap, uow.delegations.file_records(snap))
        )
    return cache[snap.id]


def _near_tables(
    uow: UnitOfWork,
    snapshots: dict[int, SnapshotRow],
    changed: DelegationTable,
    ranges: list[tuple[str, str]],
) -> dict[int, DelegationTable]:
    """Other registries' records near the changed rows: from the files this process has
    ingested (:data:`TABLES`) with numpy, else read from the store by range blocks."""
    near: dict[int, DelegationTable] = {}
    missing: dict[int, SnapshotRow] = {}
    for sid, snap in snapshots.items():
        known = TABLES.get(snap)
        if known is None:
            missing[sid] = snap
        else:
            near[sid] = known.take(overlapping(known, changed))
    if missing:
        found = uow.delegations.file_records_near(list(missing.values()), ranges)
        near |= {sid: _parse(missing[sid], records) for sid, records in found.items()}
    return near


def _parse(snap: SnapshotRow, records: list[str]) -> DelegationTable:
    """Stored record lines back into a table (in the order given).

    Raises:
        StorageError: a stored record no longer parses (the store was edited by hand).
    """
    table, errors = read_record_lines(
        records, snap.registry, f"snapshot {snap.id} ({snap.file_name})"
    )
    if errors:
        raise StorageError(f"stored records no longer parse: {errors[0]}")
    return table


def _world_before(uow: UnitOfWork, date: dt.date, until: dt.date) -> list[SnapshotRow]:
    """Every registry as of ``date``; a registry with no snapshot that old is taken at its
    earliest snapshot before ``until`` (the RIRs publish on different days: ARIN's 2017 file
    is a day newer than RIPE NCC's, and still says what ARIN held before)."""
    chosen = {s.registry: s for s in snapshots_on(uow, date)}
    for row in uow.snapshots.earliest_before(until):
        chosen.setdefault(row.registry, row)
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
    lo, hi = _keys(event)
    return {
        "snapshot_id": snapshot_id,
        "kind": event.kind,
        "type": event.type,
        "registry": event.registry,
        "from_registry": event.from_registry,
        "to_registry": event.to_registry,
        "lo": lo,
        "hi": hi,
        "body": _JSON.encode(event.to_json()),
        "created_at": now,
    }


def _keys(event: Event) -> tuple[str | None, str | None]:
    """Range keys of an event's resource, as :func:`~rirport.services.monitoring.watch.event_keys`
    gives them, without building a range object per event (an ingest stores thousands)."""
    if event.type is None or event.start is None:
        return None, None
    rtype = ResourceType(event.type)
    if rtype is ResourceType.IPV6:
        first = int(ipaddress.IPv6Address(event.start))
        last = first | ((1 << (128 - event.value)) - 1)
    else:
        first = int(event.start) if rtype is ResourceType.ASN else _ipv4(event.start)
        last = first + event.value - 1
    return key_of(rtype, first), key_of(rtype, last)


def _ipv4(text: str) -> int:
    """A dotted quad the diff wrote (always valid) as an integer, without ``ipaddress``."""
    a, b, c, d = text.split(".")
    return (int(a) << 24) | (int(b) << 16) | (int(c) << 8) | int(d)


def _tables(
    uow: UnitOfWork,
    snapshots: Sequence[SnapshotRow],
    cache: dict[int, DelegationTable] | None = None,
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
        journal.append(
            uow,
            actor,
            "events-record",
            {
                "events": len(ids),
                "first": ids[0] if ids else None,
                "last": ids[-1] if ids else None,
            },
        )
    return ids
