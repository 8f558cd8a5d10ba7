"""The RDAP endpoints under ``/rdap/``: lookups, searches, help, bootstrap files.

Handlers are ``async`` and short: a lookup is an index search of a few microseconds, so a
thread hop would cost more than the work. They parse the path (:mod:`rirport.query.parse`),
ask the read side (:mod:`rirport.query.lookup`, :mod:`rirport.query.search`) and render
(:mod:`rirport.http.rdap.objects`); what goes wrong is an error of :mod:`rirport.errors`, which
:mod:`rirport.http.errors` turns into an RDAP error object.
"""

from __future__ import annotations

import asyncio
import functools
import weakref
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response
from starlette.types import Scope

from rirport.domain.enums import REGISTRIES, Registry, ResourceType
from rirport.errors import InputError, NotFoundError, UnsupportedQueryError
from rirport.http.config import HttpConfig
from rirport.http.middleware import rate_notice
from rirport.http.ratelimit import TokenBuckets
from rirport.http.rdap import asof, objects
from rirport.http.rdap.bootstrap import (
    FILES,
    bootstrap_body,
    dns_file,
    object_tags,
    registry_entries,
)
from rirport.http.responses import (
    CONFORMANCE,
    JSON,
    RDAP_JSON,
    BodyResponse,
    HttpError,
    documented,
    dumps,
    json_response,
    negotiate,
)
from rirport.query.live import LiveIndex, Served
from rirport.query.lookup import Match, linked_holder
from rirport.query.parse import parse_asn, parse_asn_range, parse_ip
from rirport.query.search import (
    RELATIONS,
    SEARCH_LIMIT,
    Found,
    Hits,
    autnums_exactly,
    networks_by_first_cidr,
    networks_by_handle,
    relation_hits,
)

T = TypeVar("T")
router = APIRouter(
    prefix="/rdap",
    tags=["rdap"],
    responses=documented((RDAP_JSON, JSON), (400, 404, 406, 422, 429, 501), {"type": "object"}),
)
MAX_RESULTS = SEARCH_LIMIT
"""Search results (and an entity's networks) past this are cut, with a registered
truncation notice (RFC 9083 §4.8, §10.2.1)."""

TERMS = {
    "title": "About this service",
    "description": [
        "rirport serves the five RIRs' public statistics files as one RDAP service. Each object "
        "says in its remarks which file and line it was read from."
    ],
}
SEMANTICS = {
    "title": "Query semantics",
    "description": [
        "ip/{address} and ip/{prefix} answer the smallest delegation, in any registry, that "
        "covers the whole query (the prefix itself when a registry lists exactly it).",
        "autnum/{n} answers the AS-number record or range holding n.",
        "entity/{handle}: a holder, handle <opaque-id>-<REGISTRY>; network handles are "
        "<start>-<value>-<REGISTRY>, autnum handles AS<n> or AS<n>-AS<m>.",
        "Searches: ips?handle=, ips?name=, autnums?handle=, autnums?name=, entities?handle= "
        "(exact match), and ips/rirSearch1/{rdap-up|rdap-down|rdap-top|rdap-bottom}/"
        "{address or prefix}, autnums/rirSearch1/{rdap-up|rdap-top|…}/{n} (RFC 9910; "
        "?status=active for the active hierarchy only), at most 1000 results a search.",
        "Bootstrap files (RFC 9224) with transfers included: bootstrap/ipv4.json, ipv6.json, "
        "asn.json, object-tags.json.",
        "?as-of=YYYY-MM-DD on ip/, autnum/ and entity/: the object as each registry's newest "
        "file on or before that day had it (a Snapshot notice names the files).",
        "history/ip/{address or prefix}, history/autnum/{n}, history/entity/{handle}: every "
        "version the stored files show, in the shape of APNIC's history extension "
        "(history_version_0).",
    ],
}


