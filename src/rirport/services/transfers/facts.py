"""What the registry knows about a resource, gathered for the policy engine.

The engine is pure; this is where its inputs come from: the source registry's current records
covering the resource (the view), IANA's block around it (legacy space, the RIR IANA gave it
to), rirport's own completed transfers (when the holder received it) and legal holds.
"""

from __future__ import annotations

import bisect
import datetime as dt
import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np

from rirport.domain.delegation import Delegation
from rirport.domain.enums import STATUSES, Registry, ResourceType
from rirport.domain.iana import LEGACY, IanaBlock
from rirport.domain.query import parse_resource
from rirport.domain.resources import BITS, ResourceRange
from rirport.domain.table import REGISTRY_CODE, TYPE_CODE, DelegationTable, split_key
from rirport.domain.transfer import ResourceFacts, TransferKind
from rirport.errors import NotFoundError
from rirport.index.registry import RegistryIndex
from rirport.policy.checks import date_int
from rirport.query.iana import load_iana
from rirport.query.integrity import FOUNDED
from rirport.query.view import CurrentView
from rirport.store.keys import key_of
from rirport.store.unit import Store, UnitOfWork

DELEGATED = np.array([i for i, s in enumerate(STATUSES) if s.delegated], dtype=np.uint8)
"""Status codes of the delegation table that mean "held by someone"."""


#: After this many fact-gatherings over one view, its range index is built and used: a
#: scan of the columns costs milliseconds, the index a second once, then microseconds (a
#: single CLI transfer scans; a batch of transfers, a server or a scenario indexes).
INDEX_AFTER = 16
_INDEXES: weakref.WeakKeyDictionary[DelegationTable, RegistryIndex | int] = (
    weakref.WeakKeyDictionary()
)


def _index(table: DelegationTable) -> RegistryIndex | None:
    """The table's range index once it has been asked for often enough (else None)."""
    found = _INDEXES.get(table, 0)
    if isinstance(found, RegistryIndex):
        return found
    if found + 1 < INDEX_AFTER:
        _INDEXES[table] = found + 1
        return None
    built = _INDEXES[table] = RegistryIndex(table)
    return built


def covering_rows(
    view: CurrentView, resource: ResourceRange, registry: Registry | None = None
) -> list[int]:
    """Rows of the view sharing numbers with ``resource`` (of one registry, or of all),
    in address order. Vectorised (a few milliseconds over half a million rows), or through
    the view's range index when it has one."""
    t = view.table
    index = _index(t)
    if index is not None:
        found = np.array([h.row for h in index.ranges(resource)], dtype=np.int64)
        if registry is not None:
            found = found[t.registry[found] == REGISTRY_CODE[registry]]
        order = np.lexsort((t.first_lo[found], t.first_hi[found]))
        return [int(r) for r in found[order]]
    first_hi, first_lo = split_key(resource.first)
    last_hi, last_lo = split_key(resource.last)
    starts_before_end = (t.first_hi < last_hi) | ((t.first_hi == last_hi) & (t.first_lo <= last_lo))
    ends_after_start = (t.last_hi > first_hi) | ((t.last_hi == first_hi) & (t.last_lo >= first_lo))
    mask = (t.type == TYPE_CODE[resource.type]) & starts_before_end & ends_after_start
    if registry is not None:
        mask &= t.registry == REGISTRY_CODE[registry]
    rows = np.flatnonzero(mask)
    order = np.lexsort((t.first_lo[rows], t.first_hi[rows]))
    return [int(r) for r in rows[order]]


def resource_asked(view: CurrentView, text: str) -> ResourceRange:
    """The resource a user asks about: an address alone stands for the smallest delegation
    holding it (one rule for the CLI and the HTTP API).

    Raises:
        QueryError: not an address, prefix, range or AS number.
        NotFoundError: an address no registry holds.
    """
    resource = parse_resource(text)
    if resource.is_ip and resource.size == 1 and "/" not in text:
        rows = [r for r in covering_rows(view, resource) if view.table.row(r).status.delegated]
        if not rows:
            raise NotFoundError(f"no registry holds {text}")
        smallest = min(rows, key=lambda r: view.table.last_int(r) - view.table.first_int(r))
        return view.table.row(smallest).resource
    return resource


