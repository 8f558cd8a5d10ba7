"""One point lookup (an address or an AS number) answered from the view cache with the
standard library alone.

A ``rirport lookup 8.8.8.8`` process spends most of its life importing, and numpy alone costs
about as much as the rest of it (issue 12: at most 4x ``python -c "import click"``). The view
cache (:mod:`rirport.query.view`) is a folder of ``.npy`` files, a format numpy documents in
a paragraph (a magic string, a header naming the dtype and shape, then the raw array); one
number needs a binary search over its type's segment bounds and a few rows. So this module
maps those files and reads them through :class:`memoryview` and :mod:`bisect`, as
:class:`~rirport.index.registry.RegistryIndex` reads them with numpy, and builds the same
:class:`~rirport.query.match.Match` objects in the same order (a test holds the two paths to
one answer over many real queries).

It trusts what :func:`~rirport.query.view.cached_current` trusts, and nothing more: the cache
of this store at its current head, every array it lists there with the dtype and length its
``meta.json`` says. For anything else (no cache, a stale, foreign or damaged one, a query
that is not one number, an empty store, IPv6 keys that are not the compact ones) it answers
None and the caller takes the numpy path, which reports, removes and rebuilds as it does.
"""

from __future__ import annotations

import bisect
import json
import mmap
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rirport.domain.delegation import from_columns
from rirport.domain.enums import ResourceType
from rirport.domain.query import Query, parse_query
from rirport.domain.resources import ResourceRange, relation
from rirport.errors import QueryError
from rirport.query.cache_layout import INDEX_ARRAYS, TABLE_COLUMNS, cache_path, written_for
from rirport.query.match import Match
from rirport.store.peek import peek
from rirport.store.rows import SnapshotRow

_FORMATS = {
    # .npy descr -> (numpy's dtype name, as meta.json writes it; memoryview format)
    "<u8": ("uint64", "Q"),
    "<i8": ("int64", "q"),
    "<i4": ("int32", "i"),
    "|u1": ("uint8", "B"),
    "|b1": ("bool", "?"),
}
_HEADER = re.compile(
    r"\{'descr': '(?P<descr>[<|][a-zS]\d+)', 'fortran_order': False, "
    r"'shape': \((?P<length>\d+),\), \} *\n"
)
"""The header ``numpy.save`` writes for a one-dimensional array (anything else: not ours)."""
_MAGIC = b"\x93NUMPY"
_BROKEN = (OSError, ValueError, KeyError, TypeError, IndexError)
"""What a missing, truncated or rewritten cache raises while it is read."""


@dataclass(frozen=True)
class _Array:
    """A mapped one-dimensional array: numbers through a cast memoryview, or fixed-width
    byte strings (``width`` > 0) read as numpy's ``item`` reads them (trailing NULs off)."""

    data: memoryview
    width: int = 0

    def item(self, i: int) -> Any:
        if self.width:
            return bytes(self.data[i * self.width : (i + 1) * self.width]).rstrip(b"\0")
        return self.data[i]


def _open_array(path: Path, dtype: str, length: int) -> _Array:
    """The array of a ``.npy`` file, mapped, if its header says ``dtype`` and ``length``.

    Raises:
        OSError, ValueError: the file is missing, not such a file, or shorter than its header
            says (numpy's own reader refuses these too).
    """
    with path.open("rb") as file:
        start = file.read(10)
        if start[:6] != _MAGIC or start[6] not in (1, 2, 3):
            raise ValueError(f"{path.name} is not a .npy file")
        if start[6] == 1:
            size, offset = int.from_bytes(start[8:10], "little"), 10
        else:
            start += file.read(2)
            size, offset = int.from_bytes(start[8:12], "little"), 12
        header = _HEADER.fullmatch(file.read(size).decode("latin-1"))
        if header is None or int(header["length"]) != length:
            raise ValueError(f"{path.name} is not what the cache's meta.json says")
        descr = header["descr"]
        if descr.startswith("|S"):
            name, fmt, itemsize = descr, "", int(descr[2:])
        else:
            name, fmt = _FORMATS[descr]
            itemsize = int(descr[2:])
        if name != dtype:
            raise ValueError(f"{path.name} is not what the cache's meta.json says")
        mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    begin = offset + size
    data = memoryview(mapped)[begin : begin + length * itemsize]
    if len(data) != length * itemsize:
        raise ValueError(f"{path.name} is shorter than its header says")
    if not fmt:
        return _Array(data, itemsize)
    return _Array(data.cast(fmt))  # type: ignore[call-overload]  # a format of _FORMATS