AS_OF = {
    "parameters": [
        {
            "name": asof.PARAM,
            "in": "query",
            "required": False,
            "description": "YYYY-MM-DD: answer from each registry's newest file "
            "on or before that day",
            "schema": {"type": "string"},
        }
    ]
}
"""``?as-of=`` in the OpenAPI description (the handlers read it themselves: the fast path
calls them without FastAPI's parameter machinery)."""


# -- plumbing -------------------------------------------------------------------------------
def live(request: Request) -> LiveIndex:
    result: LiveIndex = request.app.state.live
    return result


def served(request: Request) -> Served:
    return live(request).served


def config(request: Request) -> HttpConfig:
    result: HttpConfig = request.app.state.config
    return result


def where(request: Request) -> objects.Where:
    """Self links' base: the configured public URL, else scheme and Host of the request."""
    return where_in(config(request), request.scope)


def where_in(cfg: HttpConfig, scope: Scope) -> objects.Where:
    """:func:`where` of a request's scope (the fast lane has no :class:`Request`)."""
    base = cfg.public_url
    if base is None:  # the Gate let through only a well-formed (and allowed) Host
        host = next((v for k, v in scope["headers"] if k == b"host"), b"localhost")
        return _where_of(scope.get("scheme", "http"), host, scope.get("root_path", ""))
    return _where(base)


@functools.lru_cache(maxsize=256)
def _where_of(scheme: str, host: bytes, root_path: str) -> objects.Where:
    """The base of a request's links (cached, bounded: a server sees few distinct Hosts)."""
    return _where(f"{scheme}://{host.decode('latin-1')}{root_path}")


def _where(base: str) -> objects.Where:
    return objects.Where(base.rstrip("/") + "/rdap")


def answer(
    request: Request,
    body: dict[str, Any],
    notices: list[dict[str, Any]] | None = None,
    extensions: tuple[str, ...] = (),
) -> Response:
    """Top-level members every response carries, then the media type the client asked for."""
    return json_response(_full(request, body, notices, extensions), _media(request))


def _full(
    request: Request,
    body: dict[str, Any],
    notices: list[dict[str, Any]] | None = None,
    extensions: tuple[str, ...] = (),
) -> dict[str, Any]:
    return envelope(request.app.state.log_reader.mirror_notice(), body, notices, extensions)


def envelope(
    mirrored: dict[str, Any] | None,
    body: dict[str, Any],
    notices: list[dict[str, Any]] | None = None,
    extensions: tuple[str, ...] = (),
) -> dict[str, Any]:
    """``body`` with the conformance and notices every answer carries (``mirrored``: the
    mirror's notice, or None for a publisher)."""
    extra = [TERMS, *notices] if notices else [TERMS]
    if mirrored is not None:
        extra.append(mirrored)
    conformance = [*extensions, *CONFORMANCE] if extensions else CONFORMANCE[:]
    if body.get("objectClassName") == "autnum":
        conformance.append("nro_rdap_profile_asn_flat_0")
    return {"rdapConformance": conformance, **body, "notices": extra}


def _media(request: Request) -> str:
    return media_of(request.scope)


def media_of(scope: Scope) -> str:
    """The RDAP media type the request's (first) ``Accept`` asks for."""
    accept = next((v for k, v in scope["headers"] if k == b"accept"), None)
    return negotiate(accept.decode("latin-1") if accept else None, rdap=True) or RDAP_JSON


def _dates(s: Served, m: Match) -> objects.Dates:
    moved = [day.isoformat() for day in s.transfers.into(m.delegation)] if s.transfers else []
    return objects.Dates(s.snapshot(m.snapshot_id).snapshot_date.isoformat(), moved)


