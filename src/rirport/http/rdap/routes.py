"""The RDAP endpoints under ``/rdap/``: lookups, searches, help, bootstrap files.

Handlers are ``async`` and short: a lookup is an index search of a few microseconds, so a
thread hop would cost more than the work. Anything wrong becomes an :class:`HttpError`,
which the app turns into an RDAP error object.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from rirport.domain.enums import REGISTRIES, Registry, ResourceType
from rirport.domain.resources import ResourceRange
from rirport.http.config import HttpConfig
from rirport.http.middleware import rate_notice
from rirport.http.ratelimit import TokenBuckets
from rirport.http.rdap import asof, find, objects
from rirport.http.rdap.bootstrap import FILES, bootstrap_file, object_tags
from rirport.http.responses import (
    CONFORMANCE,
    JSON,
    RDAP_JSON,
    HttpError,
    documented,
    json_response,
    negotiate,
)
from rirport.index.registry import Hit
from rirport.query.live import Served
from rirport.query.lookup import Match
from rirport.store.keys import key_of

router = APIRouter(
    prefix="/rdap",
    tags=["rdap"],
    responses=documented((RDAP_JSON, JSON), (400, 404, 406, 422, 429, 501), {"type": "object"}),
)
MAX_RESULTS = 1000
"""Search results past this are cut, with a ``truncated`` notice (RFC 9083 §4.3)."""

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
        "(exact match), and ips/rirSearch1/{up|down|top|bottom}/{address or prefix}, "
        "autnums/rirSearch1/{up|top}/{n} (RFC 9910).",
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
def served(request: Request) -> Served:
    live = request.app.state.live
    result: Served = live.served
    return result


def config(request: Request) -> HttpConfig:
    result: HttpConfig = request.app.state.config
    return result


def where(request: Request) -> objects.Where:
    """Self links' base: the configured public URL, else scheme and Host of the request."""
    base = config(request).public_url
    if base is None:
        scope = request.scope
        host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "localhost")
        base = f"{scope.get('scheme', 'http')}://{host}{scope.get('root_path', '')}"
    return objects.Where(base.rstrip("/") + "/rdap")


def answer(
    request: Request,
    body: dict[str, Any],
    notices: list[dict[str, Any]] | None = None,
    extensions: tuple[str, ...] = (),
) -> Response:
    """Top-level members every response carries, then the media type the client asked for."""
    extra = list(notices or [])
    conformance = [*extensions, *CONFORMANCE]
    if body.get("objectClassName") == "autnum":
        conformance.append("nro_rdap_profile_asn_flat_0")
    full = {"rdapConformance": conformance, **body, "notices": [TERMS, *extra]}
    accept = next(
        (v.decode("latin-1") for k, v in request.scope["headers"] if k == b"accept"), None
    )
    media = negotiate(accept, rdap=True) or RDAP_JSON
    return json_response(full, media)


def _dates(s: Served, m: Match) -> objects.Dates:
    moved: list[str] = []
    if s.transfers:
        r = m.delegation.resource
        moved = s.transfer_dates(
            m.delegation.registry.value, key_of(r.type, r.first), key_of(r.type, r.last)
        )
    return objects.Dates(s.snapshot(m.snapshot_id).snapshot_date.isoformat(), moved)


def _object(s: Served, m: Match, w: objects.Where) -> dict[str, Any]:
    build = objects.autnum if m.delegation.type is ResourceType.ASN else objects.network
    return build(m, w, _dates(s, m))


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
    return answer(request, {"links": [where(request).link("help")]}, notices)


@router.get(
    "/ip/{query:path}",
    summary="The smallest delegation covering an address or prefix",
    openapi_extra=AS_OF,
)
async def ip(request: Request, query: str) -> Response:
    resource = find.parse_ip(query)
    s, notices = await asof.view_for(request) if request.query_params else (served(request), [])
    m = find.smallest_covering(s, resource)
    return _redirect(request, m.delegation.registry, f"ip/{query}") or answer(
        request, _object(s, m, where(request)), notices
    )


