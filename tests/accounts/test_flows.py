"""Accounts through the real app on each engine: logging in and out (API and HTML forms with
their CSRF tokens), sessions and tokens ending, the login throttle, profiles cut to tiers,
administration, bad input and injection attempts (stored verbatim, shown escaped)."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi.testclient import TestClient

from rirport.accounts import service
from rirport.accounts.passwords import MIN_PASSWORD
from rirport.http.auth.state import FORM_MAX_BYTES, SESSION_COOKIE
from rirport.profiles.loader import MAX_BYTES
from rirport.services.audit import journal
from tests.accounts.conftest import PASSWORD, World, login, make_client
from tests.http.conftest import RIPE_HOLDER

SCRIPT = "<script>alert('x')</script>"
SQLISH = "x'); DROP TABLE account; --"


def member(world: World, name: str, tier: str = "strategy-circle") -> int:
    return service.create_account(world.store, name, PASSWORD, tier, "tester").id


def admin_session(client: TestClient) -> dict[str, str]:
    client.cookies.clear()
    return {"X-CSRF-Token": login(client, "admin")}


# -- sessions ---------------------------------------------------------------------------------
def test_login_session_logout_and_replay(client: TestClient, world: World) -> None:
    member(world, "flow-a")
    client.cookies.clear()
    anonymous = client.get("/api/auth/session").json()
    assert anonymous["authenticated"] is False and anonymous["reads"] == "public"
    csrf = login(client, "FLOW-A")  # usernames compare case-insensitively
    cookie = client.cookies[SESSION_COOKIE]
    me = client.get("/api/auth/session").json()
    assert (me["tier"], me["via"], me["csrf_token"]) == ("strategy-circle", "session", csrf)
    assert client.post("/api/auth/logout").status_code == 403  # no CSRF token
    assert client.post("/api/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 200
    client.cookies.clear()
    replay = client.get("/api/auth/session", headers={"Cookie": f"{SESSION_COOKIE}={cookie}"})
    assert replay.status_code == 401


def test_cookie_flags(client: TestClient, world: World) -> None:
    member(world, "flow-cookie")
    client.cookies.clear()
    response = client.post(
        "/api/auth/login", json={"username": "flow-cookie", "password": PASSWORD}
    )
    header = response.headers["set-cookie"].lower()
    assert "httponly" in header and "samesite=lax" in header and "path=/" in header
    assert "secure" not in header  # plain http here; https requests get Secure
    with make_client(world.store, cookie_secure=True) as secure:
        again = secure.post(
            "/api/auth/login", json={"username": "flow-cookie", "password": PASSWORD}
        )
        assert "secure" in again.headers["set-cookie"].lower()


def test_no_user_enumeration_and_throttle(world: World) -> None:
    member(world, "flow-throttle")
    with make_client(world.store, login_per_account=3, login_per_client=6) as client:
        unknown = client.post(
            "/api/auth/login", json={"username": "nobody-at-all", "password": "wrong password!"}
        )
        wrong = client.post(
            "/api/auth/login", json={"username": "flow-throttle", "password": "wrong password!"}
        )
        assert unknown.status_code == wrong.status_code == 401
        assert unknown.json()["description"] == wrong.json()["description"]
        for _ in range(2):
            client.post(
                "/api/auth/login", json={"username": "flow-throttle", "password": "wrong password!"}
            )
        locked = client.post(
            "/api/auth/login", json={"username": "flow-throttle", "password": PASSWORD}
        )
        assert locked.status_code == 429 and 1 <= int(locked.headers["retry-after"]) <= 900
        # per client: 4 failures so far; two more on other names lock the client out
        for name in ("nobody-1", "nobody-2"):
            client.post("/api/auth/login", json={"username": name, "password": "nope nope"})
        member(world, "flow-throttle-b")
        other = client.post(
            "/api/auth/login", json={"username": "flow-throttle-b", "password": PASSWORD}
        )
        assert other.status_code == 429


def test_password_change_ends_sessions_keeps_tokens(client: TestClient, world: World) -> None:
    account = member(world, "flow-pw")
    _row, token = service.create_token(world.store, account, "cli", "tester")
    client.cookies.clear()
    csrf = login(client, "flow-pw")
    old_cookie = client.cookies[SESSION_COOKIE]
    weak = client.post(
        "/api/auth/password",
        headers={"X-CSRF-Token": csrf},
        json={"current_password": PASSWORD, "new_password": "short"},
    )
    assert weak.status_code == 400 and str(MIN_PASSWORD) in weak.json()["description"][0]
    wrong = client.post(
        "/api/auth/password",
        headers={"X-CSRF-Token": csrf},
        json={"current_password": "not it at all", "new_password": "x" * 20},
    )
    assert wrong.status_code == 403
    new = "a brand new passphrase"
    done = client.post(
        "/api/auth/password",
        headers={"X-CSRF-Token": csrf},
        json={"current_password": PASSWORD, "new_password": new},
    )
    assert done.status_code == 200 and done.json()["csrf_token"] != csrf
    assert client.get("/api/auth/session").json()["account"] == account  # the new cookie
    client.cookies.clear()
    stale = client.get("/api/auth/session", headers={"Cookie": f"{SESSION_COOKIE}={old_cookie}"})
    assert stale.status_code == 401
    assert (
        client.get("/api/auth/tokens", headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )
    assert login(client, "flow-pw", new)


def test_tokens_shown_once_hashed_and_revocable(client: TestClient, world: World) -> None:
    member(world, "flow-tok")
    client.cookies.clear()
    headers = {"X-CSRF-Token": login(client, "flow-tok")}
    made = client.post("/api/auth/tokens", json={"name": SCRIPT}, headers=headers)
    assert made.status_code == 201
    token, token_id = made.json()["token"], made.json()["id"]
    listed = client.get("/api/auth/tokens").json()
    assert [t["name"] for t in listed] == [SCRIPT] and "token" not in listed[0]
    assert listed[0]["last_used_at"] is None
    client.cookies.clear()
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/auth/session", headers=bearer).json()["via"] == "token"
    assert client.get("/api/auth/tokens", headers=bearer).json()[0]["last_used_at"]
    stored = json.dumps([e.payload for e in journal.entries(world.store)])
    assert token not in stored and token[4:] not in stored
    other = world.tokens["sc"]
    assert (
        client.delete(f"/api/auth/tokens/{world.token_ids['sc']}", headers=bearer).status_code
        == 404
    )  # not yours: as if absent
    assert (
        client.get("/api/auth/session", headers={"Authorization": f"Bearer {other}"}).status_code
        == 200
    )
    assert client.delete(f"/api/auth/tokens/{token_id}", headers=bearer).status_code == 200
    assert client.get("/api/auth/session", headers=bearer).status_code == 401


# -- HTML forms ---------------------------------------------------------------------------------
def _hidden(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_html_login_logout_and_password_forms(world: World) -> None:
    member(world, SCRIPT)
    with make_client(world.store) as client:
        form = client.get("/login")
        assert form.headers["content-type"].startswith("text/html")
        assert "frame-ancestors 'none'" in form.headers["content-security-policy"]
        token = _hidden(form.text)
        creds = {"username": SCRIPT, "password": PASSWORD}
        no_token = client.post("/login", data=creds, follow_redirects=False)
        assert no_token.status_code == 403 and SESSION_COOKIE not in client.cookies
        forged = client.post(
            "/login", data={**creds, "csrf_token": token + "x"}, follow_redirects=False
        )
        assert forged.status_code == 403  # not the token of this browser's form cookie
        token = _hidden(client.get("/login").text)
        bad = client.post("/login", data={**creds, "password": "wrong!", "csrf_token": token})
        assert bad.status_code == 401 and "Wrong username or password." in bad.text
        token = _hidden(client.get("/login").text)
        ok = client.post("/login", data={**creds, "csrf_token": token}, follow_redirects=False)
        assert (ok.status_code, ok.headers["location"]) == (303, "/account")
        page = client.get("/account")
        assert SCRIPT not in page.text and "&lt;script&gt;alert(&#39;x&#39;)" in page.text
        session_token = _hidden(page.text)
        assert client.post("/logout", data={"x": "1"}).status_code == 403
        changed = client.post(
            "/account/password",
            follow_redirects=False,
            data={
                "csrf_token": session_token,
                "current_password": PASSWORD,
                "new_password": "yet another passphrase",
            },
        )
        assert changed.status_code == 303
        session_token = _hidden(client.get("/account").text)
        out = client.post("/logout", data={"csrf_token": session_token}, follow_redirects=False)
        assert out.status_code == 303 and SESSION_COOKIE not in client.cookies
        gone = client.get("/account", follow_redirects=False)
        assert gone.headers["location"] == "/login?next=/account"


# -- tiers ----------------------------------------------------------------------------------------
def _sections(
    client: TestClient, profile: str, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    client.cookies.clear()
    response = client.get(f"/api/profiles/{profile}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_profiles_are_cut_to_the_readers_tier(client: TestClient, world: World) -> None:
    holder = f"holder:ripencc:{RIPE_HOLDER}"
    public = _sections(client, holder)
    circle = _sections(client, holder, world.bearer("sc"))
    alliance = _sections(client, holder, world.bearer("la"))
    assert set(public["tiers"].values()) == {"public"}
    assert "At a glance" in public["sections"] and "Key points" in public["sections"]
    # tiers gate depth, never provenance: every tier gets every source, and each entry its ids
    assert public["sources"] == circle["sources"] == alliance["sources"] != []
    listed = {s["id"] for s in public["sources"]}
    assert all(set(r) <= listed for refs in public["refs"].values() for r in refs)
    assert "strategy-circle" in circle["tiers"].values()
    assert "Portfolio" not in circle["sections"] and "Portfolio" in alliance["sections"]
    assert public["score"] == circle["score"] == alliance["score"]
    assert set(public["sections"]) < set(circle["sections"]) < set(alliance["sections"])
    client.cookies.clear()
    page = client.get(f"/profiles/{holder}").text
    assert 'id="sources"' in page and 'data-tier="strategy-circle"' not in page
    full = client.get(f"/profiles/{holder}", headers=world.bearer("la")).text
    assert 'id="sources"' in full and 'data-tier="leadership-alliance"' in full
    assert client.get("/api/profiles/holder:ripencc:nope").status_code == 404


# -- administration and bad input -----------------------------------------------------------
def test_admin_creates_links_tiers_and_disables(client: TestClient, world: World) -> None:
    headers = admin_session(client)
    made = client.post(
        "/api/admin/accounts", headers=headers, json={"username": SQLISH, "password": PASSWORD}
    )
    assert made.status_code == 201 and made.json()["username"] == SQLISH
    account = made.json()["id"]
    before = world.state()
    duplicate = client.post(
        "/api/admin/accounts",
        headers=headers,
        json={"username": SQLISH.upper(), "password": PASSWORD},
    )
    weak = client.post(
        "/api/admin/accounts",
        headers=headers,
        json={"username": "weak-one", "password": "weak-one-password"},
    )
    assert (duplicate.status_code, weak.status_code) == (409, 400)
    assert "contains the username" in weak.json()["description"][0]
    unknown = client.post(
        f"/api/admin/accounts/{account}/holders",
        headers=headers,
        json={"registry": "ripencc", "opaque_id": SCRIPT},
    )
    assert unknown.status_code == 404
    assert world.state() == before
    linked = client.post(
        f"/api/admin/accounts/{account}/holders",
        headers=headers,
        json={"registry": "RIPE", "opaque_id": RIPE_HOLDER},
    )
    assert linked.status_code == 201
    assert linked.json()["holders"] == [{"registry": "ripencc", "opaque_id": RIPE_HOLDER}]
    tier = client.put(
        f"/api/admin/accounts/{account}/tier", headers=headers, json={"tier": "leadership-alliance"}
    )
    assert tier.json()["tier"] == "leadership-alliance"
    entries = journal.entries(world.store)[-3:]
    assert [e.action for e in entries] == ["account-create", "account-link", "account-tier"]
    assert all(SQLISH not in e.payload and PASSWORD not in e.payload for e in entries)
    gone = client.delete(
        f"/api/admin/accounts/{account}/holders/ripencc/{RIPE_HOLDER}", headers=headers
    )
    assert gone.json()["holders"] == []
    assert (
        client.post(f"/api/admin/accounts/{account}/disable", headers=headers).json()["disabled"]
        is True
    )
    client.cookies.clear()
    refused = client.post("/api/auth/login", json={"username": SQLISH, "password": PASSWORD})
    assert refused.status_code == 401


def test_malformed_and_oversized_bodies(client: TestClient, world: World) -> None:
    headers = admin_session(client)
    before = world.state()
    cases = [
        ("/api/admin/accounts", b"{not json", "application/json", 400),
        ("/api/admin/accounts", b'["a list"]', "application/json", 400),
        ("/api/admin/accounts", b'{"username": 1, "password": "x"}', "application/json", 400),
        (
            "/api/admin/accounts",
            b'{"username": "a", "password": "b", "x": "y"}',
            "application/json",
            400,
        ),
        ("/api/admin/accounts", b"username=a&password=b", "application/x-www-form-urlencoded", 415),
        (
            "/api/admin/accounts",
            b'{"username": "' + b"a" * FORM_MAX_BYTES + b'"}',
            "application/json",
            413,
        ),
        ("/api/admin/evidence", b"evidence: [" + b" " * MAX_BYTES + b"]", "application/yaml", 413),
        ("/api/admin/evidence", b"evidence: not a list", "application/yaml", 400),
        ("/api/admin/evidence", b"<evidence/>", "application/xml", 415),
    ]
    for path, body, media, status in cases:
        response = client.post(path, content=body, headers={**headers, "Content-Type": media})
        assert response.status_code == status, (path, body[:40], response.text[:200])
        assert response.json()["errorCode"] == status
    assert world.state() == before


def test_evidence_with_script_is_stored_verbatim_and_escaped(
    client: TestClient, world: World
) -> None:
    headers = admin_session(client)
    item = {
        "id": "inject-probe",
        "claim": f"RIPE NCC said {SCRIPT} and {SQLISH}.",
        "source": {
            "address": f"https://example.org/?q={SCRIPT}",
            "publisher": SCRIPT,
            "date": "2020-01-01",
            "kind": "news-report",
        },
        "reliability": "C",
        "credibility": 3,
        "entities": ["registry:ripencc"],
    }
    added = client.post("/api/admin/evidence", headers=headers, json={"evidence": [item]})
    assert added.status_code == 201, added.text
    again = client.post("/api/admin/evidence", headers=headers, json={"evidence": [item]})
    assert again.status_code == 409
    client.app.state.live.refresh()  # type: ignore[attr-defined]  # (the server follows)
    body = _sections(client, "registry:ripencc", world.bearer("sc"))
    sources = [s for s in body["sources"] if s["id"] == "inject-probe"]
    assert sources and sources[0]["publisher"] == SCRIPT
    page = client.get("/profiles/registry:ripencc", headers=world.bearer("sc")).text
    assert "<script>" not in page and "&lt;script&gt;alert(" in page
    assert "rirport-evidence-" not in again.text  # names the upload, not a server folder
    assert "&lt;script&gt;" in page