def object_of(s: Served, m: Match, w: objects.Where, asn: int | None = None) -> dict[str, Any]:
    """The RDAP object of a match; ``asn``: the AS number an ``autnum/`` lookup asked for
    (a multi-ASN record then answers as that number, see :func:`objects.autnum_of`)."""
    d = m.delegation
    if d.type is ResourceType.ASN:
        return objects.autnum_of(d, w, _dates(s, m), _source(s, m), only=asn)
    return objects.network_of(d, w, _dates(s, m), _source(s, m))


def _source(s: Served, m: Match) -> list[str]:
    """The ``Source`` remark: the file and line a record was read from — or, for a row a
    completed transfer made, that transfer (its journal serial and date), with the line of
    the original file it was moved or split from kept as its origin."""
    transfer = s.transfers.by_serial.get(m.transfer_serial) if m.transfer_serial else None
    if transfer is None:
        return objects.source_remark(m)
    lines = [
        f"rirport transfer #{transfer.id} (journal serial {transfer.updated_serial}), "
        f"transfer date {transfer.transfer_date.isoformat()}: "
        f"{Registry(transfer.source_registry).label} to "
        f"{Registry(transfer.recipient_registry).label}"
    ]
    lines += [
        f"Origin: {Registry(o.registry).label} statistics file {o.file_name}, line {o.line}: "
        f"{o.record}"
        for o in s.transfers.origins(transfer.updated_serial, m.delegation)
    ]
    return lines


def _has_query(request: Request) -> bool:
    """The request has a query string (``as-of``, say): read from the scope, since parsing it
    into ``request.query_params`` costs a tenth of a plain lookup."""
    return bool(request.scope.get("query_string"))


def _redirect(request: Request, registry: Registry, path: str) -> Response | None:
    """302 to the registry's own server in redirect mode (not for as-of: they keep no
    history to answer it)."""
    target = config(request).redirects.get(registry)
    if target is None or asof.PARAM in request.query_params:
        return None
    return RedirectResponse(f"{target.rstrip('/')}/{path}", status_code=302)


# -- lookups --------------------------------------------------------------------------------
@router.get("/help", summary="What this server answers and how")
async def help_(request: Request) -> Response:
    notices = [SEMANTICS]
    buckets: TokenBuckets = request.app.state.buckets
    if buckets.enabled:
        notices.append(rate_notice(buckets))
    return answer(request, {}, notices)  # no top-level links: RFC 9083 §7 gives help none


@router.get(
    "/ip/{query:path}",
    summary="The smallest delegation covering an address or prefix",
    openapi_extra=AS_OF,
)
async def ip(request: Request, query: str) -> Response:
    resource = parse_ip(query)
    s, notices = await asof.view_for(request) if _has_query(request) else (served(request), [])
    m = s.lookup.smallest_covering(resource)
    return _redirect(request, m.delegation.registry, f"ip/{query}") or answer(
        request, object_of(s, m, where(request)), notices
    )


@router.get(
    "/autnum/{asn}", summary="The AS-number delegation holding an AS number", openapi_extra=AS_OF
)
async def autnum(request: Request, asn: str) -> Response:
    resource = parse_asn(asn)
    s, notices = await asof.view_for(request) if _has_query(request) else (served(request), [])
    m = s.lookup.smallest_covering(resource)
    return _redirect(request, m.delegation.registry, f"autnum/{resource.first}") or answer(
        request, object_of(s, m, where(request), resource.first), notices
    )


@router.get("/entity/{handle}", summary="A holder: <opaque-id>-<REGISTRY>", openapi_extra=AS_OF)
async def entity(request: Request, handle: str) -> Response:
    opaque_id, registry = objects.entity_of_handle(handle)
    s, notices = await asof.view_for(request)
    opaque_id, matches = s.lookup.holder(opaque_id, registry)
    if not matches and notices:  # as of a date: the holder may have had another id then
        then = await run_in_threadpool(
            linked_holder, live(request).store, s.lookup, opaque_id, registry
        )
        if then is not None:
            notices.append(asof.renumbered_notice(opaque_id, then))
            opaque_id, matches = s.lookup.holder(then, registry)
    if not matches:
        raise NotFoundError(f"no holder {opaque_id[:100]!r} in {registry.label}")
    redirect = _redirect(request, registry, f"entity/{handle}")
    if redirect is not None:
        return redirect
    body = await run_in_threadpool(_entity_body, s, registry, opaque_id, matches, where(request))
    cut = object_truncated(len(matches)) if len(matches) > MAX_RESULTS else []
    return answer(request, body, [*notices, *cut])