def gather_facts(
    store: Store,
    view: CurrentView,
    resource: ResourceRange,
    source_registry: Registry,
    on_date: dt.date,
    iana: Sequence[IanaBlock] | None = None,
) -> ResourceFacts:
    """The facts of ``resource`` as held by ``source_registry`` on ``on_date``."""
    blocks = load_iana(store) if iana is None else iana
    with store.read() as uow:
        return facts_in(uow, view, resource, blocks, source_registry, on_date)


def facts_in(
    uow: UnitOfWork,
    view: CurrentView,
    resource: ResourceRange,
    iana: Sequence[IanaBlock],
    source_registry: Registry,
    on_date: dt.date,
) -> ResourceFacts:
    """As :func:`gather_facts`, inside a transaction the caller holds (transfer steps)."""
    delegations, block, holder_received_on = _view_facts(
        view, resource, iana, source_registry, on_date
    )
    lo, hi = key_of(resource.type, resource.first), key_of(resource.type, resource.last)
    holders = {d.opaque_id or "" for d in delegations}
    completed, holds = uow.transfers.completed_into_and_holds(lo, hi, on_date)
    receipts = [
        t
        for t in completed
        if t.recipient_registry == source_registry.value
        and t.recipient_holder in holders
        and t.transfer_date <= on_date
    ]
    return ResourceFacts(
        delegations=delegations,
        iana_registry=block.registry if block else None,
        legacy=_legacy(block, delegations, source_registry),
        received_on=receipts[-1].transfer_date if receipts else None,
        received_kind=TransferKind(receipts[-1].kind) if receipts else None,
        in_dispute=any(h.kind == "dispute" for h in holds),
        legal_hold=any(h.kind == "legal-hold" for h in holds),
        hold_reasons=tuple(f"{h.kind} #{h.id} since {h.since}: {h.reason}" for h in holds),
        holder_received_on=holder_received_on,
    )


_VIEW_FACTS: weakref.WeakKeyDictionary[
    DelegationTable,
    dict[tuple[Any, ...], tuple[tuple[Delegation, ...], IanaBlock | None, dt.date | None]],
] = weakref.WeakKeyDictionary()
VIEW_FACTS_KEPT = 64
"""Resources whose view-derived facts are kept per view: a transfer's four steps ask the same
view the same question (the rows, the IANA block and the holder's newest record never change
in a loaded view); the store-derived facts (receipts, holds) are read at every step."""


def _view_facts(
    view: CurrentView,
    resource: ResourceRange,
    iana: Sequence[IanaBlock],
    source_registry: Registry,
    on_date: dt.date,
) -> tuple[tuple[Delegation, ...], IanaBlock | None, dt.date | None]:
    kept = _VIEW_FACTS.setdefault(view.table, {})
    key = (resource, source_registry, on_date, id(iana), len(iana))
    found = kept.get(key)
    if found is not None:
        return found
    delegations = tuple(view.table.row(r) for r in covering_rows(view, resource, source_registry))
    holders = {d.opaque_id or "" for d in delegations}
    received = (
        holder_latest(view.table, source_registry, next(iter(holders)), resource.type, on_date)
        if len(holders) == 1
        else None
    )
    found = (delegations, iana_block(iana, resource), received)
    if len(kept) >= VIEW_FACTS_KEPT:
        kept.pop(next(iter(kept)))
    kept[key] = found
    return found


