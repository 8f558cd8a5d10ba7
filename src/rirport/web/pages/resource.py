"""The resource pages, ``/ip/<address|prefix|range>`` and ``/asn/<n>``: the registry of
record and its delegation, the holder and its other resources, where the record came from
(file and line, or the transfer that put it there), its timeline over every stored snapshot,
its change events, and where it could move under each regime (every rule that fired, the
conditions left, the RPKI finding)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from rirport.domain.enums import REGISTRIES
from rirport.domain.query import Query, parse_query
from rirport.domain.resources import ResourceRange
from rirport.errors import InputError, NotFoundError, QueryError
from rirport.policy.loader import builtin_names, load_builtin
from rirport.query.countries import country_name
from rirport.query.events import filter_events
from rirport.query.history import timeline
from rirport.query.lookup import Match
from rirport.query.parse import parse_asn_range
from rirport.services.transfers.evaluate import Evaluation, evaluate_transfer
from rirport.web.context import Page, PageContext
from rirport.web.links import (
    country_path,
    rdap_history_path,
    rdap_path,
    registry_path,
    resource_path,
)
from rirport.web.pages.shared import all_events, facts
from rirport.web.tables import Table, table

router = APIRouter()
OTHER_ROWS = 50


@router.get("/ip/{text:path}")
async def ip_page(page: Page, text: str) -> Response:
    try:
        query = parse_query(text)
    except QueryError as exc:
        raise InputError(f"{text[:100]!r} is not an address, prefix or range: {exc}") from None
    if query.resource is None or not query.resource.is_ip:
        raise InputError(f"{text[:100]!r} is not an IP address, prefix or range")
    return await _resource_page(page, query)


@router.get("/asn/{text}")
async def asn_page(page: Page, text: str) -> Response:
    resource = parse_asn_range(text)
    return await _resource_page(page, Query(str(resource), resource))


@dataclass(frozen=True)
class Move:
    regime: str
    to: str
    evaluation: Evaluation | None
    problem: str | None


async def _resource_page(page: PageContext, query: Query) -> Response:
    resource = query.resource
    assert resource is not None
    matches = page.served.lookup.find(query)
    if not matches:
        raise NotFoundError(
            f"no registry's newest file lists {resource}: it may be unallocated, reserved by "
            "IANA, or written differently (try the covering prefix)"
        )
    main = next((m for m in matches if m.relation in ("exact", "covering")), matches[0])
    facts = await run_in_threadpool(_facts, page, query, main, matches)
    shown = query.text if query.kind == "address" else str(resource)
    return page.render(
        "resource.html",
        title=f"{shown} — {main.delegation.registry.label}",
        shown=shown,
        data=facts["data"],
        tables=facts["tables"],
        main=main,
        resource=resource,
        moves=facts["moves"],
        holder=facts["holder"],
        transfers=facts["transfers"],
        rdap=rdap_path(main.delegation.resource),
        rdap_history=rdap_history_path(main.delegation.resource),
        country=country_name(main.delegation.cc),
        resource_path=resource_path,
    )


def _facts(page: PageContext, query: Query, main: Match, matches: list[Match]) -> dict[str, Any]:
    store = page.live.store
    served = page.served
    d = main.delegation
    shared = facts(page)
    holders = shared.get(shared.holders())
    stable = holders.holder(d.registry.value, d.opaque_id) if d.opaque_id else None
    others: list[Match] = []
    if d.opaque_id:
        _spelled, rows = served.lookup.holder(d.opaque_id, d.registry)
        others = [m for m in rows if m.delegation.resource != d.resource]
    periods = timeline(store, Query(str(d.resource), d.resource))
    events = filter_events(all_events(page), resource=d.resource)
    moves = _moves(page, d.resource)
    transfers = served.transfers.into(d)
    t_matches = table(
        "matches",
        "Every record answering the query",
        ("relation", "registry", "resource", "cc", "status", "date", "holder", "source"),
        [
            (
                m.relation,
                m.delegation.registry.value,
                str(m.delegation.resource),
                m.delegation.cc,
                m.delegation.status.value,
                m.delegation.date.isoformat() if m.delegation.date else None,
                m.delegation.opaque_id,
                f"{m.file_name}:{m.line}",
            )
            for m in matches
        ],
        links={"resource": resource_path, "registry": registry_path, "cc": country_path},
    )
    t_timeline = table(
        "timeline",
        "Every version of the record across the stored snapshots",
        ("registry", "status", "holder", "cc", "first seen", "last seen", "snapshots", "change"),
        [
            (
                p.delegation.registry.value,
                p.delegation.status.value,
                p.holder.key if p.holder else p.delegation.opaque_id,
                p.delegation.cc,
                p.first_seen.isoformat(),
                p.last_seen.isoformat(),
                p.snapshots,
                p.change,
            )
            for p in periods
        ],
        numeric=("snapshots",),
    )
    t_others = table(
        "holder_resources",
        "The holder's other resources at this registry",
        ("resource", "type", "cc", "status", "date"),
        [
            (
                str(m.delegation.resource),
                m.delegation.type.value,
                m.delegation.cc,
                m.delegation.status.value,
                m.delegation.date.isoformat() if m.delegation.date else None,
            )
            for m in others[:OTHER_ROWS]
        ],
        links={"resource": resource_path, "cc": country_path},
    )
    t_events = table(
        "events",
        "Change events touching it",
        ("seen", "kind", "registry", "resource", "from", "to", "files"),
        [
            (
                e.seen.isoformat() if e.seen else None,
                e.kind,
                e.registry,
                e.resource_text,
                e.from_registry,
                e.to_registry,
                f"{e.old_file} → {e.new_file}",
            )
            for e in events
        ],
    )
    t_moves = table(
        "moves",
        "Where it could move, under each regime",
        ("regime", "to", "outcome", "rules", "conditions", "rpki"),
        [
            (
                m.regime,
                m.to,
                m.evaluation.decision.outcome.value if m.evaluation else "cannot evaluate",
                " ".join(r.id for r in m.evaluation.decision.rules) if m.evaluation else m.problem,
                len(m.evaluation.decision.conditions) if m.evaluation else None,
                ("accepted" if m.evaluation.decision.rpki.accepted else "rejected")
                if m.evaluation
                else None,
            )
            for m in moves
        ],
        numeric=("conditions",),
    )
    data = {
        "query": query.text,
        "record": main.to_json(),
        "country": {"code": d.cc, "name": country_name(d.cc)},
        "holder": stable.to_json() if stable else None,
        "holder_resources": len(others),
        "transfers_into": [day.isoformat() for day in transfers],
        "matches": [m.to_json() for m in matches],
        "timeline": [p.to_json() for p in periods],
        "events": [e.to_json() for e in events],
        "moves": [
            {
                "regime": m.regime,
                "to": m.to,
                **(m.evaluation.decision.to_json() if m.evaluation else {"problem": m.problem}),
            }
            for m in moves
        ],
    }
    tables: list[Table] = [t_matches, t_timeline, t_others, t_events, t_moves]
    return {
        "data": data,
        "tables": tables,
        "moves": moves,
        "holder": stable,
        "transfers": transfers,
    }


def _moves(page: PageContext, resource: ResourceRange) -> list[Move]:
    served = page.served
    day: dt.date = page.today
    out = []
    for name in builtin_names():
        regime = load_builtin(name)
        for target in REGISTRIES:
            try:
                evaluation = evaluate_transfer(
                    page.live.store, served.view, served.iana, str(resource), target, regime, day
                )
            except (InputError, NotFoundError) as exc:
                out.append(Move(name, target.value, None, str(exc)))
                continue
            out.append(Move(name, target.value, evaluation, None))
    return out
