"""The state root of a store: the parts :mod:`rirport.log.state` defines, read from the data
tables, and which parts a journal entry can change.

A signed write recomputes only the parts its action touches (an ingest: its registry's
delegations; a completed transfer: the delegations of the registries its records left and
joined; an IANA file: ``iana``; a hold: ``holds``; any transfer step: ``transfers``) and keeps
the stored digests of the rest, so signing after an account or watch write costs no scan. In
a ``delegations`` part it rehashes only the buckets of the records the write added or ended
(a completed transfer names them in its entry, an ingest over the kept head state knows them:
:class:`Hint`), reading those buckets' rows by the index on ``lo``; a registry's first file
is hashed from memory. A
write that signs no checkpoint (the store has no key here, or the newest checkpoint is younger
than the checkpoint interval) only records the parts it touched as *pending*
(``meta.log_pending``); the next checkpoint recomputes them, once for all the writes since.
``rirport log verify`` and ``rirport state-root`` recompute every part from the tables,
which is how an edit made behind the journal's back shows: the recomputed root no longer
matches the signed one.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from rirport.domain.enums import Registry
from rirport.domain.table import DelegationTable
from rirport.log.state import (
    bucket_bounds,
    bucket_digests,
    bucket_of,
    bucketed_digest,
    field_line,
    group,
    key_of_line,
    part_digest,
    state_root,
)
from rirport.services.transparency import holds_part
from rirport.store.batch import Batch
from rirport.store.bulk import DelegationRows
from rirport.store.keys import table_keys
from rirport.store.unit import UnitOfWork

ALL = None
PENDING = "log_pending"
"""The ``meta`` key listing parts written since their stored digest (``*``: all of them)."""
V1_UNTIL = "log_state_v1"
"""The ``meta`` key holding the size of the newest checkpoint signed under v1 (migration
``0012_logappend``): checkpoints up to it carry a v1 state root."""
PENDING_BUCKETS = "log_pending_buckets"
"""The ``meta`` key naming, for each pending delegations part, the buckets changed since."""
MAX_PENDING = 512
"""More pending buckets than this in a part: rehash it whole at the next checkpoint."""
SPREAD = 0.25
"""A write that touched more than this share of a part's buckets rehashes the whole part
(one read of the registry instead of many range reads)."""


@dataclass(frozen=True)
class Hint:
    """What a write holds in memory about a ``delegations`` part (``uow.state_hints``):
    every record's range key and line (a registry's first file), or the range keys of the
    records it added or ended (``touched``: only their buckets change)."""

    keys: Sequence[str] | None = None
    lines: Sequence[str] | None = None
    touched: Collection[str] | None = None


def ingest_hint(
    rows: DelegationRows, kept: npt.NDArray[np.int64] | None, gone: DelegationTable | None
) -> Hint:
    """The hint of an ingest of the new current file ``rows``: with the rows of it already
    stored (``kept``) and the previous file's rows it lacks (``gone``), the keys of what
    changed; without them, every record."""
    if kept is None or gone is None:
        return Hint(rows.lo, rows.record)
    unmatched = np.ones(len(rows), bool)  # a mask, not setdiff1d: that hashes every row
    unmatched[kept] = False
    fresh = np.flatnonzero(unmatched)
    added = table_keys(rows.table.take(fresh), "lo") if len(fresh) else []
    ended = table_keys(gone, "lo") if len(gone) else []
    return Hint(touched=[*added, *ended])


def delegation_part(registry: str) -> str:
    return f"delegations {registry}"


_PART_NAMES = {r: delegation_part(r.value) for r in Registry}


def affected(action: str, payload_text: str) -> set[str] | None:
    """The parts a journal entry may change (None: all of them)."""
    if action == "ingest":
        payload = json.loads(payload_text)
        if payload.get("slotted_before"):  # an older file: history, not the current state
            return set()
        registry = payload.get("registry")
        return {delegation_part(str(registry))} if registry else ALL
    if action == "iana":
        return {"iana"}
    if action == "hold":
        return {"holds"}
    if action == "transfer":
        payload = json.loads(payload_text)
        if payload.get("step") != "complete":
            return {"transfers"}
        changes = payload.get("changes")
        if not isinstance(changes, dict):  # refused at completion: no record moved
            return {"transfers"} if payload.get("state") == "rejected" else ALL
        records = [*changes.get("retired", ()), *changes.get("added", ())]
        return {"transfers", *(delegation_part(str(r).split("|", 1)[0]) for r in records)}
    return set()


def touched_buckets(action: str | None, payload_text: str) -> dict[str, set[str]]:
    """The buckets of each delegations part a completed transfer changed (the records its
    entry names); empty for any other entry."""
    if action != "transfer" or '"complete"' not in payload_text:
        return {}
    changes = json.loads(payload_text).get("changes")
    if not isinstance(changes, dict):
        return {}
    out: dict[str, set[str]] = {}
    for record in [*changes.get("retired", ()), *changes.get("added", ())]:
        line = str(record)
        name = delegation_part(line.split("|", 1)[0])
        out.setdefault(name, set()).add(bucket_of(key_of_line(line)))
    return out


def pending(uow: UnitOfWork) -> set[str] | None:
    """The parts written since their digests were stored (None: all of them)."""
    raw = uow.meta.get(PENDING)
    names = set(json.loads(raw)) if raw else set()
    return ALL if "*" in names else names


def pending_buckets(uow: UnitOfWork) -> dict[str, list[str] | None]:
    """The buckets of each pending delegations part that earlier unsigned writes changed
    (a part absent or None: rehash it whole)."""
    raw = uow.meta.get(PENDING_BUCKETS)
    found = json.loads(raw) if raw else {}
    return found if isinstance(found, dict) else {}


def _changed_buckets(
    uow: UnitOfWork, name: str, action: str | None, payload: str
) -> set[str] | None:
    """The buckets of part ``name`` this transaction's entry changed (None: not known)."""
    changed = touched_buckets(action, payload).get(name)
    hint = uow.state_hints.get(name)
    if changed is None and isinstance(hint, Hint) and hint.touched is not None:
        changed = {bucket_of(k) for k in hint.touched}
    return changed


