"""Checks every request passes before routing: target length, ``Host``, rate limit,
``Accept``; the CORS header every response carries (``*``: RDAP data is public), whatever
answers it — the router, an error handler, or an unexpected failure; and, for
RDAP, ``HEAD`` (RFC 7480 §4.1: answered as ``GET`` without the body) and one trailing slash
(``ip/…/``, ``autnum/…/``, ``help/`` answer as without it: no redirect, whose target would
have to be built from the request).

A plain ASGI middleware: Starlette's ``BaseHTTPMiddleware`` would add a task and a queue to
each request, which the load benchmark would see.

The checks themselves are a :class:`Screen`, shared with the RDAP fast lane
(:mod:`rirport.http.rdap.fast`), which sits in front of the whole stack and applies them,
the CORS header, HEAD and the trailing slash itself to the lookups it answers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rirport.http import hosts
from rirport.http.auth.state import SESSION_COOKIE
from rirport.http.config import MAX_PATH
from rirport.http.errors import error_response_for
from rirport.http.ratelimit import TokenBuckets
from rirport.http.responses import error_response, negotiate

CORS = [(b"access-control-allow-origin", b"*")]
COOKIE = SESSION_COOKIE.encode() + b"="
"""What a ``Cookie`` header carries when it presents a session (the fast path answers no
request presenting credentials: those go through the router's checks)."""
PREFLIGHT = [
    *CORS,
    (b"access-control-allow-methods", b"GET, HEAD, POST, OPTIONS"),
    (b"access-control-allow-headers", b"Accept, Content-Type"),
    (b"access-control-max-age", b"86400"),
]


def rate_notice(buckets: TokenBuckets) -> dict[str, Any]:
    return {
        "title": "Rate limit",
        "description": [
            f"Each client address may send {int(buckets.burst)} requests at "
            f"once and {buckets.rate:g} a second after that (a token "
            "bucket); over the limit the answer is 429 with Retry-After."
        ],
    }


BARE = frozenset({"/rdap/", "/rdap/ip/", "/rdap/autnum/", "/rdap/entity/", "/rdap/history/"})
"""RDAP paths whose trailing slash is not stripped: without it they name no object."""


Heads = tuple[tuple[bytes, ...], bytes | None, bool]
"""What the checks read of a request's headers: its ``Host`` values, its first ``Accept``,
and whether it presents credentials."""


def read_heads(headers: Iterable[tuple[bytes, bytes]]) -> Heads:
    """One pass over the headers for what the checks read (every request pays it)."""
    host_values: list[bytes] = []
    accept: bytes | None = None
    credentials = False
    for name, value in headers:
        if name == b"host":
            host_values.append(value)
        elif name == b"accept":
            if accept is None:
                accept = value
        elif name == b"authorization" or (name == b"cookie" and COOKIE in value):
            credentials = True
    return tuple(host_values), accept, credentials


class Screen:
    """The refusals before routing, in the order the Gate applies them: target length and
    ``Host`` (:meth:`early`), then, for all but a preflight, rate limit and ``Accept``
    (:meth:`late`). One per app, shared by the Gate and the RDAP fast lane
    (:mod:`rirport.http.rdap.fast`), so both refuse alike and spend the same tokens."""

    def __init__(self, buckets: TokenBuckets, allowed_hosts: frozenset[str] = frozenset()):
        self.buckets = buckets
        self.allowed_hosts = allowed_hosts

    def early(self, scope: Scope, rdap: bool, host_values: tuple[bytes, ...]) -> Any:
        """A 414 or a 400 for the ``Host``, or None."""
        if len(scope.get("raw_path") or scope["path"]) > MAX_PATH:
            return error_response(
                414, f"request target longer than {MAX_PATH} characters", rdap, dict(CORS_TEXT)
            )
        bad_host = hosts.refusal_of(host_values, self.allowed_hosts)
        if bad_host is not None:
            return error_response(400, bad_host, rdap, dict(CORS_TEXT))
        return None

    def late(self, scope: Scope, rdap: bool, accept: bytes | None) -> Any:
        """A 429 (spending a token when there is one) or a 406, or None."""
        refusal = self._limited(scope, rdap)
        if refusal is None and (rdap or scope["path"].startswith("/api")):
            refusal = self._unacceptable(accept, rdap)
        return refusal

    def _limited(self, scope: Scope, rdap: bool) -> Any:
        if not self.buckets.enabled:
            return None
        client = scope.get("client")
        wait = self.buckets.take(client[0] if client else "unknown")
        if not wait:
            return None
        return error_response(
            429,
            "rate limit exceeded: slow down and retry later",
            rdap,
            {**CORS_TEXT, "Retry-After": str(math.ceil(wait))},
            [rate_notice(self.buckets)],
        )

    @staticmethod
    def _unacceptable(accept: bytes | None, rdap: bool) -> Any:
        if negotiate(accept.decode("latin-1") if accept is not None else None, rdap) is not None:
            return None
        return error_response(
            406,
            "this server answers application/rdap+json or application/json only",
            rdap,
            dict(CORS_TEXT),
        )


class Gate:
    """Refuse before routing what need not be routed; add CORS headers to everything."""

    def __init__(self, app: ASGIApp, screen: Screen) -> None:
        self.app = app
        self.screen = screen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        rdap = path.startswith("/rdap")
        host_values, accept, _credentials = read_heads(scope["headers"])
        refusal = self.screen.early(scope, rdap, host_values)
        if refusal is None and scope["method"] == "OPTIONS":
            await self._preflight(send)
            return
        refusal = refusal or self.screen.late(scope, rdap, accept)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        head = rdap and scope["method"] == "HEAD"
        if rdap:
            scope = as_rdap_get(scope)
        send_with_cors, started = with_cors(send, rdap, head)
        try:
            await self.app(scope, receive, send_with_cors)
        except Exception as exc:  # what no handler answered: a 500 that still carries CORS
            if started():
                raise
            await error_response_for(exc, rdap, path)(scope, receive, send_with_cors)

    @staticmethod
    async def _preflight(send: Send) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": PREFLIGHT})
        await send({"type": "http.response.body", "body": b""})


def with_cors(send: Send, rdap: bool, head: bool) -> tuple[Send, Callable[[], bool]]:
    """``send`` adding the CORS header to the answer (and, for RDAP, ``HEAD`` in ``Allow``),
    dropping the body of a ``HEAD``; and whether the answer has started."""
    started = False

    async def send_with_cors(message: Message) -> None:
        nonlocal started
        if message["type"] == "http.response.start":
            started = True
            headers = [*message.get("headers", []), *CORS]
            message["headers"] = _with_head(headers) if rdap else headers
        elif head and message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return send_with_cors, lambda: started


CORS_TEXT = {"Access-Control-Allow-Origin": "*"}


def as_rdap_get(scope: Scope) -> Scope:
    """An RDAP request as the router sees it: HEAD as GET, one trailing slash dropped."""
    path: str = scope["path"]
    changed: dict[str, Any] = {}
    if scope["method"] == "HEAD":
        changed["method"] = "GET"
    if path.endswith("/") and path not in BARE and not path.endswith("//"):
        changed["path"] = path[:-1]
        raw = scope.get("raw_path")
        if raw and raw.endswith(b"/"):
            changed["raw_path"] = raw[:-1]
    return {**scope, **changed} if changed else scope


def _with_head(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``Allow: GET`` says ``GET, HEAD``: every RDAP GET route answers HEAD too."""
    for i, (name, value) in enumerate(headers):
        if name.lower() == b"allow" and b"GET" in value and b"HEAD" not in value:
            headers[i] = name, value.replace(b"GET", b"GET, HEAD", 1)
    return headers
