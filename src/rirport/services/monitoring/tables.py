"""The files this process ingested, kept parsed for the next ingests' change events.

An ingest's events diff its registry against the others near the rows that changed
(:mod:`rirport.services.monitoring.events`); reading those rows back from the store scans the
delegation table, which grows with history. An archive sync ingests the five registries day
after day in one process, so the other registries' previous and current files are the ones it
has just parsed: they are kept here, by registry and content hash (a stored file's original
records never change: transfers add and retire rows beside them), and searched with numpy.
The cache holds a bounded number of files, least recently used out first; a file not in it
is read from the store as before.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np
import numpy.typing as npt

from rirport.domain.enums import ResourceType
from rirport.domain.table import TYPE_CODE, DelegationTable
from rirport.store.repos.snapshots import SnapshotRow

#: Three files per registry (the RIRs date their files a day apart, so an ingest may look at a
#: registry two files back): about 160 MB for the five registries' 2018 files.
MAX_FILES = 15
_IPV6 = TYPE_CODE[ResourceType.IPV6]


class TableCache:
    """Parsed files by (registry, content sha256), least recently used out first."""

    def __init__(self, size: int = MAX_FILES) -> None:
        self._size = size
        self._tables: OrderedDict[tuple[str, str], DelegationTable] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, snap: SnapshotRow) -> DelegationTable | None:
        key = (snap.registry, snap.content_sha256)
        with self._lock:
            table = self._tables.get(key)
            if table is not None:
                self._tables.move_to_end(key)
            return table

    def put(self, snap: SnapshotRow, table: DelegationTable) -> None:
        with self._lock:
            self._tables[(snap.registry, snap.content_sha256)] = table
            self._tables.move_to_end((snap.registry, snap.content_sha256))
            while len(self._tables) > self._size:
                self._tables.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._tables.clear()


TABLES = TableCache()


def overlapping(table: DelegationTable, ranges: DelegationTable) -> npt.NDArray[np.int64]:
    """Rows of ``table`` that may share a number with a row of ``ranges`` (of its type): a
    superset, as the store's block search gives (IPv6 compared on the upper 64 bits)."""
    found: list[npt.NDArray[np.int64]] = []
    for code in np.unique(ranges.type).tolist():
        rows = np.flatnonzero(table.type == code)
        if not len(rows):
            continue
        first, last = _keys(table, rows, code)
        want_first, want_last = _keys(ranges, np.flatnonzero(ranges.type == code), code)
        order = np.argsort(first, kind="stable")
        firsts, lasts = first[order], last[order]
        reach = np.maximum.accumulate(lasts)  # rows before i end at most here
        ends = np.searchsorted(firsts, want_last, side="right")
        starts = np.searchsorted(reach, want_first, side="left")
        for lo, start, end in zip(want_first.tolist(), starts.tolist(), ends.tolist(), strict=True):
            if start < end:
                hit = start + np.flatnonzero(lasts[start:end] >= lo)
                found.append(rows[order[hit]])
    if not found:
        return np.zeros(0, np.int64)
    return np.unique(np.concatenate(found)).astype(np.int64)


def _keys(
    table: DelegationTable, rows: npt.NDArray[np.int64], code: int
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    if code == _IPV6:
        return table.first_hi[rows], table.last_hi[rows]
    return table.first_lo[rows], table.last_lo[rows]
