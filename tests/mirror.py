"""A local stand-in for the RIRs' statistics sites, for the sync tests.

A real HTTP server on 127.0.0.1 (a thread running ``ThreadingHTTPServer`` on port 0) serves
``/<rir>/delegated-<rir>-extended-latest`` from the shared 2018 files and ``…-latest.md5``
computed on the fly, in BSD layout (``MD5 (name) = hex``) for some registries and GNU layout
(``hex  name``) for the others, as the RIRs differ. ``mirror.faults[rir]`` makes one registry
misbehave in one of the ways in :data:`FAULTS`.
"""

from __future__ import annotations

import functools
import hashlib
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.paths import DELEGATED

MD5_LAYOUT = {"afrinic": "gnu", "apnic": "bsd", "arin": "bsd", "lacnic": "gnu", "ripencc": "bsd"}
HTML_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head>\n"
    b"<body><h1>Down for maintenance</h1></body></html>\n"
)
FAULTS = {
    "bad-md5": "the .md5 holds another digest",
    "missing": "the file is 404 (its .md5 is served)",
    "md5-html": "the .md5 URL answers 200 with an HTML page",
    "truncated": "Content-Length is the whole file, half is sent, the connection closed",
    "html": "the file URL answers 200 with an HTML page (and a matching .md5)",
    "stall": "headers are sent, then nothing for two seconds",
    "other-registry": "the file is LACNIC's (and a matching .md5)",
}


@functools.cache
def real_file(rir: str) -> tuple[str, bytes]:
    """Name and bytes of the shared 2018 extended file of ``rir`` (read once per session)."""
    (path,) = sorted(DELEGATED.glob(f"{rir}/delegated-{rir}-extended-2018*"))
    return path.name, path.read_bytes()


def md5_line(rir: str, name: str, data: bytes) -> bytes:
    """The .md5 body in the layout the mirror uses for ``rir``."""
    digest = hashlib.md5(data, usedforsecurity=False).hexdigest()
    if MD5_LAYOUT[rir] == "bsd":
        return f"MD5 ({name}) = {digest}\n".encode()
    return f"{digest}  {name}\n".encode()


@dataclass
class Mirror:
    base_url: str
    faults: dict[str, str] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def url(self, rir: str) -> str:
        return f"{self.base_url}/{rir}/delegated-{rir}-extended-latest"

    def body(self, rir: str) -> tuple[str, bytes]:
        """What the file URL serves for ``rir``, fault included."""
        fault = self.faults.get(rir)
        if fault == "html":
            return "index.html", HTML_PAGE
        if fault == "other-registry":
            return real_file("lacnic")
        return real_file(rir)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        mirror = self.server.mirror
        mirror.requests.append(self.path)
        rir = self.path.strip("/").split("/")[0]
        if rir not in MD5_LAYOUT or not self.path.startswith(
            f"/{rir}/delegated-{rir}-extended-latest"
        ):
            return self._send(404, b"not found\n")
        fault = mirror.faults.get(rir)
        name, data = mirror.body(rir)
        if self.path.endswith(".md5"):
            if fault == "md5-html":
                return self._send(200, HTML_PAGE, "text/html")
            digest_of = b"something else" if fault == "bad-md5" else data
            return self._send(200, md5_line(rir, name, digest_of))
        if fault == "missing":
            return self._send(404, b"<html><body>404 Not Found</body></html>\n", "text/html")
        if fault == "truncated":
            return self._send(200, data[: len(data) // 2], length=len(data))
        if fault == "stall":
            self._send_headers(200, "text/plain", len(data))
            time.sleep(2)
            return None
        return self._send(200, data, "text/html" if fault == "html" else "text/plain")

    def _send(
        self, status: int, body: bytes, kind: str = "text/plain", length: int | None = None
    ) -> None:
        self._send_headers(status, kind, len(body) if length is None else length)
        self.wfile.write(body)
        self.close_connection = True

    def _send_headers(self, status: int, kind: str, length: int) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(length))
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a stalled handler must not hold up the test's teardown
    mirror: Mirror


@contextmanager
def serve_mirror() -> Iterator[Mirror]:
    """Run a mirror on a free port of 127.0.0.1 for the duration of the block."""
    server = _Server(("127.0.0.1", 0), _Handler)
    host, port = server.server_address[:2]
    server.mirror = Mirror(f"http://{host!s}:{port}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.mirror
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def refused_url() -> str:
    """A loopback URL where nothing listens (a port just bound and released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/arin/delegated-arin-extended-latest"
