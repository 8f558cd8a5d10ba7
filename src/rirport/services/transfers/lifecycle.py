"""Transfers between holders and registries: request, approve, accept, complete.

Every step is one transaction that re-checks the request against the regime in force (the
state may have changed: a legal hold, another transfer) and appends a journal entry.
Completing moves the resource: the source's records covering it are retired, the moved part
appears at the recipient (its original date kept, as the statistics files do) and split
remainders stay with the source. Before the transaction commits it checks that no number is
held by two registries, that the numbers retired equal the numbers added, and that the moved
numbers lie in IANA-allocated space.

Lifecycle::

    requested → approved (by the source) → accepted (by the recipient) → completed
        └──────────┴──────────────┴──→ rejected | cancelled | expired
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from rirport.domain.delegation import Delegation
from rirport.domain.enums import Registry, ResourceType
from rirport.domain.iana import IanaBlock
from rirport.domain.resources import ResourceRange
from rirport.domain.transfer import Decision, Outcome, TransferKind, TransferRequest
from rirport.errors import ConflictError, InputError, NotFoundError, StorageError
from rirport.formats.records import RecordError, parse_record
from rirport.policy.engine import evaluate
from rirport.policy.loader import load_regime
from rirport.policy.model import Regime
from rirport.query.view import CurrentView
from rirport.services.audit import journal
from rirport.services.transfers.facts import covering_rows, facts_in, iana_block
from rirport.store.batch import Batch
from rirport.store.keys import key_of
from rirport.store.repos.delegations import NewDelegation, RecordRow
from rirport.store.repos.transfers import TransferRow
from rirport.store.unit import Store, UnitOfWork

OPEN = ("requested", "approved", "accepted")
STEPS: dict[str, tuple[tuple[str, ...], str]] = {
    "approve": (("requested",), "approved"),
    "accept": (("approved",), "accepted"),
    "complete": (("accepted",), "completed"),
    "reject": (OPEN, "rejected"),
    "cancel": (OPEN, "cancelled"),
    "expire": (OPEN, "expired"),
}
EXPIRY_DAYS = 90


@dataclass(frozen=True)
class StepResult:
    """A transfer after a step, the decision that step was taken on, and its journal serial."""

    transfer: TransferRow
    decision: Decision | None
    serial: int
    changes: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        t = self.transfer
        return {
            "id": t.id,
            "state": t.state,
            "kind": t.kind,
            "resource": t.resource,
            "source": t.source_registry,
            "source_holder": t.source_holder,
            "recipient": t.recipient_registry,
            "recipient_holder": t.recipient_holder,
            "date": t.transfer_date.isoformat(),
            "regime": t.regime,
            "conditions_met": t.conditions_met,
            "journal_serial": self.serial,
            "decision": self.decision.to_json() if self.decision else t.decision,
            "changes": self.changes,
        }


# -- building a request from the data --------------------------------------------------------
def build_request(
    view: CurrentView,
    resource: ResourceRange,
    recipient: Registry,
    recipient_holder: str,
    kind: TransferKind,
    date: dt.date,
    source_holder: str | None = None,
) -> TransferRequest:
    """A request for ``resource`` from whoever holds it in the current view.

    Raises:
        NotFoundError: no registry holds any of it.
        InputError: it straddles registries or holders, is not fully delegated, the requester
            is not the holder, the recipient is the source for an inter-RIR move, or the date
            is before the delegation.
    """
    rows = covering_rows(view, resource)
    if not rows:
        raise NotFoundError(f"no registry holds {resource}")
    found = [view.table.row(r) for r in rows]
    registries = sorted({d.registry.value for d in found})
    if len(registries) > 1:
        raise InputError(f"{resource} straddles registries ({', '.join(registries)})")
    holders = sorted({d.opaque_id or "" for d in found})
    if len(holders) > 1:
        raise InputError(
            f"{resource} straddles holders ({', '.join(holders)}): request each "
            "holder's part separately"
        )
    _ensure_delegated(resource, found)
    source, holder = found[0].registry, holders[0]
    if source_holder is not None and source_holder != holder:
        raise InputError(
            f"requester {source_holder!r} is not the holder of {resource} "
            f"(held by {holder!r} at {source.label})"
        )
    if kind is TransferKind.INTER_RIR and recipient is source:
        raise InputError(f"an inter-RIR transfer needs another registry than {source.label}")
    if kind is TransferKind.INTRA_RIR and recipient is not source:
        raise InputError(f"an intra-RIR transfer stays at {source.label}, not {recipient.label}")
    dated = [d.date for d in found if d.date is not None]
    if dated and date < max(dated):
        raise InputError(f"date {date} is before the delegation of {resource} ({max(dated)})")
    return TransferRequest(resource, source, holder, recipient, recipient_holder, kind, date)


def _ensure_delegated(resource: ResourceRange, found: Sequence[Delegation]) -> None:
    undelegated = [d for d in found if not d.status.delegated]
    if undelegated:
        d = undelegated[0]
        raise InputError(
            f"{resource} includes {d.resource}, which {d.registry.label} lists as "
            f"{d.status.value}: only allocated or assigned space can be moved"
        )
    remaining = [resource]
    for d in found:
        remaining = [part for r in remaining for part in r.subtract(d.resource)]
    if remaining:
        raise InputError(
            f"{resource} is only partly delegated: {remaining[0]} is held by no registry"
        )


# -- the steps -----------------------------------------------------------------------------
def request_transfer(
    store: Store,
    view: CurrentView,
    request: TransferRequest,
    regime: str,
    actor: str,
    iana: Sequence[IanaBlock],
    *,
    created_at: str | None = None,
) -> StepResult:
    """Record a request and its decision (``rejected`` at once when the regime refuses).

    ``created_at``: the journal entry's time, for replay only (as in :func:`advance`).
    """
    with store.transaction() as uow:
        return request_in(uow, view, request, regime, actor, iana, created_at=created_at)


def request_in(
    uow: UnitOfWork,
    view: CurrentView,
    request: TransferRequest,
    regime: str,
    actor: str,
    iana: Sequence[IanaBlock],
    *,
    created_at: str | None = None,
) -> StepResult:
    """:func:`request_transfer` inside a transaction the caller holds (a batch of moves)."""
    loaded = load_regime(regime)
    # first: the facts are then read under the write lock (PostgreSQL: with it, when they
    # can be, see TransferRepo.facts_read)
    r = request.resource
    lo, hi = key_of(r.type, r.first), key_of(r.type, r.last)
    transfers = uow.transfers
    serial = uow.journal.reserve(
        read=transfers.facts_read(lo, hi, request.date), new=transfers.next_id()
    )
    transfers.took_read(uow.journal.read_value)
    decision = _decide(uow, view, request, loaded, iana)
    state = "rejected" if decision.outcome is Outcome.REFUSED else "requested"
    values = _row_values(request, regime, decision, state, serial)
    batch = Batch(uow.connection)  # PostgreSQL: the row's insert goes with the entry's
    new_id = uow.journal.new_value
    transfer_id = transfers.add(values, batch, None if new_id is None else int(new_id))
    journal.append(
        uow,
        actor,
        "transfer",
        {
            "transfer": transfer_id,
            "step": "request",
            "state": state,
            "regime": loaded.name,
            "request": request.to_json(),
            "decision": decision.to_json(),
        },
        serial,
        created_at,
        batch,
    )
    return StepResult(TransferRow(id=transfer_id, **values), decision, serial)


def advance(
    store: Store,
    view: CurrentView,
    transfer_id: int,
    step: str,
    actor: str,
    iana: Sequence[IanaBlock],
    *,
    conditions_met: bool = False,
    reason: str = "",
    on_locked: Callable[[], None] | None = None,
    created_at: str | None = None,
) -> StepResult:
    """Take one step of a transfer's lifecycle, in one transaction.

    ``on_locked`` runs once the rows to move are locked (tests use it to force a race).
    ``created_at`` stamps the journal entry, for replay only (another instance re-running
    this step keeps the original time, so the same step gives the same hash).

    Raises:
        NotFoundError: no such transfer.
        ConflictError: the step does not follow from the transfer's state, or the resources
            changed hands meanwhile (another transfer completed first).
        InputError: completing a conditional transfer whose conditions were not confirmed.
    """
    with store.transaction() as uow:
        return advance_in(
            uow,
            view,
            transfer_id,
            step,
            actor,
            iana,
            conditions_met=conditions_met,
            reason=reason,
            on_locked=on_locked,
            created_at=created_at,
        )


def advance_in(
    uow: UnitOfWork,
    view: CurrentView,
    transfer_id: int,
    step: str,
    actor: str,
    iana: Sequence[IanaBlock],
    *,
    conditions_met: bool = False,
    reason: str = "",
    on_locked: Callable[[], None] | None = None,
    created_at: str | None = None,
) -> StepResult:
    """:func:`advance` inside a transaction the caller holds (a batch of moves): the step
    is still its own journal entry, committed or rolled back with the caller's others."""
    allowed_from, target = STEPS[step]
    # the generation's lock first, then the row's (PostgreSQL: read and locked in the
    # statement that takes the generation's, when it can, with the facts of the step's range
    # when this process knows it; else read here)
    transfers = uow.transfers
    serial = uow.journal.reserve(
        transfers.locked_read(transfer_id), transfers.facts_read_for(transfer_id)
    )
    transfers.took_read(uow.journal.read_value)
    locked = uow.transfers.from_locked(uow.journal.locked_value)
    row = _locked_transfer(uow, transfer_id, step, allowed_from, locked)
    decision, changes, state = None, None, target
    batch = Batch(uow.connection)  # PostgreSQL: the step's row writes go with its entry's
    if step in ("approve", "accept", "complete"):
        decision = _decide(uow, view, _request_of(row), load_regime(row.regime), iana)
        if decision.outcome is Outcome.REFUSED:
            state = "rejected"
        elif step == "complete":
            _ensure_conditions(row, decision, conditions_met)
            changes = apply_move(uow, row, serial, iana, on_locked, batch)
    met = row.conditions_met or (conditions_met and step in ("accept", "complete"))
    values: dict[str, Any] = {
        "state": state,
        "updated_serial": serial,
        "conditions_met": met,
        "decision": decision.to_json() if decision else row.decision,
    }
    uow.transfers.update(transfer_id, batch, **values)
    journal.append(
        uow,
        actor,
        "transfer",
        {
            "transfer": transfer_id,
            "step": step,
            "state": state,
            "reason": reason or None,
            "conditions_met": met,
            "decision": decision.to_json() if decision else None,
            "changes": changes,
        },
        serial,
        created_at,
        batch,
    )
    return StepResult(replace(row, **values), decision, serial, changes)


