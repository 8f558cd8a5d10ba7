"""A bounded cache of the pages anonymous readers get, keyed by the data generation.

A page is a pure function of the data generation, the day, its URL and (for its forms) the
reader's anonymous form cookie; so an anonymous ``GET`` of a page can be answered from the
answer made for the same key, and a write that moves the generation makes every older key
unreachable (they age out of the LRU). Never cached: requests with a session cookie or an
``Authorization`` header (members see their tier), answers that set a cookie or say
``no-store``, statuses other than 200, the journal (bookkeeping writes do not move the
generation), the account and admin pages (their own prefixes are not in :data:`PAGES`).

A plain ASGI middleware, like the gate: it sits under the gate (rate limits still apply)
and over the app.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rirport.http.auth.state import SESSION_COOKIE
from rirport.web.csrf import FORM_COOKIE

PAGES = (
    "/ip/",
    "/asn/",
    "/registry/",
    "/country/",
    "/holder/",
    "/portability",
    "/events",
    "/transfers",
    "/search",
)
"""Path prefixes of cacheable pages (and ``/`` itself)."""
MAX_ENTRIES = 512
MAX_BYTES = 64 * 1024 * 1024


@dataclass
class CacheStats:
    """Counters a test or an operator reads (``app.state.page_cache``)."""

    hits: int = 0
    misses: int = 0
    stored: int = 0


@dataclass(frozen=True)
class Cached:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


def cacheable_path(path: str) -> bool:
    return path == "/" or (path.startswith(PAGES) and not path.startswith("/portability/"))


class PageCache:
    def __init__(
        self,
        app: ASGIApp,
        generation: Callable[[], object],
        stats: CacheStats,
        entries: int = MAX_ENTRIES,
        max_bytes: int = MAX_BYTES,
    ) -> None:
        self.app = app
        self.stats = stats
        self.generation = generation
        self.entries = entries
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple[object, ...], Cached] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def _key(self, scope: Scope) -> tuple[object, ...] | None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            return None
        if not cacheable_path(scope["path"]):
            return None
        gzip = False
        form = b""
        for name, value in scope["headers"]:
            if name == b"authorization":
                return None
            if name == b"cookie":
                if SESSION_COOKIE.encode() + b"=" in value:
                    return None
                form = _cookie(value, FORM_COOKIE.encode())
            elif name == b"accept-encoding":
                gzip = b"gzip" in value
        return (
            self.generation(),
            dt.date.today(),
            scope["method"],
            scope["path"],
            scope.get("query_string", b""),
            gzip,
            form,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = self._key(scope)
        if key is None:
            await self.app(scope, receive, send)
            return
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                self.stats.hits += 1
        if found is not None:
            await send(
                {"type": "http.response.start", "status": found.status, "headers": found.headers}
            )
            await send({"type": "http.response.body", "body": found.body})
            return
        self.stats.misses += 1
        start: Message = {}
        parts: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))
                if not message.get("more_body", False):
                    self._store(key, start, b"".join(parts))
            await send(message)

        await self.app(scope, receive, capture)

    def _store(self, key: tuple[object, ...], start: Message, body: bytes) -> None:
        headers = list(start.get("headers", []))
        if start.get("status") != 200 or len(body) > self.max_bytes // 8:
            return
        for name, value in headers:
            if name == b"set-cookie" or (name == b"cache-control" and b"no-store" in value):
                return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = Cached(200, headers, body)
            self.stats.stored += 1
            self._bytes += len(body)
            while len(self._items) > self.entries or self._bytes > self.max_bytes:
                _old, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped.body)


def _cookie(header: bytes, name: bytes) -> bytes:
    for part in header.split(b";"):
        k, _, v = part.strip().partition(b"=")
        if k == name:
            return v
    return b""
