"""Storing a file as versions: the first file of a registry is a plain bulk insert; a file
newer than all others is diffed against the registry's head state (its newest file as sorted
columns, :mod:`rirport.store.head`): only the rows that changed are written, the unchanged
rows keep their open end (:data:`~rirport.store.schema.OPEN_END`) untouched. A file older than
the newest (a late one) is a difference against the snapshots just before and after its date:

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
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from rirport.domain.table import DelegationTable
from rirport.errors import StorageError
from rirport.formats.statsfile import read_record_lines
from rirport.query import holders
from rirport.services.monitoring.tables import TABLES
from rirport.store.bulk import DelegationRows
from rirport.store.head import HeadState, fingerprints, match
from rirport.store.order import LineOrder
from rirport.store.repos.delegations import StoredVersion
from rirport.store.repos.snapshots import SnapshotRow
from rirport.store.schema import OPEN_END
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


@dataclass(frozen=True)
class Stored:
    """What storing a file's rows wrote: ``fresh`` new versions; for a file appended after
    the newest, which of its rows were already there (``kept``, row indices) and the record
    lines of the previous file's rows it lacks (``gone``): with the file itself, the previous
    file without reading it back."""

    fresh: int
    kept: npt.NDArray[np.int64] | None = None
    gone: DelegationTable | None = None
    """Set only when the head state was kept (not rebuilt): a rebuilt one lacks the rows a
    transfer retired, which the previous file still had."""


def store_versions(
    uow: UnitOfWork, snap: SnapshotRow, rows: DelegationRows, table: DelegationTable
) -> Stored:
    """Store a new snapshot's rows (``table``: the file they were built from; see the
    module's note)."""
    before, after = uow.snapshots.neighbours(snap.registry, snap.snapshot_date)
    if before is None and after is None:
        ids = uow.delegations.add_rows(snap.id, rows, end=OPEN_END)
        uow.delegations.save_order(snap.id, LineOrder.build(ids, rows.table.line))
        uow.delegations.save_head(
            snap.registry, HeadState.of(snap.id, ids, ids, rows.prints, file_rows=_all(len(ids)))
        )
        return Stored(len(ids))
    if after is None:
        assert before is not None
        return _append(uow, snap, rows, table, before)
    uow.delegations.drop_heads([snap.registry])  # a late file may cut the newest file's rows
    mark = after.snapshot_date
    old = uow.delegations.file_versions(snap.registry, before.snapshot_date, mark) if before else []
    new = uow.delegations.file_versions(snap.registry, after.snapshot_date) if after else []
    origins, fresh = _diff(uow, snap, rows, old, new, before, after)
    uow.delegations.save_order(snap.id, LineOrder.build(origins, rows.table.line))
    held = list(zip(rows.lo, rows.hi, rows.opaque_id, strict=True))
    holders.relink(
        uow,
        snap.registry,
        snap,
        held,
        (before, [(v.lo, v.hi, v.opaque_id) for v in old]) if before else None,
        (after, [(v.lo, v.hi, v.opaque_id) for v in new]),
    )
    return Stored(fresh)


