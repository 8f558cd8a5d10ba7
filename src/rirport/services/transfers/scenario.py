"""``rirport scenario exit``: a registry's holders leave it, as real transfers, in a copy.

The store is copied to a scratch SQLite file (the user's store is only read), the exiting
registry's delegated records are planned against the regime with the vectorised engine
(:mod:`rirport.policy.portability`), and every move the regime allows is applied to the copy
as a journaled transfer — request, approve, accept, complete, each step re-decided by the
scalar engine and journaled — then the registries are read back from the copy. RPKI findings
come from the relying-party constraints (:mod:`rirport.policy.rpki`): what validators would
reject of what moved, under the recipient's trust anchor.

Destinations (``--to-policy``): ``CC:RIR`` items send a country's records to a registry;
``nearest`` sends every other country to the registry that already holds the most delegated
records of that country (of the other four), and a country no other registry lists to the
one holding the most records of the exiting registry's countries taken together; ``*:RIR``
sends every other country to one registry. Without ``nearest`` or ``*``, records of a
country not listed stay where they are (reported as unrouted).
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.engine import make_url

from rirport.domain.enums import REGISTRIES, RESOURCE_TYPES, Registry, ResourceType
from rirport.domain.iana import IanaBlock
from rirport.domain.table import REGISTRY_CODE, DelegationTable
from rirport.domain.transfer import TransferKind, TransferRequest
from rirport.errors import ConflictError, InputError, NotFoundError, RirportError
from rirport.policy.loader import load_regime
from rirport.policy.portability import Group, row_outcomes
from rirport.policy.rpki import rejected_rows
from rirport.query.iana import load_iana
from rirport.query.view import CurrentView, load_current
from rirport.services.transfers.facts import DELEGATED
from rirport.services.transfers.lifecycle import advance_in, request_in
from rirport.services.transfers.portability import build_groups, store_facts
from rirport.store import schema
from rirport.store.unit import Store, UnitOfWork

NEAREST = "nearest"
BATCH = 50
"""Transfers whose four steps share one transaction (each step still its own entry)."""
_CC = re.compile(r"^[A-Z]{2}$")


@dataclass(frozen=True)
class ToPolicy:
    """Where each country's records go."""

    by_country: dict[str, Registry]
    default: Registry | str | None
    """A registry, :data:`NEAREST`, or None (countries not listed stay)."""
    text: str


def parse_to_policy(text: str, exiting: Registry) -> ToPolicy:
    """``nearest``, ``CC:RIR`` and ``*:RIR`` items, comma-separated.

    Raises:
        InputError: an item that is none of these, an unknown registry or country code, a
            country listed twice, or a destination that is the exiting registry.
    """
    items = [item.strip() for item in text.split(",")]
    if not any(items):
        raise InputError("--to-policy is empty: give nearest, CC:RIR items or both")
    by_country: dict[str, Registry] = {}
    default: Registry | str | None = None
    for item in items:
        if not item:
            raise InputError(f"--to-policy {text!r}: an empty item (two commas in a row?)")
        if item.lower() == NEAREST:
            if default is not None:
                raise InputError(f"--to-policy {text!r}: more than one default (nearest or *:RIR)")
            default = NEAREST
            continue
        cc, sep, name = item.partition(":")
        if not sep or not name.strip():
            raise InputError(
                f"--to-policy item {item!r}: expected nearest or CC:RIR (e.g. ZA:ripencc)"
            )
        try:
            registry = Registry.parse(name)
        except ValueError as exc:
            raise InputError(f"--to-policy item {item!r}: {exc}") from None
        if registry is exiting:
            raise InputError(
                f"--to-policy item {item!r}: {registry.label} is the registry being left"
            )
        cc = cc.strip().upper()
        if cc == "*":
            if default is not None:
                raise InputError(f"--to-policy {text!r}: more than one default (nearest or *:RIR)")
            default = registry
        elif not _CC.match(cc):
            raise InputError(f"--to-policy item {item!r}: {cc!r} is not a two-letter country code")
        elif cc in by_country:
            raise InputError(f"--to-policy {text!r}: {cc} is listed twice")
        else:
            by_country[cc] = registry
    return ToPolicy(by_country, default, text)


def destinations(
    table: DelegationTable, rows: np.ndarray[Any, Any], policy: ToPolicy, exiting: Registry
) -> list[Registry | None]:
    """The destination of each of ``rows`` (None: its country is not routed)."""
    ccs = [c.decode() for c in table.cc[rows]]
    nearest = _nearest(table, set(ccs), exiting) if policy.default == NEAREST else {}
    out: list[Registry | None] = []
    for cc in ccs:
        if cc in policy.by_country:
            out.append(policy.by_country[cc])
        elif isinstance(policy.default, Registry):
            out.append(policy.default)
        elif policy.default == NEAREST:
            out.append(nearest[cc])
        else:
            out.append(None)
    return out