def expire_stale(
    store: Store,
    view: CurrentView,
    today: dt.date,
    actor: str,
    iana: Sequence[IanaBlock],
    days: int = EXPIRY_DAYS,
) -> list[StepResult]:
    """Expire open transfers dated more than ``days`` before ``today``."""
    with store.transaction() as uow:
        stale = [t.id for t in uow.transfers.all(OPEN) if (today - t.transfer_date).days > days]
    return [
        advance(store, view, t, "expire", actor, iana, reason=f"open more than {days} days")
        for t in stale
    ]


def _locked_transfer(
    uow: UnitOfWork,
    transfer_id: int,
    step: str,
    allowed_from: tuple[str, ...],
    locked: TransferRow | None = None,
) -> TransferRow:
    row = locked if locked is not None else uow.transfers.get(transfer_id, for_update=True)
    if row is None:
        raise NotFoundError(f"no transfer #{transfer_id}")
    if row.state not in allowed_from:
        raise ConflictError(
            f"transfer #{transfer_id} is {row.state}: it cannot {step} "
            f"(only from {' or '.join(allowed_from)})"
        )
    return row


def _ensure_conditions(row: TransferRow, decision: Decision, conditions_met: bool) -> None:
    if decision.outcome is Outcome.CONDITIONAL and not (row.conditions_met or conditions_met):
        listed = "; ".join(decision.conditions) or "see the decision"
        raise InputError(
            f"transfer #{row.id} is conditional and its conditions were not "
            f"confirmed ({listed}): accept or complete with conditions met"
        )


