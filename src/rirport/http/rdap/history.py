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

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from rirport.domain.delegation import Delegation
from rirport.domain.enums import ResourceType
from rirport.http.rdap import objects
from rirport.http.rdap.routes import MAX_RESULTS, answer, live, served, truncated, where
from rirport.http.responses import JSON, RDAP_JSON, documented
from rirport.query.history import Version, covering_versions, holder_versions
from rirport.query.parse import parse_asn, parse_ip
from rirport.query.transfers import ADDED, CompletedTransfers

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
    versions = covering_versions(live(request).store, parse_ip(query), served(request).transfers)
    return _respond(request, f"history/ip/{query}", versions)


@router.get("/autnum/{asn}", summary="Every version of the AS-number delegation of n")
def autnum_history(request: Request, asn: str) -> Response:
    resource = parse_asn(asn)
    versions = covering_versions(live(request).store, resource, served(request).transfers)
    return _respond(request, f"history/autnum/{resource.first}", versions)


@router.get("/entity/{handle}", summary="Every version of what a holder held")
def entity_history(request: Request, handle: str) -> Response:
    opaque_id, registry = objects.entity_of_handle(handle)
    _, versions = holder_versions(
        live(request).store, registry, opaque_id, served(request).transfers
    )
    return _respond(request, f"history/entity/{handle}", versions)


def _respond(request: Request, path: str, versions: list[Version]) -> Response:
    """The records of ``versions`` in APNIC's order; only the first :data:`MAX_RESULTS` are
    built (the order needs no record: a holder's thousands of versions cost what the shown
    ones do)."""
    w = where(request)
    context = f"{w.base}/{path}"
    transfers = served(request).transfers
    shown = _ordered(versions)[:MAX_RESULTS]
    return answer(
        request,
        {"records": [_record(v, w, context, transfers) for v in shown]},
        [NOTICE, *truncated(len(versions))],
        (EXTENSION,),
    )


def _ordered(versions: list[Version]) -> list[Version]:
    """Largest object first, objects of one size by when they first applied; each object's
    versions oldest first (APNIC's order)."""

    def key_of(d: Delegation) -> tuple[str, int, int]:
        return (d.registry.value, d.resource.first, d.resource.last)

    first: dict[tuple[str, int, int], str] = {}
    for v in versions:
        key, start = key_of(v.period.delegation), _stamp_from(v)
        first[key] = min(first.get(key, start), start)

    def order(v: Version) -> tuple[Any, ...]:
        d = v.period.delegation
        key = key_of(d)
        return (-d.resource.size, first[key], key, _stamp_from(v))

    return sorted(versions, key=order)


def _stamp_from(v: Version) -> str:
    """The record's ``applicableFrom`` (what :func:`_record` writes)."""
    return objects.stamp(v.applicable_from.isoformat())


def _record(
    v: Version, w: objects.Where, context: str, transfers: CompletedTransfers
) -> dict[str, Any]:
    p = v.period
    d = p.delegation
    start = v.applicable_from.isoformat()
    dates = objects.Dates(start, [v.transferred.isoformat()] if v.transferred else [])
    source = [
        f"{d.registry.label} statistics files of {p.first_seen} to {p.last_seen} "
        f"({p.snapshots} file(s))"
    ]
    transfer = transfers.by_serial.get(p.transfer_serial) if p.transfer_serial else None
    if transfer is not None:
        made = "made" if p.change == ADDED else "ended"
        source = [
            f"{made} by rirport transfer #{transfer.id} (journal serial "
            f"{transfer.updated_serial}), transfer date {transfer.transfer_date.isoformat()}"
        ]
        if p.change == ADDED:
            source += [
                f"Origin: {o.file_name}, line {o.line}: {o.record}"
                for o in transfers.origins(transfer.updated_serial, d)
            ]
    if p.holder is not None:
        source.append(f"holder {p.holder.key} ({p.holder.weakest or 'exact'})")
    build = objects.autnum_of if d.type is ResourceType.ASN else objects.network_of
    return {
        "applicableFrom": objects.stamp(start),
        "applicableUntil": (
            objects.stamp(v.applicable_until.isoformat()) if v.applicable_until else None
        ),
        "content": build(d, w, dates, source, context),
    }


__all__ = ["EXTENSION", "router"]
