"""The in-memory index of a current view: every registry, every type, and holders.

Built once from a :class:`~rirport.domain.table.DelegationTable` (about half a second for the
five registries), then answers single queries in microseconds and bulk address lookups at
numpy speed. Answers are row numbers of that table.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rirport.domain.enums import Registry, ResourceType
from rirport.domain.query import Query
from rirport.domain.resources import ResourceRange, relation
from rirport.domain.table import REGISTRY_CODE, TYPE_CODE, DelegationTable, split_key
from rirport.formats import vectorized as vec
from rirport.index.ranges import Keys, RangeIndex, Rows, ipv6_keys


@dataclass(frozen=True)
class Hit:
    """One matching row and how its range relates to the query's."""

    row: int
    relation: str
    """``exact``, ``covering`` (the delegation contains the query), ``covered`` (the
    delegation lies inside the query), ``overlaps`` (partly), or ``holder``."""


class RegistryIndex:
    """Lookups over one table (the current view of all registries)."""

    def __init__(
        self,
        table: DelegationTable,
        built: Mapping[ResourceType, RangeIndex] | None = None,
        ipv6_compact: bool | None = None,
    ) -> None:
        """``built``: indexes of ``table`` made earlier (a view cache's), used as they are;
        ``ipv6_compact``: :attr:`ipv6_compact`, when known."""
        self.table = table
        self.by_type = _TypeIndexes(self._build)
        """Per type, its :class:`RangeIndex`, built when first asked for: a command asking
        about addresses does not pay for the AS numbers' index, nor the holders'."""
        self.by_type.update(built or {})
        if ipv6_compact is not None:
            self.__dict__["ipv6_compact"] = ipv6_compact

    @functools.cached_property
    def ipv6_compact(self) -> bool:
        """IPv6 ranges that start and end on /64 boundaries (every real delegation) are
        keyed by their upper 64 bits alone: numeric keys sort many times faster than 17-byte
        ones."""
        t = self.table
        v6 = t.type == TYPE_CODE[ResourceType.IPV6]
        return bool(
            (t.first_lo[v6] == 0).all()
            and (t.last_lo[v6] == np.uint64(2**64 - 1)).all()
            and (t.last_hi[v6] < np.uint64(2**64 - 1)).all()
        )

    @functools.cached_property
    def _holders(self) -> tuple[Rows, npt.NDArray[np.uint64]]:
        """Rows grouped by a 64-bit hash of their opaque-id (sorting 36-byte strings is ten
        times slower); a lookup checks the id itself, so collisions cost nothing."""
        with_id = np.flatnonzero(self.table.has_opaque).astype(np.int32)
        hashes = id_hashes(self.table.opaque_id[with_id])
        order = np.argsort(hashes, kind="stable")
        return with_id[order], hashes[order]

    def _build(self, rtype: ResourceType) -> RangeIndex:
        rows = np.flatnonzero(self.table.type == TYPE_CODE[rtype]).astype(np.int32)
        t = self.table
        sizes = t.sizes(rows)
        firsts: Keys
        ends: Keys
        if rtype is ResourceType.IPV6 and self.ipv6_compact:
            firsts, ends = t.first_hi[rows], t.last_hi[rows] + np.uint64(1)
        elif rtype is ResourceType.IPV6:
            firsts = ipv6_keys(t.first_hi[rows], t.first_lo[rows])
            ends = ipv6_keys(t.last_hi[rows], t.last_lo[rows], plus_one=True)
        else:
            firsts, ends = t.first_lo[rows], t.last_lo[rows] + np.uint64(1)
        return RangeIndex.build(firsts, ends, sizes, rows)

    # -- single queries --------------------------------------------------------------
    def lookup(self, query: Query) -> list[Hit]:
        """Every row matching the query, most specific first (then registry, then start)."""
        if query.holder is not None:
            return self.holder(query.holder, query.registry)
        assert query.resource is not None
        return self.ranges(query.resource)

    def ranges(self, resource: ResourceRange) -> list[Hit]:
        """Rows sharing at least one number with ``resource``, classified."""
        index = self.by_type[resource.type]
        if resource.type is ResourceType.IPV6 and self.ipv6_compact:
            local = self._ipv6_compact_overlapping(index, resource)
        else:
            first = _keys_of(resource.type, resource.first)
            last = _keys_of(resource.type, resource.last)
            local = np.union1d(index.containing(first), index.starting_within(first, last))
        return self.hits(index.row_ids[local], resource)

    def covering(self, resource: ResourceRange) -> list[Hit]:
        """Rows containing all of ``resource``, most specific first (``exact`` or
        ``covering``): the rows covering its first number (one segment) that reach its last."""
        index = self.by_type[resource.type]
        t = self.table
        found = []
        want_first, want_last = resource.first, resource.last
        for row in index.row_ids[index.containing(self._point(resource))].tolist():
            first, last = t.first_int(row), t.last_int(row)
            if first <= want_first and want_last <= last:
                exact = first == want_first and last == want_last
                found.append(Hit(row, "exact" if exact else "covering"))
        return self._ordered(found) if len(found) > 1 else found

    def starting_in(self, resource: ResourceRange) -> Rows:
        """Rows of ``resource``'s type that start inside it, ordered by start (a slice of the
        index's sorted starts: nothing is classified, so a caller may stop early)."""
        index = self.by_type[resource.type]
        if resource.type is ResourceType.IPV6 and self.ipv6_compact:
            first_hi, first_lo = split_key(resource.first)
            low = first_hi + (1 if first_lo else 0)
            if low > 2**64 - 1:
                return np.zeros(0, np.int32)
            local = index.starting_within(
                np.array([low], np.uint64), np.array([resource.last >> 64], np.uint64)
            )
        else:
            local = index.starting_within(
                _keys_of(resource.type, resource.first), _keys_of(resource.type, resource.last)
            )
        rows: Rows = index.row_ids[local]
        return rows

    def _point(self, resource: ResourceRange) -> Keys:
        """The index key of the first number of ``resource``."""
        if resource.type is ResourceType.IPV6 and self.ipv6_compact:
            return np.array([resource.first >> 64], np.uint64)
        return _keys_of(resource.type, resource.first)

    def point_keys(
        self, rtype: ResourceType, hi: npt.NDArray[np.uint64], lo: npt.NDArray[np.uint64]
    ) -> Keys:
        """Index keys of many single numbers of one type (upper and lower 64 bits), for
        :meth:`RangeIndex.segment_of`: what :meth:`_point` is for one."""
        if rtype is not ResourceType.IPV6:
            return lo
        if self.ipv6_compact:
            return hi
        return ipv6_keys(hi, lo)

    @staticmethod
    def _ipv6_compact_overlapping(index: RangeIndex, resource: ResourceRange) -> Rows:
        """Overlap search when keys are the upper 64 bits of /64-aligned ranges.

        A range starting at ``b`` (lower half zero) contains the query's first number iff its
        segment does; it starts inside ``first..last`` iff ``b >= first`` (strictly above the
        upper half when ``first`` has lower bits set) and ``b <= last``'s upper half.
        """
        first_hi, first_lo = split_key(resource.first)
        last_hi = resource.last >> 64
        containing = index.containing(np.array([first_hi], np.uint64))
        low = first_hi + (1 if first_lo else 0)
        if low > 2**64 - 1:
            return containing
        starting = index.starting_within(np.array([low], np.uint64), np.array([last_hi], np.uint64))
        return np.union1d(containing, starting)

    def hits(self, rows: Rows, resource: ResourceRange) -> list[Hit]:
        """Rows classified against ``resource``, most specific first."""
        t = self.table
        hits = [
            Hit(
                row,
                relation(ResourceRange(resource.type, t.first_int(row), t.last_int(row)), resource),
            )
            for row in rows.tolist()
        ]
        return self._ordered(hits)

    def holder_rows(self, opaque_id: str, registry: Registry | None = None) -> Rows:
        """The rows of a holder's opaque-id (in one registry, or in any), unordered: what
        :meth:`holder` lists, for a caller that reduces them (a transfer's newest receipt)."""
        key = opaque_id.encode()
        width = self.table.opaque_id.dtype.itemsize
        holder_rows, holder_hashes = self._holders
        if len(key) > width:
            return holder_rows[:0]
        wanted = id_hashes(np.array([key], dtype=f"S{width}"))
        lo, hi = (int(np.searchsorted(holder_hashes, wanted, side=s)[0]) for s in ("left", "right"))
        rows = holder_rows[lo:hi]
        rows = rows[self.table.opaque_id[rows] == key]
        if registry is not None:
            rows = rows[self.table.registry[rows] == REGISTRY_CODE[registry]]
        found: Rows = rows
        return found

    def holder(self, opaque_id: str, registry: Registry | None = None) -> list[Hit]:
        """Every row of a holder's opaque-id (in one registry, or in any)."""
        rows = self.holder_rows(opaque_id, registry)
        if not len(rows):
            return []
        t = self.table
        order = np.lexsort(
            (t.line[rows], t.first_lo[rows], t.first_hi[rows], t.type[rows], t.registry[rows])
        )
        return [Hit(int(r), "holder") for r in rows[order].tolist()]

    def _ordered(self, hits: list[Hit]) -> list[Hit]:
        t = self.table
        return sorted(
            hits,
            key=lambda h: (
                t.last_int(h.row) - t.first_int(h.row),
                int(t.registry[h.row]),
                t.first_int(h.row),
                int(t.line[h.row]),
            ),
        )

    # -- bulk --------------------------------------------------------------------------
    def best_ipv4(self, addresses: npt.NDArray[np.uint64]) -> Rows:
        """Most specific row containing each IPv4 address (as integers), or -1."""
        return self.by_type[ResourceType.IPV4].best_of(addresses.astype(np.uint64, copy=False))

    def best_ipv4_text(self, addresses: list[str]) -> tuple[Rows, npt.NDArray[np.bool_]]:
        """As :meth:`best_ipv4` for dotted-quad strings; also says which strings parsed."""
        numbers, ok = parse_ipv4_strings(addresses)
        rows = self.best_ipv4(numbers)
        return np.where(ok, rows, -1), ok


