"""The files this process ingested, kept parsed for the next ingests' change events.

An ingest's events diff its registry against the others near the rows that changed
(:mod:`rirport.services.monitoring.events`); reading those rows back from the store scans the
delegation table, which grows with history. An archive sync ingests the five registries day
after day in one process, so the other registries' previous and current files are the ones it
has just parsed: they are kept here, by registry and content hash (a stored file's original
records never change: transfers add and retire rows beside them), and searched with numpy.
The cache holds each registry's newest four files (by date: the ones the next ingests read;
least recently used out first would drop a file three days back that the next ingest of a
registry dated a day earlier still needs) and at most :data:`MAX_FILES` in all; a file not in
it is read from the store as before.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rirport.domain.enums import ResourceType
from rirport.domain.table import TYPE_CODE, DelegationTable
from rirport.store.repos.snapshots import SnapshotRow

#: Four files per registry: the RIRs date their files up to two days apart (in the 2018 set
#: LACNIC's a day behind most, APNIC's a day ahead), so LACNIC's ingest reads APNIC as of its
#: previous file, three APNIC files back. About 210 MB for the five registries' 2018 files.
PER_REGISTRY = 4
MAX_FILES = 20
_IPV6 = TYPE_CODE[ResourceType.IPV6]


@dataclass(frozen=True)
class Sorted:
    """A table's rows of one type sorted by first key, with their last keys and the
    furthest last key so far (what :func:`overlapping` searches)."""

    rows: npt.NDArray[np.int64]
    firsts: npt.NDArray[np.uint64]
    lasts: npt.NDArray[np.uint64]
    reach: npt.NDArray[np.uint64]

    @classmethod
    def of(cls, table: DelegationTable, code: int) -> Sorted:
        rows = table.first_order(code)  # the sort the file's own ingest made (or makes now)
        first, last = _keys(table, rows, code)
        return cls(rows, first, last, np.maximum.accumulate(last))


class TableCache:
    """Parsed files by (registry, content sha256), each registry's oldest-dated out first
    past ``per_registry`` of them, then the least recently used past ``size``, and their rows
    sorted by range (made on first use: the next ingests search them again)."""

    def __init__(self, size: int = MAX_FILES, per_registry: int = PER_REGISTRY) -> None:
        self._size = size
        self._per_registry = per_registry
        self._tables: OrderedDict[tuple[str, str], DelegationTable] = OrderedDict()
        self._dates: dict[tuple[str, str], dt.date] = {}
        self._sorted: dict[tuple[str, str, int], Sorted] = {}
        self._lock = threading.Lock()

    def get(self, snap: SnapshotRow) -> DelegationTable | None:
        key = (snap.registry, snap.content_sha256)
        with self._lock:
            table = self._tables.get(key)
            if table is not None:
                self._tables.move_to_end(key)
            return table

    def put(self, snap: SnapshotRow, table: DelegationTable) -> None:
        key = (snap.registry, snap.content_sha256)
        with self._lock:
            self._tables[key] = table
            self._tables.move_to_end(key)
            self._dates[key] = snap.snapshot_date
            mine = sorted((d, k) for k, d in self._dates.items() if k[0] == snap.registry)
            for _, old in mine[: max(len(mine) - self._per_registry, 0)]:
                self._drop(old)
            while len(self._tables) > self._size:
                self._drop(next(iter(self._tables)))

    def _drop(self, key: tuple[str, str]) -> None:
        del self._tables[key]
        del self._dates[key]
        for code in range(len(TYPE_CODE)):
            self._sorted.pop((*key, code), None)

    def sorted(self, snap: SnapshotRow, table: DelegationTable, code: int) -> Sorted:
        """``table`` (the cached file of ``snap``) sorted by range for one type."""
        key = (snap.registry, snap.content_sha256, code)
        with self._lock:
            found = self._sorted.get(key)
        if found is None:
            found = Sorted.of(table, code)
            with self._lock:
                if (snap.registry, snap.content_sha256) in self._tables:
                    self._sorted[key] = found
        return found

    def clear(self) -> None:
        with self._lock:
            self._tables.clear()
            self._dates.clear()
            self._sorted.clear()


TABLES = TableCache()


def overlapping(
    table: DelegationTable,
    ranges: DelegationTable,
    sort: Callable[[int], Sorted] | None = None,
) -> npt.NDArray[np.int64]:
    """Rows of ``table`` that may share a number with a row of ``ranges`` (of its type): a
    superset, as the store's block search gives (IPv6 compared on the upper 64 bits).
    ``sort``: the table's rows of a type sorted (:meth:`TableCache.sorted`), when kept."""
    found: list[npt.NDArray[np.int64]] = []
    for code in np.unique(ranges.type).tolist():
        s = sort(code) if sort is not None else Sorted.of(table, code)
        if not len(s.rows):
            continue
        want_first, want_last = _keys(ranges, np.flatnonzero(ranges.type == code), code)
        ends = np.searchsorted(s.firsts, want_last, side="right")
        starts = np.searchsorted(s.reach, want_first, side="left")  # rows before end there
        for lo, start, end in zip(want_first.tolist(), starts.tolist(), ends.tolist(), strict=True):
            if start < end:
                hit = start + np.flatnonzero(s.lasts[start:end] >= lo)
                found.append(s.rows[hit])
    if not found:
        return np.zeros(0, np.int64)
    return np.unique(np.concatenate(found)).astype(np.int64)


def _keys(
    table: DelegationTable, rows: npt.NDArray[np.int64], code: int
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    if code == _IPV6:
        return table.first_hi[rows], table.last_hi[rows]
    return table.first_lo[rows], table.last_lo[rows]
