"""Typed change events between two sets of snapshots, computed with numpy.

A *side* is one or more statistics files (one per registry) as :class:`DelegationTable`\\ s.
Only delegated rows (allocated, assigned) take part: a resource that stops being delegated is
*returned* whether it disappears or becomes available/reserved.

Per resource type, every old row is paired with every new row it overlaps (sorted starts, a
running maximum of ends and two ``searchsorted`` calls, so overlapping rows on one side — files
of different dates — are still paired correctly). Then:

* pairs within one registry: one old row paired with several new rows is a **split**, several
  old rows with one new row a **merge**; a one-to-one pair compares status, country, date and
  holder;
* pairs across registries are **moved** when the old registry no longer lists the overlap and
  the new one did not list it before (with files of mixed dates both may list it: not a move);
* what an old row loses to no pair is **returned**; what a new row gains from none is **new**.

Holder ids are opaque and some registries re-issue all of them between files. A one-to-one
mapping old id → new id (the old id gone, the new id unseen, every record of the one going to
the other) is a renaming. A registry *renumbers* when most of its ids change — more than
:data:`RENUMBER_SHARE` of the distinct ids on the records that stayed — and renamings are the
majority of the changed ids; only then do they become ONE ``renumbered`` event for the registry
instead of a holder event per record. (Judging by the changed ids alone would call one holder's
fresh id on a daily file, or a handful of renamings between distant files, a renumbering and
hide those real holder changes.)
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from rirport.domain.enums import REGISTRIES, RESOURCE_TYPES, STATUSES, ResourceType, Status
from rirport.domain.table import STATUS_CODE, U64, Bytes, DelegationTable

KINDS = (
    "new",
    "returned",
    "status",
    "country",
    "holder",
    "split",
    "merge",
    "date",
    "moved",
    "renumbered",
)
I64 = npt.NDArray[np.int64]
Keys = npt.NDArray[Any]
_MAX64 = np.uint64((1 << 64) - 1)
_MUL = np.uint64(0x9E3779B97F4A7C15)
_DELEGATED = [STATUS_CODE[Status.ALLOCATED], STATUS_CODE[Status.ASSIGNED]]
#: Share of a registry's holder ids (on records that stayed) that must change, and share of the
#: changed ones that must be clean renamings, to call it renumbered.
RENUMBER_SHARE = 0.5
_REG_NAMES = [r.value for r in REGISTRIES]
_STATUS_NAMES = [s.value for s in STATUSES]


@dataclass(frozen=True)
class Event:
    """One change, naming the two snapshots (files) it was seen between."""

    kind: str
    type: str | None
    start: str | None
    value: int
    registry: str
    old_file: str
    new_file: str
    from_registry: str | None = None
    to_registry: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The event as the CLI and the feeds write it."""
        out: dict[str, Any] = {
            "kind": self.kind,
            "type": self.type,
            "start": self.start,
            "value": self.value,
            "registry": self.registry,
        }
        if self.kind == "moved":
            out["from_registry"] = self.from_registry
            out["to_registry"] = self.to_registry
        out["snapshots"] = {"from": self.old_file, "to": self.new_file}
        out.update(self.detail)
        return out


@dataclass
class Side:
    """The delegated rows of one side, with the file each row came from."""

    files: list[str]
    table: DelegationTable
    file_index: npt.NDArray[np.int32]
    registries: dict[int, str] | None = None
    """The file of each registry code, when the rows are fewer than the files' (a narrowed
    diff, :mod:`rirport.domain.narrowed`); else the file of its first row."""

    @classmethod
    def of(
        cls,
        snapshots: Sequence[tuple[str, DelegationTable]],
        registries: dict[int, str] | None = None,
    ) -> Side:
        """Concatenate ``(file name, table)`` pairs, keeping delegated rows only."""
        tables = [t.take(np.isin(t.status, _DELEGATED)) for _, t in snapshots]
        index = [np.full(len(t), k, dtype=np.int32) for k, t in enumerate(tables)]
        return cls(
            [name for name, _ in snapshots],
            DelegationTable.concat(tables),
            np.concatenate(index) if index else np.zeros(0, np.int32),
            registries,
        )

    def __post_init__(self) -> None:
        if self.registries is not None:
            self.by_registry = dict(self.registries)
            return
        regs, first = np.unique(self.table.registry, return_index=True)
        self.by_registry = {
            int(r): self.files[int(self.file_index[f])] for r, f in zip(regs, first, strict=True)
        }

    def file_of_registry(self, registry: int) -> str:
        """The file this side has for a registry ("" when it has none)."""
        return self.by_registry.get(registry, "")

    def files_of(self, rows: I64) -> list[str]:
        return [self.files[k] for k in self.file_index[rows].tolist()]

    def counterpart_files(self, registries: npt.NDArray[np.uint8]) -> list[str]:
        return [self.by_registry.get(r, "") for r in registries.tolist()]