def _append(
    uow: UnitOfWork,
    snap: SnapshotRow,
    rows: DelegationRows,
    table: DelegationTable,
    before: SnapshotRow,
) -> Stored:
    """A file newer than all of its registry's: matched on fingerprints against the head
    state (rebuilt from the rows when none is kept for ``before``); the previous file's rows it
    lacks are closed on ``before``'s date, its new rows inserted with an open end."""
    repo = uow.delegations
    head = repo.head(snap.registry)
    reopen = np.zeros(0, np.int64)
    kept = head is not None and head.snapshot_id == before.id
    if head is None or not kept:
        head, reopen = _rebuild_head(uow, before)
    prints = rows.prints
    m = match(head.prints, prints, head.by_print)
    fresh_ids = np.asarray(
        repo.add_rows(snap.id, rows.subset(m.fresh.tolist()), end=OPEN_END), dtype=np.int64
    )
    gone_ids = head.ids[m.gone]
    repo.set_bounds(gone_ids.tolist(), valid_to=before.snapshot_date)
    if len(reopen):  # rows of a store written before open ends, still in the new file
        repo.set_bounds(np.intersect1d(reopen, head.ids[m.old]).tolist(), valid_to=OPEN_END)
    origins = np.empty(len(rows), np.int64)
    origins[m.new] = head.origins[m.old]
    origins[m.fresh] = fresh_ids
    repo.save_order(snap.id, LineOrder.build(origins, rows.table.line), after=before.id)
    kept_rows = np.ones(len(head), bool)  # the head rows still there, in id order
    kept_rows[m.gone] = False
    at = np.empty(len(rows), np.int64)  # each file row's place in the next head state
    at[m.new] = (np.cumsum(kept_rows) - 1)[m.old]
    at[m.fresh] = len(m.old) + np.arange(len(m.fresh))
    file_rows = np.empty(len(rows), np.int64)  # the next head state's rows in this file
    file_rows[at] = np.arange(len(rows))
    repo.save_head(  # new ids come after all others: sorted by id as they are (else sorted)
        snap.registry,
        HeadState.of(
            snap.id,
            np.concatenate([head.ids[kept_rows], fresh_ids]),
            np.concatenate([head.origins[kept_rows], fresh_ids]),
            np.concatenate([head.prints[kept_rows], prints[m.fresh]]),
            at[m.new_order],  # the sort of this file's fingerprints: the next match's
            file_rows,
        ),
    )
    lacked = _lacked(uow, head, before, m.gone, gone_ids)
    repo.add_links(holders.link_appended(snap.registry, before, snap, table, m.new, lacked))
    if not kept:
        return Stored(len(fresh_ids))
    return Stored(len(fresh_ids), m.new, lacked)


def _lacked(
    uow: UnitOfWork,
    head: HeadState,
    before: SnapshotRow,
    gone: npt.NDArray[np.int64],
    gone_ids: npt.NDArray[np.int64],
) -> DelegationTable:
    """The records of ``before``'s file that the new file lacks (its head rows ``gone``, of
    ids ``gone_ids``), in id order, numbered 1.. as if parsed on their own: taken from that
    file as this process parsed it (:data:`~rirport.services.monitoring.tables.TABLES`) when
    the head state is the one it made from it, else read back and parsed."""
    table = TABLES.get(before) if head.file_rows is not None else None
    if table is None or len(table) != len(head):
        gone_rows = uow.delegations.versions_by_id(gone_ids.tolist())
        return _parse_records([g[4] for g in gone_rows], before.registry, before.file_name)
    assert head.file_rows is not None
    taken = table.take(head.file_rows[gone])
    return replace(taken, line=np.arange(1, len(taken) + 1, dtype=np.int32))


def _all(n: int) -> npt.NDArray[np.int64]:
    return np.arange(n, dtype=np.int64)


def _parse_records(records: list[str], registry: str, source: str) -> DelegationTable:
    """Stored record lines back into a table.

    Raises:
        StorageError: a stored record no longer parses (the store was edited by hand).
    """
    table, errors = read_record_lines(records, registry, source)
    if errors:
        raise StorageError(f"stored records no longer parse: {errors[0]}")
    return table


def _rebuild_head(uow: UnitOfWork, snap: SnapshotRow) -> tuple[HeadState, npt.NDArray[np.int64]]:
    """The head state of a registry's newest snapshot from its stored rows (one read of
    them: after a late file or a transfer, or on a store that kept none), and the ids of its
    rows without an open end."""
    versions = uow.delegations.file_versions(snap.registry, snap.snapshot_date, OPEN_END)
    head = HeadState.of(
        snap.id,
        [v.id for v in versions],
        [v.origin for v in versions],
        fingerprints([v.record for v in versions]),
    )
    closed = np.array([v.id for v in versions if not v.reaches_mark], dtype=np.int64)
    return head, closed


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
