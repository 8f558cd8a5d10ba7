"""Authorisation from the outside, through the real app, for every route it has.

The routes come from the app itself: a route that changes anything, or any route of the
account, admin, profile and transfer surfaces, must either name the permission it needs in its
OpenAPI operation (``x-rirport-permission``) or be on the short list of open routes below, so
a new unprotected endpoint fails here. Every guarded route is then called with no credentials,
with each tier that lacks the permission, a forged cookie, an expired session, a session
replayed after logout, a revoked token and (for changes) a session without its CSRF token;
each is refused with its status and the journal and the account, transfer and evidence
tables are left exactly as they were.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from rirport.accounts import service
from rirport.accounts.credentials import sign
from rirport.accounts.policy import PERMISSIONS, ROLES
from rirport.accounts.service import AuthSettings
from rirport.http.auth.principal import PERMISSION_KEY
from rirport.http.auth.state import SESSION_COOKIE
from tests.accounts.conftest import PASSWORD, SECRET, World, make_client, past
from tests.http.conftest import NEW_HOLDER, RIPE_HOLDER

OPEN = {
    ("POST", "/api/auth/login"),
    ("GET", "/api/auth/session"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/api/profiles/{profile_id}"),
    ("GET", "/profiles/{profile_id}"),
    ("GET", "/profiles"),
}
"""Routes of the new surfaces anyone may call (each answers by the reader's tier)."""
READ_ONLY_POSTS = {
    ("POST", "/api/lookup"),
    ("POST", "/portability/compare"),
}  # compare: an upload read, nothing stored
"""Older routes that take a POST body but change nothing (the bulk lookup)."""
SURFACES = (
    "/api/auth",
    "/api/admin",
    "/api/me",
    "/api/transfers",
    "/api/profiles",
    "/profiles",
    "/login",
    "/logout",
    "/account",
    "/admin",
)
HTML_PAGES = {
    "/account",
    "/account/password",
    "/account/portfolio",
    "/account/transfer",
    "/admin",
    "/admin/accounts/{account_id}",
    "/admin/evidence",
}
"""Browser pages: an anonymous reader is sent to /login?next=… (303) rather than given a
401."""


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    template: str
    permission: str | None
    form: bool

    def __str__(self) -> str:
        return f"{self.method} {self.template}"


def walk(found: Iterable[Any]) -> Iterator[APIRoute]:
    """Every API route, also inside included routers (FastAPI keeps those nested)."""
    for route in found:
        if isinstance(route, APIRoute):
            yield route
        elif (inner := getattr(route, "original_router", None)) is not None:
            yield from walk(inner.routes)


def routes(client: TestClient) -> list[tuple[str, APIRoute]]:
    app = client.app
    assert isinstance(app, FastAPI)
    return [(method, route) for route in walk(app.routes) for method in sorted(route.methods or ())]


def permission_of(route: APIRoute) -> str | None:
    return (route.openapi_extra or {}).get(PERMISSION_KEY)


def guarded_calls(client: TestClient, world: World) -> list[Call]:
    values = {
        "account_id": str(world.ids["sc"]),
        "token_id": str(world.token_ids["sc"]),
        "registry": "ripencc",
        "opaque_id": RIPE_HOLDER,
        "profile_id": "registry:ripencc",
    }
    calls = []
    for method, route in routes(client):
        permission = permission_of(route)
        if permission is None:
            continue
        path = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], route.path)
        calls.append(Call(method, path, route.path, permission, not route.include_in_schema))
    return calls


BODIES: dict[str, Any] = {
    "/api/auth/password": {"current_password": PASSWORD, "new_password": "a different passphrase"},
    "/api/auth/tokens": {"name": "another"},
    "/api/admin/accounts": {"username": "newcomer", "password": "a long enough passphrase"},
    "/api/admin/accounts/{account_id}/tier": {"tier": "admin"},
    "/api/admin/accounts/{account_id}/holders": {"registry": "arin", "opaque_id": NEW_HOLDER},
    "/api/transfers": {
        "resource": "193.0.16.0/21",
        "to": "ripencc",
        "recipient_holder": "someone",
        "regime": "mandatory-portability",
    },
    "/api/admin/evidence": {
        "evidence": [
            {
                "id": "authz-probe",
                "claim": "A probe that must never be stored.",
                "source": {
                    "address": "https://example.org/probe",
                    "publisher": "tests",
                    "date": "2020-01-01",
                    "kind": "news-report",
                },
                "reliability": "C",
                "credibility": 3,
                "entities": ["registry:arin"],
            }
        ]
    },
}


