"""The anonymous page cache: a repeated page is answered from it, byte for byte; members,
other generations, other days' keys, pages setting cookies and errors are never served from
it. (No browser: TestClient over the HTTP tests' small registry.)"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rirport.domain.enums import Registry
from rirport.http.app import create_app
from rirport.http.auth.state import SESSION_COOKIE
from rirport.http.config import HttpConfig
from rirport.store.unit import Store
from tests.http.conftest import fill, move

HTML = {"Accept": "text/html"}


class Client:
    """The test client with the app's state and the store beside it."""

    def __init__(self, http: TestClient, state: Any, store: Store) -> None:
        self.http, self.app_state, self.store = http, state, store
        self.get, self.cookies = http.get, http.cookies


@pytest.fixture
def client(tmp_path) -> Iterator[Client]:
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    fill(store)
    app = create_app(store, None, HttpConfig(rate=0, refresh_seconds=0))
    with TestClient(app) as test_client:
        yield Client(test_client, app.state, store)
    store.close()


def test_a_repeated_page_is_a_hit_with_the_same_bytes(client) -> None:
    stats = client.app_state.page_cache
    first = client.get("/registry/arin", headers=HTML)
    second = client.get("/registry/arin", headers=HTML)
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.content == second.content
    assert (stats.misses, stats.hits) == (1, 1)
    client.get("/registry/arin?format=json", headers=HTML)
    assert stats.misses == 2  # another URL is another key


def test_members_errors_and_cookie_setting_pages_are_not_cached(client) -> None:
    stats = client.app_state.page_cache
    for _ in range(2):
        client.get("/registry/nowhere", headers=HTML)  # 404
        client.cookies.clear()
        client.get("/portability", headers=HTML)  # sets the form cookie
    assert stats.stored == 0
    client.cookies.set(SESSION_COOKIE, "forged")
    assert client.get("/registry/arin", headers=HTML).status_code == 401  # never cached
    assert stats.stored == 0


def test_a_write_moves_the_generation_and_the_page_with_it(client) -> None:
    before = client.get("/ip/193.0.6.139?format=json").json()
    assert before["generation"] == client.get("/ip/193.0.6.139?format=json").json()["generation"]
    move(client.store, "193.0.0.0/20", Registry.ARIN)
    client.app_state.live.refresh()
    after = client.get("/ip/193.0.6.139?format=json").json()
    assert after["generation"] > before["generation"]
    assert after["data"]["record"]["registry"] == "arin"
