"""The cross-registry integrity check: the five RIRs' current files against each other and IANA.

Every RIR publishes only its own file, so nothing in any one file shows that two RIRs list the
same addresses, or that a record sits in space IANA gave to a different RIR. The check finds:

``overlap``
    A range listed by two registries at once. Both delegated is a ``conflict``; one side
    available or reserved is classified separately (``reserved-vs-delegated``,
    ``available-vs-delegated``): such pairs are often what an inter-RIR transfer leaves behind.
``outside-iana``
    A record outside the blocks IANA gave its own registry, *classified* rather than called an
    error: ``transfer`` (space IANA allocated to another RIR), ``erx`` (registered before the
    holding RIR, or the RIR the space now belongs to, existed: early registrations that moved
    or stayed), ``legacy`` (LEGACY space another RIR administers), ``reserved`` (space IANA
    keeps: reserved, unallocated or special-purpose) and ``unlisted`` (space the IANA file
    does not list at all).
``duplicate``
    The same range twice in one registry (``exact``), or two records of one registry that
    overlap (``overlap``).
``summary-mismatch``
    A snapshot whose stored records per type differ from its summary lines (a file ingested
    with ``--skip-bad-lines``).

Half a million records are compared as numpy columns: overlapping pairs come from one sort and
one ``searchsorted``, and IANA blocks from a segment index (:mod:`rirport.index.ranges`); only
the findings become Python objects.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from rirport.domain.enums import (
    REGISTRIES,
    RESOURCE_TYPES,
    STATUSES,
    Registry,
    ResourceType,
    Status,
)
from rirport.domain.iana import (
    ASN_BOOTSTRAP,
    IANA_STATUSES,
    IPV4_BOOTSTRAP,
    IPV6_BOOTSTRAP,
    LEGACY,
    SOURCES_BY_TYPE,
    IanaBlock,
)
from rirport.domain.resources import ResourceRange
from rirport.domain.table import TYPE_CODE, DelegationTable
from rirport.index.ranges import Keys, ipv6_keys
from rirport.query.view import CurrentView

Severity = Literal["info", "warning", "error"]
KINDS: tuple[str, ...] = ("overlap", "outside-iana", "duplicate", "summary-mismatch")
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")

#: Year each RIR began registering: a record dated earlier was registered by its predecessor
#: (the InterNIC or another RIR) and came to this RIR later.
FOUNDED: dict[Registry, int] = {
    Registry.RIPENCC: 1992,
    Registry.APNIC: 1993,
    Registry.ARIN: 1997,
    Registry.LACNIC: 2002,
    Registry.AFRINIC: 2005,
}

BOOTSTRAPS = (ASN_BOOTSTRAP, IPV4_BOOTSTRAP, IPV6_BOOTSTRAP)
_NO_RIR = 255
"""Owner code of a segment that belongs to no RIR (IANA's own, reserved, or unlisted)."""


# -- findings ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RecordRef:
    """A record a finding points at, and the file and line it was read from."""

    registry: Registry
    type: ResourceType
    start: str
    value: int
    status: Status
    date: dt.date | None
    file: str
    line: int

    def to_json(self) -> dict[str, Any]:
        return {
            "registry": self.registry.value,
            "type": self.type.value,
            "start": self.start,
            "value": self.value,
            "status": self.status.value,
            "date": self.date.isoformat() if self.date else None,
            "file": self.file,
            "line": self.line,
        }

    def __str__(self) -> str:
        return (
            f"{self.registry.value}|{self.type.value}|{self.start}|{self.value}|"
            f"{self.status.value} ({self.file}:{self.line})"
        )


@dataclass(frozen=True, kw_only=True)
class Finding:
    """What every finding has: kind, class, severity, registry, resource and a sentence.

    The sentence (:attr:`detail`) is written from the other fields when asked for: a check
    of the real files finds tens of thousands of things, and most callers only count them.
    """

    kind: str
    cls: str
    """The class within the kind (``conflict``, ``transfer``, ``exact``, ...)."""
    severity: Severity
    registry: Registry
    type: ResourceType
    resource: ResourceRange | None
    other_registry: Registry | None = None

    @property
    def detail(self) -> str:
        """One sentence saying what was found."""
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "class": self.cls,
            "severity": self.severity,
            "registry": self.registry.value,
            "other_registry": self.other_registry.value if self.other_registry else None,
            "type": self.type.value,
            "resource": str(self.resource) if self.resource else None,
            "first": self.resource.start_text() if self.resource else None,
            "last": self.resource.end_text() if self.resource else None,
            "detail": self.detail,
            **self.extra_json(),
        }

    def extra_json(self) -> dict[str, Any]:
        """The keys a kind adds to the common ones."""
        return {}


