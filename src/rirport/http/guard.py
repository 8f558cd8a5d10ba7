"""Connection limits uvicorn does not set itself: deadlines for slow headers and slow bodies.

uvicorn closes idle keep-alive connections (``timeout_keep_alive``) and caps the size of a
request head (``h11_max_incomplete_event_size``), but a client trickling its headers or body a
byte at a time keeps a connection (and, for a body, a handler) busy for as long as it likes
("slowloris"). :class:`GuardedH11Protocol` is uvicorn's h11 protocol with two deadlines:

* :data:`HEADER_SECONDS` from a connection's first moment, or a keep-alive request's first
  byte, to the end of the request's headers;
* :data:`BODY_SECONDS` from the end of the headers to the end of the body (the largest body
  rirport accepts is a few MiB: even a slow link sends it well within that).

Past a deadline the connection is closed. docs/deploy.md lists these with uvicorn's own.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_SECONDS = 10.0
BODY_SECONDS = 30.0
KEEP_ALIVE_SECONDS = 5
"""uvicorn's ``timeout_keep_alive``: an idle keep-alive connection is closed after this."""
MAX_HEAD_BYTES = 16 * 1024
"""uvicorn's ``h11_max_incomplete_event_size``: a longer request head is a 400."""
PROTOCOL = "rirport.http.guard:GuardedH11Protocol"

log = logging.getLogger("rirport.http")


def uvicorn_limits() -> dict[str, Any]:
    """The keyword arguments of ``uvicorn.run`` that set the connection limits."""
    return {
        "http": PROTOCOL,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
        "h11_max_incomplete_event_size": MAX_HEAD_BYTES,
    }


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with header and body deadlines."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._phase = ""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm("headers", HEADER_SECONDS)

    def data_received(self, data: bytes) -> None:
        cycle = self.cycle
        if (cycle is None or cycle.response_complete) and not self._phase:
            self._arm("headers", HEADER_SECONDS)  # a keep-alive request begins
        super().data_received(data)
        cycle = self.cycle
        if cycle is None or cycle.response_complete:
            return  # still waiting for the headers
        if cycle.more_body:
            if self._phase != "body":
                self._arm("body", BODY_SECONDS)
        else:
            self._disarm()  # the request is all here: the handler takes its time

    def on_response_complete(self) -> None:
        self._disarm()
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self, phase: str, seconds: float) -> None:
        self._disarm()
        self._phase = phase
        self._deadline = self.loop.call_later(seconds, self._too_slow, phase, seconds)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline, self._phase = None, ""

    def _too_slow(self, phase: str, seconds: float) -> None:
        self._deadline, self._phase = None, ""
        if not self.transport.is_closing():
            log.warning(
                "closed a connection from %s: its %s took longer than %g s",
                self.client[0] if self.client else "?",
                phase,
                seconds,
            )
            self.transport.close()