def defer(uow: UnitOfWork, action: str, payload: str) -> None:
    """Record the parts this entry touched as pending, for the next checkpoint, and for a
    delegations part the buckets it changed when they are known."""
    touched = affected(action, payload)
    if touched is not ALL and not touched:
        return
    before = pending(uow)
    if before is ALL:
        return
    after = {"*"} if touched is ALL else before | touched
    if after != before:
        uow.meta.put(PENDING, json.dumps(sorted(after)))
    if touched is ALL:
        return
    parts = [n for n in sorted(touched) if n.startswith("delegations ")]
    if not parts:
        return
    kept = pending_buckets(uow)
    marks = dict(kept)
    for name in parts:
        earlier = marks.get(name) if name in before else []
        changed = _changed_buckets(uow, name, action, payload)
        merged = None if earlier is None or changed is None else sorted({*earlier, *changed})
        marks[name] = None if merged is not None and len(merged) > MAX_PENDING else merged
    if marks != kept:
        uow.meta.put(PENDING_BUCKETS, json.dumps(marks, sort_keys=True))


@dataclass
class Computed:
    """Part digests, and the bucket digests of the delegations parts computed."""

    parts: dict[str, str] = field(default_factory=dict)
    buckets: dict[str, dict[str, str]] = field(default_factory=dict)
    holds: dict[int, str] | None = None
    """The lines of the holds in force by id, when this computation had them
    (:mod:`.holds_part`)."""
    root: str = ""
    """The state root over :attr:`parts`, once :func:`root_over` computed it (parts are not
    changed after that: a later write makes a new ``Computed``)."""


def root_over(done: Computed) -> str:
    """The state root of ``done``'s parts (computed once: a write that changed no part, an
    account or a watchlist, signs the root the write before it signed)."""
    if not done.root:
        done.root = state_root(done.parts)
    return done.root


Current = tuple[dt.date, str]
"""A registry's current snapshot: its date and content sha256."""


def snapshot_line(snap: Current) -> str:
    return f"snapshot {snap[0].isoformat()} {snap[1]}"