@dataclass(frozen=True, kw_only=True)
class _PairFinding(Finding):
    record: RecordRef
    other: RecordRef

    def extra_json(self) -> dict[str, Any]:
        return {"record": self.record.to_json(), "other": self.other.to_json()}


@dataclass(frozen=True, kw_only=True)
class OverlapFinding(_PairFinding):
    """Two registries list numbers in common; ``resource`` is the numbers they share.

    ``record`` is the undelegated side when only one side is delegated.
    """

    kind: str = "overlap"

    @property
    def detail(self) -> str:
        a, b = self.record, self.other
        if self.cls == "conflict":
            return (
                f"{self.resource} is {a.status.value} by {a.registry.label} and "
                f"{b.status.value} by {b.registry.label} at the same time"
            )
        if self.cls == "undelegated":
            return (
                f"{self.resource} is {a.status.value} at {a.registry.label} and "
                f"{b.status.value} at {b.registry.label}"
            )
        return (
            f"{self.resource} is {a.status.value} at {a.registry.label} but "
            f"{b.status.value} by {b.registry.label} (often left behind by an inter-RIR "
            "transfer)"
        )


@dataclass(frozen=True, kw_only=True)
class DuplicateFinding(_PairFinding):
    """One registry lists numbers twice; ``resource`` is the numbers listed twice."""

    kind: str = "duplicate"

    @property
    def detail(self) -> str:
        a, b = self.record, self.other
        if self.cls == "exact":
            return (
                f"{a.registry.label} lists {self.resource} twice ({a.status.value} at line "
                f"{a.line}, {b.status.value} at line {b.line})"
            )
        return (
            f"{a.registry.label} records at lines {a.line} ({a.status.value}) and {b.line} "
            f"({b.status.value}) overlap in {self.resource}"
        )


@dataclass(frozen=True, kw_only=True)
class OutsideIanaFinding(Finding):
    """A record (or the part of it in ``resource``) outside its registry's IANA blocks.

    ``iana`` is the IANA block the part lies in (None where IANA lists nothing);
    ``other_registry`` the RIR that block belongs to.
    """

    kind: str = "outside-iana"
    record: RecordRef
    iana: IanaBlock | None

    @property
    def detail(self) -> str:
        ref, block = self.record, self.iana
        what = f"{ref.registry.label} lists {self.resource} ({ref.status.value}{_dated(ref)})"
        if block is None:
            return f"{what}, which the IANA file does not list ({_unlisted(self.type)})"
        if self.cls == "reserved" or block.registry is None:
            return (
                f"{what} in {block.prefix}, which IANA keeps as {block.designation} "
                f"({block.status}), not an RIR's"
            )
        if block.status == LEGACY:
            where = f"legacy space {block.prefix} administered by {block.registry.label}"
        elif block.source in BOOTSTRAPS:
            where = f"{block.prefix}, which the RDAP bootstrap maps to {block.registry.label}"
        else:
            where = f"{block.prefix}, which IANA allocated to {block.registry.label}"
        if self.cls == "erx":
            began = _began_later(ref, block.registry)
            return (
                f"{what} in {where}: registered before {began.label} began in "
                f"{FOUNDED[began]}, an early registration"
            )
        if self.cls == "transfer":
            return f"{what} in {where}: an inter-RIR transfer"
        return f"{what} in {where}"

    def extra_json(self) -> dict[str, Any]:
        return {"record": self.record.to_json(), "iana": self.iana.to_json() if self.iana else None}


