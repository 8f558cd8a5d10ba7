"""The HTTP edge's one mapping of failures to answers.

Below the handlers everything raises the project's own errors (:mod:`rirport.errors`); this
table turns each class into a status, most specific class first. :class:`HttpError` is left
for what only HTTP knows: 406, 413, 414, 415 and 501. The app's exception handlers and the
``ip/`` fast path (which runs before them) both answer through :func:`error_response_for`, so
a request fails the same way on either path.
"""

from __future__ import annotations

import logging

from starlette.responses import Response

from rirport.errors import (
    AuthenticationError,
    ConflictError,
    InputError,
    LoginThrottledError,
    NotFoundError,
    PermissionDeniedError,
    RirportError,
    StorageError,
    StoreBusyError,
    UnsupportedQueryError,
)
from rirport.http.responses import HttpError, error_response

log = logging.getLogger("rirport.http")

STATUS: tuple[tuple[type[RirportError], int], ...] = (
    (AuthenticationError, 401),
    (PermissionDeniedError, 403),
    (LoginThrottledError, 429),
    (UnsupportedQueryError, 422),
    (InputError, 400),
    (NotFoundError, 404),
    (ConflictError, 409),
    (RirportError, 503),  # settings, downloads, storage: the server's side, not the client's
)
"""Status of each class of the tree; the first class an error is an instance of wins."""

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="rirport"'}
MAX_DESCRIPTION = 500
"""Characters of an error's message shown in a body (a file's problems can run long)."""


def status_of(exc: RirportError) -> int:
    return next(status for cls, status in STATUS if isinstance(exc, cls))


def headers_of(exc: RirportError) -> dict[str, str] | None:
    if isinstance(exc, AuthenticationError):
        return dict(CHALLENGE)
    if isinstance(exc, LoginThrottledError):
        return {"Retry-After": str(exc.retry_after)}
    if isinstance(exc, StoreBusyError):
        return {"Retry-After": "5"}
    return None


def error_response_for(exc: Exception, rdap: bool, path: str = "") -> Response:
    """The error body answering ``exc`` (an RDAP error object under ``/rdap``); anything
    unexpected is logged and answered 500 without its details."""
    if isinstance(exc, HttpError):
        return error_response(exc.status, exc.description, rdap, exc.headers)
    if isinstance(exc, StorageError) and not isinstance(exc, StoreBusyError):
        log.error("database error on %s: %s", path, exc)  # the driver's text stays here
        return error_response(503, "the database failed (logged on the server)", rdap)
    if isinstance(exc, RirportError):
        return error_response(status_of(exc), str(exc)[:MAX_DESCRIPTION], rdap, headers_of(exc))
    log.error("unexpected error on %s", path, exc_info=exc)
    return error_response(500, "internal error (logged on the server)", rdap)


__all__ = ["STATUS", "error_response_for", "headers_of", "status_of"]
