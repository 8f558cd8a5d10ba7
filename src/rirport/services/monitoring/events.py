"""Change events from the store: between two dates, and for each ingested snapshot.

The diff itself is pure (:mod:`rirport.domain.events`); this module picks the snapshots, reads
them back as the files were (``original``: transfers recorded here are not registry changes
the files show), and stores the events with their webhook deliveries in the caller's
transaction (:func:`events_for_ingest`), so an event is never stored without its deliveries
nor queued without being stored.
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rirport.domain.enums import Registry, ResourceType
from rirport.domain.events import Event, changed_rows, diff, identity
from rirport.domain.narrowed import Narrowed, Previous, diff_narrowed, narrow
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


@dataclass(frozen=True)
class Coverage:
    """What one registry's part of a window rests on: the snapshot the window starts from and
    the one it ends at, and the gaps (consecutive snapshots more than
    :data:`~rirport.services.registry.versioning.MAX_GAP` apart) in between."""

    registry: str
    start: SnapshotRow
    end: SnapshotRow
    gaps: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {
            "registry": self.registry,
            "from": self.start.snapshot_date.isoformat(),
            "to": self.end.snapshot_date.isoformat(),
            "from_snapshot": self.start.file_name,
            "to_snapshot": self.end.file_name,
            "gaps": self.gaps,
        }


@dataclass
class Window:
    """The answer for a calendar window: the events, and which span of it the stored
    snapshots cover (per registry, with the gaps), so an answer never looks more complete
    than the files behind it."""

    start: dt.date
    end: dt.date
    coverage: list[Coverage]
    events: list[Event] = field(default_factory=list)

    @property
    def covered(self) -> tuple[dt.date, dt.date] | None:
        """The span every registry's snapshots reach (earliest start, latest end)."""
        if not self.coverage:
            return None
        return (
            min(c.start.snapshot_date for c in self.coverage),
            max(c.end.snapshot_date for c in self.coverage),
        )

    def coverage_json(self) -> dict[str, Any]:
        span = self.covered
        assert span is not None
        uncovered = []
        if span[0] > self.start:
            uncovered.append({"from": self.start.isoformat(), "to": span[0].isoformat()})
        if span[1] < self.end:
            uncovered.append({"from": span[1].isoformat(), "to": self.end.isoformat()})
        return {
            "from": span[0].isoformat(),
            "to": span[1].isoformat(),
            "uncovered": uncovered,
            "registries": [c.to_json() for c in self.coverage],
            "gaps": [{"registry": c.registry, **g} for c in self.coverage for g in c.gaps],
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "window": {"from": self.start.isoformat(), "to": self.end.isoformat()},
            "coverage": self.coverage_json(),
            "events": [e.to_json() for e in self.events],
        }

    def coverage_lines(self) -> list[str]:
        """The coverage for people (printed beside a table of events)."""
        cov = self.coverage_json()
        lines = [f"window {self.start} .. {self.end}: snapshots cover {cov['from']} .. {cov['to']}"]
        lines += [f"  not covered: {u['from']} .. {u['to']}" for u in cov["uncovered"]]
        lines += [
            f"  {c.registry}: {c.start.file_name} -> {c.end.file_name}" for c in self.coverage
        ]
        lines += [
            f"  gap: no {g['registry']} snapshot between {g['from']} and {g['to']} "
            f"({g['days']} days); changes in between are seen only as their sum"
            for g in cov["gaps"]
        ]
        return lines


def window_sides(uow: UnitOfWork, start: dt.date, end: dt.date) -> list[Coverage]:
    """Per registry, the snapshots a calendar window is answered from: the one in force on
    ``start`` (or, when none is that old, the first inside the window) and the one in force
    on ``end``; a registry with no snapshot on or before ``end`` takes no part."""
    rows = uow.snapshots.all()  # by registry, date, then ingest order
    out = []
    for registry in sorted({r.registry for r in rows}):
        mine = [r for r in rows if r.registry == registry and r.snapshot_date <= end]
        if not mine:
            continue
        before = [r for r in mine if r.snapshot_date <= start]
        first = before[-1] if before else mine[0]
        last = mine[-1]
        inside = [r for r in mine if first.snapshot_date <= r.snapshot_date]
        gaps = [g for a, b in itertools.pairwise(inside) if (g := gap_between(a, b)) is not None]
        out.append(Coverage(registry, first, last, gaps))
    return out