@dataclass(frozen=True, kw_only=True)
class SummaryMismatchFinding(Finding):
    """A stored snapshot holds a different number of records of a type than its summary."""

    kind: str = "summary-mismatch"
    snapshot_id: int
    file: str
    declared: int
    stored: int
    skipped_lines: int

    @property
    def detail(self) -> str:
        because = (
            f"; {self.skipped_lines} bad line(s) were skipped at ingest"
            if self.skipped_lines
            else "; no lines were skipped, so the store lost or gained records"
        )
        return (
            f"{self.registry.label} snapshot {self.snapshot_id} ({self.file}) announces "
            f"{self.declared} {self.type.value} records, the store holds "
            f"{self.stored}{because}"
        )

    def extra_json(self) -> dict[str, Any]:
        return {
            "snapshot": self.snapshot_id,
            "file": self.file,
            "declared": self.declared,
            "stored": self.stored,
            "skipped_lines": self.skipped_lines,
        }


# -- the report ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class CountRow:
    """Findings of one kind, class, severity and type, and how many numbers they cover."""

    kind: str
    cls: str
    severity: Severity
    type: ResourceType
    findings: int
    amount: int
    """IPv4 or IPv6 addresses, or AS numbers (0 for summary mismatches)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "class": self.cls,
            "severity": self.severity,
            "type": self.type.value,
            "findings": self.findings,
            "amount": self.amount,
        }


@dataclass(frozen=True)
class IntegrityReport:
    """Findings, most serious kinds first, and what they were checked against."""

    findings: tuple[Finding, ...]
    iana_sources: dict[str, str | None] = field(default_factory=dict)
    """Resource type → the IANA source its records were compared with (None: no IANA data)."""

    def counts(self) -> list[CountRow]:
        """One row per kind, class, severity and type present, in report order."""
        tally: Counter[tuple[str, str, Severity, ResourceType]] = Counter()
        amount: Counter[tuple[str, str, Severity, ResourceType]] = Counter()
        for f in self.findings:
            key = (f.kind, f.cls, f.severity, f.type)
            tally[key] += 1
            amount[key] += f.resource.size if f.resource else 0
        return [CountRow(*key, tally[key], amount[key]) for key in sorted(tally, key=_count_order)]

    def pairs(self, kind: str | None = None) -> Counter[tuple[str, str, str, str, str]]:
        """Findings per (kind, class, type, registry, other registry): who holds whose space."""
        return Counter(
            (
                f.kind,
                f.cls,
                f.type.value,
                f.registry.value,
                f.other_registry.value if f.other_registry else "",
            )
            for f in self.findings
            if kind is None or f.kind == kind
        )

    def of_kind(self, kinds: Sequence[str]) -> IntegrityReport:
        return IntegrityReport(
            tuple(f for f in self.findings if f.kind in kinds), self.iana_sources
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "iana_sources": self.iana_sources,
            "counts": [c.to_json() for c in self.counts()],
            "findings": [f.to_json() for f in self.findings],
        }


def _count_order(key: tuple[str, str, Severity, ResourceType]) -> tuple[int, int, str, int]:
    kind, cls, severity, rtype = key
    return KINDS.index(kind), SEVERITIES.index(severity), cls, RESOURCE_TYPES.index(rtype)


# -- the check ----------------------------------------------------------------------------------
def check(view: CurrentView, iana: Sequence[IanaBlock]) -> IntegrityReport:
    """Check the current view against itself and IANA's blocks (see the module docstring).

    ``iana`` may hold several sources; per resource type the richest one present is used
    (:data:`rirport.domain.iana.SOURCES_BY_TYPE`).
    """
    records = _Records(view)
    findings: list[Finding] = []
    used: dict[str, str | None] = {}
    for rtype in ResourceType:
        source, blocks = _iana_for(iana, rtype)
        used[rtype.value] = source
        columns = _Columns.of(view.table, rtype)
        findings += _pair_findings(records, columns)
        if blocks:
            findings += _outside_findings(records, columns, blocks)
    findings += _summary_findings(view)
    findings.sort(key=_finding_order)
    return IntegrityReport(tuple(findings), used)


def _finding_order(f: Finding) -> tuple[int, int, int, int, int]:
    return (
        KINDS.index(f.kind),
        SEVERITIES.index(f.severity),
        RESOURCE_TYPES.index(f.type),
        f.resource.first if f.resource else -1,
        REGISTRIES.index(f.registry),
    )


def _iana_for(iana: Sequence[IanaBlock], rtype: ResourceType) -> tuple[str | None, list[IanaBlock]]:
    """The blocks of the richest source describing ``rtype`` (bootstrap files last)."""
    for source in SOURCES_BY_TYPE[rtype]:
        blocks = [b for b in iana if b.source == source and b.resource.type is rtype]
        if blocks:
            return source, blocks
    return None, []


class _Records:
    """Rows of the view as values, built in bulk and only for the rows in findings."""

    def __init__(self, view: CurrentView) -> None:
        self.table = view.table
        self.snapshot_ids = view.snapshot_ids
        self.files = {s.id: s.file_name for s in view.snapshots}

    def refs(self, rows: npt.NDArray[np.int64]) -> list[RecordRef]:
        """A :class:`RecordRef` per row, from whole columns (a row at a time is 5x slower)."""
        t = self.table
        columns = zip(
            t.registry[rows].tolist(),
            t.type[rows].tolist(),
            t.start[rows].tolist(),
            t.value[rows].tolist(),
            t.status[rows].tolist(),
            t.date[rows].tolist(),
            self.snapshot_ids[rows].tolist(),
            t.line[rows].tolist(),
            strict=True,
        )
        return [
            RecordRef(
                REGISTRIES[reg],
                RESOURCE_TYPES[rtype],
                start.decode(),
                value,
                STATUSES[status],
                _date(date),
                self.files[sid],
                line,
            )
            for reg, rtype, start, value, status, date, sid, line in columns
        ]

    def ranges(self, rows: npt.NDArray[np.int64]) -> list[ResourceRange]:
        t = self.table
        firsts = _ints(t.first_hi[rows], t.first_lo[rows])
        lasts = _ints(t.last_hi[rows], t.last_lo[rows])
        return [
            ResourceRange(RESOURCE_TYPES[rtype], first, last)
            for rtype, first, last in zip(t.type[rows].tolist(), firsts, lasts, strict=True)
        ]


def _ints(hi: npt.NDArray[np.uint64], lo: npt.NDArray[np.uint64]) -> list[int]:
    return [(h << 64) | low for h, low in zip(hi.tolist(), lo.tolist(), strict=True)]


def _date(number: int) -> dt.date | None:
    return dt.date(number // 10000, number // 100 % 100, number % 100) if number else None


@dataclass(frozen=True)
class _Columns:
    """The rows of one type and their first/last numbers as sortable keys."""

    type: ResourceType
    rows: npt.NDArray[np.int64]
    firsts: Keys
    lasts: Keys

    @classmethod
    def of(cls, table: DelegationTable, rtype: ResourceType) -> _Columns:
        rows = np.flatnonzero(table.type == TYPE_CODE[rtype]).astype(np.int64)
        if rtype is ResourceType.IPV6:
            return cls(
                rtype,
                rows,
                ipv6_keys(table.first_hi[rows], table.first_lo[rows]),
                ipv6_keys(table.last_hi[rows], table.last_lo[rows]),
            )
        return cls(rtype, rows, table.first_lo[rows], table.last_lo[rows])

    @classmethod
    def of_file(cls, table: DelegationTable, rtype: ResourceType) -> _Columns:
        """As :meth:`of`; IPv6 ranges that are all /64-aligned (every real file) are keyed
        by their upper 64 bits, which sorts several times faster than 17-byte keys."""
        rows = table.first_order(TYPE_CODE[rtype])  # sorted by those keys (see below)
        if rtype is not ResourceType.IPV6:
            return cls(rtype, rows, table.first_lo[rows], table.last_lo[rows])
        first_lo, last_lo = table.first_lo[rows], table.last_lo[rows]
        if (first_lo == 0).all() and (last_lo == np.uint64(2**64 - 1)).all():
            return cls(rtype, rows, table.first_hi[rows], table.last_hi[rows])
        return cls.of(table, rtype)


# -- overlaps and duplicates -----------------------------------------------------------------
def repeated_in_file(table: DelegationTable, name: str, listed: int = 5) -> list[str]:
    """Warnings for the records of one file that list the same numbers twice (or overlap):
    what ``check`` reports as ``duplicate`` later, said when the file is ingested. At most
    ``listed`` pairs are named, then how many more."""
    pairs: list[tuple[int, int, ResourceRange, bool]] = []
    total = 0
    for rtype in ResourceType:
        columns = _Columns.of_file(table, rtype)
        left, right = overlapping_pairs(columns.firsts, columns.lasts)
        total += len(left)
        for a, b in zip(
            columns.rows[left][:listed].tolist(), columns.rows[right][:listed].tolist(), strict=True
        ):
            first, second = table.row(a).resource, table.row(b).resource
            shared = first.intersection(second)
            assert shared is not None  # overlapping_pairs gives pairs that share a number
            lines = int(table.line[a]), int(table.line[b])
            pairs.append((*lines, shared, first == second))
    out = [
        f"{name}: lines {min(x, y)} and {max(x, y)} both list {shared}"
        + ("" if same else " (the records overlap)")
        for x, y, shared, same in sorted(pairs, key=lambda p: min(p[0], p[1]))[:listed]
    ]
    if total > listed:
        out.append(f"{name}: {total - listed} more pairs of records list the same numbers twice")
    return out


def overlapping_pairs(
    firsts: Keys, lasts: Keys
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Every pair (i, j) of ranges ``firsts[k]..lasts[k]`` that share a number, each once.

    Sorted by start, range j > i overlaps range i exactly when it starts at or before i's
    last number, so i's partners are the run ``i+1 .. searchsorted(last_i) - 1``: one sort,
    one search, and ``np.repeat`` to spell the runs out. Cost grows with the pairs found,
    not with the square of the rows.
    """
    order = np.argsort(firsts, kind="stable").astype(np.int64)
    starts = firsts[order]
    if not _any_overlap(starts, lasts[order]):  # nearly every file: no pair to spell out
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    ends = np.searchsorted(starts, lasts[order], side="right")
    runs = ends - np.arange(len(order)) - 1
    left = np.repeat(np.arange(len(order)), runs)
    offset = np.arange(len(left)) - np.repeat(np.cumsum(runs) - runs, runs)
    return order[left], order[left + 1 + offset]