def _decide(
    uow: UnitOfWork,
    view: CurrentView,
    request: TransferRequest,
    regime: Regime,
    iana: Sequence[IanaBlock],
) -> Decision:
    facts = facts_in(uow, view, request.resource, iana, request.source, request.date)
    return evaluate(request, regime, facts, request.date)


def _row_values(
    request: TransferRequest, regime: str, decision: Decision, state: str, serial: int
) -> dict[str, Any]:
    r = request.resource
    return {
        "state": state,
        "kind": request.kind.value,
        "type": r.type.value,
        "resource": str(r),
        "lo": key_of(r.type, r.first),
        "hi": key_of(r.type, r.last),
        "source_registry": request.source.value,
        "source_holder": request.source_holder,
        "recipient_registry": request.recipient.value,
        "recipient_holder": request.recipient_holder,
        "transfer_date": request.date,
        "regime": regime,
        "decision": decision.to_json(),
        "conditions_met": False,
        "created_serial": serial,
        "updated_serial": serial,
    }


def _request_of(row: TransferRow) -> TransferRequest:
    rtype = ResourceType(row.type)
    first, last = int(row.lo[1:], 16), int(row.hi[1:], 16)
    return TransferRequest(
        ResourceRange(rtype, first, last),
        Registry(row.source_registry),
        row.source_holder,
        Registry(row.recipient_registry),
        row.recipient_holder,
        TransferKind(row.kind),
        row.transfer_date,
    )


