"""Timelines: what the registries said about an address, prefix, AS number or holder, and
over which of their snapshots.

Every stored version sharing a number with the query (or held by the holder, under any of the
opaque-ids its stable identity links) becomes one period: the record's registry, status,
country, date and holder, with the first and last snapshot dates it was seen in and how many
snapshots that is. Versions are already intervals (:mod:`rirport.store.schema`), so a timeline
is one scan of the versions, whatever the number of files stored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from rirport.domain.delegation import Delegation
from rirport.domain.query import Query, parse_query
from rirport.errors import StorageError
from rirport.formats.records import RecordError, parse_record
from rirport.query.holders import HolderIdentity, StableHolder
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
            }
        )
        return body


def timeline(store: Store, query: str | Query) -> list[Period]:
    """The periods of a query, oldest first (then by registry and start).

    Raises:
        QueryError: the text is not a usable query.
        StorageError: a stored record no longer parses.
    """
    parsed = parse_query(query) if isinstance(query, str) else query
    with store.transaction() as uow:
        identity = HolderIdentity.load(uow)
        rows = _rows(uow, parsed, identity)
        snapshots = uow.snapshots.all()
    return sorted(
        (_period(row, snapshots, identity) for row in rows),
        key=lambda p: (
            p.first_seen,
            p.delegation.registry.value,
            p.delegation.resource.type.value,
            p.delegation.resource.first,
            p.last_seen,
        ),
    )


def _rows(uow: UnitOfWork, query: Query, identity: HolderIdentity) -> list[HistoryRow]:
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
    found = uow.delegations.history_overlapping(key_of(r.type, r.first), key_of(r.type, r.last))
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
        "transfer-retired"
        if row.retired_serial is not None
        else "transfer-added"
        if row.added_serial is not None
        else None
    )
    return Period(delegation, row.valid_from, row.valid_to, seen, holder, change)


__all__ = ["Period", "timeline"]
