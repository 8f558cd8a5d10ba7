"""An index of possibly overlapping integer ranges, queried many points at a time.

The ranges' starts and ends cut the number line into segments on which the set of covering
ranges does not change. For each segment the index keeps the covering rows, most specific
(smallest) first, in CSR form, and the most specific one on its own. A point lookup is then one
``searchsorted`` over the segment boundaries and one gather, however the ranges overlap.

Keys are ``uint64`` for 32-bit spaces (IPv4, ASN; ``last + 1`` still fits) and big-endian
``S17`` strings for IPv6 (17 bytes so that ``last + 1`` of ``ffff…`` fits), which numpy
compares and sorts in numeric order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Keys = npt.NDArray[np.uint64] | npt.NDArray[np.bytes_]
Rows = npt.NDArray[np.int32]
"""Row numbers: int32 halves the index's memory (a view holds well under 2**31 rows)."""


def ipv6_keys(
    hi: npt.NDArray[np.uint64], lo: npt.NDArray[np.uint64], plus_one: bool = False
) -> npt.NDArray[np.bytes_]:
    """17-byte big-endian keys of 128-bit numbers (optionally the number plus one)."""
    n = len(hi)
    out = np.zeros((n, 3), dtype=">u8")
    if plus_one:
        lo1 = lo + np.uint64(1)
        carry = lo1 == 0
        hi1 = hi + carry.astype(np.uint64)
        top = carry & (hi1 == 0)
        out[:, 1], out[:, 2] = hi1, lo1
        out[:, 0] = top.astype(np.uint64)
    else:
        out[:, 1], out[:, 2] = hi, lo
    # bytes 7..23 of the 24: one byte of the top word, then the two 64-bit words
    raw = out.view(np.uint8).reshape(n, 24)[:, 7:]
    keys: npt.NDArray[np.bytes_] = np.ascontiguousarray(raw).view("S17").ravel()
    return keys


def sorted_unique(values: Keys) -> Keys:
    """``np.unique`` by sorting: numpy 2.4's ``np.unique`` hashes, which measured ~30x slower
    on a million 64-bit keys."""
    ordered: Keys = np.sort(values)  # type: ignore[assignment]
    if len(ordered) == 0:
        return ordered
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    result: Keys = ordered[keep]
    return result


@dataclass(frozen=True)
class RangeIndex:
    """Segments of the ranges of one resource type.

    Ranges are numbered 0..n-1 in the order given to :meth:`build` ("local" numbers); query
    methods answer in local numbers, and ``row_ids`` maps them to the caller's rows.
    """

    bounds: Keys
    """Sorted, unique segment starts."""
    best: Rows
    """Per segment: the caller's row of the most specific covering range, or -1."""
    ptr: Rows
    """CSR offsets into ``covering`` per segment (length = segments + 1)."""
    covering: Rows
    """Local numbers of the ranges covering each segment, most specific first."""
    by_first: Rows
    """Local numbers ordered by range start."""
    first_sorted: Keys
    row_ids: Rows

    @classmethod
    def build(
        cls, firsts: Keys, ends: Keys, sizes: npt.NDArray[np.float64], row_ids: Rows
    ) -> RangeIndex:
        """Index ranges ``firsts[i]..ends[i] - 1`` of rows ``row_ids``.

        ``sizes`` orders overlapping ranges, smallest first; ties keep the given order.
        """
        bounds = sorted_unique(np.concatenate([firsts, ends]))
        seg_from = np.searchsorted(bounds, firsts)
        counts = (np.searchsorted(bounds, ends) - seg_from).astype(np.int64)
        local = np.repeat(np.arange(len(firsts), dtype=np.int64), counts)
        starts_at = np.repeat(np.cumsum(counts) - counts, counts)
        segments = np.repeat(seg_from, counts) + (np.arange(len(local)) - starts_at)
        order = np.lexsort((local, sizes[local], segments))
        segments, local = segments[order], local[order]
        ptr = np.concatenate(([0], np.cumsum(np.bincount(segments, minlength=len(bounds)))))
        best = np.full(len(bounds), -1, dtype=np.int32)
        has = ptr[1:] > ptr[:-1]
        best[has] = row_ids[local[ptr[:-1][has]]]
        by_first = np.argsort(firsts, kind="stable").astype(np.int32)
        return cls(
            bounds,
            best,
            ptr.astype(np.int32),
            local.astype(np.int32),
            by_first,
            firsts[by_first],
            row_ids.astype(np.int32),
        )

    def __len__(self) -> int:
        return len(self.row_ids)

    def segment_of(self, points: Keys) -> npt.NDArray[np.intp]:
        """Segment number of each point (-1 before the first boundary)."""
        return np.searchsorted(self.bounds, points, side="right") - 1

    def best_of(self, points: Keys) -> Rows:
        """The caller's row of the most specific range containing each point, or -1."""
        seg = self.segment_of(points)
        found = self.best[np.maximum(seg, 0)]
        result: Rows = np.where(seg >= 0, found, -1)
        return result

    def containing(self, point: Keys) -> Rows:
        """Local numbers of all ranges containing one point (a length-1 key array), most
        specific first. (The array's own ``searchsorted`` and ``item``: numpy's function
        wrappers and scalar objects cost more than the search on this per-request path.)"""
        seg = int(self.bounds.searchsorted(point, side="right")[0]) - 1
        if seg < 0:
            return np.zeros(0, dtype=np.int32)
        ptr = self.ptr
        return self.covering[ptr.item(seg) : ptr.item(seg + 1)]

    def starting_within(self, first: Keys, last: Keys) -> Rows:
        """Local numbers of the ranges that start inside ``first..last``."""
        i0 = int(np.searchsorted(self.first_sorted, first, side="left")[0])
        i1 = int(np.searchsorted(self.first_sorted, last, side="right")[0])
        return self.by_first[i0:i1]
