"""The answers to refused requests: 401 (with ``WWW-Authenticate``), 403, 413, 415, 429
(with ``Retry-After``), in the JSON API's error shape, and their OpenAPI description."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from starlette.responses import Response

from rirport.errors import AuthenticationError, LoginThrottledError, PermissionDeniedError
from rirport.http.auth.state import SESSION_COOKIE
from rirport.http.responses import JSON, error_body, error_response, json_response

TITLES = {
    200: "OK",
    201: "Created",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    406: "Not Acceptable",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    503: "Service Unavailable",
}
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="rirport"'}


def problem(status: int, description: str, headers: dict[str, str] | None = None) -> Response:
    body = error_body(status, description)
    body["title"] = TITLES.get(status, body["title"])
    return json_response(body, JSON, status, headers)


def install_handlers(app: FastAPI) -> None:
    """Map the auth errors of :mod:`rirport.errors` (more specific than the app's
    ``RirportError`` handler, so they win)."""

    @app.exception_handler(AuthenticationError)
    async def unauthenticated(request: Request, exc: AuthenticationError) -> Response:
        if request.url.path.startswith("/rdap"):  # RDAP's error shape and media type
            response = error_response(401, str(exc), True, CHALLENGE)
        else:
            response = problem(401, str(exc), CHALLENGE)
        if SESSION_COOKIE in request.cookies:  # a stale cookie: let the browser drop it
            response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @app.exception_handler(PermissionDeniedError)
    async def forbidden(_request: Request, exc: PermissionDeniedError) -> Response:
        return problem(403, str(exc))

    @app.exception_handler(LoginThrottledError)
    async def throttled(_request: Request, exc: LoginThrottledError) -> Response:
        return problem(429, str(exc), {"Retry-After": str(exc.retry_after)})


_ERROR_SCHEMA = {
    "type": "object",
    "required": ["errorCode", "title", "description"],
    "properties": {
        "errorCode": {"type": "integer"},
        "title": {"type": "string"},
        "description": {"type": "array", "items": {"type": "string"}},
    },
}


def responses(
    schema: dict[str, Any] | None, *codes: int, ok: int = 200, media: str = JSON
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses: ``ok`` with ``schema`` and the error codes (400, 406 and 429 from
    the gate always)."""
    out: dict[int | str, dict[str, Any]] = {}
    if schema is not None:
        out[ok] = {"description": TITLES.get(ok, "OK"), "content": {media: {"schema": schema}}}
    for code in sorted({400, 406, 429, *codes}):
        out[code] = {"description": TITLES[code], "content": {JSON: {"schema": _ERROR_SCHEMA}}}
    return out


def unauthorized(media: str) -> dict[int | str, dict[str, Any]]:
    """The 401 of an open route: a token or session cookie was presented and is not valid."""
    return {
        401: {
            "description": "Unauthorized: a presented token or session cookie is not valid "
            "(anonymous requests are welcome)",
            "content": {media: {"schema": _ERROR_SCHEMA}},
        }
    }