def _nearest(table: DelegationTable, ccs: set[str], exiting: Registry) -> dict[str, Registry]:
    """Per country: the other registry listing the most delegated records of it (ties: the
    first in the registries' order); a country none lists goes to the registry listing the
    most records of all these countries."""
    delegated = np.isin(table.status, DELEGATED) & (table.registry != REGISTRY_CODE[exiting])
    regs, codes = table.registry[delegated], table.cc[delegated]
    counts: dict[str, Counter[int]] = {cc: Counter() for cc in ccs}
    wanted = np.isin(codes, np.array([c.encode() for c in ccs], dtype="S2"))
    for reg, cc in zip(regs[wanted].tolist(), codes[wanted].tolist(), strict=True):
        counts[cc.decode()][reg] += 1
    overall: Counter[int] = Counter()
    for c in counts.values():
        overall.update(c)
    others = [REGISTRY_CODE[r] for r in REGISTRIES if r is not exiting]
    fallback = max(others, key=lambda r: (overall[r], -others.index(r)))
    return {
        cc: REGISTRIES[max(others, key=lambda r: (c[r], -others.index(r))) if c else fallback]
        for cc, c in counts.items()
    }


# -- the scratch copy --------------------------------------------------------------------------
@contextmanager
def scratch_copy(source: Store, folder: Path | None = None) -> Iterator[Store]:
    """A copy of ``source`` in a temporary SQLite file, removed afterwards (in ``folder``
    when given). A SQLite store is copied with SQLite's online backup (a consistent copy,
    never a write to the source); any other is copied table by table in one read
    transaction."""
    with tempfile.TemporaryDirectory(prefix="rirport-scenario-", dir=folder) as tmp:
        path = Path(tmp) / "scratch.sqlite"
        url = make_url(source.url)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            src = sqlite3.connect(f"file:{url.database}?mode=ro", uri=True)
            dst = sqlite3.connect(path)
            try:
                src.backup(dst)
            finally:
                src.close()
                dst.close()
            scratch = Store(f"sqlite:///{path}")
        else:
            scratch = Store(f"sqlite:///{path}")
            _copy_tables(source, scratch)
        try:
            yield scratch
        finally:
            scratch.close()


def _copy_tables(source: Store, target: Store) -> None:
    """Every table's rows from ``source`` into the freshly migrated ``target``."""
    with source.read() as src, target.transaction() as dst:
        for table in reversed(schema.metadata.sorted_tables):
            dst.connection.execute(table.delete())
        for table in schema.metadata.sorted_tables:
            cursor = src.connection.execute(select(table)).mappings()
            while chunk := cursor.fetchmany(20_000):
                dst.connection.execute(insert(table), [dict(r) for r in chunk])


# -- the report ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Holdings:
    """A registry's delegated records: how many, and IPv4 addresses, IPv6 prefixes, ASNs."""

    registry: Registry
    records: int
    ipv4: int
    ipv6: int
    asn: int

    def to_json(self) -> dict[str, Any]:
        return {
            "registry": self.registry.value,
            "records": self.records,
            "ipv4_addresses": self.ipv4,
            "ipv6_prefixes": self.ipv6,
            "asns": self.asn,
        }


@dataclass
class Flow:
    """What went to one registry, of one type: records, amount, what RPKI would reject."""

    to: Registry
    type: ResourceType
    records: int = 0
    amount: int = 0
    rpki_rejected: int = 0
    rpki_rejected_records: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "to": self.to.value,
            "type": self.type.value,
            "records": self.records,
            "amount": self.amount,
            "rpki_rejected": self.rpki_rejected,
            "rpki_rejected_records": self.rpki_rejected_records,
        }


