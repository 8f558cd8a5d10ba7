"""Session cookies: set at login (signed, ``HttpOnly``, ``SameSite=Lax``, ``Secure`` over
https), cleared at logout; and the login itself, off the event loop (argon2 takes a while)."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from rirport.accounts import service
from rirport.accounts.credentials import csrf_token, sign
from rirport.accounts.policy import Principal
from rirport.http.auth.state import SESSION_COOKIE, AuthState, auth_state


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def set_session(state: AuthState, request: Request, response: Response, sid: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        sign(state.key, sid),
        path="/",
        httponly=True,
        samesite="lax",
        secure=state.secure(request),
        max_age=int(state.settings.session_hours * 3600),
    )


def clear_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


async def login(request: Request, username: str, password: str) -> tuple[Principal, str]:
    """Check the password and open a session (see :func:`rirport.accounts.service.login`)."""
    state = auth_state(request)
    return await asyncio.to_thread(
        service.login, state.store, username, password, client_of(request), state.settings
    )


def session_json(state: AuthState, principal: Principal, sid: str | None) -> dict[str, object]:
    """What ``/api/auth/session`` and a login answer: who, which tier, the CSRF token."""
    return {
        "authenticated": principal.authenticated,
        "account": principal.account_id,
        "tier": principal.role,
        "reads": principal.read_tier,
        "via": principal.via,
        "holders": [{"registry": r, "opaque_id": o} for r, o in principal.holders],
        "csrf_token": csrf_token(state.key, sid) if sid else None,
    }
