"""The RDAP fast lane: plain ``GET``/``HEAD`` of ``/rdap/ip/…`` and ``/rdap/autnum/…``
answered in front of FastAPI's whole middleware stack, from answers rendered once per
generation.

Why: on the load benchmark (bench/http_load.py) FastAPI's layers, Starlette's request and
response objects and rendering the same record again and again cost more than the lookup.
The lane is a plain ASGI layer outside every other one (:class:`rirport.http.app.App`);
a request it takes passes the same checks, in the same order, as the
:class:`~rirport.http.middleware.Gate` (one shared :class:`~rirport.http.middleware.Screen`:
target length, ``Host``, rate limit, ``Accept``), HEAD and one trailing slash are read as the
Gate reads them, failures are mapped by :func:`rirport.http.errors.error_response_for`, and
the answer has the same status, headers and bytes as the router's (a test compares them
over many requests). Anything else — a query string (``as-of``), credentials, a root path, a
path the router might read otherwise — goes the normal way, untouched; in redirect mode the
lane calls the route's handler itself.

Answers are kept by view row (and, for ``autnum/``, the AS number asked) per served
generation, base URL and mirror notice, :data:`MAX_BYTES` at most, least recently used
dropped first; the envelope every answer shares (conformance, notices) is rendered once and
joined around them.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from starlette.datastructures import State
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from rirport.http.errors import error_response_for
from rirport.http.middleware import CORS, Screen, as_rdap_get, read_heads, with_cors
from rirport.http.rdap.routes import autnum, envelope, ip, object_of, where_in
from rirport.http.responses import RDAP_JSON, dumps, negotiate
from rirport.query.live import Served
from rirport.query.parse import parse_asn, parse_ip

IP = "/rdap/ip/"
AUTNUM = "/rdap/autnum/"
MAX_BYTES = 48 * 1024 * 1024
"""Rendered answers kept per worker: an ``ip/`` answer is about 2 KB without its envelope,
so some 20,000 records' answers, a bounded share of a worker's memory. Requests for records
beyond them render as before (``bench/http_load.py --addresses 200000`` measures that case)."""
ENTRY_OVERHEAD = 300
"""Bytes counted per kept answer beyond its own (key and value tuples, the ordered dict's
slot and link, the bytes object's header)."""


def eligible(scope: Scope) -> bool:
    """Whether the lane answers the request: a GET or HEAD without a query string of an
    ``ip/`` path, or of an ``autnum/`` path the router would read as one AS number."""
    if scope["method"] not in ("GET", "HEAD") or scope.get("query_string"):
        return False
    if scope.get("root_path"):
        return False
    path: str = scope["path"]
    if path.startswith(IP):
        return path.isprintable()  # the router's pattern stops at a line break
    if path.startswith(AUTNUM):
        rest = path[len(AUTNUM) :]
        if rest.endswith("/") and not rest.endswith("//"):
            rest = rest[:-1]
        return bool(rest) and "/" not in rest and rest.isprintable()
    return False


class Rendered:
    """Answers' bytes of one served generation and mirror notice, bounded by bytes (used on
    the event loop only: no lock)."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self.hits = 0
        self.misses = 0
        self._served: weakref.ref[Served] | None = None
        self._notice: dict[str, Any] | None = None
        self._items: OrderedDict[tuple[int, int, str], tuple[str, bytes]] = OrderedDict()
        self._ends: dict[str, tuple[bytes, bytes]] = {}
        self._bytes = 0

    def answer(
        self,
        served: Served,
        notice: dict[str, Any] | None,
        key: tuple[int, int, str],
        build: Callable[[], dict[str, Any]],
    ) -> bytes:
        """The answer's bytes: kept ones, else ``build()``'s object rendered and kept."""
        if self._served is None or self._served() is not served or notice != self._notice:
            self._reset(served, notice)
        found = self._items.get(key)
        if found is None:
            self.misses += 1
            obj = build()
            if "notices" in obj or "rdapConformance" in obj:  # no splicing then
                return dumps(envelope(notice, obj))
            found = obj["objectClassName"], dumps(obj)[1:-1]
            self._keep(key, found)
        else:
            self.hits += 1
            self._items.move_to_end(key)
        kind, inner = found
        ends = self._ends.get(kind)
        if ends is None:
            ends = self._ends[kind] = _ends(notice, kind)
        return b"".join((ends[0], inner, ends[1]))

    def _reset(self, served: Served, notice: dict[str, Any] | None) -> None:
        self._served, self._notice = weakref.ref(served), notice
        self._items.clear()
        self._ends.clear()
        self._bytes = 0

    def _keep(self, key: tuple[int, int, str], found: tuple[str, bytes]) -> None:
        self._items[key] = found
        self._bytes += len(found[1]) + ENTRY_OVERHEAD
        while self._bytes > self.max_bytes and self._items:
            _key, (_kind, dropped) = self._items.popitem(last=False)
            self._bytes -= len(dropped) + ENTRY_OVERHEAD


def _ends(notice: dict[str, Any] | None, kind: str) -> tuple[bytes, bytes]:
    """The bytes before and after an object's members in its answer (:func:`envelope`)."""
    shell = envelope(notice, {"objectClassName": kind})
    head = b'{"rdapConformance":' + dumps(shell["rdapConformance"]) + b","
    return head, b',"notices":' + dumps(shell["notices"]) + b"}"


class FastLane:
    """The plain ASGI layer in front of the app (see the module's description)."""

    def __init__(self, app: ASGIApp, screen: Screen, state: State, rendered: Rendered) -> None:
        self.app = app
        self.screen = screen
        self.state = state
        self.rendered = rendered

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not eligible(scope):
            await self.app(scope, receive, send)
            return
        host_values, accept, credentials = read_heads(scope["headers"])
        if credentials:  # the router checks them (a bad one is a 401)
            await self.app(scope, receive, send)
            return
        try:
            refusal = self.screen.early(scope, True, host_values) or self.screen.late(
                scope, True, accept
            )
        except Exception as exc:  # as Starlette's ServerErrorMiddleware answers the Gate's
            await error_response_for(exc, True, scope["path"])(scope, receive, send)
            raise
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        scope = as_rdap_get(scope)
        path: str = scope["path"]
        if self.state.config.redirects:  # the handlers decide (a 302 or the answer)
            await self._by_handler(scope, receive, send, path, head)
            return
        try:
            body = self._answer(scope, path)
        except Exception as exc:  # mapped as the app maps it: its handlers never see this
            await error_response_for(exc, True, path)(
                scope, receive, with_cors(send, True, head)[0]
            )
            return
        media = negotiate(accept.decode("latin-1") if accept else None, True) or RDAP_JSON
        headers = [
            (b"content-length", str(len(body)).encode()),
            (b"content-type", media.encode()),
            *CORS,
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head else body})

    def _answer(self, scope: Scope, path: str) -> bytes:
        """The bytes of a lookup's answer, as :func:`routes.ip` or :func:`routes.autnum`
        render them."""
        s: Served = self.state.live.served
        asn = -1
        if path.startswith(IP):
            resource = parse_ip(path[len(IP) :])
        else:
            resource = parse_asn(path[len(AUTNUM) :])
            asn = resource.first
        row, relation = s.lookup.smallest_covering_row(resource)
        w = where_in(self.state.config, scope)

        def build() -> dict[str, Any]:
            return object_of(s, s.lookup.match_row(row, relation), w, None if asn < 0 else asn)

        notice = self.state.log_reader.mirror_notice()
        return self.rendered.answer(s, notice, (row, asn, w.base), build)

    @staticmethod
    async def _by_handler(
        scope: Scope, receive: Receive, send: Send, path: str, head: bool
    ) -> None:
        """The route's own handler, called directly (redirect mode)."""
        request = Request(scope, receive)
        try:
            if path.startswith(IP):
                response = await ip(request, path[len(IP) :])
            else:
                response = await autnum(request, path[len(AUTNUM) :])
        except Exception as exc:
            response = error_response_for(exc, True, path)
        await response(scope, receive, with_cors(send, True, head)[0])