def _any_overlap(starts: Keys, lasts: Keys) -> bool:
    """Whether ranges sorted by start share any number: some range starts at or before the
    furthest end before it (one pass, where the search of every end would cost a sort's
    worth; integer keys only, others are searched)."""
    if len(starts) < 2:
        return False
    if starts.dtype.kind not in "ui" or lasts.dtype.kind not in "ui":
        return True
    return bool((starts[1:] <= np.maximum.accumulate(lasts)[:-1]).any())


def _pair_findings(records: _Records, columns: _Columns) -> list[Finding]:
    left, right = overlapping_pairs(columns.firsts, columns.lasts)
    rows_a, rows_b = columns.rows[left], columns.rows[right]
    refs_a, refs_b = records.refs(rows_a), records.refs(rows_b)
    ranges_a, ranges_b = records.ranges(rows_a), records.ranges(rows_b)
    return [_pair_finding(*pair) for pair in zip(refs_a, ranges_a, refs_b, ranges_b, strict=True)]


def _pair_finding(
    ref_a: RecordRef, range_a: ResourceRange, ref_b: RecordRef, range_b: ResourceRange
) -> Finding:
    shared = range_a.intersection(range_b)
    if ref_a.registry is ref_b.registry:
        return DuplicateFinding(
            cls="exact" if range_a == range_b else "overlap",
            severity="warning",
            registry=ref_a.registry,
            type=ref_a.type,
            resource=shared,
            record=ref_a,
            other=ref_b,
        )
    order = (ref_a.status.delegated, REGISTRIES.index(ref_a.registry))
    if order > (ref_b.status.delegated, REGISTRIES.index(ref_b.registry)):
        ref_a, ref_b = ref_b, ref_a  # the undelegated side first: "reserved here, ..."
    severity: Severity
    if ref_a.status.delegated:
        cls, severity = "conflict", "error"
    elif ref_b.status.delegated:
        cls, severity = f"{ref_a.status.value}-vs-delegated", "warning"
    else:
        cls, severity = "undelegated", "info"
    return OverlapFinding(
        cls=cls,
        severity=severity,
        registry=ref_a.registry,
        type=ref_a.type,
        resource=shared,
        other_registry=ref_b.registry,
        record=ref_a,
        other=ref_b,
    )


