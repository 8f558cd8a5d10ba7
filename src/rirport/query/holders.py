"""Stable holder identity across snapshots.

Opaque-ids are per file: a registry may renumber every holder between two files (almost every
RIPE NCC id changed between the March 2017 and October 2018 files, for resources that did not
change). Identity is therefore inferred from what is held:

* **The link rule.** Between two consecutive snapshots of one registry, an id ``A`` of the
  older file is linked to the id ``B`` of the newer file that holds the most of ``A``'s
  records, a record being the same resource (type, first and last number). Ties go to the
  id that sorts first. Links are computed when a file is ingested (against the snapshots just
  before and just after it) and stored; only links between *different* ids are stored: an id
  that appears in both files keeps itself.
* **Confidence** of a link is the overlap of the two ids' record sets, Jaccard-style:
  ``shared / (records of A + records of B - shared)``. ``exact`` when 1.0 (the same
  resources, renumbered), ``high`` from 0.8, ``medium`` from 0.5, ``low`` below.
* **The stable id** of a holder is ``registry:first-id``: the oldest id of its chain of links
  of at least ``medium`` confidence (the chain follows links forward and backward; its weakest
  link is reported with it). A ``low`` link is kept and listed, but does not join two ids
  into one holder: it mostly records resources passing from one holder to another (an
  acquisition or a transfer), not one holder renumbered.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from rirport.domain.enums import ResourceType
from rirport.domain.table import TYPE_CODE, DelegationTable
from rirport.store.repos.delegations import LinkRow
from rirport.store.repos.snapshots import SnapshotRow
from rirport.store.unit import Store, UnitOfWork

JOIN_SCORE = 0.5
"""The least confidence (``medium``) of a link that makes two ids one holder."""

Held = tuple[str, str, str | None]
"""A record as the link rule sees it: range keys ``lo``, ``hi`` and the opaque-id."""


def confidence_label(score: float) -> str:
    """The named level of a link's score (see the module's rule)."""
    if score >= 1.0:
        return "exact"
    if score >= 0.8:
        return "high"
    if score >= 0.5:
        return "medium"
    return "low"


@dataclass(frozen=True)
class HolderLink(LinkRow):
    """One stored link with its confidence."""

    @classmethod
    def of(cls, row: LinkRow) -> HolderLink:
        return cls(**asdict(row))

    @property
    def score(self) -> float:
        return self.shared / (self.from_records + self.to_records - self.shared)

    @property
    def confidence(self) -> str:
        return confidence_label(self.score)

    def to_json(self) -> dict[str, Any]:
        return {
            "registry": self.registry,
            "from_snapshot": self.from_snapshot,
            "to_snapshot": self.to_snapshot,
            "from_id": self.from_id,
            "to_id": self.to_id,
            "shared": self.shared,
            "from_records": self.from_records,
            "to_records": self.to_records,
            "score": round(self.score, 4),
            "confidence": self.confidence,
        }


def link_holders(
    registry: str,
    older: SnapshotRow,
    newer: SnapshotRow,
    old_rows: Iterable[Held],
    new_rows: Iterable[Held],
) -> list[LinkRow]:
    """Links between the ids of two consecutive snapshots by the module's rule (pure)."""
    old_list = [row for row in old_rows if row[2]]
    new_list = [row for row in new_rows if row[2]]
    old_holder = {(lo, hi): opaque for lo, hi, opaque in old_list}
    old_count = Counter(row[2] for row in old_list)
    new_count = Counter(row[2] for row in new_list)
    pairs = Counter((old_holder.get((lo, hi)), opaque) for lo, hi, opaque in new_list)
    best: dict[str, tuple[int, str]] = {}
    for (was, now), shared in pairs.items():
        if was is None or now is None:
            continue
        if was not in best or (-shared, now) < (-best[was][0], best[was][1]):
            best[was] = (shared, now)
    return [
        LinkRow(registry, older.id, newer.id, was, now, shared, old_count[was], new_count[now])
        for was, (shared, now) in sorted(best.items())
        if now != was
    ]