@dataclass
class ExitReport:
    registry: Registry
    regime: str
    policy: str
    as_of: dt.date
    delegated: int = 0
    moved: int = 0
    journal_entries: int = 0
    not_allowed: Counter[str] = field(default_factory=Counter)
    """Records the regime did not allow, by outcome (refused, conditional)."""
    unrouted: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    """(resource, reason) of moves a step refused or that could not be made."""
    before: list[Holdings] = field(default_factory=list)
    after: list[Holdings] = field(default_factory=list)
    flows: list[Flow] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def transfers_per_second(self) -> float:
        took = self.seconds.get("moves", 0.0)
        return self.moved / took if took else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "registry": self.registry.value,
            "regime": self.regime,
            "to_policy": self.policy,
            "as_of": self.as_of.isoformat(),
            "delegated": self.delegated,
            "moved": self.moved,
            "journal_entries": self.journal_entries,
            "not_allowed": dict(sorted(self.not_allowed.items())),
            "unrouted": self.unrouted,
            "failed": [{"resource": r, "reason": why} for r, why in self.failed],
            "before": [h.to_json() for h in self.before],
            "after": [h.to_json() for h in self.after],
            "moves": [f.to_json() for f in self.flows],
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
            "transfers_per_second": round(self.transfers_per_second, 1),
        }


def holdings(view: CurrentView) -> list[Holdings]:
    """Each registry's delegated records in ``view`` (registries with none left out)."""
    t = view.table
    delegated = np.isin(t.status, DELEGATED)
    out = []
    for registry in REGISTRIES:
        mine = delegated & (t.registry == REGISTRY_CODE[registry])
        if not mine.any():
            continue
        amounts = {}
        for code, rtype in enumerate(RESOURCE_TYPES):
            of_type = mine & (t.type == code)
            amounts[rtype] = (
                int(of_type.sum())
                if rtype is ResourceType.IPV6
                else int(t.value[of_type].astype(np.int64).sum())
            )
        out.append(
            Holdings(
                registry,
                int(mine.sum()),
                amounts[ResourceType.IPV4],
                amounts[ResourceType.IPV6],
                amounts[ResourceType.ASN],
            )
        )
    return out


# -- the run ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Move:
    row: int
    request: TransferRequest
    rejected: bool
    amount: int