# -- outside IANA ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Segments:
    """IANA's blocks of one type cut into segments, each owned by its most specific block.

    Segment 0 is everything before the first block; ``block[k]`` is -1 where no block covers
    segment k. ``owner`` is the RIR code of the block (``_NO_RIR`` for IANA's own space and
    gaps) and ``key`` tells apart what a finding depends on (owner and IANA status).
    """

    bounds: Keys
    starts: list[int]
    block: npt.NDArray[np.int64]
    owner: npt.NDArray[np.int64]
    key: npt.NDArray[np.int64]

    @classmethod
    def build(cls, blocks: list[IanaBlock], rtype: ResourceType) -> _Segments:
        """Paint each block over its segments, largest first, so the most specific wins."""
        starts = [
            0,
            *sorted({b.resource.first for b in blocks} | {b.resource.last + 1 for b in blocks}),
        ]
        position = {number: i for i, number in enumerate(starts) if i}
        block = np.full(len(starts), -1, dtype=np.int64)
        for k in sorted(range(len(blocks)), key=lambda k: -blocks[k].resource.size):
            resource = blocks[k].resource
            block[position[resource.first] : position[resource.last + 1]] = k
        owner = np.array(
            [_owner(blocks[k]) if k >= 0 else _NO_RIR for k in block.tolist()], dtype=np.int64
        )
        status = np.array(
            [IANA_STATUSES.index(blocks[k].status) if k >= 0 else 7 for k in block.tolist()],
            dtype=np.int64,
        )
        return cls(_keys(starts[1:], rtype), starts, block, owner, owner * 8 + status)

    def of(self, keys: Keys) -> npt.NDArray[np.int64]:
        """Segment of each key."""
        found: npt.NDArray[np.int64] = np.searchsorted(self.bounds, keys, side="right")
        return found.astype(np.int64)


