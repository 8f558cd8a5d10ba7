"""Timelines: what the registries said about an address, prefix, AS number or holder, and
over which of their snapshots.

Every stored version sharing a number with the query (or held by the holder, under any of the
opaque-ids its stable identity links) becomes one period: the record's registry, status,
country, date and holder, with the first and last snapshot dates it was seen in and how many
snapshots that is. Versions are already intervals (:mod:`rirport.store.schema`), so a timeline
is one scan of the versions, whatever the number of files stored.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from rirport.domain.delegation import Delegation
from rirport.domain.enums import Registry
from rirport.domain.query import Query, parse_query
from rirport.domain.resources import ResourceRange
from rirport.errors import NotFoundError, StorageError
from rirport.formats.records import RecordError, parse_record
from rirport.query.holders import HolderIdentity, StableHolder, spellings
from rirport.query.transfers import ADDED, RETIRED, CompletedTransfers
from rirport.query.view import EMPTY_STORE
from rirport.store.keys import key_of
from rirport.store.repos.delegations import HistoryRow
from rirport.store.repos.snapshots import SnapshotRow
from rirport.store.unit import Store, UnitOfWork


@dataclass(frozen=True)
class Period:
    """One version of a record and the snapshots it was seen in."""

    delegation: Delegation
    first_seen: dt.date
    last_seen: dt.date
    snapshots: int
    holder: StableHolder | None
    change: str | None
    """``transfer-added`` / ``transfer-retired`` for rows a transfer made or took out."""
    transfer_serial: int | None = None
    """The journal serial of that transfer (None: the files made and ended the version)."""

    def to_json(self) -> dict[str, Any]:
        body = self.delegation.to_json()
        body.update(
            {
                "holder": self.holder.key if self.holder else None,
                "holder_confidence": (self.holder.weakest or "exact") if self.holder else None,
                "first_seen": self.first_seen.isoformat(),
                "last_seen": self.last_seen.isoformat(),
                "snapshots": self.snapshots,
                "change": self.change,
                "transfer_serial": self.transfer_serial,
            }
        )
        return body


def timeline(store: Store, query: str | Query) -> list[Period]:
    """The periods of a query, oldest first (then by registry and start).

    Raises:
        QueryError: the text is not a usable query.
        NotFoundError: the store holds no snapshot (the message says how to load one).
        StorageError: a stored record no longer parses.
    """
    return _timeline(store, parse_query(query) if isinstance(query, str) else query)[0]


@dataclass(frozen=True)
class Version:
    """A period as a reader dates it (APNIC's history extension, say): from the first file
    listing it, or the completed transfer that made it; until the first later file of its
    registry that no longer lists it, or the transfer that retired it; None while the newest
    file still does."""

    period: Period
    applicable_from: dt.date
    applicable_until: dt.date | None
    transferred: dt.date | None
    """The date of the completed transfer that made this version (None: the files did)."""


def covering_versions(
    store: Store, resource: ResourceRange, transfers: CompletedTransfers
) -> list[Version]:
    """Every version of the delegations containing all of ``resource``.

    Raises:
        NotFoundError: no stored file lists one.
    """
    periods, snapshots = _timeline(store, Query(str(resource), resource=resource), covering=True)
    kept = [p for p in periods if _covers(p.delegation, resource)]
    if not kept:
        raise NotFoundError(f"no stored file lists a delegation covering {resource}")
    return _versions(kept, snapshots, transfers)


def holder_versions(
    store: Store, registry: Registry, opaque_id: str, transfers: CompletedTransfers
) -> tuple[str, list[Version]]:
    """Every version of what a holder held (under any id its identity links), by the first
    of its id's :func:`~rirport.query.holders.spellings` any file names; with that spelling.

    Raises:
        NotFoundError: no stored file names the holder.
    """
    for candidate in spellings(opaque_id):
        query = Query(f"{registry.value}:{candidate}", holder=candidate, registry=registry)
        periods, snapshots = _timeline(store, query)
        if periods:
            return candidate, _versions(periods, snapshots, transfers)
    raise NotFoundError(f"no stored file names holder {opaque_id[:100]!r} in {registry.label}")


def _timeline(
    store: Store, query: Query, covering: bool = False
) -> tuple[list[Period], list[SnapshotRow]]:
    """The periods (oldest first) and every snapshot, read in one transaction; with
    ``covering``, only the versions containing all of the query's resource.

    Raises:
        NotFoundError: the store holds no snapshot at all (the message says how to load one).
    """
    with store.read() as uow:
        snapshots = uow.snapshots.all()
        if not snapshots:
            raise NotFoundError(EMPTY_STORE)
        identity = HolderIdentity.load(uow)
        rows = _rows(uow, query, identity, covering)
    periods = sorted(
        (_period(row, snapshots, identity) for row in rows),
        key=lambda p: (
            p.first_seen,
            p.delegation.registry.value,
            p.delegation.resource.type.value,
            p.delegation.resource.first,
            p.last_seen,
        ),
    )
    return periods, snapshots


def _covers(d: Delegation, resource: ResourceRange) -> bool:
    r = d.resource
    return r.type is resource.type and r.first <= resource.first and resource.last <= r.last


def _versions(
    periods: list[Period], snapshots: list[SnapshotRow], transfers: CompletedTransfers
) -> list[Version]:
    days: defaultdict[str, set[dt.date]] = defaultdict(set)
    for snap in snapshots:
        days[snap.registry].add(snap.snapshot_date)
    files = {registry: sorted(dates) for registry, dates in days.items()}
    out = []
    for p in periods:
        exact = transfers.by_serial.get(p.transfer_serial) if p.transfer_serial else None
        moved = exact.transfer_date if exact else transfers.made(p.delegation, p.change)
        if p.change == RETIRED and moved:
            until: dt.date | None = moved
        else:
            dates = files.get(p.delegation.registry.value, [])
            i = bisect.bisect_right(dates, p.last_seen)
            until = dates[i] if i < len(dates) else None
        made = moved if p.change == ADDED else None
        out.append(Version(p, made or p.first_seen, until, made))
    return out


def _rows(
    uow: UnitOfWork, query: Query, identity: HolderIdentity, covering: bool = False
) -> list[HistoryRow]:
    wanted = query.registry.value if query.registry else None
    if query.holder is not None:
        registries = [wanted] if wanted else sorted({s.registry for s in uow.snapshots.all()})
        ids = {
            registry: set(identity.holder(registry, query.holder).ids) for registry in registries
        }
        rows: list[HistoryRow] = []
        for opaque in sorted(set().union(*ids.values())):  # one scan per distinct id
            rows += [
                r
                for r in uow.delegations.history_holder(opaque)
                if opaque in ids.get(r.registry, ())
            ]
        return rows
    assert query.resource is not None
    r = query.resource
    lo, hi = key_of(r.type, r.first), key_of(r.type, r.last)
    if covering:
        found = uow.delegations.history_covering(lo, hi)
    else:
        found = uow.delegations.history_overlapping(lo, hi)
    return [row for row in found if wanted is None or row.registry == wanted]


def _period(row: HistoryRow, snapshots: list[SnapshotRow], identity: HolderIdentity) -> Period:
    try:
        delegation = parse_record(row.record, row.registry)
    except RecordError as exc:
        raise StorageError(f"version {row.id}: stored record no longer parses: {exc}") from exc
    seen = sum(
        1
        for s in snapshots
        if s.registry == row.registry and row.valid_from <= s.snapshot_date <= row.valid_to
    )
    holder = identity.holder(row.registry, delegation.opaque_id) if delegation.opaque_id else None
    change = (
        RETIRED
        if row.retired_serial is not None
        else ADDED
        if row.added_serial is not None
        else None
    )
    serial = row.retired_serial if row.retired_serial is not None else row.added_serial
    return Period(delegation, row.valid_from, row.valid_to, seen, holder, change, serial)


__all__ = ["Period", "Version", "covering_versions", "holder_versions", "timeline"]
