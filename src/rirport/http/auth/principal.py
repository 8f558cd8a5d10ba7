"""Who is asking, as FastAPI dependencies that also describe themselves in OpenAPI.

A request authenticates with ``Authorization: Bearer <API token>`` or with the signed session
cookie; neither is an anonymous reader. Credentials presented but not valid (unknown, revoked,
expired, forged, of a disabled account) are a 401 wherever they are sent, never a silent
downgrade to anonymous. A cookie-authenticated request that changes anything must carry the
session's CSRF token in ``X-CSRF-Token`` (or the form field ``csrf_token``); bearer requests
carry no ambient credential and need none.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from rirport.accounts import service
from rirport.accounts.credentials import csrf_token, same, unsign
from rirport.accounts.policy import Principal, authorize
from rirport.errors import AuthenticationError, PermissionDeniedError
from rirport.http.auth.errors import responses
from rirport.http.auth.state import CSRF_HEADER, SESSION_COOKIE, AuthState, auth_state

SAFE = ("GET", "HEAD", "OPTIONS")
bearer = HTTPBearer(
    auto_error=False,
    description="An API token (`rpt_…`), made with "
    "`POST /api/auth/tokens` or `rirport accounts token create`.",
)
cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    description="The session "
    "cookie set by `POST /api/auth/login`; changes also need `X-CSRF-Token`.",
)
PERMISSION_KEY = "x-rirport-permission"
"""Where a route's OpenAPI operation names the permission it needs (absent: open to all)."""


def session_id(state: AuthState, value: str | None) -> str | None:
    return unsign(state.key, value) if value else None


Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
Cookie = Annotated[str | None, Depends(cookie)]
CsrfHeader = Annotated[str | None, Header(alias=CSRF_HEADER, max_length=200)]


async def identify(
    request: Request, credentials: Bearer, session_cookie: Cookie, x_csrf_token: CsrfHeader = None
) -> Principal:
    """The principal of a request (anonymous without credentials); a cookie-authenticated
    change must carry the CSRF token in ``X-CSRF-Token``.

    Raises:
        AuthenticationError: credentials presented but not valid.
        PermissionDeniedError: a cookie-authenticated change without the CSRF token.
    """
    principal, sid = await _identify(request, credentials, session_cookie)
    if sid is not None and request.method not in SAFE:
        check_csrf(auth_state(request), sid, x_csrf_token)
    return principal


async def identify_form(request: Request, credentials: Bearer, session_cookie: Cookie) -> Principal:
    """As :func:`identify` for the HTML forms, whose CSRF token is a form field: the handler
    checks it (:func:`rirport.web.csrf.checked_fields`) before changing anything."""
    principal, _sid = await _identify(request, credentials, session_cookie)
    return principal


async def _identify(
    request: Request, credentials: HTTPAuthorizationCredentials | None, session_cookie: str | None
) -> tuple[Principal, str | None]:
    state = auth_state(request)
    if request.headers.get("authorization") is not None:
        if credentials is None:
            raise AuthenticationError("send the API token as 'Authorization: Bearer <token>'")
        found = await _run(service.from_token, state, credentials.credentials)
        if found is None:
            raise AuthenticationError("the API token is not valid (unknown or revoked)")
        return found, None
    if session_cookie is None:
        return Principal(), None
    sid = session_id(state, session_cookie)
    found = None if sid is None else await _run(service.from_session, state, sid)
    if found is None or sid is None:
        raise AuthenticationError(
            "the session is not valid (expired, ended or forged); log in again"
        )
    return found, sid


async def check_presented(request: Request, credentials: Bearer, session_cookie: Cookie) -> None:
    """A dependency of the open routes (RDAP, the JSON API's reads): anonymous readers pass,
    but a credential that is presented must be valid, as on every other route.

    Raises:
        AuthenticationError: a token or session cookie that is not valid.
    """
    await _identify(request, credentials, session_cookie)


def check_csrf(state: AuthState, sid: str, given: str | None) -> None:
    """Raises: PermissionDeniedError when ``given`` is not the session's CSRF token."""
    if not given or not same(given, csrf_token(state.key, sid)):
        raise PermissionDeniedError(
            f"missing or wrong CSRF token: send the session's token "
            f"in {CSRF_HEADER} (GET /api/auth/session gives it)"
        )


async def _run(
    function: Callable[..., Principal | None], state: AuthState, value: str
) -> Principal | None:
    """A store call off the event loop (the store is synchronous)."""
    return await asyncio.to_thread(function, state.store, value, state.settings.clock)


def require(permission: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency: the principal, refused unless it holds ``permission``."""

    async def dependency(principal: Annotated[Principal, Depends(identify)]) -> Principal:
        authorize(principal, permission)
        return principal

    return dependency


def guarded(
    permission: str | None,
    schema: dict[str, Any] | None,
    *codes: int,
    ok: int = 200,
    media: str = "application/json",
    body: tuple[tuple[str, ...], tuple[str, ...]] | None = None,
) -> dict[str, Any]:
    """Route keyword arguments: the OpenAPI responses (with 401/403 when guarded), the
    permission as an operation extension (open routes list the empty requirement: anonymous
    allowed beside the bearer and cookie schemes), and a JSON body of string fields
    (``body``: required and optional names)."""
    if permission is None:
        out: dict[str, Any] = {
            "responses": responses(schema, 401, *codes, ok=ok, media=media),
            "openapi_extra": {"security": [{}]},
        }
    else:
        out = {
            "responses": responses(schema, 401, 403, *codes, ok=ok, media=media),
            "openapi_extra": {PERMISSION_KEY: permission},
        }
    if body is not None:
        required, optional = body
        out["openapi_extra"]["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": list(required),
                        "additionalProperties": False,
                        "properties": {k: {"type": "string"} for k in (*required, *optional)},
                    }
                }
            },
        }
    return out


Reader = Annotated[Principal, Depends(identify)]
"""Anyone, anonymous included (bad credentials are still a 401)."""
FormReader = Annotated[Principal, Depends(identify_form)]
SelfService = Annotated[Principal, Depends(require("account:self"))]
PortfolioReader = Annotated[Principal, Depends(require("portfolio:read"))]
TransferFiler = Annotated[Principal, Depends(require("transfer:file"))]
AccountsAdmin = Annotated[Principal, Depends(require("accounts:manage"))]
VerificationAdmin = Annotated[Principal, Depends(require("verification:manage"))]
EvidenceAdmin = Annotated[Principal, Depends(require("evidence:manage"))]
