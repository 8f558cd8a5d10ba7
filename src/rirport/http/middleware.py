"""Checks every request passes before routing: target length, rate limit, ``Accept`` (for
RDAP and the API: the pages answer HTML, JSON or CSV and choose by ``?format=``); and
the CORS header every response carries (``*``: RDAP data is public).

A plain ASGI middleware: Starlette's ``BaseHTTPMiddleware`` would add a task and a queue to
each request, which the load benchmark would see.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rirport.http.auth.principal import presents_credentials
from rirport.http.config import MAX_PATH
from rirport.http.ratelimit import TokenBuckets
from rirport.http.responses import error_response, negotiate

Fast = Callable[[Scope, Receive, Send], Awaitable[bool]]
"""A handler tried before the app: True when it answered the request."""
CORS = [(b"access-control-allow-origin", b"*")]
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


class Gate:
    """Refuse before routing what need not be routed; add CORS headers to everything."""

    def __init__(self, app: ASGIApp, buckets: TokenBuckets, fast: Fast | None = None) -> None:
        self.app = app
        self.buckets = buckets
        self.fast = fast

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
        if scope["method"] == "OPTIONS":
            await self._preflight(send)
            return
        refusal = self._limited(scope, rdap) or (
            self._unacceptable(scope, rdap) if rdap or path.startswith("/api") else None
        )
        if refusal is not None:
            await refusal(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *CORS]
            await send(message)

        if (
            self.fast is not None
            and not presents_credentials(scope["headers"])
            and await self.fast(scope, receive, send_with_cors)
        ):
            return
        await self.app(scope, receive, send_with_cors)

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
    def _unacceptable(scope: Scope, rdap: bool) -> Any:
        accept = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"accept"), None)
        if negotiate(accept, rdap) is not None:
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
