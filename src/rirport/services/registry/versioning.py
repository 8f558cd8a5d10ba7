"""Storing a file as versions: the first file of a registry is a plain bulk insert; every
later file is a difference against the registry's snapshots just before and after its date.

A record of the new file (matched by its exact text, duplicates counted) that is valid in the
snapshot just before extends that version to the new date; else one valid from the snapshot
just after starts earlier; else it is a new version valid on the new date only. A version valid
both before and after the new date that the new file lacks is cut in two around it (a late,
older file slots into its place). Versions added or retired by transfers are never extended:
they belong to the snapshot they were made in. The new snapshot's line order names each row by
its origin. Holder links with both neighbours are recomputed (:mod:`rirport.query.holders`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from rirport.query import holders
from rirport.store.bulk import DelegationRows
from rirport.store.order import LineOrder
from rirport.store.repos.delegations import StoredVersion
from rirport.store.repos.snapshots import SnapshotRow
from rirport.store.unit import UnitOfWork

#: Consecutive snapshots of a registry further apart than this are a gap: the RIRs publish
#: daily, so a month without a file means changes were missed (and their events span it).
MAX_GAP = dt.timedelta(days=31)


@dataclass(frozen=True)
class Placement:
    """Where a new snapshot sits among its registry's others."""

    snapshot: SnapshotRow
    before: SnapshotRow | None
    after: SnapshotRow | None

    @property
    def slotted_before(self) -> dt.date | None:
        """The next newer snapshot's date: the file came late and slots in as history."""
        return self.after.snapshot_date if self.after is not None else None

    def gaps(self) -> list[tuple[SnapshotRow, SnapshotRow]]:
        """Pairs of consecutive snapshots (this one in each) further apart than MAX_GAP."""
        pairs = [(self.before, self.snapshot), (self.snapshot, self.after)]
        return [
            (a, b)
            for a, b in pairs
            if a is not None and b is not None and b.snapshot_date - a.snapshot_date > MAX_GAP
        ]

    def warnings(self) -> list[str]:
        """One line per gap, naming the registry, both dates and the days between."""
        return [
            f"gap: no {a.registry} snapshot between {a.snapshot_date} ({a.file_name}) and "
            f"{b.snapshot_date} ({b.file_name}), {(b.snapshot_date - a.snapshot_date).days}"
            " days; changes in between are seen only as their sum"
            for a, b in self.gaps()
        ]


def placement(uow: UnitOfWork, snap: SnapshotRow) -> Placement:
    """The registry's snapshots just before and just after a stored one."""
    before, after = uow.snapshots.neighbours(snap.registry, snap.snapshot_date)
    return Placement(snap, before, after)


def store_versions(uow: UnitOfWork, snap: SnapshotRow, rows: DelegationRows) -> int:
    """Store a new snapshot's rows; returns how many new versions were written."""
    before, after = uow.snapshots.neighbours(snap.registry, snap.snapshot_date)
    if before is None and after is None:
        ids = uow.delegations.add_rows(snap.id, rows)
        uow.delegations.save_order(snap.id, LineOrder.build(ids, rows.line))
        return len(ids)
    mark = after.snapshot_date if after else None
    old = uow.delegations.file_versions(snap.registry, before.snapshot_date, mark) if before else []
    new = uow.delegations.file_versions(snap.registry, after.snapshot_date) if after else []
    origins, fresh = _diff(uow, snap, rows, old, new, before, after)
    uow.delegations.save_order(snap.id, LineOrder.build(origins, rows.line))
    held = list(zip(rows.lo, rows.hi, rows.opaque_id, strict=True))
    holders.relink(
        uow,
        snap.registry,
        snap,
        held,
        (before, [(v.lo, v.hi, v.opaque_id) for v in old]) if before else None,
        (after, [(v.lo, v.hi, v.opaque_id) for v in new]) if after else None,
    )
    return fresh


def _diff(
    uow: UnitOfWork,
    snap: SnapshotRow,
    rows: DelegationRows,
    old: list[StoredVersion],
    new: list[StoredVersion],
    before: SnapshotRow | None,
    after: SnapshotRow | None,
) -> tuple[list[int], int]:
    """Extend, start earlier, cut and add versions: the origin of each of the file's rows,
    and how many versions are new."""
    spans = {v.id for v in old if after is not None and v.reaches_mark}
    older = _by_record(old)
    starting = _by_record([v for v in new if v.starts_at_mark])
    origins = [0] * len(rows)
    extend_to: list[int] = []
    extend_from: list[int] = []
    used: set[int] = set()
    fresh: list[int] = []
    for i, record in enumerate(rows.record):
        if found := older.get(record):
            version = found.pop()
            used.add(version.id)
            if version.id not in spans:
                extend_to.append(version.id)
        elif found := starting.get(record):
            version = found.pop()
            extend_from.append(version.id)
        else:
            fresh.append(i)
            continue
        origins[i] = version.origin
    for i, row_id in zip(fresh, uow.delegations.add_rows(snap.id, rows.subset(fresh)), strict=True):
        origins[i] = row_id
    uow.delegations.set_bounds(extend_to, valid_to=snap.snapshot_date)
    uow.delegations.set_bounds(extend_from, valid_from=snap.snapshot_date)
    cut = [row_id for row_id in spans if row_id not in used]
    if cut and before is not None and after is not None:
        uow.delegations.split(sorted(cut), before.snapshot_date, after.snapshot_date)
    return origins, len(fresh)


def _by_record(versions: list[StoredVersion]) -> dict[str, list[StoredVersion]]:
    found: defaultdict[str, list[StoredVersion]] = defaultdict(list)
    for v in versions:
        found[v.record].append(v)
    return found