def _entity_body(
    s: Served, registry: Registry, opaque_id: str, matches: list[Match], w: objects.Where
) -> dict[str, Any]:
    """An entity with the networks and autnums it holds (at most :data:`MAX_RESULTS`)."""
    body = objects.entity(
        registry,
        opaque_id,
        w,
        [m.delegation.date.isoformat() for m in matches if m.delegation.date],
    )
    shown = matches[:MAX_RESULTS]
    networks = [object_of(s, m, w) for m in shown if m.delegation.type is not ResourceType.ASN]
    autnums = [object_of(s, m, w) for m in shown if m.delegation.type is ResourceType.ASN]
    for obj in networks + autnums:
        obj.pop("entities", None)
    if networks:
        body["networks"] = networks
    if autnums:
        body["autnums"] = autnums
    return body


# -- searches -------------------------------------------------------------------------------
@router.get("/ips", summary="IP networks by handle or name (exact)")
async def ips(
    request: Request,
    handle: str | None = Query(None, max_length=200),
    name: str | None = Query(None, max_length=200),
) -> Response:
    text = _one_of(handle, name)
    s = served(request)
    parsed = objects.parse_network_handle(text)
    matches = networks_by_handle(s.lookup, *parsed) if parsed else []
    if name is not None and not matches:
        named = objects.parse_network_name(text)
        matches = networks_by_first_cidr(s.lookup, *named) if named else []
    return await _results(request, s, "ipSearchResults", Found(matches, False))


@router.get("/autnums", summary="Autnums by handle or name (exact)")
async def autnums(
    request: Request,
    handle: str | None = Query(None, max_length=200),
    name: str | None = Query(None, max_length=200),
) -> Response:
    text = _one_of(handle, name)
    s = served(request)
    registry, wanted = objects.parse_autnum_name(text) if name is not None else (None, text)
    try:
        query = parse_asn_range(wanted)
    except InputError:
        return await _results(request, s, "autnumSearchResults", Found([], False))
    found = autnums_exactly(s.lookup, query, registry)
    return await _results(request, s, "autnumSearchResults", Found(found, False))


@router.get("/entities", summary="Entities by handle (exact)")
async def entities(request: Request, handle: str | None = Query(None, max_length=200)) -> Response:
    fn = request.query_params.get("fn")  # not offered: 501 (holders have no names)
    if handle is None and fn is not None:
        raise HttpError(501, "entity search by fn is not supported: holders have no names")
    if handle is None:
        raise InputError("entities search needs handle=")
    _no_wildcard(handle)
    s = served(request)
    parsed = objects.parse_entity_handle(handle)
    found = []
    if parsed is not None:
        opaque_id, matches = s.lookup.holder(*parsed)
        if matches:
            dates = [m.delegation.date.isoformat() for m in matches if m.delegation.date]
            found.append(objects.entity(parsed[1], opaque_id, where(request), dates))
    return answer(request, {"entitySearchResults": found})


RELATIONS_SPELT = {f"rdap-{name}": name for name in RELATIONS} | {n: n for n in RELATIONS}
"""RFC 9910 §3 names the relations ``rdap-up``, ``rdap-down``, ``rdap-top``,
``rdap-bottom``; the bare ``up`` … of its drafts (and of rirport before) still work."""
STATUS = {
    "name": "status",
    "in": "query",
    "required": False,
    "description": "active: search the hierarchy of active (allocated, assigned) delegations "
    "only (RFC 9910)",
    "schema": {"type": "string", "enum": ["active"]},
}


