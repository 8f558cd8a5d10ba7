"""Exports: a registry's statistics file regenerated, the combined NRO layout, and tables.

Three kinds of output, all from what the store holds:

* ``stats`` — one snapshot as the registry published it. The stored version-line fields,
  preamble and summary order, and the stored record lines in file order, go back through the
  statistics writer, which recounts the version line and summaries from the records. For a file
  ingested without skipped lines the result is byte-identical to the file read.
* ``combined`` — the current view of every registry (or a selection) in the NRO combined
  layout (:mod:`rirport.formats.combined`).
* ``csv``/``json``/``ndjson``/``parquet`` — the same rows as tables
  (:mod:`rirport.formats.tabular`).

Selections are a :class:`~rirport.query.view.CurrentView` (the newest snapshot of each
registry, usually from the view cache) narrowed to one registry, or one stored snapshot read
into the same shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import numpy as np

from rirport.domain.enums import Registry, ResourceType
from rirport.domain.table import REGISTRY_CODE
from rirport.errors import InputError, NotFoundError
from rirport.formats import combined, tabular
from rirport.formats.records import Header
from rirport.formats.statswriter import iter_stats_lines
from rirport.query.view import CurrentView, read_snapshot_table
from rirport.store.repos.delegations import State
from rirport.store.repos.snapshots import SnapshotRow
from rirport.store.unit import Store, UnitOfWork

FORMATS = ("stats", "combined", "csv", "json", "ndjson", "parquet")


# -- choosing a snapshot ---------------------------------------------------------------------
def find_snapshot(
    store: Store, snapshot_id: int | None = None, registry: Registry | None = None
) -> SnapshotRow:
    """The snapshot named by id, or else the current snapshot of ``registry``.

    Raises:
        InputError: neither given, or the snapshot is of another registry than the one named.
        NotFoundError: no snapshot with that id, or none of that registry.
    """
    with store.read() as uow:
        return _find_snapshot(uow, snapshot_id, registry)


def _find_snapshot(
    uow: UnitOfWork, snapshot_id: int | None, registry: Registry | None
) -> SnapshotRow:
    if snapshot_id is not None:
        snap = uow.snapshots.get(snapshot_id)
        if snap is None:
            raise NotFoundError(f"no snapshot with id {snapshot_id}")
        if registry is not None and snap.registry != registry.value:
            raise InputError(
                f"snapshot {snapshot_id} is {snap.registry}'s "
                f"({snap.file_name}), not {registry.value}'s"
            )
        return snap
    if registry is None:
        raise InputError("a statistics file is one registry's: name a registry or a snapshot")
    for snap in uow.snapshots.current():
        if snap.registry == registry.value:
            return snap
    raise NotFoundError(f"no snapshot of {registry.value} is stored")


# -- stats -----------------------------------------------------------------------------------
def stats_header(snap: SnapshotRow) -> Header:
    """The version line as stored (its record count is recounted when written)."""
    return Header(
        snap.version,
        snap.registry,
        snap.serial,
        snap.declared_records,
        snap.start_date,
        snap.end_date,
        snap.utc_offset,
    )


def summary_order(snap: SnapshotRow) -> list[ResourceType]:
    """The summary lines' order in the file read (it differs between RIRs)."""
    return [ResourceType(rtype) for rtype, _count in snap.summary]


def iter_snapshot(
    store: Store,
    snapshot_id: int | None = None,
    registry: Registry | None = None,
    state: State = "current",
) -> Iterator[str]:
    """A snapshot's statistics file as chunks of text (see :func:`find_snapshot` for the
    choice of snapshot): as the registry stands, transfers applied (``current``), or as the
    file was ingested (``original``). The store is read before the first chunk; rendering is
    lazy.

    Raises:
        InputError, NotFoundError: as :func:`find_snapshot`.
        StorageError: a stored record no longer parses.
    """
    view = snapshot_view(store, snapshot_id, registry, state)
    snap = view.snapshots[0]
    return iter_stats_lines(stats_header(snap), view.table, summary_order(snap), snap.preamble)