def diff(
    old: Sequence[tuple[str, DelegationTable]], new: Sequence[tuple[str, DelegationTable]]
) -> list[Event]:
    """Every event between the old files and the new files (any registries on each side)."""
    a, b = Side.of(old), Side.of(new)
    return side_events(a, b, _find_renaming(a, b))


def side_events(a: Side, b: Side, renaming: _Renaming, in_64s: bool | None = None) -> list[Event]:
    """The events between two sides, given how their holder ids changed. ``in_64s=False``:
    the sides hold fewer rows than their files, and a row left out is IPv6 off /64
    boundaries (the files' diff counts IPv6 in addresses then, not in /64s)."""
    events: list[Event] = []
    for rtype in RESOURCE_TYPES:
        events += _TypeDiff(a, b, rtype, renaming, in_64s).events()
    events += _renumbered(renaming, a, b)
    return events


def changed_rows(old: DelegationTable, new: DelegationTable) -> DelegationTable:
    """Delegated rows of either table whose exact range is not delegated in the other.

    Between two files of one registry, a move into or out of it can only touch these rows (a
    range delegated on both sides was the registry's throughout), so other registries'
    records matter to the diff only where they overlap one of them.
    """
    a = old.take(np.isin(old.status, _DELEGATED))
    b = new.take(np.isin(new.status, _DELEGATED))
    match = _RangeMatch(a, b)
    return DelegationTable.concat([a.take(match.in_b < 0), b.take(match.in_a < 0)])


def identity(event: Event) -> tuple[object, ...]:
    """What makes two events report the same change, whichever files they were seen between."""
    return (
        event.kind,
        event.type,
        event.start,
        event.value,
        event.registry,
        event.from_registry,
        event.to_registry,
    )