def link_appended(
    registry: str,
    older: SnapshotRow,
    newer: SnapshotRow,
    new: DelegationTable,
    kept: npt.NDArray[np.int64],
    gone: DelegationTable,
) -> list[LinkRow]:
    """:func:`link_holders` for a file appended after ``older``, from what changed: ``new``
    is the new file, ``kept`` the indices of its rows ``older`` had too (the same record),
    ``gone`` the records of ``older`` the new file lacks.

    Only an old id holding a range whose holder may differ in the new file can link to
    another id: a range of a gone or new record, or one listed twice (found by a 64-bit hash
    of the range: a collision only adds a range to check). Those ranges are paired as
    :func:`link_holders` pairs them; every other range keeps its holder, and counts for it.
    (Of two old records with one range and different holders, :func:`link_holders` takes the
    later line's; here the kept one's, then the gone one's.)
    """
    new_keys, gone_keys = _range_hash(new), _range_hash(gone)
    fresh = np.ones(len(new), bool)
    fresh[kept] = False
    twice = _listed_twice(new, new_keys)
    wanted = np.unique(np.concatenate([gone_keys, new_keys[fresh], twice]))
    touched = _rows_with(new_keys, wanted)
    looked = np.union1d(touched, np.flatnonzero(fresh)).astype(np.int64)
    new_ids = dict(zip(looked.tolist(), _holders(new.take(looked)), strict=True))
    gone_ids = _holders(gone)
    old_holder: dict[tuple[int, ...], str] = {}
    for i in touched.tolist():
        if not fresh[i] and new_ids[i]:
            old_holder[_range(new, i)] = new_ids[i]
    for i, opaque in enumerate(gone_ids):
        if opaque:
            old_holder[_range(gone, i)] = opaque
    pairs = Counter(
        (old_holder.get(_range(new, i)), new_ids[i]) for i in touched.tolist() if new_ids[i]
    )
    candidates = {was for was, now in pairs if was is not None and was != now}
    if not candidates:
        return []
    counts = _IdCounts(new, candidates | {now for _, now in pairs if now is not None})
    touched_count = Counter(new_ids[i] for i in touched.tolist() if new_ids[i])
    fresh_count = Counter(new_ids[i] for i in np.flatnonzero(fresh).tolist() if new_ids[i])
    gone_count = Counter(opaque for opaque in gone_ids if opaque)
    links = []
    for was in sorted(candidates):
        options = {now: shared for (w, now), shared in pairs.items() if w == was}
        untouched = counts.of(was) - touched_count[was]
        if untouched:
            options[was] = options.get(was, 0) + untouched
        shared, now = min((-n, now) for now, n in options.items())
        if now != was:
            old_count = counts.of(was) - fresh_count[was] + gone_count[was]
            links.append(
                LinkRow(registry, older.id, newer.id, was, now, -shared, old_count, counts.of(now))
            )
    return links


