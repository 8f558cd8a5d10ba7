"""How far back a range lookup on ``lo`` must reach: the ordinary width, and the wide rows apart.

The rows overlapping ``lo..hi`` are those with ``lo' <= hi AND hi' >= lo``; on the index on
``lo`` that is a range ``lo' >= lo - w`` for ``w`` the widest row of the type. One IPv4 /8
makes ``w`` reach back a whole /8 (thousands of index entries per lookup), so rows at least
:data:`WIDE` wide are kept apart as a list of their ``(lo, hi)`` (they are few: legacy
blocks, a registry's largest allocations) and looked up by ``lo IN (...)``; the range scan
reaches back only the widest of the others.

Widths only grow with new rows (a row is never widened; a transfer's part is new), so both
are kept up to date by folding in each new row.
"""

from __future__ import annotations

import bisect
import json
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rirport.domain.table import DelegationTable
from rirport.store.keys import encode_keys

WIDE = {"0": 1 << 8, "1": 1 << 20, "2": 1 << 104}
"""Per type digit (ASN, IPv4, IPv6): rows this wide or wider are kept apart (ASN: 256
numbers, IPv4: a /12, IPv6: a /24). In the 2018 files about 50, 600 and 540 rows are; the
range scan then reaches back a /12 instead of a /8 (a sixteenth of the index entries)."""