def holder_latest(
    table: DelegationTable, registry: Registry, holder: str, rtype: ResourceType, on_date: dt.date
) -> dt.date | None:
    """The newest dated delegation of ``holder`` of this type at ``registry`` on ``on_date``
    (ARIN's 12-month source rule counts from the holder's latest receipt)."""
    if not holder:
        return None
    limit = date_int(on_date)
    index = _INDEXES.get(table)
    if isinstance(index, RegistryIndex):
        rows = index.holder_rows(holder, registry)
        t = table
        rows = rows[(t.type[rows] == TYPE_CODE[rtype]) & np.isin(t.status[rows], DELEGATED)]
        dates = t.date[rows]
        dates = dates[(dates > 0) & (dates <= limit)]
        if not len(dates):
            return None
        best = int(dates.max())
        return dt.date(best // 10000, best // 100 % 100, best % 100)
    mask = (
        (table.registry == REGISTRY_CODE[registry])
        & (table.type == TYPE_CODE[rtype])
        & (table.opaque_id == holder.encode())
        & np.isin(table.status, DELEGATED)
        & (table.date > 0)
        & (table.date <= limit)
    )
    if not mask.any():
        return None
    best = int(table.date[mask].max())
    return dt.date(best // 10000, best // 100 % 100, best % 100)


def iana_block(blocks: Sequence[IanaBlock], resource: ResourceRange) -> IanaBlock | None:
    """The IANA block containing the resource's first number (registries before bootstrap
    files, as the integrity check prefers; of equals, the first listed). Looked up in
    :class:`_IanaIndex` (a transfer asks twice, and scanning every block was a tenth of a
    SQLite transfer's Python time)."""
    index = _IANA_INDEXES.get(id(blocks))
    if index is None or index.blocks is not blocks or index.size != len(blocks):
        index = _IanaIndex(blocks)
        if len(_IANA_INDEXES) >= 8:
            _IANA_INDEXES.pop(next(iter(_IANA_INDEXES)))
        _IANA_INDEXES[id(blocks)] = index
    found = index.containing(resource.type, resource.first)
    if not found:
        return None
    return min(found, key=_preferred)[1]


def _preferred(placed: tuple[int, IanaBlock]) -> tuple[bool, int, int]:
    """Registries before bootstrap files, then the smallest block, then the first listed."""
    position, block = placed
    return block.source.endswith("bootstrap"), block.resource.size, position


_Placed = list[tuple[int, IanaBlock]]
"""Blocks with their positions in the list they came from."""


class _IanaIndex:
    """One list of blocks by type and first number: the blocks containing a number are
    among those starting at most the widest ordinary block's width before it, plus the few
    very wide ones (an eighth of the type's bits or more: IPv6's /3), kept apart."""

    def __init__(self, blocks: Sequence[IanaBlock]) -> None:
        self.blocks, self.size = blocks, len(blocks)
        self._by_type: dict[ResourceType, tuple[list[int], _Placed, int, _Placed]] = {}
        for rtype in ResourceType:
            wide_from = 1 << (BITS[rtype] - 8)
            mine = [(i, b) for i, b in enumerate(blocks) if b.resource.type is rtype]
            narrow = sorted(
                ((i, b) for i, b in mine if b.resource.size < wide_from),
                key=lambda ib: ib[1].resource.first,
            )
            wide = [(i, b) for i, b in mine if b.resource.size >= wide_from]
            width = max((b.resource.size for _, b in narrow), default=0)
            self._by_type[rtype] = ([b.resource.first for _, b in narrow], narrow, width, wide)

    def containing(self, rtype: ResourceType, number: int) -> list[tuple[int, IanaBlock]]:
        """(position in the list, block) of every block of the type holding ``number``."""
        firsts, narrow, width, wide = self._by_type[rtype]
        start = bisect.bisect_left(firsts, number - width)
        end = bisect.bisect_right(firsts, number)
        near = [ib for ib in narrow[start:end] if ib[1].resource.last >= number]
        return near + [ib for ib in wide if ib[1].resource.first <= number <= ib[1].resource.last]


_IANA_INDEXES: dict[int, _IanaIndex] = {}
"""The index of each list of blocks asked lately, by the list's id (the index holds the
list, so the id is not reused while it is kept)."""


def _legacy(
    block: IanaBlock | None, delegations: tuple[Delegation, ...], registry: Registry
) -> bool:
    """Legacy space: IANA says LEGACY, or the record predates the registry holding it."""
    if block is not None and block.status.upper() == LEGACY:
        return True
    dates = [d.date for d in delegations if d.date is not None]
    return bool(dates) and min(dates).year < FOUNDED[registry]