def _listed_twice(table: DelegationTable, keys: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """The keys (:func:`_range_hash`) of ranges the table lists more than once: only rows
    sharing their first number with a neighbour in the table's order by first number can
    be (that order is kept on the table: no sort of every key), their keys compared."""
    maybe: list[npt.NDArray[np.int64]] = []
    for code in range(len(TYPE_CODE)):
        rows = table.first_order(code)
        first = (table.first_hi if code == _IPV6 else table.first_lo)[rows]
        shared = np.flatnonzero(first[1:] == first[:-1])
        if len(shared):
            maybe.append(rows[np.union1d(shared, shared + 1)])
    if not maybe:
        return np.zeros(0, np.uint64)
    ordered = np.sort(keys[np.concatenate(maybe)])
    twice: npt.NDArray[np.uint64] = ordered[1:][ordered[1:] == ordered[:-1]]
    return twice


def _rows_with(
    keys: npt.NDArray[np.uint64], wanted: npt.NDArray[np.uint64]
) -> npt.NDArray[np.int64]:
    """The rows (ascending) whose key is one of ``wanted`` (sorted, a few): rows whose key's
    top 16 bits are some wanted key's (a table of flags, one look-up a row), then those
    searched for exactly."""
    if not len(wanted) or not len(keys):
        return np.zeros(0, np.int64)
    flags = np.zeros(1 << 16, bool)
    flags[wanted >> _TOP] = True
    maybe = np.flatnonzero(flags[keys >> _TOP])
    at = np.minimum(np.searchsorted(wanted, keys[maybe]), len(wanted) - 1)
    rows: npt.NDArray[np.int64] = maybe[wanted[at] == keys[maybe]].astype(np.int64)
    return rows


_TOP = np.uint64(48)
_IPV6 = TYPE_CODE[ResourceType.IPV6]


class _IdCounts:
    """How many rows of a table hold each of some holder ids (``wanted``, counted at once;
    another id asked for is counted then): the rows that may, by a 64-bit fold of their id
    (its 8-byte words xor'd: one pass over the column, a fifth of hashing every id and
    sorting the hashes), compared exactly."""

    def __init__(self, table: DelegationTable, wanted: Iterable[str] = ()) -> None:
        self._ids = table.opaque_id
        self._folds = _fold(self._ids)
        self._counts = self._count(set(wanted))

    def of(self, opaque: str) -> int:
        if opaque not in self._counts:
            self._counts |= self._count({opaque})
        return self._counts[opaque]

    def _count(self, wanted: set[str]) -> dict[str, int]:
        out = dict.fromkeys(wanted, 0)
        width = self._ids.dtype.itemsize
        asked = {w.encode(): w for w in wanted if w and len(w.encode()) <= width}
        if not asked:
            return out
        keys = np.unique(_fold(np.array(list(asked), dtype=self._ids.dtype)))
        rows = _rows_with(self._folds, keys)
        for value, n in Counter(self._ids[rows].tolist()).items():
            if value in asked:
                out[asked[value]] = n
        return out


def _fold(ids: npt.NDArray[np.bytes_]) -> npt.NDArray[np.uint64]:
    """Each id's 8-byte words xor'd (the last one zero-padded), times an odd constant so
    that the top bits :func:`_rows_with` looks at first depend on every byte (text leaves
    the top bits of each word nearly constant): equal ids fold equal."""
    n, width = len(ids), ids.dtype.itemsize
    raw = np.ascontiguousarray(ids).view(np.uint8).reshape(n, width)
    folded = np.zeros(n, np.uint64)
    for k in range(width // 8):
        folded ^= np.ndarray((n,), "<u8", raw, offset=8 * k, strides=(width,))
    if width % 8:
        tail = np.zeros((n, 8), np.uint8)
        tail[:, : width % 8] = raw[:, width - width % 8 :]
        folded ^= tail.view("<u8").ravel()
    with np.errstate(over="ignore"):
        folded *= _K[0]
    return folded


def _range_hash(table: DelegationTable) -> npt.NDArray[np.uint64]:
    """A 64-bit key of each row's range, kept in memory only: a sum of the range's columns
    times odd constants (a fifth of :func:`~rirport.store.head.mix_columns`' work over a
    whole file; two ranges sharing a key only add a range to check)."""
    with np.errstate(over="ignore"):
        h = table.first_lo * _K[0]
        h += table.last_lo * _K[1]
        h += table.first_hi * _K[2]
        h += table.last_hi * _K[3]
        h += table.type.astype(np.uint64) * _K[4]
    return h


_K = [
    np.uint64(k)
    for k in (
        0x9E3779B97F4A7C15,
        0xC2B2AE3D27D4EB4F,
        0x165667B19E3779F9,
        0xD6E8FEB86659FD93,
        0xFF51AFD7ED558CCD,
    )
]


def _range(table: DelegationTable, i: int) -> tuple[int, ...]:
    return (
        int(table.type[i]),
        int(table.first_hi[i]),
        int(table.first_lo[i]),
        int(table.last_hi[i]),
        int(table.last_lo[i]),
    )


def _holders(table: DelegationTable) -> list[str | None]:
    """Each row's holder id as :data:`Held` has it (None: no id)."""
    ids: list[str | None] = [v.decode() or None for v in table.opaque_id.tolist()]
    for i in np.flatnonzero(~table.has_opaque).tolist():
        ids[i] = None
    return ids


def relink(
    uow: UnitOfWork,
    registry: str,
    snapshot: SnapshotRow,
    rows: Sequence[Held],
    before: tuple[SnapshotRow, Sequence[Held]] | None,
    after: tuple[SnapshotRow, Sequence[Held]] | None,
) -> None:
    """Store the links of a newly ingested snapshot with its neighbours (replacing the link
    between the two neighbours, which are no longer consecutive)."""
    links: list[LinkRow] = []
    if before is not None:
        links += link_holders(registry, before[0], snapshot, before[1], rows)
    if after is not None:
        links += link_holders(registry, snapshot, after[0], rows, after[1])
    if before is not None and after is not None:
        uow.delegations.drop_links(before[0].id, after[0].id)
    uow.delegations.add_links(links)


@dataclass(frozen=True)
class StableHolder:
    """A holder across snapshots: its stable id, every opaque-id it had, and the links."""

    key: str
    registry: str
    ids: list[str]
    links: list[HolderLink]

    @property
    def weakest(self) -> str | None:
        """The confidence of the weakest link joining the ids (None: a single id)."""
        if not self.links:
            return None
        return confidence_label(min(link.score for link in self.links))

    def to_json(self) -> dict[str, Any]:
        return {
            "holder": self.key,
            "registry": self.registry,
            "ids": self.ids,
            "confidence": self.weakest or "exact",
            "links": [link.to_json() for link in self.links],
        }


class HolderIdentity:
    """Stable holders of the store (one registry or all), from the stored links."""

    def __init__(self, links: Sequence[HolderLink], first_seen: dict[int, int]) -> None:
        """``first_seen``: snapshot id → its position in its registry's date order."""
        self._parent: dict[tuple[str, str], tuple[str, str]] = {}
        self._seen: dict[tuple[str, str], tuple[int, str]] = {}
        self._links: defaultdict[tuple[str, str], list[HolderLink]] = defaultdict(list)
        self._members: dict[tuple[str, str], list[tuple[str, str]]] | None = None
        joining = [link for link in links if link.score >= JOIN_SCORE]
        for link in joining:
            a, b = (link.registry, link.from_id), (link.registry, link.to_id)
            self._note(a, first_seen.get(link.from_snapshot, 0))
            self._note(b, first_seen.get(link.to_snapshot, 0))
            self._union(a, b)
        for link in joining:
            self._links[self._find((link.registry, link.from_id))].append(link)

    @classmethod
    def load(cls, uow: UnitOfWork, registry: str | None = None) -> HolderIdentity:
        snapshots = uow.snapshots.all()
        position: dict[int, int] = {}
        for reg in {s.registry for s in snapshots}:
            for i, snap in enumerate(s for s in snapshots if s.registry == reg):
                position[snap.id] = i
        links = [HolderLink.of(r) for r in uow.delegations.links(registry)]
        return cls(links, position)

    def holder(self, registry: str, opaque_id: str) -> StableHolder:
        """The stable holder of one id (itself alone when it was never linked)."""
        node = (registry, opaque_id)
        if node not in self._parent:
            return StableHolder(f"{registry}:{opaque_id}", registry, [opaque_id], [])
        root = self._find(node)
        if self._members is None:
            groups: defaultdict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
            for n in self._parent:
                groups[self._find(n)].append(n)
            self._members = {r: sorted(ns, key=self._seen.__getitem__) for r, ns in groups.items()}
        members = self._members[root]
        return StableHolder(
            f"{registry}:{members[0][1]}", registry, [m[1] for m in members], self._links[root]
        )

    def key(self, registry: str, opaque_id: str) -> str:
        """The stable id of one opaque-id (``registry:oldest-id``)."""
        return self.holder(registry, opaque_id).key

    def _note(self, node: tuple[str, str], position: int) -> None:
        self._parent.setdefault(node, node)
        seen = (position, node[1])
        if node not in self._seen or seen < self._seen[node]:
            self._seen[node] = seen

    def _find(self, node: tuple[str, str]) -> tuple[str, str]:
        while self._parent[node] != node:
            self._parent[node] = self._parent[self._parent[node]]
            node = self._parent[node]
        return node

    def _union(self, a: tuple[str, str], b: tuple[str, str]) -> None:
        ra, rb = self._find(a), self._find(b)
        if ra != rb:
            self._parent[rb] = ra


def spellings(opaque_id: str) -> list[str]:
    """The spellings a holder's id is tried in: as given, lower case, upper case. Handles are
    case-insensitive to clients (whoisit upper-cases them) and every registry writes its ids in
    one case (hex, UUIDs, digits), so at most one spelling is ever stored."""
    return list(dict.fromkeys((opaque_id, opaque_id.lower(), opaque_id.upper())))


def identity(store: Store, registry: str | None = None) -> HolderIdentity:
    """The stable holders of the store (of one registry, or of all)."""
    with store.read() as uow:
        return HolderIdentity.load(uow, registry)


def links(store: Store, registry: str | None = None) -> list[HolderLink]:
    """Every stored link, with its confidence."""
    with store.read() as uow:
        return [HolderLink.of(r) for r in uow.delegations.links(registry)]


__all__ = [
    "HolderIdentity",
    "HolderLink",
    "StableHolder",
    "confidence_label",
    "identity",
    "link_holders",
    "links",
    "relink",
    "spellings",
]
