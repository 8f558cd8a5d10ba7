"""A snapshot's line order: which row stood on which line of the file.

Line numbers change whenever a record is added or removed above them, so they cannot live on
rows shared by many snapshots. Each snapshot keeps one pair of arrays instead: the origins of
its file rows and each one's line; in memory sorted by origin (a row's line is one binary
search).

Stored, a snapshot's order is an edit of the previous snapshot's (format 3: positions removed,
positions and origins inserted), with a full blob every :data:`MAX_DEPTH` snapshots (format 2:
origins and lines in line order, stored as their steps that are not +1; format 1 when that is
smaller). Measured on the simulated daily history (``bench/history.py``, 100 days): 0.005 bytes
per record for an edit, 0.013 averaged with the full blobs, flat over the run; format 2 alone
grew from 0.006 to 0.115 bytes per record over 25 days (each new row's id breaks a run), and
the format-1 blobs of earlier stores took 2.9. Formats 1 and 2 are still read.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class LineOrder:
    """Origins (sorted, int64) and the line of each (int32)."""

    origins: npt.NDArray[np.int64]
    lines: npt.NDArray[np.int32]

    @classmethod
    def build(cls, origins: npt.ArrayLike, lines: npt.ArrayLike) -> LineOrder:
        o = np.asarray(origins, dtype=np.int64)
        li = np.asarray(lines, dtype=np.int32)
        order = np.argsort(o, kind="stable")
        return cls(o[order], li[order])

    def encode(self) -> tuple[bytes, bytes]:
        """Format 2 (origins and lines in line order, as their steps), or format 1 when that
        is smaller: format 2's size grows with the rows inserted since the first file (each
        new row's id breaks a run), format 1's does not."""
        by_line = np.argsort(self.lines, kind="stable")
        two = _pack(self.origins[by_line]), _pack(self.lines[by_line].astype(np.int64))
        if sum(map(len, two)) < len(self.origins):  # under a byte a record: format 1 is more
            return two
        one = (
            zlib.compress(self.origins.astype("<i8").tobytes(), 1),
            zlib.compress(self.lines.astype("<i4").tobytes(), 1),
        )
        return two if sum(map(len, two)) <= sum(map(len, one)) else one

    def encode_after(self, base: LineOrder, base_id: int, depth: int) -> tuple[bytes, bytes] | None:
        """Format 3: the origins in line order as an edit of ``base``'s (the snapshot before,
        ``depth`` edits from a full blob): positions removed, positions and origins inserted.
        None when the rows kept changed their order (then a full blob is stored)."""
        new_at, old_at = (
            np.argsort(self.lines, kind="stable"),
            np.argsort(base.lines, kind="stable"),
        )
        new, old = self.origins[new_at], base.origins[old_at]
        kept_new = _within(self.origins, base.origins)[new_at]  # np.isin(new, old), both
        kept_old = _within(base.origins, self.origins)[old_at]  # already sorted by origin
        if not np.array_equal(new[kept_new], old[kept_old]):
            return None
        removed, inserted = np.flatnonzero(~kept_old), np.flatnonzero(~kept_new)
        body = np.concatenate(
            [[base_id, depth, len(removed)], removed, [len(inserted)], inserted, new[inserted]]
        ).astype("<i8")
        lines = np.sort(self.lines).astype(np.int64)
        return _MAGIC3 + zlib.compress(body.tobytes(), 6), _pack(lines)

    def by_line(self) -> npt.NDArray[np.int64]:
        """The origins in line order."""
        return self.origins[np.argsort(self.lines, kind="stable")]

    @staticmethod
    def base_of(origins: bytes) -> tuple[int, int] | None:
        """(base snapshot id, depth) of a format-3 blob; None for a full one."""
        if not origins.startswith(_MAGIC3):
            return None
        head = np.frombuffer(zlib.decompress(origins[len(_MAGIC3) :]), dtype="<i8")
        return int(head[0]), int(head[1])

    @classmethod
    def decode(cls, origins: bytes, lines: bytes, base: LineOrder | None = None) -> LineOrder:
        """A stored order (``base``: the decoded order a format-3 blob edits)."""
        if origins.startswith(_MAGIC3):
            if base is None:
                raise ValueError("a format-3 line order needs the order it edits")
            body = np.frombuffer(zlib.decompress(origins[len(_MAGIC3) :]), dtype="<i8")
            body = body.astype(np.int64)
            n_removed = int(body[2])
            removed = body[3 : 3 + n_removed]
            rest = body[3 + n_removed :]
            n_inserted = int(rest[0])
            inserted, values = rest[1 : 1 + n_inserted], rest[1 + n_inserted :]
            seq = np.delete(base.by_line(), removed)
            seq = np.insert(seq, inserted - np.arange(n_inserted), values)
            return cls.build(seq, _unpack(lines))
        if origins.startswith(_MAGIC):
            return cls.build(_unpack(origins), _unpack(lines))
        return cls(  # format 1
            np.frombuffer(zlib.decompress(origins), dtype="<i8").astype(np.int64),
            np.frombuffer(zlib.decompress(lines), dtype="<i4").astype(np.int32),
        )

    def lines_of(self, origins: npt.ArrayLike) -> npt.NDArray[np.int32]:
        """The line of each origin.

        Raises:
            KeyError: an origin is not one of the snapshot's rows (the store is inconsistent).
        """
        wanted = np.asarray(origins, dtype=np.int64)
        at = np.searchsorted(self.origins, wanted)
        at = np.minimum(at, max(len(self.origins) - 1, 0))
        if len(wanted) and (not len(self.origins) or (self.origins[at] != wanted).any()):
            raise KeyError("row not in the snapshot's line order")
        return self.lines[at] if len(wanted) else np.zeros(0, np.int32)


#: Marks a format-2 blob (a zlib stream, format 1, starts with 0x78).
_MAGIC = b"LO2\0"
#: Marks a format-3 blob: an edit of the previous snapshot's order.
_MAGIC3 = b"LO3\0"
#: Edits in a row before a full blob is stored again (reading an order decodes at most this
#: many edits, each one ``np.delete`` and one ``np.insert``).
MAX_DEPTH = 32


def _within(values: npt.NDArray[np.int64], sorted_: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """``np.isin(values, sorted_)`` for ``sorted_`` in ascending order, without a sort: row
    ids (from 1, a few million at most) marked in a table of them, else a binary search each."""
    if not len(sorted_) or not len(values):
        return np.zeros(len(values), bool)
    top = max(int(sorted_[-1]), int(values.max()))
    if int(sorted_[0]) >= 0 and int(values.min()) >= 0 and top < _MARKED:
        marked = np.zeros(top + 1, bool)
        marked[sorted_] = True
        return marked[values]
    at = np.minimum(np.searchsorted(sorted_, values), len(sorted_) - 1)
    found: npt.NDArray[np.bool_] = sorted_[at] == values
    return found


#: Ids below this are looked up in a table of flags (a byte each) rather than searched for.
_MARKED = 1 << 26


def _pack(values: npt.NDArray[np.int64]) -> bytes:
    """The steps between consecutive values are nearly all +1: stored are their count and
    the others only, as (position, step) pairs (int64, zlib), so the blob's size is the
    changes'."""
    steps = np.diff(values, prepend=np.int64(0))
    odd = np.flatnonzero(steps != 1)
    body = np.concatenate([[len(values)], odd, steps[odd]]).astype("<i8")
    return _MAGIC + zlib.compress(body.tobytes(), 6)


def _unpack(blob: bytes) -> npt.NDArray[np.int64]:
    body = np.frombuffer(zlib.decompress(blob[len(_MAGIC) :]), dtype="<i8").astype(np.int64)
    n, rest = int(body[0]), body[1:]
    odd, values = rest[: len(rest) // 2], rest[len(rest) // 2 :]
    steps = np.ones(n, np.int64)
    steps[odd] = values
    return np.cumsum(steps, dtype=np.int64)
