"""The state root of a store: the parts :mod:`rirport.log.state` defines, read from the data
tables, and which parts a journal entry can change.

A write recomputes only the parts its action touches (an ingest: its registry's delegations;
a completed transfer: every registry's; an IANA file: ``iana``; a hold: ``holds``; any
transfer step: ``transfers``) and keeps the stored digests of the rest, so signing after an
account or watch write costs no scan. ``rirport log verify`` and ``rirport state-root``
recompute every part from the tables, which is how an edit made behind the journal's back
shows: the recomputed root no longer matches the signed one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from rirport.domain.enums import Registry
from rirport.log.state import field_line, part_digest, state_root
from rirport.store.unit import UnitOfWork

ALL = None


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
        if json.loads(payload_text).get("step") == "complete":
            return {"transfers", *(delegation_part(r.value) for r in Registry)}
        return {"transfers"}
    return set()


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


def update_parts(uow: UnitOfWork, action: str, payload: str) -> dict[str, str]:
    """The part digests after this transaction's entry, stored; recomputes what it touched
    (everything when nothing was stored yet)."""
    stored = uow.log.parts()
    touched = affected(action, payload) if stored else ALL
    if touched is ALL:
        parts = compute(uow)
    elif not touched:
        return stored
    else:
        parts = {k: v for k, v in stored.items() if k not in touched}
        parts.update(compute(uow, touched))
    uow.log.set_parts(parts, stored or None)
    return parts


def root_of(uow: UnitOfWork) -> str:
    """The state root recomputed from the tables (nothing stored is trusted)."""
    uow.state_hints.clear()
    return state_root(compute(uow))


__all__ = ["affected", "compute", "root_of", "state_root", "update_parts"]
