"""A local stand-in for the RIRs' archive folders, for the ``sync --archive`` tests.

A real HTTP server on 127.0.0.1 (a thread, port 0) serves a tree of files and, for each
folder, an Apache-style index page linking its entries (with the sorting links and parent
link real indexes have). :func:`lay_out` puts statistics files where each RIR keeps them
(``rirport.archive.layouts``), compressed and checksummed as that RIR does:

=========  ========================================  ===========  ===========================
registry   folder                                    compression  checksum file
=========  ========================================  ===========  ===========================
afrinic    ``afrinic/<year>/``                       none         ``<name>.md5``, GNU layout
apnic      ``apnic/<year>/``                         gzip         ``<name>.gz.md5`` (of .gz)
arin       ``arin/archive/<year>/``; newest year in  none         ``<name>.md5``, BSD layout
           ``arin/``
lacnic     ``lacnic/archive/<year>/``; newest year   none         ``<name>.md5``, GNU layout
           in ``lacnic/``
ripencc    ``ripencc/<year>/``                       bzip2        ``<name>.md5`` (of content)
=========  ========================================  ===========  ===========================

``mirror.faults[path]`` makes one path misbehave (:data:`FAULTS`).
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.mirror import HTML_PAGE

FAULTS = {
    "drop-once": "the first request gets half the body, then the connection closes",
    "drop": "every request gets half the body, then the connection closes",
    "html": "200 with an HTML error page",
    "503-once": "the first request is answered 503",
}
NEWEST_IN_ROOT = ("arin", "lacnic")


@dataclass
class ArchiveMirror:
    base_url: str
    files: dict[str, bytes] = field(default_factory=dict)
    faults: dict[str, str] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    delay: float = 0.0
    """Seconds each file response waits before its body (to see downloads overlap)."""
    busy: int = 0
    most_busy: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def children(self, folder: str) -> list[str]:
        """Names in ``folder`` ("" for the root): files, and sub-folders with a ``/``."""
        prefix = folder.strip("/") + "/" if folder.strip("/") else ""
        names = set()
        for path in self.files:
            if path.startswith(prefix):
                rest = path[len(prefix) :]
                names.add(rest.split("/", 1)[0] + "/" if "/" in rest else rest)
        return sorted(names)

    def fetched(self, suffix: str) -> int:
        """How many requests asked for a path ending in ``suffix``."""
        return sum(p.endswith(suffix) for p in self.requests)


def lay_out(files: Iterable[tuple[str, str, bytes]]) -> dict[str, bytes]:
    """``(registry, name, data)`` files placed, compressed and checksummed per the table
    above (the newest year of ARIN and LACNIC in their root folder)."""
    given = list(files)
    newest = {r: max(n[-8:-4] for reg, n, _ in given if reg == r) for r, _, _ in given}
    tree: dict[str, bytes] = {}
    for registry, name, data in given:
        year = name[-8:-4]
        if registry in NEWEST_IN_ROOT:
            folder = f"{registry}/" if year == newest[registry] else f"{registry}/archive/{year}/"
        else:
            folder = f"{registry}/{year}/"
        if registry == "apnic":
            packed = gzip.compress(data, mtime=0)
            tree[f"{folder}{name}.gz"] = packed
            tree[f"{folder}{name}.gz.md5"] = _md5_line("bsd", f"{name}.gz", packed)
        elif registry == "ripencc":
            tree[f"{folder}{name}.bz2"] = bz2.compress(data)
            tree[f"{folder}{name}.md5"] = _md5_line("bsd", name, data)
        else:
            tree[f"{folder}{name}"] = data
            style = "bsd" if registry == "arin" else "gnu"
            tree[f"{folder}{name}.md5"] = _md5_line(style, name, data)
    return tree


def _md5_line(style: str, name: str, data: bytes) -> bytes:
    digest = hashlib.md5(data, usedforsecurity=False).hexdigest()
    return (f"MD5 ({name}) = {digest}\n" if style == "bsd" else f"{digest}  {name}\n").encode()


def index_page(folder: str, names: list[str]) -> bytes:
    parent = "/" + "/".join(folder.strip("/").split("/")[:-1]) + "/"
    rows = "\n".join(f'<tr><td><a href="{n}">{n}</a></td><td>-</td></tr>' for n in names)
    return (
        f"<!DOCTYPE HTML>\n<html><head><title>Index of /{folder}</title></head><body>\n"
        f'<h1>Index of /{folder}</h1><table><tr><th><a href="?C=N;O=D">Name</a></th>'
        f'<th><a href="?C=S;O=A">Size</a></th></tr>\n'
        f'<tr><td><a href="{parent}">Parent Directory</a></td></tr>\n'
        f"{rows}\n</table></body></html>\n"
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        mirror = self.server.mirror
        path = self.path.split("?", 1)[0].lstrip("/")
        mirror.requests.append(path)
        if path == "" or path.endswith("/"):
            names = mirror.children(path)
            if not names:
                return self._send(404, b"<html><body>404 Not Found</body></html>", "text/html")
            return self._send(200, index_page(path, names), "text/html")
        if path not in mirror.files:
            return self._send(404, b"<html><body>404 Not Found</body></html>", "text/html")
        fault = mirror.faults.get(path)
        if fault == "503-once":
            del mirror.faults[path]
            return self._send(503, b"busy\n")
        if fault == "html":
            return self._send(200, HTML_PAGE, "text/html")
        data = mirror.files[path]
        with mirror.lock:
            mirror.busy += 1
            mirror.most_busy = max(mirror.most_busy, mirror.busy)
        try:
            time.sleep(mirror.delay)
        finally:
            # counted out before the answer is written: a client that has read it may start
            # its next request before this thread would run again after the write
            with mirror.lock:
                mirror.busy -= 1
        if fault in ("drop", "drop-once"):
            if fault == "drop-once":
                del mirror.faults[path]
            return self._send(200, data[: len(data) // 2], length=len(data))
        return self._send(200, data)

    def _send(
        self, status: int, body: bytes, kind: str = "application/octet-stream", length: int = -1
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body) if length < 0 else length))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    mirror: ArchiveMirror


@contextmanager
def serve_archive(files: dict[str, bytes]) -> Iterator[ArchiveMirror]:
    """Serve ``files`` (path -> bytes) on a free port of 127.0.0.1 for the block."""
    server = _Server(("127.0.0.1", 0), _Handler)
    host, port = server.server_address[:2]
    server.mirror = ArchiveMirror(f"http://{host!s}:{port}", dict(files))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.mirror
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