def send(
    client: TestClient,
    call: Call,
    headers: dict[str, str] | None = None,
    cookie: str | None = None,
    csrf: str | None = None,
) -> Any:
    """One request as the route expects it (JSON body or form), with the given credentials
    only (the client's cookie jar is emptied first)."""
    client.cookies.clear()
    sent = dict(headers or {})
    if cookie is not None:
        sent["Cookie"] = f"{SESSION_COOKIE}={cookie}"
    if call.form:
        fields = {
            "current_password": PASSWORD,
            "new_password": "a different passphrase",
            **({"csrf_token": csrf} if csrf else {}),
        }
        return client.request(
            call.method, call.path, data=fields, headers=sent, follow_redirects=False
        )
    if csrf:
        sent["X-CSRF-Token"] = csrf
    body = BODIES.get(call.template)
    if call.method in ("GET", "DELETE") or body is None:
        return client.request(call.method, call.path, headers=sent, follow_redirects=False)
    return client.request(
        call.method,
        call.path,
        content=json.dumps(body),
        headers={**sent, "Content-Type": "application/json"},
        follow_redirects=False,
    )


@dataclass
class Credentials:
    forged: str
    expired: str
    logged_out: str
    revoked_token: str


@pytest.fixture(scope="module")
def creds(world: World) -> Credentials:
    """Credentials that must no longer work, all of the administrator."""
    admin = world.ids["admin"]
    forged = sign(b"not the server's secret", "made-up-session-id")
    expired_settings = AuthSettings(session_hours=12, clock=lambda: past(13))
    _p, expired_sid = service.login(world.store, "admin", PASSWORD, "tests", expired_settings)
    principal, old_sid = service.login(world.store, "admin", PASSWORD, "tests", AuthSettings())
    assert principal.session_hash is not None
    service.logout(world.store, principal.session_hash)
    _row, token = service.create_token(world.store, admin, "soon revoked", "tester")
    service.revoke_token(world.store, _row.id, "tester")
    key = SECRET.encode()
    return Credentials(forged, sign(key, expired_sid), sign(key, old_sid), token)


@pytest.fixture(scope="module")
def matrix_client(world: World) -> Iterator[TestClient]:
    with make_client(world.store) as client:
        yield client


def test_every_route_is_guarded_or_known_open(matrix_client: TestClient) -> None:
    unguarded = []
    for method, route in routes(matrix_client):
        key = (method, route.path)
        if permission_of(route) is not None or key in OPEN or key in READ_ONLY_POSTS:
            continue
        if method not in ("GET", "HEAD") or route.path.startswith(SURFACES):
            unguarded.append(f"{method} {route.path}")
    assert not unguarded, f"routes with no permission and not known to be open: {unguarded}"
    named = {permission_of(r) for _m, r in routes(matrix_client)} - {None}
    assert named <= set(PERMISSIONS), named - set(PERMISSIONS)
    assert {
        "accounts:manage",
        "evidence:manage",
        "verification:manage",
        "transfer:file",
        "portfolio:read",
        "account:self",
    } <= named


def _refused(
    world: World, response: Any, status: int, call: Call, case: str, before: dict[str, Any]
) -> str | None:
    after = world.state()
    problems = []
    if response.status_code != status:
        problems.append(f"status {response.status_code}, expected {status}: {response.text[:160]}")
    if after != before:
        problems.append(f"state changed: {before} -> {after}")
    return f"{call} [{case}]: {'; '.join(problems)}" if problems else None


def test_anonymous_and_wrong_tier_are_refused_and_change_nothing(
    matrix_client: TestClient, world: World
) -> None:
    failures: list[str | None] = []
    calls = guarded_calls(matrix_client, world)
    assert len(calls) >= 17
    names = {"strategy-circle": "sc", "leadership-alliance": "la", "admin": "admin"}
    for call in calls:
        before = world.state()
        response = send(matrix_client, call)
        if call.template in HTML_PAGES and call.method == "GET":
            ok = response.status_code == 303 and response.headers["location"].startswith(
                "/login?next=/"
            )
            failures += [] if ok else [f"{call} [anonymous]: {response.status_code}"]
        else:
            failures.append(_refused(world, response, 401, call, "anonymous", before))
        assert call.permission is not None
        for role in ROLES:
            if role in PERMISSIONS[call.permission]:
                continue
            response = send(matrix_client, call, world.bearer(names[role]))
            failures.append(_refused(world, response, 403, call, f"tier {role}", before))
    assert not [f for f in failures if f], "\n".join(f for f in failures if f)


@pytest.mark.parametrize("case", ["forged", "expired", "logged_out", "revoked_token"])
def test_dead_credentials_are_401_everywhere(
    matrix_client: TestClient, world: World, creds: Credentials, case: str
) -> None:
    failures = []
    for call in guarded_calls(matrix_client, world):
        before = world.state()
        if case == "revoked_token":
            response = send(matrix_client, call, {"Authorization": f"Bearer {creds.revoked_token}"})
        else:
            response = send(matrix_client, call, cookie=getattr(creds, case))
        failures.append(_refused(world, response, 401, call, case, before))
    assert not [f for f in failures if f], "\n".join(f for f in failures if f)


