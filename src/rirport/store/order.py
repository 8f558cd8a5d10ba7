"""A snapshot's line order: which row stood on which line of the file.

Line numbers change whenever a record is added or removed above them, so they cannot live on
rows shared by many snapshots. Each snapshot keeps one pair of arrays instead: the origins of
its file rows (sorted) and each one's line. A row's line in a snapshot is one binary search;
compressed, the pair costs about a byte per record when the file barely changed.
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
        return (
            zlib.compress(self.origins.astype("<i8").tobytes(), 1),
            zlib.compress(self.lines.astype("<i4").tobytes(), 1),
        )

    @classmethod
    def decode(cls, origins: bytes, lines: bytes) -> LineOrder:
        return cls(
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
