"""Facts for the policy engine over the whole current view, and the portability run.

The engine (:mod:`rirport.policy`) is pure; :func:`build_groups` gathers what it needs for
every delegation at once, vectorised: the IANA block around each row (which RIR IANA gave it
to, legacy status), the holder's newest record, rirport's own completed transfers (when the
holder received a block) and the legal holds and disputes in force. One resource at a time is
:func:`rirport.services.transfers.facts.gather_facts`; both compute the same facts, so the
matrix and a
single ``transfer evaluate`` agree (a property test checks it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rirport.domain.enums import REGISTRIES, RESOURCE_TYPES, Registry, ResourceType
from rirport.domain.iana import LEGACY, SOURCES_BY_TYPE, IanaBlock
from rirport.domain.resources import ResourceRange
from rirport.domain.table import REGISTRY_CODE, TYPE_CODE, DelegationTable
from rirport.domain.transfer import TransferKind
from rirport.index.registry import id_hashes
from rirport.policy.checks import KIND_CODES, Columns, date_int
from rirport.policy.model import Regime
from rirport.policy.portability import Group, MatrixCell, ScenarioRow, failing_scenario, matrix
from rirport.query.integrity import FOUNDED
from rirport.query.view import CurrentView
from rirport.services.transfers.facts import DELEGATED
from rirport.store.keys import number_of
from rirport.store.unit import Store

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class StoreFacts:
    """rirport's own records that bear on transfers: completed transfers and holds in force."""

    receipts: list[tuple[Registry, str, ResourceRange, dt.date, TransferKind]]
    """(recipient registry, recipient holder, resource, date, kind), in completion order."""
    holds: list[tuple[str, ResourceRange]]
    """(kind, resource) of the legal holds and disputes in force on the date asked."""


@dataclass(frozen=True)
class PortabilityReport:
    """The matrix and the scenarios of one run, with what was evaluated."""

    as_of: dt.date
    regimes: list[str]
    cells: list[MatrixCell]
    scenarios: list[ScenarioRow]
    rows: int
    excluded_future: int
    """Delegated rows dated after ``as_of`` (not yet delegated then), left out."""


def store_facts(store: Store, on_date: dt.date) -> StoreFacts:
    """Completed transfers (oldest first) and the holds in force on ``on_date``."""
    with store.read() as uow:
        transfers = sorted(uow.transfers.all(("completed",)), key=lambda t: t.updated_serial)
        holds = uow.holds.all()
    receipts = [
        (
            Registry(t.recipient_registry),
            t.recipient_holder,
            _range(t.lo, t.hi),
            t.transfer_date,
            TransferKind(t.kind),
        )
        for t in transfers
    ]
    active = [
        (h.kind, _range(h.lo, h.hi))
        for h in holds
        if h.lifted_serial is None
        and h.since <= on_date
        and (h.until is None or h.until >= on_date)
    ]
    return StoreFacts(receipts, active)


def _range(lo: str, hi: str) -> ResourceRange:
    rtype, first = number_of(lo)
    return ResourceRange(rtype, first, number_of(hi)[1])


# -- every delegation -------------------------------------------------------------------------
def build_groups(
    table: DelegationTable,
    iana: Sequence[IanaBlock],
    as_of: dt.date,
    extra: StoreFacts | None = None,
    registries: Sequence[Registry] | None = None,
) -> tuple[list[Group], int]:
    """The delegated rows dated on or before ``as_of``, grouped by registry and type, with
    their facts; and how many delegated rows were left out as dated after ``as_of``."""
    limit = date_int(as_of)
    delegated = np.isin(table.status, DELEGATED)
    if registries is not None:
        delegated &= np.isin(table.registry, [REGISTRY_CODE[r] for r in registries])
    future = delegated & (table.date > limit)
    rows = np.flatnonzero(delegated & ~future)
    holder = _holder_codes(table, rows)
    order = np.lexsort((holder, table.type[rows], table.registry[rows]))
    rows, holder = rows[order], holder[order]
    iana_code, iana_legacy = iana_of_rows(table, rows, iana)
    facts = _RowFacts(table, rows, holder, iana_code, iana_legacy, limit)
    if extra is not None:
        facts.apply_store(extra)
    return facts.groups(), int(future.sum())


