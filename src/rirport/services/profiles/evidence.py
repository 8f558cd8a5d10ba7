"""Evidence in the store: add and correct items from files, each write one journaled
transaction; and the evidence a profile run uses (the shipped starter set, with the store's
items added and its corrections applied)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from rirport.errors import ConflictError, NotFoundError
from rirport.profiles.evidence import Evidence, from_json, to_json
from rirport.profiles.loader import CatalogueEntry, read_file, starter
from rirport.services.audit import journal
from rirport.store.unit import Store, UnitOfWork


@dataclass(frozen=True)
class Stored:
    """An item with where it comes from: ``starter`` (shipped), ``store`` or ``corrected``
    (a starter item corrected in the store), and its version."""

    item: Evidence
    origin: str
    version: int


def all_evidence(store: Store | None) -> tuple[list[Stored], list[CatalogueEntry]]:
    """Every item a profile may cite (store corrections replace starter items by id) and the
    catalogue of policy and document entities."""
    shipped, catalogue = starter()
    merged = {i.id: Stored(i, "starter", 1) for i in shipped}
    if store is not None:
        with store.read() as uow:
            rows = uow.evidence.all()
        for row in rows:
            origin = "corrected" if row.key in merged else "store"
            merged[row.key] = Stored(from_json(json.loads(row.body)), origin, row.version)
    return sorted(merged.values(), key=lambda s: s.item.id), catalogue


def add(store: Store, path: Path, actor: str) -> list[str]:
    """Store the new items of a file (all or none).

    Raises:
        InputError: the file is unreadable, oversized or invalid (every problem listed).
        ConflictError: an item's id is already used, or it repeats an existing claim from the
            same source.
    """
    items = read_file(path)
    known = {s.item.id: s.item for s in all_evidence(store)[0]}
    same = {(i.claim, i.source.address): i.id for i in known.values()}
    for item in items:
        if item.id in known:
            raise ConflictError(
                f"{path}: evidence {item.id!r} exists already; use "
                "'rirport evidence correct' to change it (nothing was stored)"
            )
        if (item.claim, item.source.address) in same:
            raise ConflictError(
                f"{path}: evidence {item.id!r} repeats the claim and source of "
                f"{same[item.claim, item.source.address]!r} (nothing was stored)"
            )
    with store.transaction() as uow:
        serial = uow.journal.reserve()
        for item in items:
            uow.evidence.add(item.id, journal.canonical(to_json(item)), serial)
        journal.append(
            uow,
            actor,
            "evidence-add",
            {"file": path.name, "items": [to_json(i) for i in items]},
            serial,
        )
    return [i.id for i in items]


def correct(store: Store, path: Path, actor: str) -> list[tuple[str, int]]:
    """Replace existing items by the file's versions (all or none); the journal entry keeps
    each previous body. Returns (id, new version) per item.

    Raises:
        InputError: the file is unreadable, oversized or invalid.
        NotFoundError: an item's id is not known (add it instead).
    """
    items = read_file(path)
    known = {s.item.id: s for s in all_evidence(store)[0]}
    missing = [i.id for i in items if i.id not in known]
    if missing:
        raise NotFoundError(
            f"{path}: no evidence {', '.join(map(repr, missing))} to correct; "
            "use 'rirport evidence add' (nothing was stored)"
        )
    with store.transaction() as uow:
        serial = uow.journal.reserve()
        changes = [_correct_one(uow, item, known[item.id], serial) for item in items]
        journal.append(
            uow, actor, "evidence-correct", {"file": path.name, "changes": changes}, serial
        )
    return [(item.id, known[item.id].version + 1) for item in items]


def _correct_one(uow: UnitOfWork, item: Evidence, before: Stored, serial: int) -> dict[str, object]:
    body = journal.canonical(to_json(item))
    version = before.version + 1
    if uow.evidence.get(item.id) is None:
        uow.evidence.add(item.id, body, serial)
        uow.evidence.replace(item.id, body, version, serial)
    else:
        uow.evidence.replace(item.id, body, version, serial)
    return {
        "id": item.id,
        "version": version,
        "before": to_json(before.item),
        "after": to_json(item),
    }


def show(store: Store, evidence_id: str) -> Stored:
    """One item by id.

    Raises:
        NotFoundError: no such item.
    """
    for stored in all_evidence(store)[0]:
        if stored.item.id == evidence_id:
            return stored
    raise NotFoundError(f"no evidence {evidence_id!r} (rirport evidence list shows them)")