def events_window(
    store: Store, start: dt.date, end: dt.date, registry: Registry | None = None
) -> Window:
    """Events over a calendar window, with what the snapshots cover of it.

    All registries are diffed together (so moves are seen), each from the snapshot the window
    starts from to the one it ends at (:func:`window_sides`); events are kept to ``registry``
    when given. People give calendar windows ("2017-03-01 to 2018-10-31"): a window that starts
    before the first snapshot is answered from the first one inside it, and says so.

    Raises:
        QueryError: ``start`` is after ``end``.
        NotFoundError: no snapshot is dated on or before ``end``.
    """
    if start > end:
        raise QueryError(f"--from {start} is after --to {end}")
    with store.read() as uow:
        sides = window_sides(uow, start, end)
        if not sides:
            raise NotFoundError(
                f"no stored snapshot is dated on or before {end}: the window {start} .. {end} "
                "holds no snapshot"
            )
        cache: dict[int, DelegationTable] = {}
        old = _tables(uow, [c.start for c in sides], cache)
        new = _tables(uow, [c.end for c in sides], cache)
        events = diff(old, new)
    gaps = {c.registry: c.gaps for c in sides if c.gaps}
    kept = [e for e in events if registry is None or involves(e, registry.value)]
    for e in kept:  # a change across a long gap is marked (seen only as its sum)
        if e.registry in gaps and "gap" not in e.detail:
            e.detail["gap"] = (
                gaps[e.registry][0] if len(gaps[e.registry]) == 1 else gaps[e.registry]
            )
    if registry is not None:
        sides = [c for c in sides if c.registry == registry.value] or sides
    return Window(start, end, sides, kept)


def events_between(
    store: Store, start: dt.date, end: dt.date, registry: Registry | None = None
) -> list[Event]:
    """The events of :func:`events_window` (for callers that need only them)."""
    return events_window(store, start, end, registry).events


def events_for_ingest(
    uow: UnitOfWork,
    new_snapshot: SnapshotRow,
    table: DelegationTable | None = None,
    previous: Previous | None = None,
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
    registry's previous file as an append rebuilds it from the new one (its records the new
    file kept, and the rows it lacks): then only the rows that changed, and the rows they
    touch, are diffed (:mod:`rirport.domain.narrowed`). Runs in the caller's transaction.
    """
    registry = new_snapshot.registry
    before, after = uow.snapshots.neighbours(registry, new_snapshot.snapshot_date)
    cache: dict[int, DelegationTable] = {}
    if table is not None:
        cache[new_snapshot.id] = table
        TABLES.put(new_snapshot, table)
    narrowed = narrow(previous) if previous is not None and before is not None else None
    events: list[Event] = []
    if before is not None:
        events += _between(uow, before, new_snapshot, cache, narrowed)
    if after is not None:
        known = _reported_up_to(uow, after)
        events += [e for e in _between(uow, new_snapshot, after, cache) if identity(e) not in known]
    record(uow, events, new_snapshot.id)
    return events


def _between(
    uow: UnitOfWork,
    old: SnapshotRow,
    new: SnapshotRow,
    cache: dict[int, DelegationTable],
    narrowed: Narrowed | None = None,
) -> list[Event]:
    """The events involving one registry from its snapshot ``old`` to its snapshot ``new``
    (``narrowed``: the rows of both that can take part, when known).

    Other registries are read only where this registry's rows changed (see
    :func:`~rirport.domain.events.changed_rows`): the rest of their records cannot take part
    in a change involving this registry.
    """
    if narrowed is not None:  # every row that changed is in them: so are the changed ranges
        own_old, own_new = narrowed.old, narrowed.new
    else:
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
    old_near = [(s.file_name, near[s.id]) for s in old_others]
    new_near = [(s.file_name, near[s.id]) for s in new_others]
    if narrowed is not None:
        names = (old.file_name, new.file_name)
        events = diff_narrowed(narrowed, names, old_near, new_near)
    else:
        events = diff([(old.file_name, own_old), *old_near], [(new.file_name, own_new), *new_near])
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
            sort = functools.partial(TABLES.sorted, snap, known)
            near[sid] = known.take(overlapping(known, changed, sort))
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
