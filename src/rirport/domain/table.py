"""DelegationTable: many delegations as parallel numpy columns.

Half a million records as Python objects cost seconds to build and hundreds of megabytes; as
columns they parse, store, index and compare in vectorised steps. A row converts to a
:class:`Delegation` on demand.

Numbers are 128-bit keys split into ``hi``/``lo`` uint64 halves so one layout serves IPv4, IPv6
and ASNs; ``first``/``last`` are inclusive. :func:`keys_be` turns them into 16-byte big-endian
strings, which sort (and compare in SQL blobs) in numeric order.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from rirport.domain.delegation import Delegation, from_columns
from rirport.domain.enums import REGISTRIES, RESOURCE_TYPES, STATUSES, ResourceType

U8 = npt.NDArray[np.uint8]
U64 = npt.NDArray[np.uint64]
I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Bytes = npt.NDArray[np.bytes_]

TYPE_CODE = {t: i for i, t in enumerate(RESOURCE_TYPES)}
REGISTRY_CODE = {r: i for i, r in enumerate(REGISTRIES)}
STATUS_CODE = {s: i for i, s in enumerate(STATUSES)}
MASK64 = (1 << 64) - 1
_IPV6_CODE = TYPE_CODE[ResourceType.IPV6]


@dataclass(frozen=True, eq=False)
class DelegationTable:
    """Columns of delegations; every array has one entry per row."""

    registry: U8
    cc: Bytes
    type: U8
    start: Bytes
    value: I64
    date: I32
    """YYYYMMDD as an integer, 0 when the record has no date."""
    undated_zeros: Bools
    """True where an undated record wrote ``00000000`` rather than an empty field."""
    status: U8
    opaque_id: Bytes
    has_opaque: Bools
    """False where the line had no eighth field."""
    first_hi: U64
    first_lo: U64
    last_hi: U64
    last_lo: U64
    line: I32
    """Line number in the source file (1-based), 0 when the row was not read from a file."""

    def __len__(self) -> int:
        return len(self.registry)

    # -- construction -------------------------------------------------------------------
    @classmethod
    def empty(cls) -> DelegationTable:
        return cls.from_delegations([])

    @classmethod
    def from_delegations(
        cls, delegations: Sequence[Delegation], lines: Sequence[int] | None = None
    ) -> DelegationTable:
        """Build columns from value objects (the slow path: tests, fallbacks, small edits).

        Raises:
            ValueError: a delegation's start/value do not form a valid resource.
        """
        ranges = [d.resource for d in delegations]
        return cls(
            registry=_u8([REGISTRY_CODE[d.registry] for d in delegations]),
            cc=np.array([d.cc.encode() for d in delegations], dtype="S2"),
            type=_u8([TYPE_CODE[d.type] for d in delegations]),
            start=_bytes([d.start for d in delegations]),
            value=np.array([d.value for d in delegations], dtype=np.int64),
            date=np.array([_date_int(d.date) for d in delegations], dtype=np.int32),
            undated_zeros=np.array(
                [d.date is None and d.undated_as == "00000000" for d in delegations], dtype=bool
            ),
            status=_u8([STATUS_CODE[d.status] for d in delegations]),
            opaque_id=_bytes([d.opaque_id or "" for d in delegations]),
            has_opaque=np.array([d.opaque_id is not None for d in delegations], dtype=bool),
            first_hi=np.array([r.first >> 64 for r in ranges], dtype=np.uint64),
            first_lo=np.array([r.first & MASK64 for r in ranges], dtype=np.uint64),
            last_hi=np.array([r.last >> 64 for r in ranges], dtype=np.uint64),
            last_lo=np.array([r.last & MASK64 for r in ranges], dtype=np.uint64),
            line=np.array(lines if lines is not None else [0] * len(delegations), dtype=np.int32),
        )

    @classmethod
    def concat(cls, tables: Iterable[DelegationTable]) -> DelegationTable:
        """Rows of all tables in order; byte columns widen to the widest."""
        parts = list(tables)
        if not parts:
            return cls.empty()
        if len(parts) == 1:
            return parts[0]
        columns = {f.name: _concat_column([getattr(t, f.name) for t in parts]) for f in fields(cls)}
        return cls(**columns)

    def take(self, index: npt.ArrayLike) -> DelegationTable:
        """The rows at ``index`` (an integer array or boolean mask), as a new table."""
        idx = np.asarray(index)
        return DelegationTable(**{f.name: getattr(self, f.name)[idx] for f in fields(self)})

    # -- derived ------------------------------------------------------------------------
    def first_int(self, i: int) -> int:
        return (self.first_hi.item(i) << 64) | self.first_lo.item(i)

    def last_int(self, i: int) -> int:
        return (self.last_hi.item(i) << 64) | self.last_lo.item(i)

    def sizes(self, rows: npt.NDArray[np.int32] | None = None) -> npt.NDArray[np.float64]:
        """Range sizes as floats (exact below 2**53, ordered correctly above), of every row
        or of ``rows``."""
        pick = slice(None) if rows is None else rows
        first_hi, last_hi = self.first_hi[pick], self.last_hi[pick]
        first_lo, last_lo = self.first_lo[pick], self.last_lo[pick]
        hi = (last_hi.astype(np.float64) - first_hi.astype(np.float64)) * 2.0**64
        return hi + (last_lo.astype(np.float64) - first_lo.astype(np.float64)) + 1.0

    def row(self, i: int) -> Delegation:
        """Row ``i`` as a :class:`Delegation`, carrying the numbers the columns hold (the start
        text is not parsed again)."""
        return from_columns(
            self.registry.item(i),
            self.cc.item(i),
            self.type.item(i),
            self.start.item(i),
            self.value.item(i),
            self.date.item(i),
            self.undated_zeros.item(i),
            self.status.item(i),
            self.opaque_id.item(i) if self.has_opaque.item(i) else None,
            self.first_int(i),
            self.last_int(i),
        )

    def rows(self) -> list[Delegation]:
        return [self.row(i) for i in range(len(self))]

    def type_mask(self, rtype: ResourceType) -> Bools:
        mask: Bools = self.type == TYPE_CODE[rtype]
        return mask

    def first_order(self, code: int) -> I64:
        """The rows of type ``code`` (a :data:`TYPE_CODE`) by first number, equal ones in row
        order (a stable sort), IPv6 by the upper 64 bits. Sorted once per table and kept: an
        ingest's duplicate check, its events' narrowing and the next ingests' searches of
        this file all sort these same rows (a table's columns are never changed in place)."""
        kept = self._first_orders
        if code not in kept:
            rows = np.flatnonzero(self.type == code)
            first = self.first_hi[rows] if code == _IPV6_CODE else self.first_lo[rows]
            kept[code] = rows[np.argsort(first, kind="stable")].astype(np.int64)
        return kept[code]

    @functools.cached_property
    def _first_orders(self) -> dict[int, I64]:
        return {}


def keys_be(hi: U64, lo: U64) -> Bytes:
    """Pack hi/lo halves into 16-byte big-endian strings (numpy ``S16``)."""
    packed = np.empty((len(hi), 2), dtype=">u8")
    packed[:, 0] = hi
    packed[:, 1] = lo
    return packed.view("S16").ravel()


def split_key(number: int) -> tuple[int, int]:
    """A Python int as (hi, lo) uint64 halves."""
    return number >> 64, number & MASK64


def _date_int(date: dt.date | None) -> int:
    return date.year * 10000 + date.month * 100 + date.day if date else 0


def _u8(values: list[int]) -> U8:
    return np.array(values, dtype=np.uint8)


def _bytes(values: list[str]) -> Bytes:
    encoded = [v.encode() for v in values]
    width = max((len(v) for v in encoded), default=1) or 1
    return np.array(encoded, dtype=f"S{width}")


def _concat_column(columns: list[Any]) -> Any:
    if columns[0].dtype.kind == "S":
        width = max(c.dtype.itemsize for c in columns)
        return np.concatenate([c.astype(f"S{width}") for c in columns])
    return np.concatenate(columns)
