"""Reading request bodies with limits: JSON objects of string fields, and HTML forms.

Every body is counted while read (a ``Content-Length`` over the limit is refused before), so
an oversized upload is a 413 however it is sent; a body of the wrong media type is a 415.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request

from rirport.errors import InputError
from rirport.http.responses import HttpError


async def read_limited(request: Request, limit: int) -> bytes:
    """The body, refused with 413 past ``limit`` bytes (before reading it when the declared
    length says so; while reading when it is chunked or lies)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HttpError(413, f"body of {declared} bytes; the limit is {limit}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HttpError(413, f"body over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(body: bytes, hint: str = "") -> Any:
    """A JSON body; one nested too deeply for the parser is malformed like any other.

    Raises:
        InputError: not JSON (with ``hint`` on what to send).
    """
    try:
        return json.loads(body)
    except RecursionError:
        raise InputError(f"the body is not JSON: nested too deeply{hint}") from None
    except (ValueError, UnicodeDecodeError):
        raise InputError(f"the body is not JSON{hint}") from None


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def json_fields(
    request: Request, limit: int, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> dict[str, str]:
    """A JSON object whose values are strings, with exactly the fields allowed.

    Raises:
        HttpError: 415 not JSON by media type, 413 too large.
        InputError: malformed (naming what).
    """
    if media_type(request) != "application/json":
        raise HttpError(415, "send the body as application/json")
    parsed = parse_json(await read_limited(request, limit))
    if not isinstance(parsed, dict):
        raise InputError("the body must be a JSON object")
    return _fields(parsed, required, optional)


def _fields(
    parsed: dict[str, Any], required: tuple[str, ...], optional: tuple[str, ...]
) -> dict[str, str]:
    unknown = sorted(set(parsed) - set(required) - set(optional))
    if unknown:
        raise InputError(f"unknown field(s): {', '.join(unknown)[:200]}")
    missing = [k for k in required if k not in parsed]
    if missing:
        raise InputError(f"missing field(s): {', '.join(missing)}")
    wrong = [k for k, v in parsed.items() if not isinstance(v, str)]
    if wrong:
        raise InputError(f"field(s) {', '.join(sorted(wrong))} must be strings")
    return {k: str(v) for k, v in parsed.items()}


async def form_fields(request: Request, limit: int) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` form (the first value of each field).

    Raises:
        HttpError: 415 another media type, 413 too large.
        InputError: unreadable.
    """
    if media_type(request) != "application/x-www-form-urlencoded":
        raise HttpError(415, "send the form as application/x-www-form-urlencoded")
    body = await read_limited(request, limit)
    try:
        parsed = parse_qs(
            body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=20
        )
    except (UnicodeDecodeError, ValueError):
        raise InputError("the form cannot be read") from None
    return {k: v[0] for k, v in parsed.items()}