def export_snapshot(
    store: Store,
    snapshot_id: int | None = None,
    registry: Registry | None = None,
    state: State = "current",
) -> str:
    """A snapshot's statistics file as one string (see :func:`iter_snapshot`)."""
    return "".join(iter_snapshot(store, snapshot_id, registry, state))


# -- selections ------------------------------------------------------------------------------
def snapshot_view(
    store: Store,
    snapshot_id: int | None,
    registry: Registry | None = None,
    state: State = "current",
) -> CurrentView:
    """One stored snapshot (current or not) in the shape of a current view, for the exports
    that take a view.

    Raises:
        InputError, NotFoundError: as :func:`find_snapshot`.
        StorageError: a stored record no longer parses.
    """
    with store.read() as uow:
        snap = _find_snapshot(uow, snapshot_id, registry)
        table = read_snapshot_table(uow, snap, state)
        generation = uow.meta.data_generation()
    return CurrentView([snap], table, np.full(len(table), snap.id, dtype=np.int32), generation)


def narrow_view(view: CurrentView, registry: Registry | None) -> CurrentView:
    """The view's rows of one registry (the whole view when ``registry`` is None).

    Raises:
        NotFoundError: the view has no snapshot of that registry.
    """
    if registry is None:
        return view
    if registry not in view.registries:
        raise NotFoundError(f"no snapshot of {registry.value} is stored")
    rows = np.flatnonzero(view.table.registry == REGISTRY_CODE[registry])
    snapshots = [s for s in view.snapshots if s.registry == registry.value]
    return CurrentView(snapshots, view.table.take(rows), view.snapshot_ids[rows], view.generation)


# -- combined --------------------------------------------------------------------------------
def combined_header(view: CurrentView) -> Header:
    """The combined file's version line for the view (see :mod:`rirport.formats.combined`)."""
    return combined.combined_header(
        (s.snapshot_date for s in view.snapshots), (s.end_date for s in view.snapshots), view.table
    )


def iter_combined(view: CurrentView) -> Iterator[str]:
    """The view as an NRO combined file, in chunks of text.

    Raises:
        NotFoundError: the view is empty (nothing has been ingested).
    """
    _require_rows(view)
    ordered = view.table.take(combined.combined_order(view.table))
    return combined.iter_combined_lines(combined_header(view), ordered)


def export_combined(view: CurrentView) -> str:
    """The view as an NRO combined file, one string."""
    return "".join(iter_combined(view))


# -- tables ----------------------------------------------------------------------------------
def table_rows(view: CurrentView) -> tabular.ExportRows:
    """The view's rows with the derived export columns (rows in registry, then file, order).

    Raises:
        NotFoundError: the view is empty (nothing has been ingested).
    """
    _require_rows(view)
    return tabular.export_rows(
        view.table, view.snapshot_ids, {s.id: s.file_name for s in view.snapshots}
    )


def write_table(view: CurrentView, fmt: str, out: TextIO) -> None:
    """Write the view as ``csv``, ``json`` or ``ndjson`` to a text stream.

    Raises:
        InputError: another format name.
        NotFoundError: the view is empty.
    """
    writers = {"csv": tabular.write_csv, "json": tabular.write_json, "ndjson": tabular.write_ndjson}
    if fmt not in writers:
        raise InputError(f"{fmt!r} is not a text table format ({', '.join(writers)})")
    writers[fmt](table_rows(view), out)


def write_parquet(view: CurrentView, path: str | Path) -> None:
    """Write the view as a Parquet file at ``path`` (Parquet needs a seekable file).

    Raises:
        NotFoundError: the view is empty. ConfigError: pyarrow (the ``parquet`` extra) is not
            installed; checked before any row is computed.
    """
    tabular.arrow()
    tabular.write_parquet(table_rows(view), path)


def _require_rows(view: CurrentView) -> None:
    if not view.snapshots:
        raise NotFoundError("the store holds no snapshots: ingest some files first")


__all__ = [
    "FORMATS",
    "combined_header",
    "export_combined",
    "export_snapshot",
    "find_snapshot",
    "iter_combined",
    "iter_snapshot",
    "narrow_view",
    "snapshot_view",
    "stats_header",
    "summary_order",
    "table_rows",
    "write_parquet",
    "write_table",
]