@router.get(
    "/ips/rirSearch1/{relation}/{query:path}",
    summary="RFC 9910 relation search (rdap-up, rdap-down, rdap-top, rdap-bottom)",
    openapi_extra={"parameters": [STATUS]},
)
async def ips_relation(request: Request, relation: str, query: str) -> Response:
    resource = parse_ip(query)
    return await _relation(request, "ipSearchResults", relation, resource)


@router.get(
    "/autnums/rirSearch1/{relation}/{asn}",
    summary="RFC 9910 relation search (rdap-up, rdap-down, rdap-top, rdap-bottom)",
    openapi_extra={"parameters": [STATUS]},
)
async def autnums_relation(request: Request, relation: str, asn: str) -> Response:
    resource = parse_asn(asn)
    return await _relation(request, "autnumSearchResults", relation, resource)


async def _relation(request: Request, key: str, relation: str, resource: Any) -> Response:
    """A relation search, at most :data:`MAX_RESULTS` results, one search of a worker at a
    time (:func:`_search_slot`): the index walk is bounded by the limit (a search over
    ``0.0.0.0/0`` stops after the first thousand records), the objects are built in slices
    (:func:`_results`)."""
    active = _status_active(request)
    s = served(request)
    name = RELATIONS_SPELT.get(relation)
    if name is None:
        raise InputError(
            f"unknown relation {relation[:40]!r} (rdap-up, rdap-down, rdap-top, rdap-bottom)"
        )
    async with _search_slot(request):
        hits, more = relation_hits(s.lookup, name, resource, MAX_RESULTS, active)
        return await _sliced(request, s, key, hits, more)


def _status_active(request: Request) -> bool:
    """``?status=active`` (RFC 9910): True; absent: False; anything else is a 400."""
    given = request.query_params.getlist("status")
    if not given:
        return False
    if given != ["active"]:
        raise InputError("status: the relation searches take status=active only (RFC 9910)")
    return True


# -- what we do not serve -----------------------------------------------------------------
@router.get("/domain/{name:path}", include_in_schema=False)
@router.get("/nameserver/{name:path}", include_in_schema=False)
@router.get("/domains", include_in_schema=False)
@router.get("/nameservers", include_in_schema=False)
async def not_numbers(request: Request) -> Response:
    raise HttpError(501, "rirport serves number resources only (ip, autnum, entity)")


# -- bootstrap ------------------------------------------------------------------------------
@router.get("/bootstrap/{name}", summary="RFC 9224 bootstrap files, transfers included")
async def bootstrap(request: Request, name: str) -> Response:
    urls = registry_urls(request)
    s = served(request)
    if name in FILES:
        rtype = FILES[name]
        entries = await s.derived_off_loop(f"bootstrap:{name}", lambda: registry_entries(s, rtype))
        body = bootstrap_body(s, rtype, entries, urls)
    elif name == "object-tags.json":
        body = object_tags(urls)
    elif name == "dns.json":  # clients fetch all five files; we serve no domains
        body = dns_file(urls)
    else:
        raise NotFoundError(
            f"no bootstrap file {name[:60]!r} (ipv4.json, ipv6.json, asn.json, object-tags.json)"
        )
    return json_response(body, "application/json")


def registry_urls(request: Request) -> dict[Registry, str]:
    own = where(request).base + "/"
    redirects = config(request).redirects
    return {r: redirects[r].rstrip("/") + "/" if r in redirects else own for r in REGISTRIES}


# -- helpers --------------------------------------------------------------------------------
def _one_of(handle: str | None, name: str | None) -> str:
    if (handle is None) == (name is None):
        raise InputError("give exactly one of handle= or name=")
    text = handle if handle is not None else name
    assert text is not None
    _no_wildcard(text)
    return text