class _RowFacts:
    """Per-row fact columns of the selected rows, before they are cut into groups."""

    def __init__(
        self,
        table: DelegationTable,
        rows: I64,
        holder: I64,
        iana: npt.NDArray[np.int8],
        iana_legacy: Bools,
        limit: int,
    ) -> None:
        self.table, self.rows, self.holder, self.iana = table, rows, holder, iana
        dates = table.date[rows]
        founded = np.array([FOUNDED[r] for r in REGISTRIES], dtype=np.int32)
        self.legacy = iana_legacy | ((dates > 0) & (dates // 10000 < founded[table.registry[rows]]))
        self.holder_latest = _group_max(
            dates,
            table.registry[rows],
            table.type[rows],
            holder,
            table.has_opaque[rows] & (table.opaque_id[rows] != b""),
        )
        n = len(rows)
        self.received = np.zeros(n, dtype=np.int32)
        self.received_kind = np.full(n, -1, dtype=np.int8)
        self.dispute = np.zeros(n, dtype=bool)
        self.hold = np.zeros(n, dtype=bool)
        self.limit = limit

    def apply_store(self, extra: StoreFacts) -> None:
        """Receipts and holds: few, so a mask per record over the rows is cheap."""
        t, rows = self.table, self.rows
        for registry, holder, resource, day, kind in extra.receipts:
            if date_int(day) > self.limit:
                continue
            mask = (
                self._overlapping(resource)
                & (t.registry[rows] == REGISTRY_CODE[registry])
                & (t.opaque_id[rows] == holder.encode())
            )
            self.received[mask] = date_int(day)
            self.received_kind[mask] = KIND_CODES[kind]
        for kind_text, resource in extra.holds:
            mask = self._overlapping(resource)
            if kind_text == "dispute":
                self.dispute |= mask
            else:
                self.hold |= mask

    def _overlapping(self, resource: ResourceRange) -> Bools:
        t, rows = self.table, self.rows
        first_hi, first_lo = (
            np.uint64(resource.first >> 64),
            np.uint64(resource.first & (2**64 - 1)),
        )
        last_hi, last_lo = np.uint64(resource.last >> 64), np.uint64(resource.last & (2**64 - 1))
        fh, fl, lh, ll = (t.first_hi[rows], t.first_lo[rows], t.last_hi[rows], t.last_lo[rows])
        before_end = (fh < last_hi) | ((fh == last_hi) & (fl <= last_lo))
        after_start = (lh > first_hi) | ((lh == first_hi) & (ll >= first_lo))
        same_type = t.type[rows] == TYPE_CODE[resource.type]
        result: Bools = same_type & before_end & after_start
        return result

    def groups(self) -> list[Group]:
        t, rows = self.table, self.rows
        keys = t.registry[rows].astype(np.int64) * 8 + t.type[rows]
        bounds = np.flatnonzero(np.diff(keys)) + 1
        starts = np.concatenate(([0], bounds)).astype(np.int64)
        ends = np.concatenate((bounds, [len(rows)])).astype(np.int64)
        return [self._group(int(a), int(b)) for a, b in zip(starts, ends, strict=True) if b > a]

    def _group(self, a: int, b: int) -> Group:
        t = self.table
        rows = self.rows[a:b]
        rtype = RESOURCE_TYPES[int(t.type[rows[0]])]
        value = t.value[rows].astype(np.int64)
        columns = Columns(
            rtype=rtype,
            date=t.date[rows].astype(np.int32),
            received=self.received[a:b],
            received_kind=self.received_kind[a:b],
            holder_latest=self.holder_latest[a:b],
            legacy=self.legacy[a:b],
            dispute=self.dispute[a:b],
            hold=self.hold[a:b],
            first_hi=t.first_hi[rows],
            first_lo=t.first_lo[rows],
            last_hi=t.last_hi[rows],
            last_lo=t.last_lo[rows],
            value=value,
            iana=self.iana[a:b],
        )
        amount = np.ones(len(rows), dtype=np.int64) if rtype is ResourceType.IPV6 else value
        return Group(
            REGISTRIES[int(t.registry[rows[0]])],
            columns,
            self.holder[a:b],
            t.cc[rows],
            amount,
            rows.astype(np.int64),
        )


def _holder_codes(table: DelegationTable, rows: I64) -> I64:
    """Dense codes of (registry, opaque-id); every row without an id is its own holder."""
    salt = table.registry[rows].astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    _, codes = np.unique(id_hashes(table.opaque_id[rows]) ^ salt, return_inverse=True)
    codes = codes.reshape(-1).astype(np.int64)
    anonymous = ~table.has_opaque[rows] | (table.opaque_id[rows] == b"")
    codes[anonymous] = int(codes.max(initial=0)) + 1 + np.arange(int(anonymous.sum()))
    return codes


def _group_max(
    dates: I32,
    registry: npt.NDArray[np.uint8],
    rtype: npt.NDArray[np.uint8],
    holder: I64,
    known: Bools,
) -> I32:
    """Per row, the newest date among rows of the same registry, type and holder (rows are
    sorted by those keys); 0 for rows whose holder is unknown."""
    if not len(dates):
        return np.zeros(0, dtype=np.int32)
    keys = (registry.astype(np.int64) * 8 + rtype) * (int(holder.max()) + 1) + holder
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    maxima = np.maximum.reduceat(dates, starts)
    sizes = np.diff(np.concatenate((starts, [len(dates)])))
    result: I32 = np.where(known, np.repeat(maxima, sizes), 0).astype(np.int32)
    return result


def iana_of_rows(
    table: DelegationTable, rows: I64, blocks: Sequence[IanaBlock]
) -> tuple[npt.NDArray[np.int8], Bools]:
    """Per row, the RIR IANA gave the block containing its first number to (-1: none) and
    whether that block is LEGACY; the registries before the bootstrap files, as
    :func:`~rirport.services.transfers.facts.iana_block` prefers."""
    code = np.full(len(rows), -1, dtype=np.int8)
    legacy = np.zeros(len(rows), dtype=bool)
    types = table.type[rows]
    for rtype in ResourceType:
        mine = np.flatnonzero(types == TYPE_CODE[rtype])
        if rtype is ResourceType.IPV6:
            firsts = table.first_hi[rows[mine]]
        else:
            firsts = table.first_lo[rows[mine]]
        for source in reversed(SOURCES_BY_TYPE[rtype]):  # least preferred first
            chosen = [b for b in blocks if b.source == source and b.resource.type is rtype]
            _paint(chosen, rtype, firsts, mine, code, legacy)
    return code, legacy


def _paint(
    blocks: list[IanaBlock],
    rtype: ResourceType,
    firsts: npt.NDArray[np.uint64],
    where: I64,
    code: npt.NDArray[np.int8],
    legacy: Bools,
) -> None:
    """Give the rows inside one of ``blocks`` (disjoint) that block's RIR and status."""
    if not blocks or not len(where):
        return
    shift = 64 if rtype is ResourceType.IPV6 else 0
    blocks = sorted(blocks, key=lambda b: (b.resource.first, -b.resource.size))
    starts = np.array([b.resource.first >> shift for b in blocks], dtype=np.uint64)
    ends = np.array([b.resource.last >> shift for b in blocks], dtype=np.uint64)
    regs = np.array(
        [REGISTRIES.index(b.registry) if b.registry else -1 for b in blocks], dtype=np.int8
    )
    legacies = np.array([b.status.upper() == LEGACY for b in blocks], dtype=bool)
    idx = np.searchsorted(starts, firsts, side="right") - 1
    inside = (idx >= 0) & (firsts <= ends[np.maximum(idx, 0)])
    hit = idx[inside]
    code[where[inside]] = regs[hit]
    legacy[where[inside]] = legacies[hit]


# -- the run ---------------------------------------------------------------------------------
def run_portability(
    view: CurrentView,
    iana: Sequence[IanaBlock],
    regimes: Sequence[Regime],
    as_of: dt.date,
    store: Store | None = None,
    registries: Sequence[Registry] | None = None,
    failing: Sequence[Registry] = (),
) -> PortabilityReport:
    """The matrix for ``registries`` (all by default) and the failing-registry scenarios."""
    extra = store_facts(store, as_of) if store is not None else None
    groups, future = build_groups(view.table, iana, as_of, extra)
    wanted = set(REGISTRIES) if registries is None else set(registries)
    cells = matrix([g for g in groups if g.registry in wanted], regimes, as_of)
    scenarios = [
        row for registry in failing for row in failing_scenario(groups, regimes, registry, as_of)
    ]
    return PortabilityReport(
        as_of, [r.label for r in regimes], cells, scenarios, sum(len(g) for g in groups), future
    )