def _owner(block: IanaBlock) -> int:
    if block.registry is None or not block.rir_space:
        return _NO_RIR
    return REGISTRIES.index(block.registry)


def _keys(numbers: list[int], rtype: ResourceType) -> Keys:
    """Keys comparable with :class:`_Columns` keys (IPv6: 17 bytes, room for 2**128)."""
    if rtype is ResourceType.IPV6:
        return np.array([n.to_bytes(17, "big") for n in numbers], dtype="S17")
    return np.array(numbers, dtype=np.uint64)


def _outside_findings(
    records: _Records, columns: _Columns, blocks: list[IanaBlock]
) -> list[Finding]:
    """Findings for the parts of records lying outside their registry's IANA blocks.

    A record is cut at segment boundaries (almost always it lies in one segment); the parts
    its own registry owns are dropped, and consecutive parts of one record with the same
    owner and status are joined into one finding.
    """
    segments = _Segments.build(blocks, columns.type)
    seg_first, seg_last = segments.of(columns.firsts), segments.of(columns.lasts)
    runs = seg_last - seg_first + 1
    piece_row = np.repeat(np.arange(len(runs)), runs)
    piece_seg = np.repeat(seg_first, runs) + (
        np.arange(len(piece_row)) - np.repeat(np.cumsum(runs) - runs, runs)
    )
    registry = records.table.registry[columns.rows[piece_row]].astype(np.int64)
    outside = segments.owner[piece_seg] != registry
    piece_row, piece_seg = piece_row[outside], piece_seg[outside]
    if not len(piece_row):
        return []
    new = np.ones(len(piece_row), dtype=bool)
    new[1:] = (
        (piece_row[1:] != piece_row[:-1])
        | (piece_seg[1:] != piece_seg[:-1] + 1)
        | (segments.key[piece_seg[1:]] != segments.key[piece_seg[:-1]])
    )
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], len(piece_row)) - 1
    rows = columns.rows[piece_row[starts]]
    return [
        _outside_finding(ref, whole, segments, blocks, seg_from, seg_to)
        for ref, whole, seg_from, seg_to in zip(
            records.refs(rows),
            records.ranges(rows),
            piece_seg[starts].tolist(),
            piece_seg[ends].tolist(),
            strict=True,
        )
    ]


