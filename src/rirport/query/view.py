"""The current view: the newest snapshot of every registry, as one table in memory (and the
view as of a date: each registry's newest snapshot on or before it).

Reading half a million records back from the store and parsing them takes about a second, so
the table is cached in ``cache_dir`` as a numpy file named after the store and its write
generation (bumped by every write transaction): a cache file can only ever be current or unused.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import hashlib
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import numpy.typing as npt

from rirport.domain.enums import Registry
from rirport.domain.table import DelegationTable
from rirport.errors import NotFoundError, StorageError
from rirport.formats.statsfile import read_record_lines
from rirport.store.repos.delegations import State
from rirport.store.repos.snapshots import SnapshotRow
from rirport.store.unit import Store, UnitOfWork

CACHE_FORMAT = 2
EMPTY_STORE = (
    "the store holds no statistics files yet: load the bundled 2018 files with "
    "`rirport demo`, or your own with `rirport ingest PATH...`"
)
"""What a read says when there is nothing to read."""


@dataclass
class CurrentView:
    """Rows of the current snapshots, with the snapshot each row comes from."""

    snapshots: list[SnapshotRow]
    table: DelegationTable
    snapshot_ids: npt.NDArray[np.int32]
    """Per row: the id of the snapshot (file) it was read from."""
    generation: int
    added_serials: npt.NDArray[np.int64] | None = None
    """Per row: the journal serial of the transfer that made it (0: read from its file);
    None when no row was made by a transfer."""

    def added_serial(self, row: int) -> int:
        return 0 if self.added_serials is None else int(self.added_serials[row])

    def snapshot(self, snapshot_id: int) -> SnapshotRow:
        return next(s for s in self.snapshots if s.id == snapshot_id)

    @property
    def registries(self) -> list[Registry]:
        return [Registry(s.registry) for s in self.snapshots]


def require_data(view: CurrentView) -> CurrentView:
    """``view``, when it holds at least one snapshot.

    Raises:
        NotFoundError: the store is empty (the message says how to load it).
    """
    if not view.snapshots:
        raise NotFoundError(EMPTY_STORE)
    return view


def load_current(store: Store, cache_dir: Path | None = None) -> CurrentView:
    """The current view, from the cache when it matches the store's generation.

    Raises:
        StorageError: a stored record no longer parses (the store was edited by hand).
    """
    return load_view(store, cache_dir)


def load_as_of(store: Store, date: dt.date, cache_dir: Path | None = None) -> CurrentView:
    """The registries as they stood on ``date``: each one's newest snapshot dated on or
    before it (a registry with no snapshot that old is left out), cached like the current
    view (one file per date and generation).

    Raises:
        NotFoundError: no registry has a snapshot on or before ``date``.
        StorageError: a stored record no longer parses.
    """
    view = load_view(store, cache_dir, date)
    if not view.snapshots:
        raise NotFoundError(f"no snapshot is dated on or before {date.isoformat()}")
    return view


def load_view(
    store: Store, cache_dir: Path | None = None, as_of: dt.date | None = None
) -> CurrentView:
    """The current view (``as_of`` None) or the view as of a date, from the cache when it
    matches the store's generation.

    Raises:
        StorageError: a stored record no longer parses (the store was edited by hand).
    """
    with store.read() as uow:
        _one_snapshot_of_the_store(uow)
        generation = uow.meta.data_generation()
        snapshots = uow.snapshots.as_of(as_of)
        name = "current" if as_of is None else f"asof{as_of:%Y%m%d}"
        cache = _cache_file(cache_dir, store, generation, name)
        if cache is not None and cache.exists():
            try:
                return _read_cache(cache, snapshots, generation)
            except (OSError, ValueError, KeyError):
                cache.unlink(missing_ok=True)
        view = _read_store(uow, snapshots, generation, _completed_after(uow, as_of))
    if cache is not None:
        _write_cache(cache, view)
    release_free_memory()
    return view


def _one_snapshot_of_the_store(uow: UnitOfWork) -> None:
    """Make every read of this transaction see the same committed state (PostgreSQL reads
    each statement at its own moment by default: a transfer committing between the reads of
    two registries would otherwise show its block in neither). SQLite's transaction already
    reads one state."""
    if uow.dialect == "postgresql":
        uow.connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")


def release_free_memory() -> None:
    """Hand freed heap pages back to the system after the large transient allocations of a
    load (glibc keeps them otherwise, and a long-running server would carry them forever)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _completed_after(uow: UnitOfWork, as_of: dt.date | None) -> list[int]:
    """The journal serials of the transfers completed with a date after ``as_of``: a view of
    that date shows their resources where they were before."""
    if as_of is None:
        return []
    return [t.updated_serial for t in uow.transfers.all(("completed",)) if t.transfer_date > as_of]


