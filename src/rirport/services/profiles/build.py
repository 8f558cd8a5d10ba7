"""Profiles of every registry, holder, country, policy and document, built in bulk.

One run reads the current view, the IANA blocks, the two built-in regimes, rirport's own
transfers and holds, and the evidence (starter set plus the store's), aggregates every holder
at once (:mod:`rirport.profiles.holdings`) and then formats profiles on demand; so
``profile --all`` costs one aggregation however many holders there are.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rirport.domain.enums import REGISTRIES, Registry
from rirport.domain.table import TYPE_CODE, DelegationTable
from rirport.errors import NotFoundError
from rirport.policy.loader import load_regime
from rirport.policy.model import Regime
from rirport.profiles import builders, holdings
from rirport.profiles.builders import Context, FileRef, RuleFact, StoreItem
from rirport.profiles.model import Profile
from rirport.query.iana import load_iana
from rirport.query.view import CurrentView, load_current
from rirport.services.profiles.evidence import all_evidence
from rirport.services.transfers.portability import StoreFacts, build_groups, store_facts
from rirport.store.keys import number_of
from rirport.store.repos.events import EventRow
from rirport.store.unit import Store

REGIMES = ("current", "mandatory-portability")


@dataclass
class ProfileSet:
    """Every profile of one run, built on demand from one shared context."""

    context: Context

    def ids(self) -> Iterator[str]:
        ctx = self.context
        yield from (f"registry:{r.value}" for r in REGISTRIES)
        yield from (e.id for e in ctx.catalogue)
        yield from (f"country:{cc}" for cc in sorted(ctx.holdings.country_amount))
        yield from (
            f"holder:{REGISTRIES[int(r)].value}:{o}"
            for r, o in zip(ctx.holdings.registry.tolist(), ctx.holdings.opaque, strict=True)
        )

    def all(self, guard: bool = True) -> Iterator[Profile]:
        """Registries, policies and documents, countries, then every holder."""
        ctx = self.context
        for registry in REGISTRIES:
            yield builders.registry_profile(ctx, registry, guard)
        for entry in ctx.catalogue:
            yield builders.catalogue_profile(ctx, entry, guard)
        for cc in sorted(ctx.holdings.country_amount):
            yield builders.country_profile(ctx, cc, guard)
        yield from builders.holder_profiles(ctx, guard)

    def get(self, name: str) -> Profile:
        """A profile by id (``registry:arin``, ``holder:ripencc:ID``, ``country:ZA``,
        ``policy:current``) or by a plain name (``arin``, ``RIPE NCC``, ``ZA``, ``current``,
        ``ripencc:ID``).

        Raises:
            NotFoundError: no entity of that name in the current data or the catalogue.
        """
        ctx = self.context
        text = name.strip()
        kind, _, rest = text.partition(":")
        if kind == "registry" or (not rest and _registry(text)):
            registry = _registry(rest or text)
            if registry is not None:
                return builders.registry_profile(ctx, registry)
        for entry in ctx.catalogue:
            if text in (entry.id, entry.id.split(":", 1)[1]):
                return builders.catalogue_profile(ctx, entry)
        cc = rest if kind == "country" else text if len(text) == 2 and not rest else None
        if cc is not None and cc.upper() in ctx.holdings.country_amount:
            return builders.country_profile(ctx, cc.upper())
        holder = rest if kind == "holder" else text
        registry_text, _, opaque = holder.partition(":")
        registry = _registry(registry_text) if opaque else None
        if registry is not None:
            index = ctx.holdings.index().get((registry, opaque))
            if index is not None:
                return builders.holder_profile(ctx, index)
        raise NotFoundError(
            f"no profile for {name!r}: not a registry, country code in the "
            "current data, policy or document of the catalogue, or holder "
            "(registry:opaque-id) in the current files"
        )


def _registry(text: str) -> Registry | None:
    try:
        return Registry.parse(text)
    except ValueError:
        return None


def build_profiles(
    store: Store, as_of: dt.date, cache_dir: Path | None = None, view: CurrentView | None = None
) -> ProfileSet:
    """Gather everything once and return the set of profiles (see module doc)."""
    view = view or load_current(store, cache_dir)
    regimes = [load_regime(name) for name in REGIMES]
    extra = store_facts(store, as_of)
    groups, _ = build_groups(view.table, load_iana(store), as_of, extra)
    held = holdings.build(view.table, groups, regimes, as_of)
    evidence, catalogue = all_evidence(store)
    files = {Registry(s.registry): FileRef(s.file_name, s.snapshot_date) for s in view.snapshots}
    lines = {
        int(row): (REGISTRIES[int(view.table.registry[row])], int(view.table.line[row]))
        for row in held.first_row.tolist()
    }
    context = Context(
        as_of,
        [s.item for s in evidence],
        catalogue,
        held,
        files,
        lines,
        rule_facts(regimes),
        {r.name: (r.description, r.version, len(r.rules)) for r in regimes},
        store_items(store, view.table, extra),
    )
    return ProfileSet(context)


def rule_facts(regimes: list[Regime]) -> list[RuleFact]:
    return [
        RuleFact(
            regime.name,
            regime.path,
            rule.id,
            rule.registry,
            rule.direction.value,
            tuple(sorted(t.value for t in rule.types)),
            rule.effect.value,
            rule.reference,
            rule.confidence.value,
            rule.line,
        )
        for regime in regimes
        for rule in regime.rules
    ]


def store_items(store: Store, table: DelegationTable, facts: StoreFacts) -> list[StoreItem]:
    """rirport's transfers (every state) and the holds in force, as dated watch lines, with
    the registries and holders they touch."""
    with store.read() as uow:
        transfers = uow.transfers.all()
        holds = uow.holds.all()
    items = []
    for t in transfers:
        source, target = Registry(t.source_registry), Registry(t.recipient_registry)
        items.append(
            StoreItem(
                f"transfer {t.id} of {t.resource} from {source.label} holder {t.source_holder} to "
                f"{target.label} holder {t.recipient_holder} is {t.state}",
                t.transfer_date,
                (source, target),
                ((source, t.source_holder), (target, t.recipient_holder)),
                f"journal serial {t.updated_serial}",
            )
        )
    items += change_events(store)
    active = {str(r) for _, r in facts.holds}
    for h in holds:
        if h.resource not in active:
            continue
        registries, holders = _touching(table, h.lo, h.hi)
        items.append(
            StoreItem(
                f"{h.kind} on {h.resource}: {h.reason}",
                h.since,
                registries,
                holders,
                f"journal serial {h.created_serial}",
            )
        )
    return items


def _touching(
    table: DelegationTable, lo: str, hi: str
) -> tuple[tuple[Registry, ...], tuple[tuple[Registry, str], ...]]:
    """Registries and holders of the rows overlapping a stored range."""
    rtype, first = number_of(lo)
    last = number_of(hi)[1]
    fh, fl = np.uint64(first >> 64), np.uint64(first & (2**64 - 1))
    lh, ll = np.uint64(last >> 64), np.uint64(last & (2**64 - 1))
    before_end = (table.first_hi < lh) | ((table.first_hi == lh) & (table.first_lo <= ll))
    after_start = (table.last_hi > fh) | ((table.last_hi == fh) & (table.last_lo >= fl))
    rows = np.flatnonzero((table.type == TYPE_CODE[rtype]) & before_end & after_start)
    regs = tuple(dict.fromkeys(REGISTRIES[int(r)] for r in table.registry[rows]))
    holders = tuple(
        dict.fromkeys(
            (REGISTRIES[int(table.registry[r])], table.opaque_id[r].decode()) for r in rows
        )
    )
    return regs, holders


def change_events(store: Store) -> list[StoreItem]:
    """The change events stored by :mod:`rirport.services.monitoring.events`, counted per
    registry and kind (a registry profile lists how many of each, with the newest date).

    An event is dated by its snapshots — the date of the file it was first seen in — never by
    the day it was ingested: loading the 2014–2018 files today must not make their changes
    look like today's news.
    """
    counts: dict[tuple[Registry, str], int] = {}
    newest: dict[tuple[Registry, str], dt.date] = {}
    spans: dict[tuple[Registry, str], dt.date] = {}
    with store.read() as uow:
        snapshots = uow.snapshots.all()
        by_name = {s.file_name: s.snapshot_date for s in snapshots}
        by_id = {s.id: s.snapshot_date for s in snapshots}
        for chunk in uow.events.chunks():
            for event in chunk:
                seen, since = _event_dates(event, by_name, by_id)
                for name in {event.registry, event.from_registry, event.to_registry}:
                    registry = _registry(name) if name else None
                    if registry is None:
                        continue
                    key = (registry, event.kind)
                    counts[key] = counts.get(key, 0) + 1
                    newest[key] = max(newest.get(key, seen), seen)
                    spans[key] = min(spans.get(key, since), since)
    return [
        StoreItem(
            f"{n} change event(s) of kind {kind} recorded for {registry.label} between the "
            f"snapshots of {spans[registry, kind]} and {newest[registry, kind]}",
            newest[registry, kind],
            (registry,),
            (),
            "rirport events",
        )
        for (registry, kind), n in sorted(counts.items())
    ]


def _event_dates(
    event: EventRow, by_name: dict[str, dt.date], by_id: dict[int, dt.date]
) -> tuple[dt.date, dt.date]:
    """(date of the newer snapshot, date of the older one) an event was seen between; the
    snapshot that produced it when the body names no known file, its ingest day last."""
    fallback = by_id.get(event.snapshot_id or -1, event.created_at.date())
    names = json.loads(event.body).get("snapshots") or {}
    seen = by_name.get(names.get("to") or "", fallback)
    since = by_name.get(names.get("from") or "", seen)
    return seen, min(since, seen)
