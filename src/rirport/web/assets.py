"""The local assets (``web/static/``: the style sheet, the page script, the vendored chart
and map libraries), held in memory with their gzip form and served under ``/static/``.

Every URL a template makes carries the file's content hash (``/static/site.css?v=…``), so an
asset can be cached for a year (``immutable``): a changed file is a new URL. Served from memory
rather than by Starlette's ``StaticFiles`` so that each answer is one dictionary look-up and
the compressed bytes are made once, not per request.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

STATIC = Path(__file__).parent / "static"
YEAR = "public, max-age=31536000, immutable"
TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
}
COMPRESSED = (".js", ".css", ".json", ".svg", ".txt")


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes | None
    media_type: str
    version: str


class Assets:
    """Every file under ``root``, read once."""

    def __init__(self, root: Path = STATIC) -> None:
        self.files: dict[str, Asset] = {}
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                self.files[path.relative_to(root).as_posix()] = _asset(path)

    def url(self, name: str) -> str:
        """The versioned URL of ``name`` (a KeyError for a file that is not there, so a
        template naming a missing asset fails in the tests, not in a reader's browser)."""
        return f"/static/{name}?v={self.files[name].version}"

    def response(self, request: Request, name: str) -> Response | None:
        asset = self.files.get(name)
        if asset is None:
            return None
        headers = {
            "Cache-Control": YEAR,
            "ETag": f'"{asset.version}"',
            "X-Content-Type-Options": "nosniff",
            "Vary": "Accept-Encoding",
        }
        if request.headers.get("if-none-match") == f'"{asset.version}"':
            return Response(status_code=304, headers=headers)
        body = asset.body
        if asset.gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
            body = asset.gzipped
            headers["Content-Encoding"] = "gzip"
        return Response(body, media_type=asset.media_type, headers=headers)


def _asset(path: Path) -> Asset:
    body = path.read_bytes()
    suffix = path.suffix.lower()
    media = TYPES.get(suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    packed = gzip.compress(body, 9, mtime=0) if suffix in COMPRESSED else None
    if packed is not None and len(packed) >= len(body):
        packed = None
    return Asset(body, packed, media, hashlib.sha256(body).hexdigest()[:12])
