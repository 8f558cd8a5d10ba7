"""The current view: the newest snapshot of every registry, as one table in memory (and the
view as of a date: each registry's newest snapshot on or before it).

Reading half a million records back from the store and parsing them takes about a second, so
the table is cached in ``cache_dir``: a folder of ``.npy`` files (the columns and the index
arrays of every type) named after the store and its data generation, with ``meta.json`` saying
which state of the store it holds (:class:`~rirport.store.peek.StoreHead`: the generation, the
hash of that journal entry, the schema revision) and for which version of rirport. A cache
is used only for exactly that state, so it is current or unused; any write moves the head.
Its files are mapped, not read: a process answering one query touches a few pages of them,
and :func:`cached_current` finds the cache without opening the store through SQLAlchemy.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import datetime as dt
import json
import os
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from rirport.domain.enums import Registry, ResourceType
from rirport.domain.table import DelegationTable
from rirport.errors import NotFoundError, StorageError
from rirport.index.ranges import RangeIndex
from rirport.index.registry import RegistryIndex
from rirport.query.cache_layout import cache_meta, cache_path, written_for
from rirport.store.peek import StoreHead, peek
from rirport.store.rows import SnapshotRow

if TYPE_CHECKING:
    from rirport.store.repos.delegations import State
    from rirport.store.unit import Store, UnitOfWork

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
    indexes: dict[ResourceType, RangeIndex] | None = None
    """The index of each type, when made with the view (its cache holds them)."""
    ipv6_compact: bool | None = None
    """:attr:`RegistryIndex.ipv6_compact` of the table, when known."""

    def index(self) -> RegistryIndex:
        """The view's :class:`RegistryIndex` (its types' indexes the cached ones, if any)."""
        return RegistryIndex(self.table, self.indexes, self.ipv6_compact)

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
        head = uow.meta.head()
        snapshots = uow.snapshots.as_of(as_of)
        name = "current" if as_of is None else f"asof{as_of:%Y%m%d}"
        cache = None if cache_dir is None else cache_path(cache_dir, store.identity, head, name)
        if cache is not None:
            cached = _read_cache(cache, store.identity, head, snapshots)
            if cached is not None:
                return cached
        view = _read_store(uow, snapshots, head.generation, _completed_after(uow, as_of))
    if cache is not None:
        _write_cache(cache, store.identity, head, view)
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
    from rirport.formats.statsfile import read_record_lines

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


def cached_current(database_url: str, cache_dir: Path | None) -> CurrentView | None:
    """The current view straight from its cache, when the store's head (read with the
    standard library: :func:`rirport.store.peek.peek`) is the one the cache was written at;
    None otherwise (not a SQLite store, no cache yet, a stale, foreign or damaged cache):
    then :func:`load_current` opens the store and reads (and caches) the view.

    Nothing is built or parsed: the columns and the index arrays are mapped from their files
    and read as a query touches them, so one lookup costs a few milliseconds after start-up.
    """
    if cache_dir is None:
        return None
    head = peek(database_url)
    if head is None:
        return None
    return _read_cache(cache_path(cache_dir, database_url, head), database_url, head)


def _write_cache(path: Path, identity: str, head: StoreHead, view: CurrentView) -> None:
    """Write the view's columns and index arrays as ``.npy`` files (mappable) in a folder of
    this writer's own, then rename it into place: worker processes (and threads) loading
    together write the same cache at once, and the first rename wins (the others' folders
    are dropped). ``meta.json`` is written last, so a folder without it is incomplete.

    The index arrays are built here (and handed to ``view``), once per generation: every
    later process maps them instead of building them. A cache that cannot be written (a
    read-only folder) is skipped."""
    index = RegistryIndex(view.table)
    built = {rtype: index.by_type[rtype] for rtype in ResourceType}
    view.indexes, view.ipv6_compact = built, index.ipv6_compact
    arrays: dict[str, npt.NDArray[Any]] = {
        f.name: getattr(view.table, f.name) for f in dataclasses.fields(view.table)
    }
    arrays["snapshot_ids"] = view.snapshot_ids
    if view.added_serials is not None:
        arrays["added_serials"] = view.added_serials
    for rtype, range_index in built.items():
        for f in dataclasses.fields(range_index):
            arrays[f"{rtype.value}.{f.name}"] = getattr(range_index, f.name)
    meta = {
        **cache_meta(identity, head),
        "rows": len(view.table),
        "arrays": {name: [str(a.dtype), len(a)] for name, a in arrays.items()},
        "ipv6_compact": view.ipv6_compact,
        "snapshots": [s.to_json() for s in view.snapshots],
    }
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _drop_older(path, head.generation)
        tmp.mkdir()
        _write_arrays(tmp, arrays)
        (tmp / "meta.json").write_text(json.dumps(meta))
        if path.exists():  # another writer got there first: its cache is the same
            return
        tmp.rename(path)
    except OSError:
        pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _write_arrays(folder: Path, arrays: dict[str, npt.NDArray[Any]]) -> None:
    for name, array in arrays.items():
        np.save(folder / f"{name}.npy", np.ascontiguousarray(array), allow_pickle=False)


def _drop_older(path: Path, generation: int) -> None:
    """Remove this cache's folders (and older formats' files) of older generations; never a
    newer one, nor the folder another writer is renaming into place."""
    stem = path.name.split("-g")[0]
    for old in path.parent.glob(stem + "-g*"):
        number = old.name[len(stem) + 2 :].split("-")[0]
        if old != path and (not number.isdigit() or int(number) <= generation):
            if old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
            else:
                old.unlink(missing_ok=True)


def _read_cache(
    path: Path, identity: str, head: StoreHead, snapshots: list[SnapshotRow] | None = None
) -> CurrentView | None:
    """The view cached at ``path`` if it was written for ``identity`` at ``head``, or None.
    A cache that is there but was written for another state (a store that sat at this URL
    before, another version of rirport) or cannot be read whole (a file missing, truncated
    or not what ``meta.json`` says) is removed, so the caller rebuilds it."""
    if not (path / "meta.json").is_file():
        return None
    try:
        meta = json.loads((path / "meta.json").read_text())
        if not written_for(meta, identity, head):
            raise ValueError("the cache was written for another state of the store")
        rows = int(meta["rows"])
        arrays = {}
        for name, (dtype, length) in meta["arrays"].items():
            array = np.load(path / f"{name}.npy", mmap_mode="c", allow_pickle=False)
            if str(array.dtype) != dtype or array.shape != (length,):
                raise ValueError(f"{name}.npy is not what the cache's meta.json says")
            arrays[name] = array.view(np.ndarray)
        columns = {f.name: arrays[f.name] for f in dataclasses.fields(DelegationTable)}
        if any(len(c) != rows for c in columns.values()) or len(arrays["snapshot_ids"]) != rows:
            raise ValueError("the cache's columns differ in length")
        indexes = {
            rtype: RangeIndex(
                **{
                    f.name: arrays[f"{rtype.value}.{f.name}"]
                    for f in dataclasses.fields(RangeIndex)
                }
            )
            for rtype in ResourceType
        }
        stored = [SnapshotRow.from_json(s) for s in meta["snapshots"]]
        if snapshots is not None and [s.id for s in snapshots] != [s.id for s in stored]:
            raise ValueError("the cache names other snapshots than the store")
        return CurrentView(
            stored if snapshots is None else snapshots,
            DelegationTable(**columns),
            arrays["snapshot_ids"],
            head.generation,
            arrays.get("added_serials"),
            indexes,
            bool(meta["ipv6_compact"]),
        )
    except (OSError, EOFError, ValueError, KeyError, TypeError):  # EOFError: an empty file
        shutil.rmtree(path, ignore_errors=True)
        return None
