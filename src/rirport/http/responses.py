"""JSON bodies, content negotiation and RDAP error objects.

Bodies are serialised by :func:`dumps` into a plain :class:`Response`: the handlers build dicts
themselves, so nothing gains from FastAPI's response models but their cost.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

import mimeparse
import orjson
from starlette.responses import Response

RDAP_JSON = "application/rdap+json"
JSON = "application/json"
#: What ``Accept`` may ask for; anything else is a 406.
MAX_RANGES = 32
"""Media ranges of an ``Accept`` header read (the rest are ignored)."""
NDJSON = "application/x-ndjson"
"""Also acceptable under ``/api/``: the endpoints that offer it answer it (events)."""

CONFORMANCE = [
    "rdap_level_0",
    "nro_rdap_profile_0",
    "cidr0",
    "rirSearch1",
    "ips",
    "ipSearchResults",
    "autnums",
    "autnumSearchResults",
]
"""Extensions every RDAP response declares (RFC 9083 §4.1, NRO profile, cidr0, RFC 9910)."""

TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    413: "Content Too Large",
    414: "URI Too Long",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
}


@functools.lru_cache(maxsize=512)
def negotiate(accept: str | None, rdap: bool) -> str | None:
    """The media type to answer with, or None when the client accepts none we make.

    ``Accept`` is read by python-mimeparse: quality values count (``q=0`` refuses a type),
    the most specific range decides a type's quality, and RDAP prefers
    ``application/rdap+json`` when both JSON types rank the same. The API answers
    ``application/json`` (its NDJSON endpoints decide for themselves). No ``Accept`` header
    accepts anything; unreadable ranges in it are ignored. Cached: clients send few
    distinct headers.
    """
    if not accept or not accept.strip():
        return RDAP_JSON if rdap else JSON
    ranges = []
    for part in accept.lower().split(",")[:MAX_RANGES]:
        if part.strip():
            try:
                ranges.append(mimeparse.parse_media_range(part))
            except mimeparse.MimeTypeParseException:
                continue
    offered = (JSON, RDAP_JSON) if rdap else (NDJSON, RDAP_JSON, JSON)  # rising preference
    quality, _place, best = max(
        (mimeparse.quality_parsed(media, ranges), place, media)
        for place, media in enumerate(offered)
    )
    if quality <= 0:
        return None
    return best if rdap else JSON


def dumps(body: Any) -> bytes:
    """Compact UTF-8 JSON, as ``json.dumps(body, ensure_ascii=False, separators=(",", ":"))``.

    orjson writes it several times faster (a sixth of an ``ip/`` answer's cost went to the
    standard encoder); what orjson refuses — integers beyond 64 bits (IPv6 address counts),
    non-string keys — goes to the standard encoder, which gives the same JSON value.
    """
    try:
        return orjson.dumps(body)
    except TypeError:  # orjson.JSONEncodeError is one
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


class BodyResponse(Response):
    """A :class:`Response` of ready bytes whose plain headers (length and type, no extra
    headers) are set directly: Starlette's general ``init_headers`` is a noticeable part of
    an ``ip/`` answer. The headers are the same as Starlette's (a test compares them)."""

    def init_headers(self, headers: Mapping[str, str] | None = None) -> None:
        if headers is not None or not isinstance(self.body, bytes) or self.media_type is None:
            super().init_headers(headers)
            return
        if self.media_type.startswith("text/") or self.status_code < 200:
            super().init_headers(headers)
            return
        length = (b"content-length", str(len(self.body)).encode())
        kind = (b"content-type", self.media_type.encode("latin-1"))
        self.raw_headers = [kind] if self.status_code in (204, 304) else [length, kind]


def json_response(
    body: Any, media_type: str = JSON, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return BodyResponse(dumps(body), status_code=status, media_type=media_type, headers=headers)


def error_body(
    status: int, description: str | list[str], notices: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """An RDAP error object (RFC 9083 §6); the JSON API uses the same shape."""
    lines = [description] if isinstance(description, str) else description
    body: dict[str, Any] = {
        "rdapConformance": CONFORMANCE,
        "errorCode": status,
        "title": TITLES.get(status, "Error"),
        "description": lines,
    }
    if notices:
        body["notices"] = notices
    return body


def error_response(
    status: int,
    description: str | list[str],
    rdap: bool = True,
    headers: dict[str, str] | None = None,
    notices: list[dict[str, Any]] | None = None,
) -> Response:
    return json_response(
        error_body(status, description, notices), RDAP_JSON if rdap else JSON, status, headers
    )


class HttpError(Exception):
    """A refusal only HTTP knows (406, 413, 414, 415, 501); everything else is an error of
    :mod:`rirport.errors`, mapped by :mod:`rirport.http.errors`."""

    def __init__(
        self, status: int, description: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.headers = headers


_ERROR_SCHEMA = {
    "type": "object",
    "required": ["errorCode", "title", "description"],
    "properties": {
        "errorCode": {"type": "integer"},
        "title": {"type": "string"},
        "description": {"type": "array", "items": {"type": "string"}},
    },
}


def documented(
    media_types: tuple[str, ...], codes: tuple[int, ...], ok_schema: dict[str, Any] | None = None
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses``: 200 (when ``ok_schema``) and the error codes, in these types."""
    out: dict[int | str, dict[str, Any]] = {}
    if ok_schema is not None:
        out[200] = {"description": "OK", "content": {m: {"schema": ok_schema} for m in media_types}}
    for code in codes:
        out[code] = {
            "description": TITLES[code],
            "content": {m: {"schema": _ERROR_SCHEMA} for m in media_types},
        }
    return out