def run_exit(
    store: Store,
    exiting: Registry,
    regime: str,
    policy: ToPolicy,
    actor: str,
    *,
    folder: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ExitReport:
    """Copy ``store``, move every record of ``exiting`` the regime allows to its destination
    as journaled transfers in the copy, and report (the copy is removed at the end).

    Raises:
        InputError: an unknown regime, or a store in which ``exiting`` has no snapshot.
    """
    loaded = load_regime(regime)
    started = time.perf_counter()
    with scratch_copy(store, folder) as scratch:
        copied = time.perf_counter()
        view, iana = load_current(scratch), load_iana(scratch)
        snap = next((s for s in view.snapshots if s.registry == exiting.value), None)
        if snap is None:
            raise InputError(
                f"{exiting.label} has no snapshot in this store: ingest its file first"
            )
        as_of = max(s.snapshot_date for s in view.snapshots)
        report = ExitReport(exiting, loaded.name, policy.text, as_of, before=holdings(view))
        loaded_at = time.perf_counter()
        moves = _plan(scratch, view, iana, exiting, loaded, policy, as_of, report)
        planned = time.perf_counter()
        serial_before = _serial(scratch)
        _apply(scratch, view, iana, moves, regime, actor, report, progress)
        report.journal_entries = _serial(scratch) - serial_before
        moved = time.perf_counter()
        after = {h.registry: h for h in holdings(load_current(scratch))}
        report.after = [
            after.get(h.registry, Holdings(h.registry, 0, 0, 0, 0)) for h in report.before
        ] + [h for r, h in after.items() if r not in {b.registry for b in report.before}]
        done = time.perf_counter()
    report.seconds = {
        "copy": copied - started,
        "load": loaded_at - copied,
        "plan": planned - loaded_at,
        "moves": moved - planned,
        "read_back": done - moved,
        "total": done - started,
    }
    return report


def _serial(store: Store) -> int:
    with store.read() as uow:
        return uow.meta.generation()


def _plan(
    store: Store,
    view: CurrentView,
    iana: Sequence[IanaBlock],
    exiting: Registry,
    regime: Any,
    policy: ToPolicy,
    as_of: dt.date,
    report: ExitReport,
) -> list[Move]:
    """The moves the regime allows, with the RPKI finding of each destination counted."""
    t = view.table
    groups, _ = build_groups(t, iana, as_of, store_facts(store, as_of), [exiting])
    flows: dict[tuple[Registry, ResourceType], Flow] = {}
    moves: list[Move] = []
    for group in groups:
        report.delegated += len(group)
        targets = destinations(t, group.rows, policy, exiting)
        report.unrouted += sum(1 for d in targets if d is None)
        for target in sorted({d for d in targets if d is not None}, key=REGISTRIES.index):
            mine = np.array([d is target for d in targets], dtype=bool)
            outcome = row_outcomes(group, regime, target, as_of)
            rejected = rejected_rows(target, group.columns)
            for code, name in ((1, "conditional"), (2, "refused")):
                report.not_allowed[name] += int((mine & (outcome == code)).sum())
            allowed = mine & (outcome == 0)
            flow = flows.setdefault((target, group.rtype), Flow(target, group.rtype))
            moves += _moves(view, group, allowed, rejected, target, as_of)
            flow.records += int(allowed.sum())
            flow.amount += int(group.amount[allowed].sum())
            flow.rpki_rejected += int(group.amount[allowed & rejected].sum())
            flow.rpki_rejected_records += int((allowed & rejected).sum())
    report.flows = sorted(
        flows.values(), key=lambda f: (REGISTRIES.index(f.to), RESOURCE_TYPES.index(f.type))
    )
    return sorted(moves, key=lambda m: m.row)


def _moves(
    view: CurrentView,
    group: Group,
    allowed: np.ndarray[Any, Any],
    rejected: np.ndarray[Any, Any],
    target: Registry,
    as_of: dt.date,
) -> list[Move]:
    t = view.table
    out = []
    for i in np.flatnonzero(allowed).tolist():
        row = int(group.rows[i])
        d = t.row(row)
        holder = d.opaque_id or ""
        request = TransferRequest(
            d.resource,
            d.registry,
            holder,
            target,
            holder,
            TransferKind.INTER_RIR,
            max(as_of, d.date or as_of),
        )
        out.append(Move(row, request, bool(rejected[i]), int(group.amount[i])))
    return out


def _apply(
    store: Store,
    view: CurrentView,
    iana: Sequence[IanaBlock],
    moves: Sequence[Move],
    regime: str,
    actor: str,
    report: ExitReport,
    progress: Callable[[int, int], None] | None,
) -> None:
    """Each move's four steps, :data:`BATCH` moves to a transaction; a batch in which a
    move fails is rolled back and made again one transaction per step, so one bad move
    costs only itself."""
    done = 0
    for at in range(0, len(moves), BATCH):
        batch = moves[at : at + BATCH]
        try:
            with store.transaction() as uow:
                results = [_lifecycle(uow, view, iana, m, regime, actor) for m in batch]
        except RirportError:
            results = [_one(store, view, iana, m, regime, actor) for m in batch]
        for move, why in zip(batch, results, strict=True):
            if why is None:
                report.moved += 1
            else:
                report.failed.append((str(move.request.resource), why))
        done += len(batch)
        if progress is not None:
            progress(done, len(moves))
    if report.failed:  # the plan counted them as moved
        _uncount(report, [m for m in moves if str(m.request.resource) in dict(report.failed)])


def _lifecycle(
    uow: UnitOfWork,
    view: CurrentView,
    iana: Sequence[IanaBlock],
    move: Move,
    regime: str,
    actor: str,
) -> str | None:
    """Request, approve, accept and complete one move; the reason it stopped, or None."""
    step = request_in(uow, view, move.request, regime, actor, iana)
    if step.transfer.state == "rejected":
        return "refused when requested"
    for name in ("approve", "accept", "complete"):
        step = advance_in(uow, view, step.transfer.id, name, actor, iana, conditions_met=True)
        if step.transfer.state == "rejected":
            return f"refused at {name}"
    return None


def _one(
    store: Store,
    view: CurrentView,
    iana: Sequence[IanaBlock],
    move: Move,
    regime: str,
    actor: str,
) -> str | None:
    """One move, each step in its own transaction (after its batch failed)."""
    try:
        with store.transaction() as uow:
            step = request_in(uow, view, move.request, regime, actor, iana)
        if step.transfer.state == "rejected":
            return "refused when requested"
        for name in ("approve", "accept", "complete"):
            with store.transaction() as uow:
                step = advance_in(
                    uow, view, step.transfer.id, name, actor, iana, conditions_met=True
                )
            if step.transfer.state == "rejected":
                return f"refused at {name}"
    except (ConflictError, InputError, NotFoundError) as exc:
        return str(exc)
    return None


def _uncount(report: ExitReport, failed: Sequence[Move]) -> None:
    flows = {(f.to, f.type): f for f in report.flows}
    for move in failed:
        flow = flows[(move.request.recipient, move.request.resource.type)]
        flow.records -= 1
        flow.amount -= move.amount
        if move.rejected:
            flow.rpki_rejected -= move.amount
            flow.rpki_rejected_records -= 1


__all__ = ["ExitReport", "ToPolicy", "parse_to_policy", "run_exit"]