def compute(
    uow: UnitOfWork,
    parts: Iterable[str] | None = ALL,
    version: int = 2,
    *,
    hints: bool = True,
) -> dict[str, str]:
    """Digests of ``parts`` (all by default) from the tables (``hints``: and what the write
    holds in memory). A registry with no snapshot has no part (absent, not empty), so the
    root of a store is the same before and after a registry's first file only if that file
    changed nothing, which it always does."""
    return _compute(uow, parts, version, hints).parts


def _compute(uow: UnitOfWork, parts: Iterable[str] | None, version: int, hints: bool) -> Computed:
    wanted = set(parts) if parts is not ALL else None
    out = Computed()
    names = _PART_NAMES
    needed = [r for r in Registry if wanted is None or names[r] in wanted]
    current = uow.log.current_snapshots() if needed else {}
    for registry in needed:
        name = names[registry]
        snap = current.get(registry.value)
        if snap is None:
            continue
        hint = uow.state_hints.get(name) if hints else None
        if isinstance(hint, Hint) and hint.keys is not None and hint.lines is not None:
            keyed: Iterable[tuple[str, str]] = zip(hint.keys, hint.lines, strict=True)
        else:
            keyed = uow.log.keyed_records(registry.value, snap[0])
        if version == 1:
            out.parts[name] = part_digest([*(line for _, line in keyed), snapshot_line(snap)])
            continue
        buckets = bucket_digests(group(keyed))
        out.buckets[name] = buckets
        out.parts[name] = bucketed_digest(snapshot_line(snap), buckets)
    if wanted is None or "iana" in wanted:
        out.parts["iana"] = part_digest(field_line(*b) for b in uow.log.iana_lines())
    if wanted is None or holds_part.PART in wanted:
        out.holds = holds_part.read(uow)
        out.parts[holds_part.PART] = part_digest(out.holds.values())
    if wanted is None or "transfers" in wanted:
        out.parts["transfers"] = part_digest(field_line(*t) for t in uow.log.transfer_lines())
    return out


def _rehash(
    uow: UnitOfWork, registry: str, day: dt.date, changed: set[str], stored: dict[str, str]
) -> dict[str, str]:
    """A delegations part's bucket digests after rehashing the ``changed`` buckets from the
    tables (the rows of each read by its range of ``lo``)."""
    rows = uow.log.keyed_records(registry, day, [bucket_bounds(b) for b in sorted(changed)])
    after = {b: d for b, d in stored.items() if b not in changed}
    after.update(bucket_digests(group(rows)))
    return after


def store(uow: UnitOfWork, done: Computed, stored: dict[str, str] | None = None) -> None:
    """Store every part and bucket digest of ``done`` in place of what was stored."""
    uow.log.drop_buckets()
    for name, buckets in done.buckets.items():
        uow.log.add_buckets(name, buckets)
    uow.log.set_parts(done.parts, stored or None)


def compute_all(uow: UnitOfWork) -> Computed:
    """Every part and bucket digest from the tables alone."""
    return _compute(uow, ALL, 2, False)


_HOLDS = {holds_part.PART}