# -- moving the records --------------------------------------------------------------------
def apply_move(
    uow: UnitOfWork,
    row: TransferRow,
    serial: int,
    iana: Sequence[IanaBlock],
    on_locked: Callable[[], None] | None = None,
    batch: Batch | None = None,
) -> dict[str, Any]:
    """Retire the source's records of the resource and add the moved and remaining parts
    (``batch``: where the added rows' insert is queued, PostgreSQL).

    Raises:
        ConflictError: the source no longer holds all of it, or an invariant would break.
    """
    request = _request_of(row)
    snapshots = uow.snapshots.newest_ids()
    recipient_snapshot = snapshots.get(request.recipient.value)
    if recipient_snapshot is None:
        raise ConflictError(
            f"{request.recipient.label} has no snapshot in the store to receive the resource"
        )
    lo, hi = row.lo, row.hi
    source_snapshot = snapshots[request.source.value]
    # one read of every current record over the numbers, locked: the source's are the ones
    # to move, any other registry's would hold them twice (checked before adding)
    over = uow.delegations.overlapping(
        list(snapshots.values()), lo, hi, for_update=True, line_before=(recipient_snapshot, lo)
    )  # (PostgreSQL: with where the moved numbers go, when they start the range)
    held = [r for r in over if r.snapshot_id == source_snapshot]
    if on_locked is not None:
        on_locked()
    records = _held_records(held, request)
    added = _remainders(records, request.resource) + _moved(
        uow, records, request, recipient_snapshot
    )
    if uow.delegations.retire([r.id for r, _ in records], serial) != len(records):
        raise ConflictError(
            f"{request.resource} changed hands meanwhile; transfer #{row.id} was not completed"
        )
    others = [r for r in over if r.snapshot_id != source_snapshot]
    _check_invariants(request, records, added, others, iana)
    uow.delegations.add(added, serial, batch)
    return {
        "moved": str(request.resource),
        "retired": [r.record for r, _ in records],
        "added": [a.record for a in added],
    }