@router.get(
    "/autnum/{asn}", summary="The AS-number delegation holding an AS number", openapi_extra=AS_OF
)
async def autnum(request: Request, asn: str) -> Response:
    resource = find.parse_asn(asn)
    s, notices = await asof.view_for(request) if request.query_params else (served(request), [])
    m = find.smallest_covering(s, resource)
    return _redirect(request, m.delegation.registry, f"autnum/{resource.first}") or answer(
        request, _object(s, m, where(request)), notices
    )


@router.get("/entity/{handle}", summary="A holder: <opaque-id>-<REGISTRY>", openapi_extra=AS_OF)
async def entity(request: Request, handle: str) -> Response:
    parsed = objects.parse_entity_handle(handle)
    if parsed is None:
        raise HttpError(404, f"no entity {handle[:100]!r}: handles are <opaque-id>-<REGISTRY>")
    opaque_id, registry = parsed
    s, notices = await asof.view_for(request)
    opaque_id, hits = _holder(s, opaque_id, registry)
    if not hits and notices:  # as of a date: the holder may have had another id then
        then = await run_in_threadpool(
            asof.linked_id, request.app.state.live.store, s, opaque_id, registry
        )
        if then is not None:
            notices.append(asof.renumbered_notice(opaque_id, then))
            opaque_id, hits = _holder(s, then, registry)
    if not hits:
        raise HttpError(404, f"no holder {opaque_id[:100]!r} in {registry.label}")
    redirect = _redirect(request, registry, f"entity/{handle}")
    if redirect is not None:
        return redirect
    w = where(request)
    matches = [find.match(s, h) for h in hits]
    body = objects.entity(
        registry,
        opaque_id,
        w,
        [m.delegation.date.isoformat() for m in matches if m.delegation.date],
    )
    shown = matches[:MAX_RESULTS]
    networks = [_object(s, m, w) for m in shown if m.delegation.type is not ResourceType.ASN]
    autnums = [_object(s, m, w) for m in shown if m.delegation.type is ResourceType.ASN]
    for obj in networks + autnums:
        obj.pop("entities", None)
    if networks:
        body["networks"] = networks
    if autnums:
        body["autnums"] = autnums
    return answer(request, body, [*notices, *truncated(len(matches))])


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
    matches = _by_network_handle(s, parsed) if parsed else []
    if name is not None and not matches:
        matches = _by_network_name(s, text)
    return _results(request, s, "ipSearchResults", matches)


@router.get("/autnums", summary="Autnums by handle or name (exact)")
async def autnums(
    request: Request,
    handle: str | None = Query(None, max_length=200),
    name: str | None = Query(None, max_length=200),
) -> Response:
    text = _one_of(handle, name)
    s = served(request)
    wanted = text.split("-", 1)[1] if name is not None and "-" in text else text
    try:
        query = _asn_range(wanted)
    except HttpError:
        return _results(request, s, "autnumSearchResults", [])
    hits = [h for h in s.lookup.index.ranges(query) if h.relation == "exact"]
    return _results(request, s, "autnumSearchResults", [find.match(s, h) for h in hits])


@router.get("/entities", summary="Entities by handle (exact)")
async def entities(request: Request, handle: str | None = Query(None, max_length=200)) -> Response:
    fn = request.query_params.get("fn")  # not offered: 501 (holders have no names)
    if handle is None:
        raise HttpError(
            501 if fn is not None else 400,
            "entity search by fn is not supported: holders have no names"
            if fn is not None
            else "entities search needs handle=",
        )
    _no_wildcard(handle)
    s = served(request)
    parsed = objects.parse_entity_handle(handle)
    found = []
    if parsed is not None:
        opaque_id, hits = _holder(s, *parsed)
        if hits:
            dates = [
                m.delegation.date.isoformat()
                for m in (find.match(s, h) for h in hits)
                if m.delegation.date
            ]
            found.append(objects.entity(parsed[1], opaque_id, where(request), dates))
    return answer(request, {"entitySearchResults": found})


@router.get("/ips/rirSearch1/{relation}/{query:path}", summary="RFC 9910 relation search")
async def ips_relation(request: Request, relation: str, query: str) -> Response:
    resource = find.parse_ip(query)
    s = served(request)
    return _results(request, s, "ipSearchResults", find.relation_search(s, relation, resource))