@dataclass
class Widths:
    """The widest ordinary row of each type, and the distinct wide rows (sorted by ``lo``)."""

    ordinary: dict[str, int] = field(default_factory=dict)
    wide: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    upto: int = field(default=0, compare=False)
    """The row id the stored widths covered rows up to, as read (``meta.widest``)."""
    _widest_wide: dict[str, tuple[int, int]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def fold(self, lo: str, hi: str) -> bool:
        """Take in a row; whether anything changed."""
        digit = lo[0]
        width = int(hi[1:], 16) - int(lo[1:], 16)
        if width >= WIDE.get(digit, 1 << 128):
            rows = self.wide.setdefault(digit, [])
            at = bisect.bisect_left(rows, (lo, hi))
            if at < len(rows) and rows[at] == (lo, hi):
                return False
            rows.insert(at, (lo, hi))
            return True
        if width > self.ordinary.get(digit, -1):
            self.ordinary[digit] = width
            return True
        return False

    def fold_table(self, table: DelegationTable) -> bool:
        """Take in a file's rows at once (an ingest has them as columns, so the widths are
        recorded as the rows are stored instead of read back from them); whether anything
        changed."""
        if not len(table):
            return False
        span = (table.last_hi.astype(object) - table.first_hi.astype(object)) * (1 << 64)
        width = span + (table.last_lo.astype(object) - table.first_lo.astype(object))
        codes = table.type
        changed = False
        for code in np.unique(codes).tolist():
            digit = str(code)
            of = codes == code
            wide = of & (width >= WIDE.get(digit, 1 << 128)).astype(bool)
            ordinary = width[of & ~wide]
            if len(ordinary) and int(ordinary.max()) > self.ordinary.get(digit, -1):
                self.ordinary[digit] = int(ordinary.max())
                changed = True
            at = np.flatnonzero(wide)
            if len(at):
                types = codes[at]
                los = encode_keys(types, table.first_hi[at], table.first_lo[at])
                his = encode_keys(types, table.last_hi[at], table.last_lo[at])
                for lo, hi in zip(los, his, strict=True):
                    changed |= self.fold(lo, hi)
        return changed

    def floor(self, lo: str) -> str | None:
        """The lowest ``lo'`` an ordinary row overlapping from ``lo`` on may have (None: no
        ordinary row of the type)."""
        digit = lo[0]
        width = self.ordinary.get(digit)
        if width is None:
            return None
        start = int(lo[1:], 16) - width
        return digit if start < 0 else f"{digit}{start:0{len(lo) - 1}x}"

    def wide_starts(self, lo: str, hi: str) -> list[str]:
        """The distinct ``lo'`` of wide rows overlapping ``lo..hi`` that the range scan from
        :meth:`floor` does not reach (those starting below it)."""
        digit = lo[0]
        rows = self.wide.get(digit, [])
        if not rows:
            return []
        floor = self.floor(lo) or lo
        start = int(lo[1:], 16) - self.widest_wide(digit)
        reach = digit if start < 0 else f"{digit}{start:0{len(lo) - 1}x}"
        near = rows[bisect.bisect_left(rows, (reach, "")) : bisect.bisect_left(rows, (floor, ""))]
        return sorted({w_lo for w_lo, w_hi in near if w_hi >= lo and w_lo <= hi})

    def starts_condition(self, lo: str, hi: str, mark: str) -> tuple[str, list[str]] | None:
        """The SQL condition on ``lo`` (with its parameters, in the driver's ``mark``) that
        every stored row overlapping ``lo..hi`` meets: the short index range from
        :meth:`floor` and the wide rows starting below it; None when no row of the type was
        ever stored. The caller adds ``hi >= lo``."""
        floor = self.floor(lo)
        starts = self.wide_starts(lo, hi)
        where: list[str] = []
        params: list[str] = []
        if floor is not None:
            where.append(f"(lo >= {mark} AND lo <= {mark})")
            params += [floor, hi]
        if starts:
            where.append(f"lo IN ({', '.join([mark] * len(starts))})")
            params += starts
        return (f"({' OR '.join(where)})", params) if where else None

    def widest_wide(self, digit: str) -> int:
        """The widest of the wide rows of a type (remembered: wide rows are only added)."""
        rows = self.wide.get(digit, [])
        known = self._widest_wide.get(digit)
        if known is None or known[0] != len(rows):
            known = (len(rows), max((int(b[1:], 16) - int(a[1:], 16) for a, b in rows), default=0))
            self._widest_wide[digit] = known
        return known[1]

    def copy(self) -> Widths:
        """Another to fold into, this one left as it is."""
        return Widths(
            dict(self.ordinary),
            {k: list(v) for k, v in self.wide.items()},
            self.upto,
            dict(self._widest_wide),
        )

    def encode(self) -> dict[str, Any]:
        return {
            "widths": self.ordinary,
            "wide": {k: [list(r) for r in v] for k, v in self.wide.items()},
        }

    @classmethod
    def decode(cls, value: dict[str, Any]) -> Widths | None:
        """Widths from :meth:`encode` (None: a store from before they were kept apart)."""
        if "wide" not in value or "widths" not in value:
            return None
        return cls(
            {k: int(v) for k, v in value["widths"].items()},
            {k: sorted((str(a), str(b)) for a, b in v) for k, v in value["wide"].items()},
            int(value.get("upto", 0)),
        )

    @classmethod
    def parse(cls, raw: str) -> Widths | None:
        """:meth:`decode` of a stored JSON text; the last few texts parsed are remembered
        (every unit of work reads them, and they change only when a width does), each caller
        getting its own copy to fold into. Remembered less their ``upto`` (the row id moves
        with every ingest, the widths seldom). A few, not one: a transfer step reads both the
        delegations' (``meta.widest``) and the transfers' (``meta.transfer_widest``), which
        evicted each other from a one-text memo (measured: parsing was 7% of a transfer)."""
        upto, rest = _split_upto(raw)
        found = _parsed.get(rest, _MISSING)
        if found is _MISSING:
            found = cls.decode(json.loads(raw))
            with _parsed_lock:  # server threads share the memo
                while len(_parsed) >= _PARSED_KEPT:
                    del _parsed[next(iter(_parsed))]  # the oldest text
                _parsed[rest] = found
        assert not isinstance(found, _Missing)
        if found is None:
            return None
        for digit in found.wide:
            found.widest_wide(digit)  # once per text, not per unit of work
        return cls(
            dict(found.ordinary),
            {k: list(v) for k, v in found.wide.items()},
            found.upto if upto is None else upto,
            dict(found._widest_wide),
        )


def _split_upto(raw: str) -> tuple[int | None, str]:
    """The row id a stored text covers up to, and the rest of the text: the id moves with
    every ingest, the widths seldom, so the rest is what :meth:`Widths.parse` remembers
    (``json.dumps(..., sort_keys=True)`` puts ``"upto"`` first). (None, the whole text) when
    it is not spelled so."""
    prefix = '{"upto": '
    if raw.startswith(prefix):
        end = raw.find(",", len(prefix))
        number = raw[len(prefix) : end]
        if end > 0 and number.isdigit():
            return int(number), raw[end:]
    return None, raw


class _Missing:
    pass


_MISSING = _Missing()
_PARSED_KEPT = 4
_parsed_lock = threading.Lock()
_parsed: dict[str, Widths | _Missing | None] = {}
"""The JSON texts :meth:`Widths.parse` read last, less their ``upto`` (at most
:data:`_PARSED_KEPT`, oldest first), and what it made of each."""