def _held_records(
    held: list[RecordRow], request: TransferRequest
) -> list[tuple[RecordRow, Delegation]]:
    """The locked source rows, checked to be the holder's and to cover the resource."""
    records = []
    for row in held:
        try:
            records.append((row, parse_record(row.record, request.source.value)))
        except RecordError as exc:
            raise StorageError(
                f"delegation {row.id}: stored record no longer parses: {exc}"
            ) from exc
    remaining = [request.resource]
    for _, d in records:
        if (d.opaque_id or "") != request.source_holder or not d.status.delegated:
            raise ConflictError(
                f"{d.resource} is no longer held by {request.source_holder!r}"
                f" at {request.source.label}"
            )
        remaining = [p for r in remaining for p in r.subtract(d.resource)]
    if remaining or not records:
        raise ConflictError(
            f"{request.resource} is no longer wholly held by "
            f"{request.source_holder!r} at {request.source.label} (another "
            "transfer completed first?)"
        )
    return records


def _remainders(
    records: list[tuple[RecordRow, Delegation]], moved: ResourceRange
) -> list[NewDelegation]:
    """The parts of split records that stay with the source, at their records' lines."""
    kept = []
    for row, d in records:
        for part in d.resource.subtract(moved):
            kept += _records_for(part, d, row.snapshot_id, row.line, d.registry, d.opaque_id or "")
    return kept


def _moved(
    uow: UnitOfWork,
    records: list[tuple[RecordRow, Delegation]],
    request: TransferRequest,
    snapshot_id: int,
) -> list[NewDelegation]:
    """The moved numbers as the recipient's records, placed where they sort in its file."""
    moved = []
    for _, d in records:
        part = d.resource.intersection(request.resource)
        assert part is not None
        line = uow.delegations.line_before(snapshot_id, key_of(part.type, part.first))
        moved += _records_for(
            part, d, snapshot_id, line, request.recipient, request.recipient_holder
        )
    return moved


def _records_for(
    part: ResourceRange,
    like: Delegation,
    snapshot_id: int,
    line: int,
    registry: Registry,
    holder: str,
) -> list[NewDelegation]:
    rows = []
    for start, value in part.to_stats_records():
        record = Delegation(
            registry,
            like.cc,
            like.type,
            start,
            value,
            like.date,
            like.status,
            holder,
            like.undated_as,
        )
        r = record.resource
        rows.append(
            NewDelegation(
                snapshot_id,
                line,
                key_of(r.type, r.first),
                key_of(r.type, r.last),
                holder,
                record.to_stats_line(),
            )
        )
    return rows


def _check_invariants(
    request: TransferRequest,
    records: list[tuple[RecordRow, Delegation]],
    added: list[NewDelegation],
    others: list[RecordRow],
    iana: Sequence[IanaBlock],
) -> None:
    """Checked inside the transaction, after retiring and before adding: ``others`` are the
    current records over the numbers outside the source's snapshot (read and locked with the
    source's; writers are serialised by the generation row, so none appears meanwhile)."""
    retired = sum(d.resource.size for _, d in records)
    created = sum(int(a.hi[1:], 16) - int(a.lo[1:], 16) + 1 for a in added)
    if retired != created:
        raise ConflictError(f"invariant: {retired} numbers retired but {created} added")
    r = request.resource
    if others:
        other = others[0].record.split("|")[0]
        raise ConflictError(
            f"invariant: {r} would be held twice ({other} still lists "
            f"{others[0].record.split('|')[3]}): not completed"
        )
    block = iana_block(iana, r)
    if block is None or not block.rir_space or not block.resource.contains(r):
        where = f"{block.prefix} ({block.status})" if block else "no IANA block"
        raise ConflictError(f"invariant: {r} is not wholly in IANA-allocated space ({where})")
