"""``/events`` (change events seen between stored files) and ``/transfers`` (the transfers
rirport recorded), each filterable, with an Atom feed of the same list and a chart of the
net flows between registries per month."""

from __future__ import annotations

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from rirport.domain.enums import Registry
from rirport.domain.query import parse_query
from rirport.domain.resources import ResourceRange
from rirport.errors import InputError, QueryError
from rirport.query.events import EventEntry, filter_events, kinds, net_flows
from rirport.query.transfers import TransferRow, all_transfers, monthly_flows
from rirport.services.transfers.lifecycle import OPEN, STEPS
from rirport.web.context import Page
from rirport.web.feeds import Entry, atom, utc
from rirport.web.links import country_path, registry_path, resource_path
from rirport.web.pages.shared import facts
from rirport.web.tables import table

router = APIRouter()
SHOWN = 200
STATES = OPEN + tuple(dict.fromkeys(end for _, end in STEPS.values() if end not in OPEN))


def _registry(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return Registry.parse(text).value
    except ValueError as exc:
        raise InputError(f"registry: {exc}") from None


def _resource(text: str | None) -> ResourceRange | None:
    if not text:
        return None
    try:
        query = parse_query(text)
    except QueryError as exc:
        raise InputError(f"resource: {exc}") from None
    if query.resource is None:
        raise InputError("resource: give an address, prefix, range or AS number")
    return query.resource


async def _filtered(
    page: Page,
    registry: str | None,
    kind: str | None,
    type_: str | None,
    cc: str | None,
    resource: str | None,
) -> tuple[list[EventEntry], list[str]]:
    shared = facts(page)
    events = await shared.off_loop(shared.events())
    found = filter_events(
        events,
        _registry(registry),
        kind or None,
        type_ or None,
        (cc or "").upper() or None,
        _resource(resource),
    )
    return found, kinds(events)


@router.get("/events")
async def events_page(
    page: Page,
    registry: str | None = Query(None, max_length=20),
    kind: str | None = Query(None, max_length=20),
    type: str | None = Query(None, max_length=10),
    cc: str | None = Query(None, max_length=2),
    resource: str | None = Query(None, max_length=100),
) -> Response:
    found, all_kinds = await _filtered(page, registry, kind, type, cc, resource)
    t_events = table(
        "events",
        "Change events, newest first",
        ("seen", "kind", "registry", "type", "resource", "cc", "from", "to", "files"),
        [
            (
                e.seen.isoformat() if e.seen else None,
                e.kind,
                e.registry,
                e.type,
                e.resource_text,
                e.cc,
                e.from_registry,
                e.to_registry,
                f"{e.old_file} → {e.new_file}",
            )
            for e in found[:SHOWN]
        ],
        links={"resource": resource_path, "registry": registry_path, "cc": country_path},
    )
    counts: dict[tuple[str, str], int] = {}
    for e in found:
        key = ((e.seen.isoformat()[:7] if e.seen else e.month), e.kind)
        counts[key] = counts.get(key, 0) + 1
    t_counts = table(
        "per_month",
        "Events per month and kind",
        ("month", "kind", "events"),
        [(m, k, n) for (m, k), n in sorted(counts.items())],
        numeric=("events",),
    )
    t_flows = table(
        "flows",
        "Net flows: moves seen between registries, per month",
        ("month", "from", "to", "moves", "amount"),
        net_flows(found),
        numeric=("moves", "amount"),
    )
    return page.render(
        "events.html",
        title="Change events",
        kinds=all_kinds,
        total=len(found),
        shown=SHOWN,
        filters={
            "registry": registry or "",
            "kind": kind or "",
            "type": type or "",
            "cc": cc or "",
            "resource": resource or "",
        },
        data={"total": len(found), "events": [e.to_json() for e in found[:SHOWN]]},
        tables=[t_events, t_counts, t_flows],
    )


@router.get("/events.atom")
async def events_feed(
    page: Page,
    registry: str | None = Query(None, max_length=20),
    kind: str | None = Query(None, max_length=20),
    type: str | None = Query(None, max_length=10),
    cc: str | None = Query(None, max_length=2),
    resource: str | None = Query(None, max_length=100),
) -> Response:
    found, _ = await _filtered(page, registry, kind, type, cc, resource)
    entries = [
        Entry(
            f"urn:rirport:event:{e.id}",
            f"{e.kind}: {e.resource_text or e.registry}",
            f"{e.kind} at {e.registry} between {e.old_file} and {e.new_file}",
            resource_path(e.resource_text) if e.resource_text else "/events",
            utc(e.seen or e.recorded),
        )
        for e in found[:SHOWN]
    ]
    return atom(page.request, "rirport change events", "/events", entries)


@router.get("/transfers")
async def transfers_page(
    page: Page,
    state: str | None = Query(None, max_length=20),
    registry: str | None = Query(None, max_length=20),
) -> Response:
    rows = await _transfers(page, state, registry)
    t = table(
        "transfers",
        "Transfers rirport recorded, newest first",
        ("id", "state", "kind", "resource", "from", "to", "date", "regime", "outcome"),
        [
            (
                r.id,
                r.state,
                r.kind,
                r.resource,
                r.source_registry,
                r.recipient_registry,
                r.transfer_date.isoformat(),
                r.regime,
                (r.decision or {}).get("outcome"),
            )
            for r in rows
        ],
        numeric=("id",),
        links={"resource": resource_path, "from": registry_path, "to": registry_path},
    )
    t_flows = table(
        "flows",
        "Completed transfers between registries, per month",
        ("month", "from", "to", "transfers"),
        monthly_flows(rows),
        numeric=("transfers",),
    )
    return page.render(
        "transfers.html",
        title="Transfers",
        states=STATES,
        filters={"state": state or "", "registry": registry or ""},
        data={
            "transfers": [
                {
                    "id": r.id,
                    "state": r.state,
                    "kind": r.kind,
                    "resource": r.resource,
                    "from": r.source_registry,
                    "to": r.recipient_registry,
                    "date": r.transfer_date.isoformat(),
                    "regime": r.regime,
                    "decision": r.decision,
                }
                for r in rows
            ]
        },
        tables=[t, t_flows],
    )


@router.get("/transfers.atom")
async def transfers_feed(
    page: Page,
    state: str | None = Query(None, max_length=20),
    registry: str | None = Query(None, max_length=20),
) -> Response:
    rows = await _transfers(page, state, registry)
    entries = [
        Entry(
            f"urn:rirport:transfer:{r.id}",
            f"{r.state}: {r.resource} {r.source_registry} → {r.recipient_registry}",
            f"{r.kind} transfer of {r.resource}, {r.state}",
            resource_path(r.resource),
            utc(r.transfer_date),
        )
        for r in rows
    ]
    return atom(page.request, "rirport transfers", "/transfers", entries)


async def _transfers(page: Page, state: str | None, registry: str | None) -> list[TransferRow]:
    if state and state not in STATES:
        raise InputError(f"state: {state[:20]!r} is not one of {', '.join(STATES)}")
    wanted = _registry(registry)
    rows = await run_in_threadpool(all_transfers, page.live.store, (state,) if state else ())
    if wanted:
        rows = [r for r in rows if wanted in (r.source_registry, r.recipient_registry)]
    return list(reversed(rows))