def test_open_routes_refuse_dead_credentials_too(
    matrix_client: TestClient, creds: Credentials
) -> None:
    for path in ("/api/profiles/registry:arin", "/profiles/registry:arin", "/api/auth/session"):
        matrix_client.cookies.clear()
        forged = matrix_client.get(path, headers={"Cookie": f"{SESSION_COOKIE}={creds.forged}"})
        replayed = matrix_client.get(
            path, headers={"Authorization": f"Bearer {creds.revoked_token}"}
        )
        assert (forged.status_code, replayed.status_code) == (401, 401), path
        assert replayed.headers["www-authenticate"].startswith("Bearer")


def test_changes_without_the_csrf_token_are_403(matrix_client: TestClient, world: World) -> None:
    principal, sid = service.login(world.store, "admin", PASSWORD, "tests", AuthSettings())
    cookie = sign(SECRET.encode(), sid)
    failures = []
    changes = [c for c in guarded_calls(matrix_client, world) if c.method not in ("GET", "HEAD")]
    assert len(changes) >= 12
    for call in changes:
        before = world.state()
        response = send(matrix_client, call, cookie=cookie)
        failures.append(_refused(world, response, 403, call, "no CSRF token", before))
        response = send(matrix_client, call, cookie=cookie, csrf="forged-token")
        failures.append(_refused(world, response, 403, call, "wrong CSRF token", before))
    assert not [f for f in failures if f], "\n".join(f for f in failures if f)
    assert principal.session_hash is not None
    service.logout(world.store, principal.session_hash)


def test_another_holders_resource_is_403_and_files_nothing(
    client: TestClient, world: World
) -> None:
    body = {
        "resource": "193.0.0.0/20",
        "to": "arin",
        "recipient_holder": "someone",
        "regime": "mandatory-portability",
    }
    before = world.state()
    refused = client.post("/api/transfers", json=body, headers=world.bearer("la2"))
    assert refused.status_code == 403 and "not held by" in refused.json()["description"][0]
    assert world.state() == before
    filed = client.post("/api/transfers", json=body, headers=world.bearer("la"))
    assert filed.status_code == 201, filed.text
    assert filed.json()["source_holder"] == RIPE_HOLDER
    assert world.state()["transfer"] == before["transfer"] + 1
    assert world.state()["generation"] == before["generation"] + 1


def test_portfolio_shows_only_the_members_own_holders(client: TestClient, world: World) -> None:
    mine = client.get("/api/me/portfolio", headers=world.bearer("la")).json()
    assert [h["opaque_id"] for h in mine] == [RIPE_HOLDER]
    starts = {r["start"] for r in mine[0]["resources"]}
    assert {"193.0.0.0", "3333"} <= starts and "8.0.0.0" not in starts
    assert all(r["opaque_id"] == RIPE_HOLDER for r in mine[0]["resources"])
    theirs = client.get("/api/me/portfolio", headers=world.bearer("la2")).json()
    assert [r["start"] for h in theirs for r in h["resources"]] == ["193.0.16.0"]


RIPE_2017_ID = "bc925b1f-8673-4b03-acf4-c70605c7ef6e"
"""RIPE NCC's own opaque-id in the 2017 file: the holder identity joins it to
:data:`RIPE_HOLDER`, the id the current (2018) file lists 193.0.0.0/20 under."""


def test_an_inferred_holder_link_shows_history_but_files_nothing(
    client: TestClient, world: World
) -> None:
    """Verified for the 2017 id only: the portfolio follows the holder to its 2018 id, but a
    transfer request needs an explicit link for the holder of record (issue 11 #27)."""
    from rirport.accounts.holdings import known_holder
    from rirport.query.view import load_current

    account = service.create_account(
        world.store, "old-id-member", PASSWORD, "leadership-alliance", "tester"
    ).id
    known = known_holder(load_current(world.store), world.store)
    service.link_holder(world.store, account, "ripencc", RIPE_2017_ID, "tester", known)
    _row, token = service.create_token(world.store, account, "t", "tester")
    bearer = {"Authorization": f"Bearer {token}"}
    portfolio = client.get("/api/me/portfolio", headers=bearer).json()
    assert portfolio[0]["current_ids"] == [RIPE_HOLDER]  # history is shown
    body = {
        "resource": "193.0.0.0/20",
        "to": "arin",
        "recipient_holder": "someone",
        "regime": "mandatory-portability",
    }
    before = world.state()
    refused = client.post("/api/transfers", json=body, headers=bearer)
    assert refused.status_code == 403, refused.text
    reason = refused.json()["description"][0]
    assert f"ripencc:{RIPE_HOLDER}" in reason and "inferred holder identity" in reason
    assert world.state() == before
    service.link_holder(world.store, account, "ripencc", RIPE_HOLDER, "tester", known)
    filed = client.post("/api/transfers", json=body, headers=bearer)
    assert filed.status_code == 201, filed.text