def _no_wildcard(text: str) -> None:
    if "*" in text:
        raise UnsupportedQueryError("partial matching (*) is not supported: handles are exact")


async def _results(request: Request, s: Served, key: str, found: Found) -> Response:
    """Search results (up to :data:`MAX_RESULTS` objects), built in slices."""
    shown = found.matches[:MAX_RESULTS]
    cut = found.truncated or len(found.matches) > MAX_RESULTS
    return await _listing(request, s, key, shown, lambda m: m, cut)


async def _sliced(request: Request, s: Served, key: str, hits: Hits, more: bool) -> Response:
    """Search results from index hits, each made a match as its slice is built."""
    return await _listing(request, s, key, hits, s.lookup.match, more)


SLICE = 20
"""Objects built and serialised between two returns to the event loop (about a
millisecond's work). Searches run on the loop in such slices rather than in a worker
thread: a thread holding the GIL makes the loop wait up to the interpreter's switch interval
(5 ms) after each socket call, which cut ``ip/`` to a quarter of its rate while searches ran
(bench/search_load.py); slices let every other request in after each one."""
SEARCH_SLOTS = 1
"""Searches a worker process builds at once; more wait their turn (each slice yields to
``ip/`` and the other requests, so a queue of searches delays only searches)."""
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def _search_slot(request: Request) -> asyncio.Semaphore:
    """The semaphore of :data:`SEARCH_SLOTS` (one per event loop: tests run several)."""
    del request
    loop = asyncio.get_running_loop()
    slot = _slots.get(loop)
    if slot is None:
        slot = _slots[loop] = asyncio.Semaphore(SEARCH_SLOTS)
    return slot


async def _listing(
    request: Request,
    s: Served,
    key: str,
    items: Sequence[T],
    to_match: Callable[[T], Match],
    cut: bool,
) -> Response:
    """``{key: [objects]}`` with the top-level members of :func:`answer`, the objects built
    and serialised :data:`SLICE` at a time, yielding to the event loop between slices; the
    truncation notice when ``cut``."""
    w = where(request)
    parts: list[bytes] = []
    for at in range(0, len(items), SLICE):
        if at:
            await asyncio.sleep(0)
        parts += [dumps(object_of(s, to_match(x), w)) for x in items[at : at + SLICE]]
    notices = result_truncated(len(items)) if cut else []
    data = dumps(_full(request, {key: []}, notices))
    empty = b'"' + key.encode() + b'":[]'  # the one member named so: splice the objects in
    data = data.replace(empty, empty[:-1] + b",".join(parts) + b"]", 1)
    return BodyResponse(data, media_type=_media(request))


TRUNCATED_LOAD = "result set truncated due to excessive load"
OBJECT_TRUNCATED_LOAD = "object truncated due to excessive load"
"""The registered notice types (RFC 9083 §10.2.1, IANA's RDAP JSON Values) for a result set
or an object cut at :data:`MAX_RESULTS`: the limit is there to bound the load one request
puts on the server."""


def result_truncated(shown: int) -> list[dict[str, Any]]:
    return [
        {
            "title": "Result set truncated",
            "type": TRUNCATED_LOAD,
            "description": [
                f"More than {shown} results: the first {shown} are shown (this server "
                f"answers at most {MAX_RESULTS} a search; narrow the query for the rest)."
            ],
        }
    ]


def object_truncated(count: int) -> list[dict[str, Any]]:
    return [
        {
            "title": "Object truncated",
            "type": OBJECT_TRUNCATED_LOAD,
            "description": [
                f"The holder holds {count} networks and autnums; the first {MAX_RESULTS} "
                "are listed."
            ],
        }
    ]


def truncated(count: int) -> list[dict[str, Any]]:
    """The notice for ``count`` results cut at :data:`MAX_RESULTS` (none when they fit)."""
    return result_truncated(MAX_RESULTS) if count > MAX_RESULTS else []