def _read_store(
    uow: UnitOfWork, snapshots: list[SnapshotRow], generation: int, not_yet: Sequence[int] = ()
) -> CurrentView:
    read = [read_snapshot_rows(uow, snap, not_yet=not_yet) for snap in snapshots]
    tables = [table for table, _ in read]
    ids = [
        np.full(len(t), snap.id, dtype=np.int32) for t, snap in zip(tables, snapshots, strict=True)
    ]
    serials = np.concatenate([s for _, s in read]) if read else np.zeros(0, np.int64)
    return CurrentView(
        snapshots,
        DelegationTable.concat(tables),
        np.concatenate(ids) if ids else np.zeros(0, np.int32),
        generation,
        serials if serials.any() else None,
    )


def read_snapshot_table(
    uow: UnitOfWork, snap: SnapshotRow, state: State = "current", not_yet: Sequence[int] = ()
) -> DelegationTable:
    """A snapshot's records in file order, read back in chunks (bounded memory): as the
    registry stands (``current``, transfers applied but those completed by ``not_yet``) or
    as the file was (``original``).

    Raises:
        StorageError: a stored record no longer parses (the store was edited by hand).
    """
    return read_snapshot_rows(uow, snap, state, not_yet)[0]


def read_snapshot_rows(
    uow: UnitOfWork, snap: SnapshotRow, state: State = "current", not_yet: Sequence[int] = ()
) -> tuple[DelegationTable, npt.NDArray[np.int64]]:
    """:func:`read_snapshot_table`, with each row's ``added_serial`` (0: from the file).

    Raises:
        StorageError: a stored record no longer parses (the store was edited by hand).
    """
    tables = []
    serials: list[int] = []
    for lines, records, added in uow.delegations.record_chunks(
        snap.id, state=state, not_yet=not_yet
    ):
        table, errors = read_record_lines(
            records, snap.registry, f"snapshot {snap.id} ({snap.file_name})", lines
        )
        if errors:
            raise StorageError(f"stored records no longer parse: {errors[0]}")
        tables.append(table)
        serials += added
    return DelegationTable.concat(tables), np.array(serials, dtype=np.int64)


def _cache_file(
    cache_dir: Path | None, store: Store, generation: int, name: str = "current"
) -> Path | None:
    if cache_dir is None:
        return None
    tag = hashlib.sha256(store.identity.encode()).hexdigest()[:16]
    return cache_dir / f"{name}-{tag}-g{generation}-v{CACHE_FORMAT}.npz"


def _write_cache(path: Path, view: CurrentView) -> None:
    """Write through a temporary file of this writer's own, then rename: worker processes
    (and threads) loading together write the same cache at once, and a shared temporary name
    let one rename or delete another's half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _drop_older(path, view.generation)
    columns = {f.name: getattr(view.table, f.name) for f in fields(view.table)}
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex}.tmp")
    try:
        with tmp.open("wb") as out:
            if view.added_serials is not None:
                columns["added_serials"] = view.added_serials
            np.savez(out, snapshot_ids=view.snapshot_ids, **columns)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def _drop_older(path: Path, generation: int) -> None:
    """Remove this cache's files of older generations (never a newer one, nor the file
    another writer is renaming into place)."""
    stem = path.name.split("-g")[0]
    for old in path.parent.glob(stem + "-g*.npz"):
        number = old.name[len(stem) + 2 :].split("-")[0]
        if old != path and (not number.isdigit() or int(number) <= generation):
            old.unlink(missing_ok=True)


def _read_cache(path: Path, snapshots: list[SnapshotRow], generation: int) -> CurrentView:
    with np.load(path) as data:
        table = DelegationTable(**{f.name: data[f.name] for f in fields(DelegationTable)})
        ids = data["snapshot_ids"]
        serials = data["added_serials"] if "added_serials" in data.files else None
    if set(np.flatnonzero(np.bincount(ids)).tolist()) - {s.id for s in snapshots}:
        raise ValueError("cache names snapshots the store does not have")
    return CurrentView(snapshots, table, ids, generation, serials)
