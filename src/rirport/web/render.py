"""Templates and the HTML answer: one Jinja2 environment per app (autoescaping every value:
stored text is never trusted), the filters the templates share, and compressed responses
with the page headers (:mod:`rirport.web.security`)."""

from __future__ import annotations

import datetime as dt
import gzip
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import Response

from rirport.web.assets import Assets
from rirport.web.security import PAGE_HEADERS

TEMPLATES = Path(__file__).parent / "templates"
NAV = (
    ("/", "Home"),
    ("/portability", "Portability"),
    ("/events", "Events"),
    ("/transfers", "Transfers"),
    ("/journal", "Journal"),
    ("/profiles", "Profiles"),
)
"""The site's navigation: path and label (accounts links are added by the base layout)."""
MIN_GZIP = 1400
"""Bodies shorter than this go uncompressed (one packet either way)."""


def no_mirror() -> Sequence[Any]:
    return ()


def environment(assets: Assets, mirror: Callable[[], Sequence[Any]] = no_mirror) -> Environment:
    """The pages' templates. ``mirror()``: the banners of a mirror store (whom it follows and
    at which checkpoint, :class:`~rirport.services.transparency.mirror.MirrorBanner`), shown
    on top of every page by the base layout; empty for a publisher."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(asset=assets.url, nav=NAV, mirror=mirror)
    env.filters.update(num=number, pct=percent, day=day)
    return env


def number(value: Any) -> str:
    """``1234567`` → ``1,234,567`` (None shown as an en dash)."""
    if value is None:
        return "–"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def percent(value: Any, digits: int = 1) -> str:
    return "–" if value is None else f"{100 * float(value):.{digits}f} %"


def day(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()[:10]
    return str(value)


def compressed(
    request: Request,
    body: bytes,
    media_type: str,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """``body`` gzipped when the client accepts it and it is worth it, with the page
    headers."""
    out = {**PAGE_HEADERS, "Vary": "Accept-Encoding, Cookie", **(headers or {})}
    if len(body) >= MIN_GZIP and "gzip" in request.headers.get("accept-encoding", ""):
        body = gzip.compress(body, 6, mtime=0)
        out["Content-Encoding"] = "gzip"
    return Response(body, status_code=status, media_type=media_type, headers=out)
