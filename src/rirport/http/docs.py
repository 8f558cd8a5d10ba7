"""The OpenAPI page, ``/docs`` (Swagger UI), served from this server; ``/redoc`` leads to it.

FastAPI's own pages load Swagger UI and ReDoc from a CDN, so offline they are blank. Swagger
UI's bundle here comes from the ``fastapi-offline`` package on PyPI (it vendors
``swagger-ui-dist``; pinned in ``constraints.txt``); the script that starts it is a file of
ours (``docs_static/swagger-init.js``), not an inline script, so the page's
Content-Security-Policy forbids inline scripts and every foreign host as the rest of the
server does, and the online validator badge is off.

ReDoc is not served: its bundle always loads its logo from the vendor's CDN (no option turns
that off), writes its styles into ``<style>`` elements (the CSP would have to allow inline
styles) and builds its search worker from a ``blob:`` URL. Rather than patch a vendored
bundle or weaken the policy, ``/redoc`` redirects (308) to ``/docs``, which shows the same
description.

Assets are read once, kept in memory with their gzip form, and served under
``/docs/assets/`` with a content hash in their URL (cached for a year).
"""

from __future__ import annotations

import gzip
import hashlib
import html
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from rirport.errors import NotFoundError

OWN = Path(__file__).parent / "docs_static"
VENDOR = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon.png")
MEDIA = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; font-src 'self'; form-action 'none'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
YEAR = "public, max-age=31536000, immutable"

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes
    media_type: str
    version: str


def _vendor_dir() -> Path:
    return Path(str(resources.files("fastapi_offline") / "static"))


def _load() -> dict[str, Asset]:
    paths = [_vendor_dir() / name for name in VENDOR] + sorted(OWN.glob("*.js"))
    assets = {}
    for path in paths:
        body = path.read_bytes()
        media = MEDIA.get(path.suffix, "image/png")
        version = hashlib.sha256(body).hexdigest()[:12]
        assets[path.name] = Asset(body, gzip.compress(body, 9, mtime=0), media, version)
    return assets


ASSETS = _load()


def url(name: str) -> str:
    """The versioned URL of one asset (a KeyError for a file that is not shipped)."""
    return f"/docs/assets/{name}?v={ASSETS[name].version}"


def _page(title: str, head: str, body: str) -> HTMLResponse:
    text = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>"
        f'<link rel="icon" href="{url("favicon.png")}">{head}</head>'
        f"<body>{body}</body></html>"
    )
    headers = {
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-cache",
    }
    return HTMLResponse(text, headers=headers)


@router.get("/docs")
def swagger(request: Request) -> Response:
    openapi = request.app.openapi_url
    return _page(
        f"{request.app.title} — API (Swagger UI)",
        f'<link rel="stylesheet" href="{url("swagger-ui.css")}">',
        f'<div id="swagger-ui" data-openapi="{html.escape(openapi, quote=True)}"></div>'
        f'<script src="{url("swagger-ui-bundle.js")}"></script>'
        f'<script src="{url("swagger-init.js")}"></script>',
    )


@router.get("/redoc")
def redoc() -> Response:
    """ReDoc is not served (see the module's docstring): the same description is at /docs."""
    return RedirectResponse("/docs", status_code=308)


@router.get("/docs/assets/{name}")
def asset(request: Request, name: str) -> Response:
    """Raises: NotFoundError for a name that is not one of the assets."""
    found = ASSETS.get(name)
    if found is None:
        raise NotFoundError(f"no documentation asset {name!r}")
    headers = {
        "Cache-Control": YEAR,
        "ETag": f'"{found.version}"',
        "X-Content-Type-Options": "nosniff",
        "Vary": "Accept-Encoding",
    }
    if request.headers.get("if-none-match") == f'"{found.version}"':
        return Response(status_code=304, headers=headers)
    body = found.body
    if "gzip" in request.headers.get("accept-encoding", ""):
        body, headers["Content-Encoding"] = found.gzipped, "gzip"
    return Response(body, media_type=found.media_type, headers=headers)
