"""Legal holds and disputes: resources no regime lets move while they stand."""

from __future__ import annotations

import datetime as dt

from rirport.domain.resources import ResourceRange
from rirport.errors import InputError, NotFoundError
from rirport.services.audit import journal
from rirport.services.transparency import holds_part
from rirport.store.keys import key_of
from rirport.store.repos.transfers import HoldRow
from rirport.store.unit import Store

KINDS = ("legal-hold", "dispute")


def add_hold(
    store: Store,
    resource: ResourceRange,
    kind: str,
    reason: str,
    actor: str,
    since: dt.date,
    until: dt.date | None = None,
    reference: str | None = None,
    *,
    created_at: str | None = None,
) -> HoldRow:
    """Record a hold (journaled; ``created_at`` stamps the entry, for replay only).

    Raises:
        InputError: unknown kind, empty reason, or ``until`` before ``since``.
    """
    if kind not in KINDS:
        raise InputError(f"unknown hold kind {kind!r} (expected {' or '.join(KINDS)})")
    if not reason.strip():
        raise InputError("a hold needs a reason")
    if until is not None and until < since:
        raise InputError(f"hold ends ({until}) before it starts ({since})")
    with store.transaction() as uow:
        serial = uow.journal.reserve()
        hold_id = uow.holds.add(
            {
                "kind": kind,
                "type": resource.type.value,
                "resource": str(resource),
                "lo": key_of(resource.type, resource.first),
                "hi": key_of(resource.type, resource.last),
                "reason": reason,
                "reference": reference,
                "since": since,
                "until": until,
                "created_serial": serial,
            }
        )
        holds_part.note_added(
            uow, hold_id, holds_part.hold_line(str(resource), kind, reason, reference, since, until)
        )
        journal.append(
            uow,
            actor,
            "hold",
            {
                "hold": hold_id,
                "step": "add",
                "kind": kind,
                "resource": str(resource),
                "reason": reason,
                "reference": reference,
                "since": since.isoformat(),
                "until": until.isoformat() if until else None,
            },
            serial,
            created_at,
        )
        made = uow.holds.get(hold_id)
        assert made is not None  # inserted above, in this transaction
        return made


def lift_hold(
    store: Store, hold_id: int, actor: str, reason: str = "", *, created_at: str | None = None
) -> None:
    """End a hold (journaled; ``created_at`` stamps the entry, for replay only).

    Raises:
        NotFoundError: no such hold in force.
    """
    with store.transaction() as uow:
        serial = uow.journal.reserve()
        if not uow.holds.lift(hold_id, serial):
            raise NotFoundError(f"no hold #{hold_id} in force")
        holds_part.note_lifted(uow, hold_id)
        journal.append(
            uow,
            actor,
            "hold",
            {"hold": hold_id, "step": "lift", "reason": reason or None},
            serial,
            created_at,
        )


def list_holds(store: Store) -> list[HoldRow]:
    with store.read() as uow:
        return uow.holds.all()
