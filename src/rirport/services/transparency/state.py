"""The state root of a store: the parts :mod:`rirport.log.state` defines, read from the data
tables, and which parts a journal entry can change.

A signed write recomputes only the parts its action touches (an ingest: its registry's
delegations; a completed transfer: the delegations of the registries its records left and
joined; an IANA file: ``iana``; a hold: ``holds``; any transfer step: ``transfers``) and keeps
the stored digests of the rest, so signing after an account or watch write costs no scan. A
write that signs no checkpoint (the store has no key here, or the newest checkpoint is younger
than the checkpoint interval) only records the parts it touched as *pending*
(``meta.log_pending``); the next checkpoint recomputes them, once for all the writes since.
``rirport log verify`` and ``rirport state-root`` recompute every part from the tables,
which is how an edit made behind the journal's back shows: the recomputed root no longer
matches the signed one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from rirport.domain.enums import Registry
from rirport.log.state import field_line, part_digest, state_root
from rirport.store.unit import UnitOfWork

ALL = None
PENDING = "log_pending"
"""The ``meta`` key listing parts written since their stored digest (``*``: all of them)."""


def delegation_part(registry: str) -> str:
    return f"delegations {registry}"


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


def pending(uow: UnitOfWork) -> set[str] | None:
    """The parts written since their digests were stored (None: all of them)."""
    raw = uow.meta.get(PENDING)
    names = set(json.loads(raw)) if raw else set()
    return ALL if "*" in names else names


def defer(uow: UnitOfWork, action: str, payload: str) -> None:
    """Record the parts this entry touched as pending, for the next checkpoint."""
    touched = affected(action, payload)
    if touched is not ALL and not touched:
        return
    before = pending(uow)
    if before is ALL:
        return
    after = {"*"} if touched is ALL else before | touched
    if after != before:
        uow.meta.put(PENDING, json.dumps(sorted(after)))


def compute(uow: UnitOfWork, parts: Iterable[str] | None = ALL) -> dict[str, str]:
    """Digests of ``parts`` (all by default) from the tables. A registry with no snapshot
    has no part (absent, not empty), so the root of a store is the same before and after a
    registry's first file only if that file changed nothing, which it always does."""
    wanted = set(parts) if parts is not ALL else None
    out: dict[str, str] = {}
    names = {r: delegation_part(r.value) for r in Registry}
    needed = [r for r in Registry if wanted is None or names[r] in wanted]
    current = {s.registry: s for s in uow.snapshots.current()} if needed else {}
    for registry in needed:
        name = names[registry]
        snap = current.get(registry.value)
        if snap is None:
            continue
        hint = uow.state_hints.get(name)
        lines = (
            list(hint)
            if hint is not None
            else uow.log.current_records(registry.value, snap.snapshot_date)
        )
        lines.append(f"snapshot {snap.snapshot_date.isoformat()} {snap.content_sha256}")
        out[name] = part_digest(lines)
    if wanted is None or "iana" in wanted:
        out["iana"] = part_digest(
            field_line(
                b.source, b.lo, b.hi, b.prefix, b.designation, b.registry, b.status, b.date, b.note
            )
            for b in uow.iana.blocks()
        )
    if wanted is None or "holds" in wanted:
        out["holds"] = part_digest(
            field_line(h.resource, h.kind, h.reason, h.reference, h.since, h.until)
            for h in uow.holds.all()
            if h.lifted_serial is None
        )
    if wanted is None or "transfers" in wanted:
        out["transfers"] = part_digest(
            field_line(t.created_serial, t.state, t.updated_serial) for t in uow.transfers.all()
        )
    return out


def update_parts(uow: UnitOfWork, action: str | None = None, payload: str = "") -> dict[str, str]:
    """The part digests after this transaction's entry (``action`` None: no entry, only
    the pending parts), stored; recomputes what it touched and what earlier unsigned writes
    left pending (everything when nothing was stored yet)."""
    stored = uow.log.parts()
    waiting = pending(uow)
    touched = affected(action, payload) if action is not None and stored else set()
    if not stored or touched is ALL or waiting is ALL:
        todo: set[str] | None = ALL
    else:
        todo = touched | waiting
    if waiting is ALL or waiting:
        uow.meta.put(PENDING, "[]")
    if todo is ALL:
        parts = compute(uow)
    elif not todo:
        return stored
    else:
        parts = {k: v for k, v in stored.items() if k not in todo}
        parts.update(compute(uow, todo))
    uow.log.set_parts(parts, stored or None)
    return parts


def root_of(uow: UnitOfWork) -> str:
    """The state root recomputed from the tables (nothing stored is trusted)."""
    uow.state_hints.clear()
    return state_root(compute(uow))


__all__ = ["affected", "compute", "defer", "pending", "root_of", "state_root", "update_parts"]
