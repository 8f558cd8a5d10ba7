"""One registry's figures for its page: what it holds now (by type and status), how its
files' record counts moved across every stored snapshot, its top countries and holders."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np

from rirport.domain.enums import REGISTRIES, RESOURCE_TYPES, Registry, ResourceType
from rirport.domain.table import DelegationTable
from rirport.query.countries import DELEGATED, amounts
from rirport.query.stats import StatsRow, compute_stats
from rirport.store.unit import Store


@dataclass(frozen=True)
class SnapshotCount:
    """The record count of one type in one stored file (its summary line)."""

    date: dt.date
    file: str
    type: str
    records: int


@dataclass(frozen=True)
class HolderTotal:
    opaque_id: str
    type: ResourceType
    records: int
    amount: int
    cc: str


def registry_stats(table: DelegationTable, registry: Registry) -> list[StatsRow]:
    return [r for r in compute_stats(table) if r.registry == registry.value]


def snapshot_counts(store: Store, registry: Registry) -> list[SnapshotCount]:
    """Records per type in each stored file of ``registry``, oldest first (from the
    files' own summary lines, so no file is parsed again)."""
    with store.read() as uow:
        snaps = [s for s in uow.snapshots.all() if s.registry == registry.value]
    out = []
    for snap in sorted(snaps, key=lambda s: (s.snapshot_date, s.id)):
        for rtype, count in snap.summary:  # [[type, records], ...] from the file's summary
            out.append(SnapshotCount(snap.snapshot_date, snap.file_name, str(rtype), int(count)))
    return out


def top_holders(
    table: DelegationTable, registry: Registry, rtype: ResourceType, limit: int = 10
) -> list[HolderTotal]:
    """The holders (opaque ids) of ``registry`` holding the most of ``rtype``."""
    mask = (
        DELEGATED[table.status]
        & (table.registry == REGISTRIES.index(registry))
        & (table.type == RESOURCE_TYPES.index(rtype))
        & table.has_opaque
    )
    ids = table.opaque_id[mask]
    if not len(ids):
        return []
    amount = amounts(table)[mask]
    cc = table.cc[mask]
    codes, where = np.unique(ids, return_inverse=True)
    sums = np.bincount(where, weights=amount.astype(np.float64))
    counts = np.bincount(where)
    best = np.argsort(-sums, kind="stable")[:limit]
    first = {int(w): i for i, w in reversed(list(enumerate(where.tolist())))}
    return [
        HolderTotal(
            _text(codes[k]), rtype, int(counts[k]), round(sums[k]), _text(cc[first[int(k)]])
        )
        for k in best.tolist()
        if _text(codes[k])
    ]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
