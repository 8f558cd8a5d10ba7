"""Account endpoints under ``/api/auth/``: log in and out, who am I, change the password,
one's own API tokens. Bodies are JSON objects of strings (at most
:data:`~rirport.http.auth.state.FORM_MAX_BYTES` bytes)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from rirport.accounts import service
from rirport.errors import ConflictError
from rirport.http.auth.bodies import json_fields
from rirport.http.auth.principal import Reader, SelfService, guarded, session_id
from rirport.http.auth.sessions import clear_session, login, session_json, set_session
from rirport.http.auth.state import FORM_MAX_BYTES, SESSION_COOKIE, auth_state
from rirport.http.responses import json_response

router = APIRouter(prefix="/api/auth", tags=["accounts"])
OBJECT = {"type": "object"}
ARRAY = {"type": "array", "items": {"type": "object"}}


@router.post(
    "/login",
    summary="Log in: sets the session cookie, answers the CSRF token",
    **guarded(None, OBJECT, 415, 413, body=(("username", "password"), ())),
)
async def login_json(request: Request) -> Response:
    fields = await json_fields(request, FORM_MAX_BYTES, ("username", "password"))
    principal, sid = await login(request, fields["username"], fields["password"])
    state = auth_state(request)
    response = json_response(session_json(state, principal, sid))
    set_session(state, request, response, sid)
    return response


@router.post(
    "/logout",
    summary="End this session (or revoke the API token sent)",
    **guarded("account:self", OBJECT, 404, 409),
)
async def logout(request: Request, principal: SelfService) -> Response:
    state = auth_state(request)
    if principal.via != "session":
        raise ConflictError(
            "no session to end: API tokens are revoked with DELETE /api/auth/tokens/{id}"
        )
    assert principal.session_hash is not None
    await asyncio.to_thread(service.logout, state.store, principal.session_hash)
    response = json_response({"ended": "session"})
    clear_session(response)
    return response


@router.get(
    "/session", summary="Who is asking: tier, linked holders, CSRF token", **guarded(None, OBJECT)
)
async def whoami(request: Request, principal: Reader) -> Response:
    state = auth_state(request)
    sid = (
        session_id(state, request.cookies.get(SESSION_COOKIE))
        if (principal.via == "session")
        else None
    )
    return json_response(session_json(state, principal, sid))


@router.post(
    "/password",
    summary="Change the password; every session ends, a new one starts",
    **guarded("account:self", OBJECT, 413, 415, body=(("current_password", "new_password"), ())),
)
async def password(request: Request, principal: SelfService) -> Response:
    fields = await json_fields(request, FORM_MAX_BYTES, ("current_password", "new_password"))
    state = auth_state(request)
    assert principal.account_id is not None
    await asyncio.to_thread(
        service.change_password,
        state.store,
        principal.account_id,
        fields["current_password"],
        fields["new_password"],
        principal.actor,
    )
    if principal.via != "session":
        return json_response({"changed": True})
    fresh, sid = await asyncio.to_thread(
        service.start_session, state.store, principal.account_id, state.settings
    )
    response = json_response({"changed": True, **session_json(state, fresh, sid)})
    set_session(state, request, response, sid)
    return response


@router.get(
    "/tokens", summary="Your API tokens (never the token text)", **guarded("account:self", ARRAY)
)
async def my_tokens(request: Request, principal: SelfService) -> Response:
    assert principal.account_id is not None
    rows = await asyncio.to_thread(
        service.tokens_of, auth_state(request).store, principal.account_id
    )
    return json_response([service.token_json(t) for t in rows])


@router.post(
    "/tokens",
    summary="A new API token, shown once",
    status_code=201,
    **guarded("account:self", OBJECT, 409, 413, 415, ok=201, body=(("name",), ())),
)
async def new_token(request: Request, principal: SelfService) -> Response:
    fields = await json_fields(request, FORM_MAX_BYTES, ("name",))
    assert principal.account_id is not None
    row, token = await asyncio.to_thread(
        service.create_token,
        auth_state(request).store,
        principal.account_id,
        fields["name"],
        principal.actor,
    )
    return json_response({**service.token_json(row), "token": token}, status=201)


@router.delete(
    "/tokens/{token_id}",
    summary="Revoke one of your API tokens",
    **guarded("account:self", OBJECT, 404, 409),
)
async def revoke(
    request: Request, principal: SelfService, token_id: int = Path(..., ge=1, le=2**31 - 1)
) -> Response:
    assert principal.account_id is not None
    await asyncio.to_thread(
        service.revoke_token,
        auth_state(request).store,
        token_id,
        principal.actor,
        principal.account_id,
    )
    return json_response({"revoked": token_id})
