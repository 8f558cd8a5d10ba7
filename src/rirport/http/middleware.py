"""Checks every request passes before routing: target length, ``Host``, rate limit,
``Accept``; the CORS header every response carries (``*``: RDAP data is public), whatever
answers it — the fast path, the router, an error handler, or an unexpected failure; and, for
RDAP, ``HEAD`` (RFC 7480 §4.1: answered as ``GET`` without the body) and one trailing slash
(``ip/…/``, ``autnum/…/``, ``help/`` answer as without it: no redirect, whose target would
have to be built from the request).

A plain ASGI middleware: Starlette's ``BaseHTTPMiddleware`` would add a task and a queue to
each request, which the load benchmark would see.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rirport.http import hosts
from rirport.http.auth.state import SESSION_COOKIE
from rirport.http.config import MAX_PATH
from rirport.http.errors import error_response_for
from rirport.http.ratelimit import TokenBuckets
from rirport.http.responses import error_response, negotiate

Fast = Callable[[Scope, Receive, Send], Awaitable[bool]]
"""A handler tried before the app: True when it answered the request."""
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


class Gate:
    """Refuse before routing what need not be routed; add CORS headers to everything."""

    def __init__(
        self,
        app: ASGIApp,
        buckets: TokenBuckets,
        fast: Fast | None = None,
        allowed_hosts: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self.buckets = buckets
        self.fast = fast
        self.allowed_hosts = allowed_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        rdap = path.startswith("/rdap")
        if len(scope.get("raw_path") or path) > MAX_PATH:
            await error_response(
                414, f"request target longer than {MAX_PATH} characters", rdap, dict(CORS_TEXT)
            )(scope, receive, send)
            return
        # one pass over the headers for what the checks below read (every request pays it)
        host_values: list[bytes] = []
        accept: bytes | None = None
        credentials = False
        for name, value in scope["headers"]:
            if name == b"host":
                host_values.append(value)
            elif name == b"accept":
                if accept is None:
                    accept = value
            elif name == b"authorization" or (name == b"cookie" and COOKIE in value):
                credentials = True
        bad_host = hosts.refusal_of(tuple(host_values), self.allowed_hosts)
        if bad_host is not None:
            await error_response(400, bad_host, rdap, dict(CORS_TEXT))(scope, receive, send)
            return
        method = scope["method"]
        if method == "OPTIONS":
            await self._preflight(send)
            return
        refusal = self._limited(scope, rdap) or (
            self._unacceptable(accept, rdap) if rdap or path.startswith("/api") else None
        )
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        head = rdap and method == "HEAD"
        if rdap:
            scope = _as_rdap_get(scope)
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

        try:
            if (
                self.fast is not None
                and not credentials
                and await self.fast(scope, receive, send_with_cors)
            ):
                return
            await self.app(scope, receive, send_with_cors)
        except Exception as exc:  # what no handler answered: a 500 that still carries CORS
            if started:
                raise
            await error_response_for(exc, rdap, path)(scope, receive, send_with_cors)

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

    @staticmethod
    async def _preflight(send: Send) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": PREFLIGHT})
        await send({"type": "http.response.body", "body": b""})


CORS_TEXT = {"Access-Control-Allow-Origin": "*"}


def _as_rdap_get(scope: Scope) -> Scope:
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