@router.get("/autnums/rirSearch1/{relation}/{asn}", summary="RFC 9910 relation search")
async def autnums_relation(request: Request, relation: str, asn: str) -> Response:
    resource = find.parse_asn(asn)
    s = served(request)
    return _results(request, s, "autnumSearchResults", find.relation_search(s, relation, resource))


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
    key = f"bootstrap:{name}:{sorted(urls.items())}"
    if name in FILES:
        body = await s.derived_off_loop(key, lambda: bootstrap_file(s, FILES[name], urls))
    elif name == "object-tags.json":
        body = object_tags(urls)
    elif name == "dns.json":  # clients fetch all five files; we serve no domains
        body = {"version": "1.0", "description": "rirport serves no domains", "services": []}
    else:
        raise HttpError(
            404,
            f"no bootstrap file {name[:60]!r} (ipv4.json, ipv6.json, asn.json, object-tags.json)",
        )
    return json_response(body, "application/json")


def registry_urls(request: Request) -> dict[Registry, str]:
    own = where(request).base + "/"
    redirects = config(request).redirects
    return {r: redirects[r].rstrip("/") + "/" if r in redirects else own for r in REGISTRIES}


def _holder(s: Served, opaque_id: str, registry: Registry) -> tuple[str, list[Hit]]:
    """A holder's rows, by its id as given, else in lower or upper case: handles are
    case-insensitive to clients (whoisit upper-cases them) and every registry writes its ids
    in one case (hex, UUIDs, digits)."""
    for candidate in dict.fromkeys((opaque_id, opaque_id.lower(), opaque_id.upper())):
        hits = s.lookup.index.holder(candidate, registry)
        if hits:
            return candidate, hits
    return opaque_id, []


# -- helpers --------------------------------------------------------------------------------
def _one_of(handle: str | None, name: str | None) -> str:
    if (handle is None) == (name is None):
        raise HttpError(400, "give exactly one of handle= or name=")
    text = handle if handle is not None else name
    assert text is not None
    _no_wildcard(text)
    return text


def _no_wildcard(text: str) -> None:
    if "*" in text:
        raise HttpError(422, "partial matching (*) is not supported: handles are exact")


def _asn_range(text: str) -> ResourceRange:
    first, _, last = text.partition("-")
    a = find.parse_asn(first)
    b = find.parse_asn(last) if last else a
    if b.first < a.first:
        raise HttpError(400, "AS range ends before it starts")
    return ResourceRange.asn(a.first, b.first)


def _by_network_handle(s: Served, parsed: tuple[str, int, Registry]) -> list[Match]:
    start, value, registry = parsed
    try:
        rtype = ResourceType.IPV6 if ":" in start else ResourceType.IPV4
        resource = ResourceRange.from_start_value(rtype, start, value)
    except ValueError:
        return []
    return [
        m
        for m in (
            find.match(s, h) for h in s.lookup.index.ranges(resource) if h.relation == "exact"
        )
        if m.delegation.registry is registry
    ]


def _by_network_name(s: Served, name: str) -> list[Match]:
    """Names are ``<REGISTRY>-<first CIDR with - for />``."""
    registry_text, _, rest = name.partition("-")
    cidr = rest[::-1].replace("-", "/", 1)[::-1]
    try:
        registry = Registry.parse(registry_text)
        resource = ResourceRange.from_network(cidr)
    except ValueError:
        return []
    hits = [h for h in s.lookup.index.ranges(resource) if h.relation in ("exact", "covered")]
    return [
        m
        for m in (find.match(s, h) for h in hits)
        if m.delegation.registry is registry and m.delegation.resource.first == resource.first
    ]


def _results(request: Request, s: Served, key: str, matches: list[Match]) -> Response:
    w = where(request)
    return answer(
        request, {key: [_object(s, m, w) for m in matches[:MAX_RESULTS]]}, truncated(len(matches))
    )


def truncated(count: int) -> list[dict[str, Any]]:
    if count <= MAX_RESULTS:
        return []
    return [
        {
            "title": "Result set truncated",
            "type": "result set truncated due to load",
            "description": [f"{count} results; the first {MAX_RESULTS} are shown"],
        }
    ]