def update_parts(
    uow: UnitOfWork,
    action: str | None = None,
    payload: str = "",
    known: Computed | None = None,
    batch: Batch | None = None,
) -> Computed:
    """The part digests after this transaction's entry (``action`` None: no entry, only
    the pending parts), stored; recomputes what it touched and what earlier unsigned writes
    left pending (everything when nothing was stored yet). ``known``: the parts (and any
    buckets) stored by the last signed write, when nothing is pending since (the log's cache
    across transactions), so they are not read again. ``batch``: where the changed part
    digests are queued (sent with the checkpoint) instead of written at once."""
    waiting: set[str] | None
    if known is not None and action is not None:
        touched_now = affected(action, payload)
        if touched_now == set():
            return known  # an account or watchlist write: the same digests (and root)
        if touched_now == _HOLDS:  # a hold: from the lines the last signed write left
            held = holds_part.lines_after(uow, known.holds)
            if held is not None and holds_part.PART in known.parts:
                parts = dict(known.parts)
                parts[holds_part.PART] = part_digest(held.values())
                uow.log.set_parts(parts, known.parts, batch)
                return Computed(parts, known.buckets, held)
    if known is not None:
        stored, waiting = dict(known.parts), set()
    else:
        stored, waiting = uow.log.parts(), pending(uow)
    touched = affected(action, payload) if action is not None and stored else set()
    if not stored or touched is ALL or waiting is ALL:
        todo: set[str] | None = ALL
    else:
        todo = touched | waiting
    earlier: dict[str, list[str] | None] = {}
    if waiting is ALL or waiting:
        uow.meta.put(PENDING, "[]")
        earlier = pending_buckets(uow)
        if earlier:
            uow.meta.put(PENDING_BUCKETS, "{}")
    if todo is ALL:
        done = _compute(uow, ALL, 2, True)
        store(uow, done, stored)
        return done
    if not todo:
        if known is None:
            return Computed(stored)
        return known  # nothing changed: the same digests (and the root, once computed)
    done = Computed({k: v for k, v in stored.items() if k not in todo})
    done.buckets = {k: v for k, v in (known.buckets if known else {}).items() if k not in todo}
    if known is not None and holds_part.PART not in todo:
        done.holds = known.holds
    whole = set()
    current: dict[str, Current] | None = None
    for name in sorted(todo):
        changed: set[str] | None = set()
        if name in (touched or ()):
            changed = _changed_buckets(uow, name, action, payload)
        if changed is not None and name in (waiting or ()):
            left = earlier.get(name)
            changed = None if left is None else changed | set(left)
        if not name.startswith("delegations ") or changed is None:
            whole.add(name)
            continue
        before = (known.buckets.get(name) if known else None) or uow.log.buckets(name)
        if not before or name not in stored or len(changed) > SPREAD * len(before):
            whole.add(name)
            continue
        if current is None:
            current = uow.log.current_snapshots()
        registry = name.split(" ", 1)[1]
        snap = current.get(registry)
        if snap is None:  # cannot be: a stored part has a snapshot; hash it from scratch
            whole.add(name)
            continue
        after = _rehash(uow, registry, snap[0], changed, before)
        uow.log.set_buckets(name, before, after)
        done.buckets[name] = after
        done.parts[name] = bucketed_digest(snapshot_line(snap), after)
    if holds_part.PART in whole:  # from the lines the last signed write left, if it can
        held = holds_part.lines_after(uow, known.holds if known is not None else None)
        if held is not None:
            whole.discard(holds_part.PART)
            done.holds = held
            done.parts[holds_part.PART] = part_digest(held.values())
    if whole:
        fresh = _compute(uow, whole, 2, True)
        for name, buckets in fresh.buckets.items():
            uow.log.replace_buckets(name, buckets)
        done.parts.update(fresh.parts)
        done.buckets.update(fresh.buckets)
        if fresh.holds is not None:
            done.holds = fresh.holds
    uow.log.set_parts(done.parts, stored, batch)
    return done


def root_of(uow: UnitOfWork, version: int = 2) -> str:
    """The state root recomputed from the tables (nothing stored is trusted)."""
    return state_root(compute(uow, version=version, hints=False), version)


def root_matching(uow: UnitOfWork, signed: str | None) -> str:
    """The state root recomputed from the tables (v2), or the v1 root when that is the one
    ``signed`` (a publisher not yet upgraded: either is SHA-256 over the same state, so a
    match by either proves the same data)."""
    mine = root_of(uow)
    if signed and mine != signed:
        old = root_of(uow, 1)
        if old == signed:
            return old
    return mine


def version_at(uow: UnitOfWork, size: int) -> int:
    """The state-root version of the checkpoint at ``size``: 1 if signed before this store
    was upgraded to v2 (migration ``0012_logappend``), else 2."""
    until = uow.meta.get(V1_UNTIL)
    return 1 if until is not None and size <= int(until) else 2


__all__ = [
    "Computed",
    "Hint",
    "affected",
    "compute",
    "compute_all",
    "defer",
    "ingest_hint",
    "pending",
    "pending_buckets",
    "root_matching",
    "root_of",
    "root_over",
    "state_root",
    "store",
    "update_parts",
    "version_at",
]
