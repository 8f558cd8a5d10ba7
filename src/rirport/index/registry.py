"""The in-memory index of a current view: every registry, every type, and holders.

Built once from a :class:`~rirport.domain.table.DelegationTable` (about half a second for the
five registries), then answers single queries in microseconds and bulk address lookups at
numpy speed. Answers are row numbers of that table.
"""

from __future__ import annotations

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

    def __init__(self, table: DelegationTable) -> None:
        self.table = table
        self.sizes = table.sizes()
        self.by_type = {rtype: self._build(rtype) for rtype in ResourceType}
        order = np.argsort(table.opaque_id, kind="stable")
        self._holder_order = order[table.has_opaque[order]]
        self._holder_sorted = table.opaque_id[self._holder_order]

    def _build(self, rtype: ResourceType) -> RangeIndex:
        rows = np.flatnonzero(self.table.type == TYPE_CODE[rtype]).astype(np.int64)
        t = self.table
        if rtype is ResourceType.IPV6:
            firsts: Keys = ipv6_keys(t.first_hi[rows], t.first_lo[rows])
            lasts: Keys = ipv6_keys(t.last_hi[rows], t.last_lo[rows])
            ends: Keys = ipv6_keys(t.last_hi[rows], t.last_lo[rows], plus_one=True)
        else:
            firsts, lasts = t.first_lo[rows], t.last_lo[rows]
            ends = lasts + np.uint64(1)
        return RangeIndex.build(firsts, ends, lasts, self.sizes[rows], rows)

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
        first, last = _keys_of(resource.type, resource.first), _keys_of(resource.type,
                                                                        resource.last)
        local = np.union1d(index.containing(first), index.starting_within(first, last))
        return self.hits(index.row_ids[local], resource)

    def hits(self, rows: Rows, resource: ResourceRange) -> list[Hit]:
        """Rows classified against ``resource``, most specific first."""
        t = self.table
        hits = [Hit(row, relation(ResourceRange(resource.type, t.first_int(row),
                                                t.last_int(row)), resource))
                for row in rows.tolist()]
        return self._ordered(hits)

    def holder(self, opaque_id: str, registry: Registry | None = None) -> list[Hit]:
        """Every row of a holder's opaque-id (in one registry, or in any)."""
        if len(opaque_id.encode()) > self._holder_sorted.dtype.itemsize:
            return []
        key = np.array([opaque_id.encode()], dtype=self._holder_sorted.dtype)
        lo = int(np.searchsorted(self._holder_sorted, key, side="left")[0])
        hi = int(np.searchsorted(self._holder_sorted, key, side="right")[0])
        rows = self._holder_order[lo:hi]
        if registry is not None:
            rows = rows[self.table.registry[rows] == REGISTRY_CODE[registry]]
        t = self.table
        order = np.lexsort((t.line[rows], t.first_lo[rows], t.first_hi[rows], t.type[rows],
                            t.registry[rows]))
        return [Hit(int(r), "holder") for r in rows[order].tolist()]

    def _ordered(self, hits: list[Hit]) -> list[Hit]:
        t = self.table
        return sorted(hits, key=lambda h: (self.sizes[h.row], int(t.registry[h.row]),
                                           int(t.first_hi[h.row]), int(t.first_lo[h.row]),
                                           int(t.line[h.row])))

    # -- bulk --------------------------------------------------------------------------
    def best_ipv4(self, addresses: npt.NDArray[np.uint64]) -> Rows:
        """Most specific row containing each IPv4 address (as integers), or -1."""
        return self.by_type[ResourceType.IPV4].best_of(addresses.astype(np.uint64, copy=False))

    def best_ipv4_text(self, addresses: list[str]) -> tuple[Rows, npt.NDArray[np.bool_]]:
        """As :meth:`best_ipv4` for dotted-quad strings; also says which strings parsed."""
        numbers, ok = parse_ipv4_strings(addresses)
        rows = self.best_ipv4(numbers)
        return np.where(ok, rows, -1), ok


def parse_ipv4_strings(addresses: list[str]) -> tuple[npt.NDArray[np.uint64],
                                                       npt.NDArray[np.bool_]]:
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
