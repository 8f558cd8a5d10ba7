"""The account pages: sign in and out, the account page with API tokens and the password,
and, for Leadership Alliance members, the portfolio and the transfer request form.

The same sessions, tiers and rules as the API (:mod:`rirport.accounts`): each route names its
permission (``x-rirport-permission``, checked by the authorisation tests), a form is refused
before anything is read from it unless its CSRF token is right (:mod:`rirport.web.csrf`), and
every change is a call to the accounts or transfer services. A reader who is not signed in
asking for one of these pages is sent to ``/login?next=…`` (303).

The transfer form shows the decision before the member files: a GET with the fields filled
asks :func:`~rirport.services.transfers.evaluate.evaluate_transfer` (the engine's outcome,
every rule that fired, the conditions left, the RPKI finding) and whether the account may act
for the holder of record (:func:`~rirport.accounts.holdings.may_act_for`); the POST files it
through :func:`~rirport.accounts.holdings.file_transfer`, which decides again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Path
from starlette.responses import RedirectResponse, Response

from rirport.accounts import service
from rirport.accounts.holdings import file_transfer, may_act_for, portfolio
from rirport.accounts.policy import authorize
from rirport.domain.enums import REGISTRIES
from rirport.domain.transfer import TransferKind
from rirport.errors import (
    AuthenticationError,
    InputError,
    LoginThrottledError,
    NotFoundError,
    PermissionDeniedError,
)
from rirport.http.auth.bodies import form_fields
from rirport.http.auth.principal import PERMISSION_KEY
from rirport.http.auth.sessions import clear_session, login, set_session
from rirport.http.auth.state import FORM_MAX_BYTES, auth_state
from rirport.policy.loader import load_builtin
from rirport.query.parse import parse_day, parse_registry, parse_resource
from rirport.services.profiles.build import REGIMES
from rirport.services.transfers.evaluate import evaluate_transfer
from rirport.web.context import Page, PageContext
from rirport.web.csrf import checked_fields
from rirport.web.tables import table

router = APIRouter(include_in_schema=False)  # HTML pages: not in the OpenAPI description
LOCAL = re.compile(r"^/(?![/\\])[\x21-\x7e]{0,300}$")
"""A ``next`` address we redirect to after signing in: a path on this server only."""
TOKEN_ID = Path(..., ge=1, le=2**31 - 1)


def needs(permission: str) -> dict[str, Any]:
    return {"openapi_extra": {PERMISSION_KEY: permission}}


def to_login(page: PageContext) -> Response:
    target = page.request.url.path
    if page.request.url.query:
        target += "?" + page.request.url.query
    return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)


def signed_in(page: PageContext, permission: str) -> Response | None:
    """A redirect to the sign-in page for an anonymous reader; else the permission check.

    Raises:
        PermissionDeniedError: signed in, but the tier lacks ``permission``.
    """
    if not page.principal.authenticated:
        return to_login(page)
    authorize(page.principal, permission)
    return None


async def form(page: PageContext, permission: str | None = None) -> dict[str, str]:
    """The posted fields, once the reader may act and the CSRF token is right.

    Raises:
        AuthenticationError / PermissionDeniedError: no right to act, or a wrong token.
    """
    if permission is not None:
        authorize(page.principal, permission)
    fields = await form_fields(page.request, FORM_MAX_BYTES)
    return checked_fields(page.request, fields)


def _next(value: str | None) -> str:
    return value if value and LOCAL.match(value) else "/account"


# -- signing in and out ------------------------------------------------------------------------
@router.get("/login")
async def login_page(page: Page, next: str | None = None) -> Response:
    return _login(page, _next(next))


def _login(page: PageContext, target: str, message: str = "", status: int = 200) -> Response:
    return page.render(
        "login.html", title="Sign in", data={}, status=status, message=message, target=target
    )


@router.post("/login")
async def login_submit(page: Page) -> Response:
    fields = await form_fields(page.request, FORM_MAX_BYTES)
    target = _next(fields.get("next"))
    try:
        checked_fields(page.request, fields)
    except PermissionDeniedError as exc:
        return _login(page, target, str(exc), 403)
    try:
        _principal, sid = await login(
            page.request, fields.get("username", ""), fields.get("password", "")
        )
    except LoginThrottledError as exc:
        response = _login(page, target, str(exc), 429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except AuthenticationError:
        return _login(page, target, "Wrong username or password.", 401)
    done = RedirectResponse(target, status_code=303)
    set_session(auth_state(page.request), page.request, done, sid)
    return done


@router.post("/logout", **needs("account:self"))
async def logout_submit(page: Page) -> Response:
    await form(page, "account:self")
    if page.principal.session_hash is None:
        raise InputError("no session to end: API tokens are revoked on the account page")
    await asyncio.to_thread(
        service.logout, auth_state(page.request).store, page.principal.session_hash
    )
    response = RedirectResponse("/login", status_code=303)
    clear_session(response)
    return response


# -- the account page -------------------------------------------------------------------------
@router.get("/account", **needs("account:self"))
async def account_page(page: Page) -> Response:
    return await _account(page)


async def _account(
    page: PageContext, new_token: str | None = None, message: str = "", status: int = 200
) -> Response:
    refused = signed_in(page, "account:self")
    if refused is not None:
        return refused
    principal = page.principal
    assert principal.account_id is not None
    store = auth_state(page.request).store
    account = await asyncio.to_thread(service.account, store, principal.account_id)
    tokens = await asyncio.to_thread(service.tokens_of, store, principal.account_id)
    rows = [service.token_json(t) for t in tokens]
    listed = table(
        "tokens",
        "Your API tokens (the token text is shown once, when made)",
        ("id", "name", "created", "last used", "revoked"),
        [(t["id"], t["name"], t["created_at"], t["last_used_at"], t["revoked"]) for t in rows],
    )
    return page.render(
        "account.html",
        title="Your account",
        data={"account": account.to_json(), "reads": principal.read_tier, "tokens": rows},
        tables=[listed],
        status=status,
        account=account.to_json(),
        tokens=rows,
        new_token=new_token,
        message=message,
    )


@router.post("/account/tokens", **needs("account:self"))
async def token_create(page: Page) -> Response:
    fields = await form(page, "account:self")
    assert page.principal.account_id is not None
    try:
        _row, token = await asyncio.to_thread(
            service.create_token,
            auth_state(page.request).store,
            page.principal.account_id,
            fields.get("name", ""),
            page.principal.actor,
        )
    except InputError as exc:
        return await _account(page, message=str(exc), status=400)
    return await _account(page, new_token=token, status=201)


@router.post("/account/tokens/{token_id}/revoke", **needs("account:self"))
async def token_revoke(page: Page, token_id: int = TOKEN_ID) -> Response:
    await form(page, "account:self")
    assert page.principal.account_id is not None
    await asyncio.to_thread(
        service.revoke_token,
        auth_state(page.request).store,
        token_id,
        page.principal.actor,
        page.principal.account_id,
    )
    return RedirectResponse("/account", status_code=303)


@router.get("/account/password", **needs("account:self"))
async def password_page(page: Page) -> Response:
    refused = signed_in(page, "account:self")
    if refused is not None:
        return refused
    return page.render("password.html", title="Change your password", data={}, message="")


@router.post("/account/password", **needs("account:self"))
async def password_submit(page: Page) -> Response:
    fields = await form(page, "account:self")
    principal = page.principal
    state = auth_state(page.request)
    assert principal.account_id is not None
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
        return page.render(
            "password.html", title="Change your password", data={}, status=status, message=str(exc)
        )
    _fresh, sid = await asyncio.to_thread(
        service.start_session, state.store, principal.account_id, state.settings
    )
    response = RedirectResponse("/account", status_code=303)
    set_session(state, page.request, response, sid)
    return response


# -- the portfolio and transfer requests ------------------------------------------------------
@router.get("/account/portfolio", **needs("portfolio:read"))
async def portfolio_page(page: Page) -> Response:
    refused = signed_in(page, "portfolio:read")
    if refused is not None:
        return refused
    store = page.live.store
    held = await asyncio.to_thread(portfolio, store, page.served.view, page.principal)
    rows = []
    for h in held:
        for r in h.resources:
            holder = r.get("opaque_id") or ""
            rows.append(
                (
                    h.registry,
                    holder,
                    r["resource"],
                    r.get("cc"),
                    r.get("status"),
                    r.get("date"),
                    may_act_for(page.principal, h.registry, holder),
                )
            )
    listed = table(
        "portfolio",
        "What your verified holders hold now",
        ("registry", "holder", "resource", "country", "status", "date", "may file"),
        rows,
    )
    return page.render(
        "portfolio.html",
        title="Your portfolio",
        data={"holdings": [h.to_json() for h in held]},
        tables=[listed],
        holdings=held,
        rows=rows,
    )


TRANSFER_FIELDS = ("resource", "to", "recipient_holder", "regime", "kind", "date")


@router.get("/account/transfer", **needs("transfer:file"))
async def transfer_page(page: Page) -> Response:
    refused = signed_in(page, "transfer:file")
    if refused is not None:
        return refused
    current_only(page)
    asked = {k: page.request.query_params.get(k, "").strip()[:200] for k in TRANSFER_FIELDS}
    check = None
    problem = ""
    if asked["resource"] and asked["to"]:
        try:
            check = await asyncio.to_thread(_evaluate, page, asked)
        except (InputError, NotFoundError) as exc:
            problem = str(exc)
    return _transfer(page, asked, check, problem, 400 if problem else 200)


def current_only(page: PageContext) -> None:
    """Raises: InputError when the page was asked ``as-of`` a date: a request is judged and
    filed on the current files only."""
    if page.as_of is not None:
        raise InputError("as-of: transfer requests are judged on the current files; drop as-of")


def _transfer(
    page: PageContext,
    asked: dict[str, str],
    check: dict[str, Any] | None,
    problem: str = "",
    status: int = 200,
    filed: dict[str, Any] | None = None,
) -> Response:
    return page.render(
        "transfer.html",
        title="Request a transfer",
        data={"asked": asked, "decision": check, "filed": filed},
        status=status,
        asked=asked,
        check=check,
        problem=problem,
        filed=filed,
        registries=[r.value for r in REGISTRIES],
        regimes=REGIMES,
        kinds=[k.value for k in TransferKind],
    )


def _evaluate(page: PageContext, asked: dict[str, str]) -> dict[str, Any]:
    """The engine's decision on the request as asked, and whether this account may file it.

    Raises:
        InputError / NotFoundError: a field that does not read, or no registry holds it.
    """
    kind = _kind(asked.get("kind"))
    served = page.served
    evaluation = evaluate_transfer(
        page.live.store,
        served.view,
        served.iana,
        asked["resource"],
        parse_registry(asked["to"], "to"),
        load_builtin(asked.get("regime") or "current"),
        parse_day(asked.get("date") or None, "date") or dt.date.today(),
        kind,
        asked.get("recipient_holder", ""),
    )
    request = evaluation.request
    return {
        "request": request.to_json(),
        "decision": evaluation.decision.to_json(),
        "may_file": may_act_for(page.principal, request.source.value, request.source_holder),
    }


def _kind(text: str | None) -> TransferKind | None:
    if not text:
        return None
    try:
        return TransferKind(text)
    except ValueError:
        raise InputError(
            f"kind: {text[:40]!r} is not one of {', '.join(k.value for k in TransferKind)}"
        ) from None


@router.post("/account/transfer", **needs("transfer:file"))
async def transfer_submit(page: Page) -> Response:
    fields = await form(page, "transfer:file")
    current_only(page)
    asked = {k: fields.get(k, "").strip()[:200] for k in TRANSFER_FIELDS}
    try:
        resource = parse_resource(asked["resource"])
        recipient = parse_registry(asked["to"], "to")
        holder = asked["recipient_holder"]
        if not holder:
            raise InputError("recipient_holder: name the holder that would receive it")
        regime = asked["regime"] or "current"
        load_builtin(regime)
        kind = _kind(asked["kind"]) or TransferKind.INTER_RIR
        day = parse_day(asked["date"] or None, "date") or dt.date.today()
    except InputError as exc:
        return _transfer(page, asked, None, str(exc), 400)
    served = page.served
    try:
        result = await asyncio.to_thread(
            file_transfer,
            page.live.store,
            served.view,
            served.iana,
            page.principal,
            resource,
            recipient,
            holder,
            kind,
            day,
            regime,
        )
    except (InputError, NotFoundError, PermissionDeniedError) as exc:
        status = 403 if isinstance(exc, PermissionDeniedError) else 400
        return _transfer(page, asked, None, str(exc), status)
    return _transfer(page, asked, None, filed=result.to_json(), status=201)
