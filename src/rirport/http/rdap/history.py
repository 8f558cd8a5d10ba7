"""RDAP history in the shape of APNIC's history extension (``history_version_0``).

``history/ip/{q}``, ``history/autnum/{n}`` and ``history/entity/{handle}`` answer
``{"rdapConformance", "notices", "records": [{"applicableFrom", "applicableUntil",
"content"}]}`` like ``rdap.apnic.net/history/ip/...`` (``shared/data/rdap/apnic``): one
record per stored version (:func:`rirport.query.history.timeline`), its content the RDAP
object as that version had it. For ip and autnum, the versions covering the whole query (as
``ip/`` answers the covering delegation), largest object first and each object's versions
oldest first, as APNIC orders them; for an entity, the versions of every resource it held
under any of its linked opaque-ids.

The statistics files carry days, not times: ``applicableFrom`` is the first file listing the
version (or the completed transfer that made it); ``applicableUntil`` the first later file
of its registry that no longer lists it (or the transfer that retired it), null while the
newest file still does.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from rirport.domain.delegation import Delegation
from rirport.domain.enums import ResourceType
from rirport.domain.query import Query, parse_query
from rirport.domain.resources import ResourceRange
from rirport.http.rdap import find, objects
from rirport.http.rdap.routes import MAX_RESULTS, answer, served, truncated, where
from rirport.http.responses import JSON, RDAP_JSON, HttpError, documented
from rirport.query.history import Period, timeline
from rirport.query.live import Served
from rirport.store.keys import key_of
from rirport.store.repos.transfers import TransferRow
from rirport.store.unit import Store

EXTENSION = "history_version_0"
router = APIRouter(
    prefix="/rdap/history",
    tags=["rdap"],
    responses=documented((RDAP_JSON, JSON), (400, 404, 406, 429), {"type": "object"}),
)
NOTICE = {
    "title": "History",
    "description": [
        "One record per version of a record in the stored statistics files. The files carry "
        "days: applicableFrom is the first file listing the version (or the transfer that made "
        "it), applicableUntil the first later file of its registry without it (or the transfer "
        "that retired it), null while the newest file lists it."
    ],
}


@router.get(
    "/ip/{query:path}",
    summary="Every version of the delegations covering an "
    "address or prefix (APNIC's history extension)",
)
def ip_history(request: Request, query: str) -> Response:
    resource = find.parse_ip(query)
    return _answer(
        request, f"history/ip/{query}", Query(query, resource=resource), _covering(resource)
    )


@router.get("/autnum/{asn}", summary="Every version of the AS-number delegation of n")
def autnum_history(request: Request, asn: str) -> Response:
    resource = find.parse_asn(asn)
    return _answer(
        request,
        f"history/autnum/{resource.first}",
        Query(asn, resource=resource),
        _covering(resource),
    )


@router.get("/entity/{handle}", summary="Every version of what a holder held")
def entity_history(request: Request, handle: str) -> Response:
    parsed = objects.parse_entity_handle(handle)
    if parsed is None:
        raise HttpError(404, f"no entity {handle[:100]!r}: handles are <opaque-id>-<REGISTRY>")
    opaque_id, registry = parsed
    store: Store = request.app.state.live.store
    for candidate in dict.fromkeys((opaque_id, opaque_id.lower(), opaque_id.upper())):
        query = parse_query(f"{registry.value}:{candidate}")
        periods = timeline(store, query)
        if periods:
            return _respond(request, f"history/entity/{handle}", periods)
    raise HttpError(404, f"no stored file names holder {opaque_id[:100]!r} in {registry.label}")


def _covering(resource: ResourceRange) -> Callable[[Delegation], bool]:
    def keep(d: Delegation) -> bool:
        r = d.resource
        return r.type is resource.type and r.first <= resource.first and (resource.last <= r.last)

    return keep


def _answer(
    request: Request, path: str, query: Query, keep: Callable[[Delegation], bool]
) -> Response:
    periods = [p for p in timeline(request.app.state.live.store, query) if keep(p.delegation)]
    if not periods:
        raise HttpError(404, f"no stored file lists a delegation covering {query.resource}")
    return _respond(request, path, periods)


def _respond(request: Request, path: str, periods: list[Period]) -> Response:
    s = served(request)
    w = where(request)
    context = f"{w.base}/{path}"
    nexts = _next_files(request.app.state.live.store)
    records = _ordered([(p.delegation, _record(p, s, w, context, nexts)) for p in periods])
    return answer(
        request,
        {"records": records[:MAX_RESULTS]},
        [NOTICE, *truncated(len(records))],
        (EXTENSION,),
    )


def _ordered(records: list[tuple[Delegation, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Largest object first, objects of one size by when they first applied; each object's
    versions oldest first (APNIC's order)."""
    first: dict[tuple[str, int, int], str] = {}
    for d, record in records:
        key = (d.registry.value, d.resource.first, d.resource.last)
        first[key] = min(first.get(key, record["applicableFrom"]), record["applicableFrom"])

    def order(item: tuple[Delegation, dict[str, Any]]) -> tuple[Any, ...]:
        d, record = item
        key = (d.registry.value, d.resource.first, d.resource.last)
        return (-d.resource.size, first[key], key, record["applicableFrom"])

    return [record for _, record in sorted(records, key=order)]


def _next_files(store: Store) -> dict[str, list[dt.date]]:
    """Each registry's snapshot dates, sorted (to find the first file after a version)."""
    with store.transaction() as uow:
        snapshots = uow.snapshots.all()
    dates: defaultdict[str, list[dt.date]] = defaultdict(list)
    for snap in snapshots:
        dates[snap.registry].append(snap.snapshot_date)
    return {registry: sorted(set(days)) for registry, days in dates.items()}


def _record(
    p: Period, s: Served, w: objects.Where, context: str, nexts: dict[str, list[dt.date]]
) -> dict[str, Any]:
    d = p.delegation
    moved = _transfer_date(s.transfers, d, p.change)
    start = moved if p.change == "transfer-added" and moved else p.first_seen.isoformat()
    until: str | None = None
    if p.change == "transfer-retired" and moved:
        until = moved
    else:
        days = nexts.get(d.registry.value, [])
        i = bisect.bisect_right(days, p.last_seen)
        until = days[i].isoformat() if i < len(days) else None
    dates = objects.Dates(start, [moved] if p.change == "transfer-added" and moved else [])
    source = [
        f"{d.registry.label} statistics files of {p.first_seen} to {p.last_seen} "
        f"({p.snapshots} file(s))"
    ]
    if p.holder is not None:
        source.append(f"holder {p.holder.key} ({p.holder.weakest or 'exact'})")
    build = objects.autnum_of if d.type is ResourceType.ASN else objects.network_of
    return {
        "applicableFrom": objects.stamp(start),
        "applicableUntil": objects.stamp(until) if until else None,
        "content": build(d, w, dates, source, context),
    }


def _transfer_date(transfers: list[TransferRow], d: Delegation, change: str | None) -> str | None:
    """The date of the completed transfer that added (or retired) this version."""
    if change is None:
        return None
    r = d.resource
    lo, hi = key_of(r.type, r.first), key_of(r.type, r.last)
    registry = d.registry.value
    dates = [
        t.transfer_date.isoformat()
        for t in transfers
        if t.lo <= hi
        and lo <= t.hi
        and (
            (t.recipient_registry if change == "transfer-added" else t.source_registry) == registry
        )
    ]
    return max(dates) if dates else None


__all__ = ["EXTENSION", "router"]
