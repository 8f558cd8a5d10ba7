"""Errors on the pages answered as pages: the app's one mapping of the error tree to
statuses (:mod:`rirport.http.errors`), rendered in the site's layout instead of the API's
JSON body.

:func:`install` wraps the app's exception handlers: a request for a page (any path outside
``/rdap``, ``/api`` and the OpenAPI documents, not asking ``?format=json``) gets the HTML
error page; every other request gets the handler it had before, unchanged.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from rirport.errors import MirrorReadOnlyError, RirportError, StorageError, StoreBusyError
from rirport.http.auth.state import SESSION_COOKIE
from rirport.http.errors import MAX_DESCRIPTION, headers_of, status_of
from rirport.http.responses import HttpError
from rirport.web.render import compressed

log = logging.getLogger("rirport.web")
NOT_PAGES = ("/rdap", "/api", "/docs", "/openapi.json", "/redoc")
TITLES = {
    400: "That request was not understood",
    401: "Sign in needed",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    415: "Unsupported upload",
    422: "Not supported",
    429: "Too many requests",
    500: "Something went wrong on the server",
    503: "The server cannot answer now",
}
Handler = Callable[[Request, Exception], Awaitable[Response]]


def is_page(request: Request) -> bool:
    """Whether an error of ``request`` is answered as a page: a request to one of the
    pages' routes (``rirport.web``) or from a browser (``Accept`` names HTML) anywhere but
    RDAP, the API and the OpenAPI documents, unless it asked for the page's JSON or CSV."""
    if request.url.path.startswith(NOT_PAGES):
        return False
    if request.query_params.get("format", "html").lower() in ("json", "csv"):
        return False
    route = request.scope.get("route")
    ours = getattr(getattr(route, "endpoint", None), "__module__", "").startswith("rirport.web")
    return ours or "text/html" in request.headers.get("accept", "")


def error_page(
    request: Request,
    status: int,
    lines: Sequence[str],
    *,
    title: str | None = None,
    suggestions: Sequence[tuple[str, str]] = (),
    headers: dict[str, str] | None = None,
) -> Response:
    """The error page: what was wrong (``lines``), links that may help (``suggestions``:
    href and label), in the site's layout."""
    env = request.app.state.web.env
    body = env.get_template("error.html").render(
        page=None,
        status=status,
        title=title or TITLES.get(status, "Error"),
        lines=list(lines),
        suggestions=list(suggestions),
        path=request.url.path,
    )
    return compressed(request, body.encode(), "text/html; charset=utf-8", status, headers)


def describe(exc: Exception) -> tuple[int, list[str], dict[str, str] | None]:
    """Status, message lines and headers for ``exc``, as the API would answer it."""
    if isinstance(exc, HttpError):
        return exc.status, [exc.description], exc.headers
    if isinstance(exc, HTTPException):
        text = "There is no page at this address." if exc.status_code == 404 else str(exc.detail)
        return exc.status_code, [text], dict(exc.headers) if exc.headers else None
    if isinstance(exc, RequestValidationError):
        lines = [
            f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'query')}: {e.get('msg', '')}"
            for e in exc.errors()
        ][:10]
        return 400, lines or ["malformed request"], None
    if isinstance(exc, StorageError) and not isinstance(exc, StoreBusyError):
        log.error("database error: %s", exc)
        return 503, ["The database failed (logged on the server)."], None
    if isinstance(exc, RirportError):
        return status_of(exc), [str(exc)[:MAX_DESCRIPTION]], headers_of(exc)
    log.error("unexpected error", exc_info=exc)
    return 500, ["An internal error (logged on the server)."], None


def suggestions_for(status: int) -> list[tuple[str, str]]:
    if status == 404:
        return [("/", "Search from the home page"), ("/portability", "The portability matrix")]
    if status == 401:
        return [("/login", "Sign in")]
    return [("/", "Back to the home page")]


def install(app: FastAPI) -> None:
    """Answer page requests' errors with :func:`error_page`; keep the others' handlers."""
    classes: list[type[Exception]] = [
        HttpError,
        HTTPException,
        RequestValidationError,
        RirportError,
        Exception,
    ]
    classes += [
        c
        for c in app.exception_handlers
        if isinstance(c, type) and issubclass(c, RirportError) and c not in classes
    ]
    for cls in classes:
        before = app.exception_handlers.get(cls)
        app.add_exception_handler(cls, _wrapped(before))


def _wrapped(before: Callable[..., object] | None) -> Handler:
    async def handler(request: Request, exc: Exception) -> Response:
        if not is_page(request) and before is not None:
            answer = before(request, exc)
            if inspect.isawaitable(answer):
                answer = await answer
            assert isinstance(answer, Response)
            return answer
        status, lines, headers = describe(exc)
        title, suggestions = None, suggestions_for(status)
        if isinstance(exc, MirrorReadOnlyError):  # a form that writes, on a mirror
            title = "This server is a read-only mirror"
            publishers = request.app.state.log_reader.mirror_banners()
            suggestions = [(b.link, f"The publisher, {b.origin}") for b in publishers if b.link]
            suggestions += suggestions_for(status)
        response = error_page(
            request, status, lines, title=title, suggestions=suggestions, headers=headers
        )
        if status == 401 and SESSION_COOKIE in request.cookies:
            response.delete_cookie(SESSION_COOKIE, path="/")  # a stale cookie: drop it
        return response

    return handler


__all__ = ["error_page", "install", "is_page"]
