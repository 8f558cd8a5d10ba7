"""The HTML forms a browser uses: log in, the account page, log out, change the password.

CSRF: the login form is protected by a double-submit token (a random value in a signed
``rirport_login_csrf`` cookie and in a hidden field, which must match); the forms of a signed-in
session carry the session's synchroniser token (:func:`~rirport.accounts.credentials.csrf_token`).
Every value shown is escaped; pages forbid framing and scripts by their CSP. Not part of the
OpenAPI description (they answer HTML, not the API's JSON).
"""

from __future__ import annotations

import asyncio
import html
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from rirport.accounts import service
from rirport.accounts.credentials import csrf_token, new_secret, same, sign, unsign
from rirport.errors import (
    AuthenticationError,
    InputError,
    LoginThrottledError,
    PermissionDeniedError,
)
from rirport.http.api.profiles import HTML_HEADERS
from rirport.http.auth.bodies import form_fields
from rirport.http.auth.principal import PERMISSION_KEY, FormReader, check_csrf, session_id
from rirport.http.auth.sessions import clear_session, login, set_session
from rirport.http.auth.state import FORM_MAX_BYTES, LOGIN_CSRF_COOKIE, SESSION_COOKIE, auth_state

router = APIRouter(include_in_schema=False)
SELF: dict[str, Any] = {"openapi_extra": {PERMISSION_KEY: "account:self"}}


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    text = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body><main>"
        f"<h1>{html.escape(title)}</h1>{body}</main></body></html>"
    )
    return HTMLResponse(text, status_code=status, headers=dict(HTML_HEADERS))


def _field(name: str, label: str, kind: str = "password", auto: str = "") -> str:
    return (
        f'<p><label>{html.escape(label)} <input name="{name}" type="{kind}" required '
        f'autocomplete="{auto}"></label></p>'
    )


def _hidden(token: str) -> str:
    return f'<input type="hidden" name="csrf_token" value="{html.escape(token, quote=True)}">'


def _login_form(request: Request, message: str = "", status: int = 200) -> HTMLResponse:
    state = auth_state(request)
    token = new_secret()
    note = f'<p role="alert">{html.escape(message)}</p>' if message else ""
    response = _page(
        "Log in to rirport",
        note
        + '<form method="post" action="/login">'
        + _hidden(token)
        + _field("username", "Username", "text", "username")
        + _field("password", "Password", auto="current-password")
        + '<button type="submit">Log in</button></form>',
        status,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        sign(state.key, token, "login-csrf"),
        path="/login",
        httponly=True,
        samesite="strict",
        secure=state.secure(request),
        max_age=3600,
    )
    return response


@router.get("/login")
async def login_page(request: Request) -> Response:
    return _login_form(request)


@router.post("/login")
async def login_submit(request: Request) -> Response:
    fields = await form_fields(request, FORM_MAX_BYTES)
    state = auth_state(request)
    cookie = unsign(state.key, request.cookies.get(LOGIN_CSRF_COOKIE, ""), "login-csrf")
    if cookie is None or not same(cookie, fields.get("csrf_token", "")):
        return _login_form(
            request, "The form expired or was not sent from this site; try again.", 403
        )
    try:
        _principal, sid = await login(
            request, fields.get("username", ""), fields.get("password", "")
        )
    except LoginThrottledError as exc:
        response = _login_form(request, str(exc), 429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except AuthenticationError:
        return _login_form(request, "Wrong username or password.", 401)
    done = RedirectResponse("/account", status_code=303)
    set_session(state, request, done, sid)
    done.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return done


@router.get("/account", **SELF)
def account_page(request: Request, principal: FormReader) -> Response:
    if principal.account_id is None or principal.via != "session":
        return RedirectResponse("/login", status_code=303)
    state = auth_state(request)
    row = service.account(state.store, principal.account_id).row
    token = _session_token(request)
    holders = "".join(f"<li>{html.escape(r)}:{html.escape(o)}</li>" for r, o in principal.holders)
    return _page(
        "Your rirport account",
        (
            f"<p>Signed in as <strong>{html.escape(row.username)}</strong> "
            f"(tier: {html.escape(row.tier)}; you read {html.escape(principal.read_tier)} "
            "sections of profiles).</p>"
            + (f"<h2>Verified holders</h2><ul>{holders}</ul>" if holders else "")
            + '<p><a href="/account/password">Change your password</a></p>'
            + f'<form method="post" action="/logout">{_hidden(token)}'
            + '<button type="submit">Log out</button></form>'
        ),
    )


@router.post("/logout", **SELF)
async def logout_submit(request: Request, principal: FormReader) -> Response:
    if principal.session_hash is None:
        raise AuthenticationError("not logged in")
    await form_with_csrf(request)
    await asyncio.to_thread(service.logout, auth_state(request).store, principal.session_hash)
    response = RedirectResponse("/login", status_code=303)
    clear_session(response)
    return response


@router.get("/account/password", **SELF)
def password_page(request: Request, principal: FormReader) -> Response:
    if principal.via != "session":
        return RedirectResponse("/login", status_code=303)
    return _password_form(_session_token(request))


def _password_form(token: str, message: str = "", status: int = 200) -> HTMLResponse:
    note = f'<p role="alert">{html.escape(message)}</p>' if message else ""
    return _page(
        "Change your password",
        note + '<form method="post" '
        'action="/account/password">'
        + _hidden(token)
        + _field("current_password", "Current password", auto="current-password")
        + _field("new_password", "New password (12 characters or more)", auto="new-password")
        + '<button type="submit">Change</button></form>',
        status,
    )


@router.post("/account/password", **SELF)
async def password_submit(request: Request, principal: FormReader) -> Response:
    if principal.account_id is None or principal.via != "session":
        raise AuthenticationError("log in first")
    fields = await form_with_csrf(request)
    state = auth_state(request)
    try:
        await asyncio.to_thread(
            service.change_password,
            state.store,
            principal.account_id,
            fields.get("current_password", ""),
            fields.get("new_password", ""),
            principal.actor,
        )
    except (InputError, PermissionDeniedError) as exc:
        status = 403 if isinstance(exc, PermissionDeniedError) else 400
        return _password_form(_session_token(request), str(exc), status)
    _fresh, sid = await asyncio.to_thread(
        service.start_session, state.store, principal.account_id, state.settings
    )
    response = RedirectResponse("/account", status_code=303)
    set_session(state, request, response, sid)
    return response


def _session_token(request: Request) -> str:
    state = auth_state(request)
    sid = session_id(state, request.cookies.get(SESSION_COOKIE))
    if sid is None:
        raise InputError("no session")
    return csrf_token(state.key, sid)


async def form_with_csrf(request: Request) -> dict[str, str]:
    """The form's fields once its CSRF token is the session's (else 403)."""
    fields = await form_fields(request, FORM_MAX_BYTES)
    state = auth_state(request)
    sid = session_id(state, request.cookies.get(SESSION_COOKIE))
    if sid is None:
        raise AuthenticationError("log in first")
    check_csrf(state, sid, fields.get("csrf_token"))
    return fields