class _TypeIndexes(dict[ResourceType, RangeIndex]):
    """A dict of the types' indexes that builds each on first use."""

    def __init__(self, build: Callable[[ResourceType], RangeIndex]) -> None:
        super().__init__()
        self._make = build

    def __missing__(self, rtype: ResourceType) -> RangeIndex:
        index = self[rtype] = self._make(rtype)
        return index

    def every(self) -> list[RangeIndex]:
        """All the types' indexes (building the missing ones)."""
        return [self[rtype] for rtype in ResourceType]


def id_hashes(ids: npt.NDArray[np.bytes_]) -> npt.NDArray[np.uint64]:
    """A 64-bit FNV-style hash of each fixed-width id, computed eight bytes at a time."""
    n, width = len(ids), ids.dtype.itemsize
    padded = np.zeros((n, width + (-width % 8)), dtype=np.uint8)
    padded[:, :width] = np.ascontiguousarray(ids).view(np.uint8).reshape(n, width)
    words = padded.view("<u8")
    acc = np.full(n, 0xCBF29CE484222325, dtype=np.uint64)
    prime = np.uint64(0x100000001B3)
    for k in range(words.shape[1]):
        acc = (acc ^ words[:, k]) * prime
        acc ^= acc >> np.uint64(29)
    return acc


def parse_ipv4_strings(
    addresses: list[str],
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.bool_]]:
    """Vectorised dotted-quad parsing of many strings (one join, one pass)."""
    if not addresses:
        return np.zeros(0, np.uint64), np.zeros(0, bool)
    data = ("\n".join(addresses) + "\n").encode()
    buf = np.frombuffer(data + b"\0" * 16, dtype=np.uint8)
    ends = np.flatnonzero(buf == 10)
    if len(ends) != len(addresses):  # a string held a newline
        return np.zeros(len(addresses), np.uint64), np.zeros(len(addresses), bool)
    starts = np.concatenate(([0], ends[:-1] + 1))
    lengths = ends - starts
    chars = vec.gather(buf, starts, lengths, 15, zero=False)
    return vec.parse_ipv4(chars, lengths)


def _keys_of(rtype: ResourceType, number: int) -> Keys:
    if rtype is ResourceType.IPV6:
        hi, lo = split_key(number)
        return ipv6_keys(np.array([hi], np.uint64), np.array([lo], np.uint64))
    return np.array([number], dtype=np.uint64)