def _outside_finding(
    ref: RecordRef,
    whole: ResourceRange,
    segments: _Segments,
    blocks: list[IanaBlock],
    seg_from: int,
    seg_to: int,
) -> OutsideIanaFinding:
    """The part of ``whole`` in segments ``seg_from..seg_to``, classified."""
    stop = segments.starts[seg_to + 1] - 1 if seg_to + 1 < len(segments.starts) else whole.last
    part = ResourceRange(
        whole.type, max(whole.first, segments.starts[seg_from]), min(whole.last, stop)
    )
    k = int(segments.block[seg_from])
    block = blocks[k] if k >= 0 else None
    cls, severity = classify_outside(ref, block)
    return OutsideIanaFinding(
        cls=cls,
        severity=severity,
        registry=ref.registry,
        type=ref.type,
        resource=part,
        other_registry=block.registry if block else None,
        record=ref,
        iana=block,
    )


def classify_outside(ref: RecordRef, block: IanaBlock | None) -> tuple[str, Severity]:
    """(class, severity) of a record part lying in ``block`` rather than its registry's space.

    Nothing but IANA-kept space is an anomaly: records in other RIRs' space are how
    transfers, early registrations and legacy space show in the files.
    """
    if block is None:
        return "unlisted", _anomaly(ref)
    if not block.rir_space:
        return "reserved", _anomaly(ref)
    if (
        block.registry is not None
        and ref.date is not None
        and ref.date.year < FOUNDED[_began_later(ref, block.registry)]
    ):
        return "erx", "info"
    return ("legacy" if block.status == LEGACY else "transfer"), "info"


def _began_later(ref: RecordRef, owner: Registry) -> Registry:
    """Of the holding RIR and the RIR the space belongs to, the one founded later.

    A record registered before either existed was not transferred between them under any
    transfer policy: it is an early registration, moved to the holder when the holder began
    (ERX, the regional moves to LACNIC and AFRINIC) or kept by the holder when the space
    went to a newer RIR (ARIN's 1999 records in LACNIC's 200/8).
    """
    return max(ref.registry, owner, key=lambda r: FOUNDED[r])


def _dated(ref: RecordRef) -> str:
    return f", {ref.date.isoformat()}" if ref.date else ""


def _anomaly(ref: RecordRef) -> Severity:
    return "warning" if ref.status.delegated else "info"


def _unlisted(rtype: ResourceType) -> str:
    if rtype is ResourceType.IPV6:
        return "IANA reserves unlisted IPv6 unicast space for future allocation"
    if rtype is ResourceType.ASN:
        return "the RDAP bootstrap maps no RIR to it: reserved or unallocated at IANA"
    return "not an IANA block"


# -- summary lines ----------------------------------------------------------------------------
def _summary_findings(view: CurrentView) -> list[Finding]:
    findings: list[Finding] = []
    for snap in view.snapshots:
        mine = view.snapshot_ids == snap.id
        for name, declared in snap.summary:
            rtype = ResourceType(name)
            stored = int(np.count_nonzero(mine & view.table.type_mask(rtype)))
            if stored != int(declared):
                findings.append(
                    _summary_finding(
                        snap.id,
                        snap.registry,
                        snap.file_name,
                        rtype,
                        int(declared),
                        stored,
                        snap.skipped_lines,
                    )
                )
    return findings


def _summary_finding(
    snapshot_id: int,
    registry: str,
    file: str,
    rtype: ResourceType,
    declared: int,
    stored: int,
    skipped: int,
) -> SummaryMismatchFinding:
    return SummaryMismatchFinding(
        cls="skipped-lines" if skipped else "count",
        severity="warning" if skipped else "error",
        registry=Registry(registry),
        type=rtype,
        resource=None,
        snapshot_id=snapshot_id,
        file=file,
        declared=declared,
        stored=stored,
        skipped_lines=skipped,
    )


__all__ = [
    "FOUNDED",
    "KINDS",
    "CountRow",
    "DuplicateFinding",
    "Finding",
    "IntegrityReport",
    "OutsideIanaFinding",
    "OverlapFinding",
    "RecordRef",
    "SummaryMismatchFinding",
    "check",
    "classify_outside",
    "overlapping_pairs",
]
