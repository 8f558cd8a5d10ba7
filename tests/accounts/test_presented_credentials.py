"""A credential that is presented is checked on every route, open ones included (issue 11
#33), and hostile bodies and cookies are a 4xx, never a 500 (#32)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from rirport.accounts.credentials import sign
from rirport.errors import StorageError
from rirport.http.auth.state import SESSION_COOKIE
from tests.accounts.conftest import SECRET, World

OPEN_READS = (
    "/api/stats",
    "/api/journal",
    "/rdap/help",
    "/rdap/ip/193.0.6.139",  # the gate's fast path
    "/rdap/autnum/3333",  # the gate's fast path
    "/rdap/ips?name=RIPE-NCC",
)
NESTED = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize("path", OPEN_READS)
def test_open_routes_answer_anonymous_readers_and_valid_tokens(
    client: TestClient, world: World, path: str
) -> None:
    assert client.get(path).status_code in (200, 404)
    assert client.get(path, headers=world.bearer("sc")).status_code in (200, 404)


@pytest.mark.parametrize("path", OPEN_READS)
@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer rpt_not-a-token"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Cookie": f"{SESSION_COOKIE}=forged.signature"},
        {"Cookie": f"{SESSION_COOKIE}={sign(SECRET.encode(), 'no-such-session')}"},
    ],
    ids=["unknown-token", "not-bearer", "forged-cookie", "ended-session"],
)
def test_a_bad_credential_on_an_open_route_is_a_401(
    world: World, path: str, headers: dict[str, str]
) -> None:
    from tests.accounts.conftest import make_client

    with make_client(world.store) as fresh:  # no cookie jar left over from other tests
        response = fresh.get(path, headers=headers)
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    expected = "application/rdap+json" if path.startswith("/rdap") else "application/json"
    assert response.headers["content-type"].startswith(expected)
    assert response.json()["errorCode"] == 401


def test_a_revoked_token_on_rdap_is_a_401(client: TestClient, world: World) -> None:
    from rirport.accounts import service

    _row, token = service.create_token(world.store, world.ids["sc"], "short-lived", "x")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/rdap/ip/193.0.6.139", headers=headers).status_code == 200
    service.revoke_token(world.store, _row.id, "x")
    assert client.get("/rdap/ip/193.0.6.139", headers=headers).status_code == 401


@pytest.mark.parametrize("cookie", ["sé.ssion", "ünïcode", "x" * 10 + "€.y"])
def test_a_session_cookie_with_non_ascii_characters_is_a_401(world: World, cookie: str) -> None:
    from tests.accounts.conftest import make_client

    with make_client(world.store) as fresh:
        raw = f"{SESSION_COOKIE}={cookie}".encode()  # UTF-8 bytes, as a browser may send
        response = fresh.get("/api/auth/session", headers={"Cookie": raw})  # type: ignore[arg-type]
    assert response.status_code == 401, response.text


@pytest.mark.parametrize(
    ("path", "media"),
    [("/api/auth/login", "application/json"), ("/api/lookup", "application/json")],
)
def test_deeply_nested_json_is_a_400(client: TestClient, path: str, media: str) -> None:
    response = client.post(path, content=NESTED, headers={"Content-Type": media})
    assert response.status_code in (400, 413), response.text
    if response.status_code == 400:
        assert "nested too deeply" in response.text


def test_a_database_error_answers_without_the_sql(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rirport.accounts import service

    def failing(*_args: object, **_kwargs: object) -> None:
        raise StorageError(
            "database error: (psycopg.errors.UniqueViolation) duplicate key value violates "
            'unique constraint "uq_account_username_key" [SQL: INSERT INTO account ...]'
        )

    monkeypatch.setattr(service, "from_token", failing)
    response = client.get("/api/stats", headers=world.bearer("sc"))
    assert response.status_code == 503
    assert "SQL" not in response.text and "uq_account" not in response.text
    assert "the database failed" in response.text