class MappedView:
    """The arrays of one view cache, mapped; built only by :func:`open_current`."""

    def __init__(self, arrays: dict[str, _Array], files: dict[int, str], ipv6_compact: bool):
        self.arrays = arrays
        self.files = files
        """Snapshot id -> the file name a match names as its source."""
        self.ipv6_compact = ipv6_compact

    def point(self, resource: ResourceRange) -> list[Match] | None:
        """Every row containing the one number ``resource`` holds, most specific first: what
        :meth:`RegistryIndex.ranges` answers for it (the rows covering the segment the number
        falls in, classified and ordered the same way). None when this cache keys IPv6 by
        full 128-bit numbers (never for real delegations): the numpy path answers that."""
        if resource.type is ResourceType.IPV6 and not self.ipv6_compact:
            return None
        rtype = resource.type.value
        key = resource.first >> 64 if resource.type is ResourceType.IPV6 else resource.first
        bounds, ptr = self.arrays[f"{rtype}.bounds"].data, self.arrays[f"{rtype}.ptr"].data
        segment = bisect.bisect_right(bounds, key) - 1
        if segment < 0:
            return []
        covering, row_ids = self.arrays[f"{rtype}.covering"], self.arrays[f"{rtype}.row_ids"]
        rows = [row_ids.data[n] for n in sorted(covering.data[ptr[segment] : ptr[segment + 1]])]
        ordered = sorted((self._order(row), row) for row in rows)
        return [self._match(row, resource) for _, row in ordered]

    def _order(self, row: int) -> tuple[int, int, int, int, int]:
        """:meth:`RegistryIndex._ordered`'s key (size, registry, start, line), then the row
        (its sort is stable over rows in this order)."""
        first, last = self._first(row), self._last(row)
        line = self.arrays["line"].item(row)
        return (last - first, self.arrays["registry"].item(row), first, line, row)

    def _first(self, row: int) -> int:
        return int(self.arrays["first_hi"].item(row) << 64 | self.arrays["first_lo"].item(row))

    def _last(self, row: int) -> int:
        return int(self.arrays["last_hi"].item(row) << 64 | self.arrays["last_lo"].item(row))

    def _match(self, row: int, query: ResourceRange) -> Match:
        """Row ``row`` as :meth:`Lookup.match_row` makes it."""
        column = self.arrays
        delegation = from_columns(
            column["registry"].item(row),
            column["cc"].item(row),
            column["type"].item(row),
            column["start"].item(row),
            column["value"].item(row),
            column["date"].item(row),
            column["undated_zeros"].item(row),
            column["status"].item(row),
            column["opaque_id"].item(row) if column["has_opaque"].item(row) else None,
            self._first(row),
            self._last(row),
        )
        snapshot: int = column["snapshot_ids"].item(row)
        serials = column.get("added_serials")
        return Match(
            delegation,
            relation(delegation.resource, query),
            snapshot,
            self.files[snapshot],
            column["line"].item(row),
            0 if serials is None else serials.item(row),
        )


def open_current(database_url: str, cache_dir: Path) -> MappedView | None:
    """The current view's cache of the SQLite store at ``database_url``, mapped, when it was
    written for the store's present head and every array it lists is whole; else None."""
    head = peek(database_url)
    if head is None or sys.byteorder != "little":
        return None
    folder = cache_path(cache_dir, database_url, head)
    try:
        meta = json.loads((folder / "meta.json").read_text())
        if not written_for(meta, database_url, head) or not meta["snapshots"]:
            return None
        rows = int(meta["rows"])
        listed = meta["arrays"]
        required = [*TABLE_COLUMNS, "snapshot_ids"]
        index = [f"{t.value}.{name}" for t in ResourceType for name in INDEX_ARRAYS]
        if any(name not in listed for name in index) or any(
            name not in listed or int(listed[name][1]) != rows for name in required
        ):
            return None
        arrays = {
            name: _open_array(folder / f"{name}.npy", dtype, int(length))
            for name, (dtype, length) in listed.items()
        }
        snapshots = [SnapshotRow.from_json(s) for s in meta["snapshots"]]
        return MappedView(
            arrays, {s.id: s.file_name for s in snapshots}, bool(meta["ipv6_compact"])
        )
    except _BROKEN:
        return None


def point_query(text: str) -> ResourceRange | None:
    """The one number a query asks about (an address, an AS number), or None (a prefix, a
    range, a holder, or not a query: the numpy path answers, or refuses, those)."""
    try:
        query: Query = parse_query(text)
    except QueryError:
        return None
    resource = query.resource
    if resource is None or resource.first != resource.last:
        return None
    return resource


def point_matches(database_url: str, cache_dir: Path, text: str) -> list[Match] | None:
    """:meth:`Lookup.find` of ``text`` over the current view, from its cache without numpy,
    when ``text`` is one address or AS number and the cache is current and whole; else None
    (the caller then takes the numpy path)."""
    resource = point_query(text)
    if resource is None:
        return None
    view = open_current(database_url, cache_dir)
    if view is None:
        return None
    try:
        return view.point(resource)
    except _BROKEN:  # a file rewritten under us, or rows the index does not hold
        return None


__all__ = ["MappedView", "open_current", "point_matches", "point_query"]