# -- one resource type ------------------------------------------------------------------------
class _TypeDiff:
    """The pairing of old and new rows of one resource type, and the events it implies."""

    def __init__(
        self,
        a: Side,
        b: Side,
        rtype: ResourceType,
        renaming: _Renaming,
        in_64s: bool | None = None,
    ) -> None:
        self.a, self.b, self.rtype, self.renaming = a, b, rtype, renaming
        self.oi = np.flatnonzero(a.table.type_mask(rtype))
        self.ni = np.flatnonzero(b.table.type_mask(rtype))
        self.in_64s = (
            rtype is ResourceType.IPV6
            and _aligned(a.table, self.oi)
            and _aligned(b.table, self.ni)
            and in_64s is not False
        )
        self.of, self.ol = self._keys(a.table, self.oi)
        self.nf, self.nl = self._keys(b.table, self.ni)
        self.po, self.pn = _overlapping_pairs(self.of, self.ol, self.nf, self.nl)
        self.oreg = a.table.registry[self.oi]
        self.nreg = b.table.registry[self.ni]

    def _keys(self, table: DelegationTable, rows: I64) -> tuple[Keys, Keys]:
        """Exact, sortable first/last keys: uint64 when the type allows (IPv4, ASNs, IPv6 on
        /64 boundaries, counted in /64s), Python ints otherwise."""
        if self.rtype is not ResourceType.IPV6:
            return table.first_lo[rows], table.last_lo[rows]
        if self.in_64s:
            return table.first_hi[rows], table.last_hi[rows]
        first = np.array([table.first_int(int(i)) for i in rows], dtype=object)
        last = np.array([table.last_int(int(i)) for i in rows], dtype=object)
        return first, last

    def events(self) -> list[Event]:
        same = self.oreg[self.po] == self.nreg[self.pn]
        cross = np.flatnonzero(~same)
        moved = cross[self._genuine_moves(cross, same)]
        counted = same.copy()
        counted[moved] = True
        out = self._moved_events(moved)
        out += self._split_merge(same)
        out += self._attribute_events(same)
        out += self._uncovered(counted)
        return out

    # -- moves ---------------------------------------------------------------------------
    def _genuine_moves(self, cross_idx: I64, same: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
        """For each cross-registry pair: is it a move (the old registry no longer lists the
        overlap, the new one did not list it before)? Cross pairs are few: a loop is fine."""
        if not len(cross_idx):
            return np.zeros(0, bool)
        by_new = _Partners(self.pn[same], self.po[same])
        by_old = _Partners(self.po[same], self.pn[same])
        result = np.zeros(len(cross_idx), bool)
        for k, p in enumerate(cross_idx.tolist()):
            i, j = int(self.po[p]), int(self.pn[p])
            lo, hi = max(self.of[i], self.nf[j]), min(self.ol[i], self.nl[j])
            had = any(self.of[x] <= hi and self.ol[x] >= lo for x in by_new.of(j))
            kept = any(self.nf[y] <= hi and self.nl[y] >= lo for y in by_old.of(i))
            result[k] = not had and not kept
        return result

    def _moved_events(self, pairs: I64) -> list[Event]:
        out = []
        for p in pairs.tolist():
            i, j = int(self.po[p]), int(self.pn[p])
            first, last = max(self.of[i], self.nf[j]), min(self.ol[i], self.nl[j])
            start, value = self._range_text(int(first), int(last))
            oi, nj = int(self.oi[i]), int(self.ni[j])
            to_reg = _REG_NAMES[self.nreg[j]]
            out.append(
                Event(
                    "moved",
                    self.rtype.value,
                    start,
                    value,
                    to_reg,
                    self.a.files[int(self.a.file_index[oi])],
                    self.b.files[int(self.b.file_index[nj])],
                    _REG_NAMES[self.oreg[i]],
                    to_reg,
                    {
                        "cc": self.b.table.cc[nj].decode(),
                        "holder": self.b.table.opaque_id[nj].decode(),
                        "old_holder": self.a.table.opaque_id[oi].decode(),
                        "old_record": _record_text(self.a.table, oi),
                        "new_record": _record_text(self.b.table, nj),
                    },
                )
            )
        return out

    # -- split and merge -----------------------------------------------------------------
    def _split_merge(self, same: npt.NDArray[np.bool_]) -> list[Event]:
        po, pn = self.po[same], self.pn[same]
        out = []
        for kind, whole, parts, side, other, rows, prow in (
            ("split", po, pn, self.a, self.b, self.oi, self.ni),
            ("merge", pn, po, self.b, self.a, self.ni, self.oi),
        ):
            deg = np.bincount(whole, minlength=len(rows))
            many = np.flatnonzero(deg[whole] > 1)
            order = many[np.argsort(whole[many], kind="stable")]
            groups = np.split(parts[order], np.flatnonzero(np.diff(whole[order])) + 1)
            heads = np.unique(whole[order])
            if not len(heads):
                continue
            details = [
                {"parts": [_range_of(other.table, r) for r in prow[g].tolist()]} for g in groups
            ]
            out += self._row_events(kind, side, other, rows[heads], details)
        return out

    # -- one-to-one changes ----------------------------------------------------------------
    def _attribute_events(self, same: npt.NDArray[np.bool_]) -> list[Event]:
        po, pn = self.po[same], self.pn[same]
        deg_o = np.bincount(po, minlength=len(self.oi))
        deg_n = np.bincount(pn, minlength=len(self.ni))
        one = (deg_o[po] == 1) & (deg_n[pn] == 1)
        ta, tb = self.a.table, self.b.table
        ra, rb = self.oi[po[one]], self.ni[pn[one]]
        holder = _holder_changed(ta, tb, ra, rb)
        holder[holder] = ~self.renaming.explained(ta, tb, ra[holder], rb[holder])
        out: list[Event] = []
        for kind, mask in (
            ("status", ta.status[ra] != tb.status[rb]),
            ("country", ta.cc[ra] != tb.cc[rb]),
            ("date", ta.date[ra] != tb.date[rb]),
            ("holder", holder),
        ):
            before = _attribute(kind, ta, ra[mask])
            after = _attribute(kind, tb, rb[mask])
            details = [{"before": x, "after": y} for x, y in zip(before, after, strict=True)]
            out += self._row_events(kind, self.b, self.a, rb[mask], details)
        return out

    # -- returned and new --------------------------------------------------------------------
    def _uncovered(self, counted: npt.NDArray[np.bool_]) -> list[Event]:
        """Rows, or parts of rows, that no counted pair accounts for."""
        po, pn = self.po[counted], self.pn[counted]
        exact = self.of.dtype == object
        if exact:
            inter = np.array(
                [
                    min(self.ol[i], self.nl[j]) - max(self.of[i], self.nf[j]) + 1
                    for i, j in zip(po, pn, strict=True)
                ],
                dtype=object,
            )
        else:
            inter = (
                np.minimum(self.ol[po], self.nl[pn])
                - np.maximum(self.of[po], self.nf[pn])
                + np.uint64(1)
            ).astype(np.float64)
        out = []
        for kind, side, other, rows, first, last, pairs in (
            ("returned", self.a, self.b, self.oi, self.of, self.ol, po),
            ("new", self.b, self.a, self.ni, self.nf, self.nl, pn),
        ):
            covered = np.zeros(len(rows), dtype=object if exact else np.float64)
            np.add.at(covered, pairs, inter)
            size = (last - first + 1) if exact else (last - first + np.uint64(1)).astype(float)
            lost = np.flatnonzero(covered < size)
            details = [
                {} if c == 0 else {"part": int(n - c)}
                for c, n in zip(covered[lost].tolist(), size[lost].tolist(), strict=True)
            ]
            out += self._row_events(kind, side, other, rows[lost], details)
        return out

    # -- text ------------------------------------------------------------------------------
    def _row_events(
        self, kind: str, side: Side, other: Side, rows: I64, details: list[dict[str, Any]]
    ) -> list[Event]:
        """One event per row of ``side``, built column-wise (tens of thousands at a time)."""
        t = side.table
        files = side.files_of(rows)
        counterpart = other.counterpart_files(t.registry[rows])
        old_files, new_files = (files, counterpart) if side is self.a else (counterpart, files)
        columns = zip(
            t.start[rows].tolist(),
            t.value[rows].tolist(),
            t.registry[rows].tolist(),
            t.cc[rows].tolist(),
            t.opaque_id[rows].tolist(),
            t.status[rows].tolist(),
            old_files,
            new_files,
            details,
            strict=True,
        )
        rtype = self.rtype.value
        return [
            Event(
                kind,
                rtype,
                start.decode(),
                value,
                _REG_NAMES[reg],
                old,
                new,
                detail={
                    "cc": cc.decode(),
                    "holder": holder.decode(),
                    "status": _STATUS_NAMES[status],
                    **detail,
                },
            )
            for start, value, reg, cc, holder, status, old, new, detail in columns
        ]

    def _range_text(self, first: int, last: int) -> tuple[str, int]:
        if self.rtype is ResourceType.ASN:
            return str(first), last - first + 1
        if self.rtype is ResourceType.IPV4:
            return str(ipaddress.IPv4Address(first)), last - first + 1
        if self.in_64s:
            first, last = first << 64, (last << 64) | ((1 << 64) - 1)
        size = last - first + 1
        return str(ipaddress.IPv6Address(first)), 128 - (size.bit_length() - 1)


class _Partners:
    """For each key row, the rows paired with it (a sorted index, looked up per row)."""

    def __init__(self, keys: I64, values: I64) -> None:
        order = np.argsort(keys, kind="stable")
        self.keys, self.values = keys[order], values[order]

    def of(self, key: int) -> list[int]:
        lo, hi = np.searchsorted(self.keys, [key, key + 1])
        return [int(v) for v in self.values[lo:hi]]


def _attribute(kind: str, table: DelegationTable, rows: I64) -> list[str]:
    if kind == "status":
        return [_STATUS_NAMES[s] for s in table.status[rows].tolist()]
    if kind == "date":
        return [str(d or "") for d in table.date[rows].tolist()]
    column = table.cc if kind == "country" else table.opaque_id
    return [v.decode() for v in column[rows].tolist()]


def _range_of(table: DelegationTable, row: int) -> str:
    return f"{table.start[row].decode()}/{int(table.value[row])}"


def _record_text(t: DelegationTable, row: int) -> str:
    """A row as a statistics line (for people reading an event)."""
    return (
        f"{_REG_NAMES[t.registry[row]]}|{t.cc[row].decode()}|"
        f"{RESOURCE_TYPES[t.type[row]].value}|{t.start[row].decode()}|"
        f"{int(t.value[row])}|{int(t.date[row]) or ''}|{_STATUS_NAMES[t.status[row]]}|"
        f"{t.opaque_id[row].decode()}"
    )


def _aligned(table: DelegationTable, rows: I64) -> bool:
    return bool((table.first_lo[rows] == 0).all() and (table.last_lo[rows] == _MAX64).all())


def _overlapping_pairs(of: Keys, ol: Keys, nf: Keys, nl: Keys) -> tuple[I64, I64]:
    """All (old, new) row pairs whose ranges overlap, vectorised (rows may overlap within a
    side)."""
    if not len(of) or not len(nf):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    order = np.argsort(of, kind="stable")
    first_sorted = of[order]
    reach = np.maximum.accumulate(ol[order])
    left = np.searchsorted(reach, nf, side="left")
    right = np.searchsorted(first_sorted, nl, side="right")
    counts = np.maximum(right - left, 0)
    new_rows = np.repeat(np.arange(len(nf)), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    old_rows = order[np.repeat(left, counts) + offsets]
    real = (ol[old_rows] >= nf[new_rows]) & (of[old_rows] <= nl[new_rows])
    return old_rows[real].astype(np.int64), new_rows[real].astype(np.int64)


# -- holder ids ---------------------------------------------------------------------------------
def _holder_changed(
    ta: DelegationTable, tb: DelegationTable, ra: I64, rb: I64
) -> npt.NDArray[np.bool_]:
    both = ta.has_opaque[ra] & tb.has_opaque[rb]
    changed: npt.NDArray[np.bool_] = both & (ta.opaque_id[ra] != tb.opaque_id[rb])
    return changed


@dataclass
class _RegistryIds:
    """How one registry's holder ids changed on the records that stayed."""

    changed_ids: int
    """Old ids of records that stayed but show another id."""
    stayed_ids: int
    """Old ids of the records that stayed (holder ids on both sides), changed or not."""
    clean: int
    """Old ids renamed one-to-one (all records to one new id, which holds nothing else)."""
    merged: int
    """New ids that took the records of several old ids."""
    split: int
    """Old ids whose records went to several new ids."""
    records: int
    explained: set[tuple[bytes, bytes]]
    """(old, new) pairs accounted for by the renumbering: the new id is the old id's main
    image, or the old id the new id's main source."""
    sample: list[tuple[bytes, bytes]]

    @property
    def renumbered(self) -> bool:
        return (
            self.changed_ids > RENUMBER_SHARE * self.stayed_ids
            and self.clean >= RENUMBER_SHARE * self.changed_ids
        )


@dataclass
class _Renaming:
    """Per registry code: how its holder ids changed."""

    registries: dict[int, _RegistryIds]

    def explained(
        self, ta: DelegationTable, tb: DelegationTable, ra: I64, rb: I64
    ) -> npt.NDArray[np.bool_]:
        """Which of these holder changes belong to their registry's renumbering."""
        mask = np.zeros(len(ra), bool)
        regs = ta.registry[ra]
        for reg, ids in self.registries.items():
            if not ids.renumbered:
                continue
            sel = np.flatnonzero(regs == reg)
            pairs = zip(ta.opaque_id[ra[sel]].tolist(), tb.opaque_id[rb[sel]].tolist(), strict=True)
            mask[sel] = [pair in ids.explained for pair in pairs]
        return mask


def _exact_pairs(a: Side, b: Side) -> tuple[I64, I64]:
    """Rows of the same registry, type and range on both sides (the records that stayed):
    each range once, its first row on either side (as ``np.intersect1d`` pairs them)."""
    match = _RangeMatch(a.table, b.table)
    ia = np.flatnonzero((match.in_b >= 0) & match.first_a)
    return ia.astype(np.int64), match.in_b[ia]


def _hash_columns(columns: Sequence[npt.NDArray[Any]]) -> U64:
    """A 64-bit hash of each row of integer columns (equal rows, equal hashes)."""
    with np.errstate(over="ignore"):
        h = np.full(len(columns[0]) if columns else 0, _MUL, np.uint64)
        for column in columns:
            h ^= column.astype(np.uint64)
            h *= _MUL
            h ^= h >> np.uint64(29)
        return h


def _bytes_hash(values: Bytes) -> U64:
    """A 64-bit hash of each byte string, whatever the array's width (padding is skipped)."""
    n, width = len(values), values.dtype.itemsize
    words = -(-width // 8)
    chars = np.zeros((n, words * 8), np.uint8)
    if n and width:
        chars[:, :width] = np.ascontiguousarray(values).view(np.uint8).reshape(n, width)
    with np.errstate(over="ignore"):
        h = np.full(n, _MUL, np.uint64)
        for column in chars.view("<u8").reshape(n, words).T:
            mixed = (h ^ column) * _MUL
            h = np.where(column != 0, mixed ^ (mixed >> np.uint64(29)), h)
        return h


def _range_columns(t: DelegationTable) -> tuple[npt.NDArray[Any], ...]:
    return (t.registry, t.type, t.first_hi, t.first_lo, t.last_hi, t.last_lo)


class _RangeMatch:
    """Rows of two tables with the same registry, type and range: for each row of ``a`` the
    first such row of ``b`` (``in_b``, -1: none), the reverse (``in_a``), and which rows of
    ``a`` are the first of ``a`` with their range (``first_a``).

    One sort of 64-bit hashes of both tables; every group of equal hashes is checked column
    by column, and should two different ranges ever share a hash, the tables are matched
    on whole byte keys instead."""

    in_b: I64
    in_a: I64
    first_a: npt.NDArray[np.bool_]

    def __init__(self, a: DelegationTable, b: DelegationTable) -> None:
        na, nb = len(a), len(b)
        pairs = zip(_range_columns(a), _range_columns(b), strict=True)
        columns = [np.concatenate([x, y]) for x, y in pairs]
        hashes = _hash_columns(columns)
        order = np.argsort(hashes)
        ranked = hashes[order]
        starts = np.ones(len(order), bool)
        starts[1:] = ranked[1:] != ranked[:-1]
        later = np.flatnonzero(~starts)  # rows sorted after an equal hash: same range?
        x, y = order[later], order[later - 1]
        if not all(np.array_equal(c[x], c[y]) for c in columns):
            self.in_b, self.in_a, self.first_a = _match_slow(a, b)
            return
        group = np.cumsum(starts) - 1
        head = np.flatnonzero(starts)  # sorted position of each group's first row
        none = np.int64(na + nb)
        from_a = order < na
        if len(head):  # the lowest row number of each side in each group
            first_a = np.minimum.reduceat(np.where(from_a, order, none), head)
            first_b = np.minimum.reduceat(np.where(from_a, none, order), head)
        else:
            first_a = first_b = head
        where = np.empty(len(order), np.int64)
        where[order] = group
        in_b = first_b[where[:na]]
        in_a = first_a[where[na:]]
        self.in_b = np.where(in_b < none, in_b - na, -1)
        self.in_a = np.where(in_a < none, in_a, -1)
        self.first_a = first_a[where[:na]] == np.arange(na)


def _same_range(a: DelegationTable, b: DelegationTable) -> I64:
    """For each row of ``a``, the first row of ``b`` with its registry, type and range (-1)."""
    return _RangeMatch(a, b).in_b


def _match_slow(a: DelegationTable, b: DelegationTable) -> tuple[I64, I64, npt.NDArray[np.bool_]]:
    """:class:`_RangeMatch` on whole byte keys (the answer when hashes collide)."""
    ka, kb = _row_keys(a), _row_keys(b)
    ua, first_a = np.unique(ka, return_index=True)
    ub, first_b = np.unique(kb, return_index=True)

    def find(keys: Keys, unique: Keys, first: I64) -> I64:
        at = np.minimum(np.searchsorted(unique, keys), max(len(unique) - 1, 0))
        hit = unique[at] == keys if len(unique) else np.zeros(len(keys), bool)
        return np.where(hit, first[at], -1).astype(np.int64)

    own = find(ka, ua, first_a)
    return find(ka, ub, first_b), find(kb, ua, first_a), own == np.arange(len(ka))


def _row_keys(t: DelegationTable) -> npt.NDArray[np.void]:
    rec = np.empty(
        len(t),
        dtype=[
            ("r", "u1"),
            ("t", "u1"),
            ("fh", ">u8"),
            ("fl", ">u8"),
            ("lh", ">u8"),
            ("ll", ">u8"),
        ],
    )
    rec["r"], rec["t"] = t.registry, t.type
    rec["fh"], rec["fl"], rec["lh"], rec["ll"] = t.first_hi, t.first_lo, t.last_hi, t.last_lo
    return rec.view(f"V{rec.dtype.itemsize}").ravel()


def _find_renaming(a: Side, b: Side) -> _Renaming:
    ra, rb = _exact_pairs(a, b)
    ta, tb = a.table, b.table
    both = ta.has_opaque[ra] & tb.has_opaque[rb]
    stayed_regs, stayed_ids = ta.registry[ra[both]], ta.opaque_id[ra[both]]
    changed = _holder_changed(ta, tb, ra, rb)
    ra, rb = ra[changed], rb[changed]
    regs = ta.registry[ra]
    out = {}
    for reg in np.unique(regs).tolist():
        sel = regs == reg
        out[reg] = _registry_ids(
            ta.opaque_id[ra[sel]],
            tb.opaque_id[rb[sel]],
            ta.opaque_id[ta.registry == reg],
            tb.opaque_id[tb.registry == reg],
            len(set(stayed_ids[stayed_regs == reg].tolist())),
        )
    return _Renaming(out)


def _registry_ids(
    old_ids: Bytes, new_ids: Bytes, all_old: Bytes, all_new: Bytes, stayed: int
) -> _RegistryIds:
    """Classify the old→new id pairs of one registry's stayed records (codes, not strings)."""
    old_u, oc = np.unique(old_ids, return_inverse=True)
    new_u, nc = np.unique(new_ids, return_inverse=True)
    width = len(new_u)
    pair_u, pair_n = np.unique(oc.astype(np.int64) * width + nc, return_counts=True)
    po, pn = pair_u // width, pair_u % width
    outs = np.bincount(po, minlength=len(old_u))
    ins = np.bincount(pn, minlength=len(new_u))
    gone = _absent(old_u, all_new)
    unseen = _absent(new_u, all_old)
    clean = (outs[po] == 1) & (ins[pn] == 1) & gone[po] & unseen[pn]
    main = _main_pairs(po, pn, pair_n) | _main_pairs(pn, po, pair_n)
    explained = set(zip(old_u[po[main]].tolist(), new_u[pn[main]].tolist(), strict=True))
    sample = list(zip(old_u[po[clean][:3]].tolist(), new_u[pn[clean][:3]].tolist(), strict=True))
    return _RegistryIds(
        len(old_u),
        stayed,
        int(clean.sum()),
        int((ins > 1).sum()),
        int((outs > 1).sum()),
        len(old_ids),
        explained,
        sample,
    )


def _absent(values: Bytes, among: Bytes) -> npt.NDArray[np.bool_]:
    """Which ``values`` are not in ``among``: by 64-bit hashes, and for a value whose hash
    is found, by the strings of ``among`` with that hash (sorting byte strings costs more)."""
    mine, theirs = _bytes_hash(values), _bytes_hash(among)
    maybe = np.isin(mine, theirs)
    if not maybe.any():
        return ~maybe
    known = set(among[np.isin(theirs, mine[maybe])].tolist())
    found = np.fromiter((v in known for v in values[maybe].tolist()), bool, int(maybe.sum()))
    absent = np.ones(len(values), bool)
    absent[np.flatnonzero(maybe)[found]] = False
    return absent


def _main_pairs(key: I64, other: I64, count: I64) -> npt.NDArray[np.bool_]:
    """Per key, its pair with the most records (ties: the lowest code of ``other``)."""
    order = np.lexsort((other, -count, key))
    first = np.ones(len(order), bool)
    first[1:] = key[order][1:] != key[order][:-1]
    mask = np.zeros(len(key), bool)
    mask[order[first]] = True
    return mask


def _renumbered(ren: _Renaming, a: Side, b: Side) -> list[Event]:
    out = []
    for reg, ids in sorted(ren.registries.items()):
        if not ids.renumbered:
            continue
        out.append(
            Event(
                "renumbered",
                None,
                None,
                ids.changed_ids,
                _REG_NAMES[reg],
                a.file_of_registry(reg),
                b.file_of_registry(reg),
                detail={
                    "records": ids.records,
                    "renamed": ids.clean,
                    "merged": ids.merged,
                    "split": ids.split,
                    "sample": [{"from": o.decode(), "to": n.decode()} for o, n in ids.sample],
                },
            )
        )
    return out


def count_by_kind(events: Sequence[Event]) -> dict[str, int]:
    """How many events of each kind (all kinds listed, zeros included)."""
    counts = dict.fromkeys(KINDS, 0)
    for e in events:
        counts[e.kind] += 1
    return counts
