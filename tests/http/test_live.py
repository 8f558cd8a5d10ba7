"""Several stateless servers over one store: each follows the store's write generation and
answers from the new data once a write (here a transfer) lands — on SQLite and PostgreSQL."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from rirport.domain.enums import Registry
from rirport.http.app import create_app
from rirport.http.config import HttpConfig
from rirport.store.unit import Store
from tests.http.conftest import fill, move


def _holder(client: TestClient, query: str) -> str:
    response = client.get(f"/rdap/ip/{query}")
    assert response.status_code == 200, response.text  # never a gap while a reload runs
    handle: str = response.json()["handle"]
    return handle


def test_two_servers_follow_one_store(store_url: str) -> None:
    writer, first, second = Store(store_url), Store(store_url), Store(store_url)
    try:
        fill(writer)
        polled = create_app(first, None, HttpConfig(rate=0, refresh_seconds=0))
        following = create_app(second, None, HttpConfig(rate=0, refresh_seconds=0.05))
        with TestClient(polled) as a, TestClient(following) as b:
            assert (
                _holder(a, "193.0.6.139") == _holder(b, "193.0.6.139") == ("193.0.0.0-4096-RIPENCC")
            )
            assert polled.state.live.refresh() is False  # nothing moved yet

            move(writer, "193.0.0.0/20", Registry.APNIC)

            assert _holder(a, "193.0.6.139") == "193.0.0.0-4096-RIPENCC"  # until it asks
            assert polled.state.live.refresh() is True
            assert _holder(a, "193.0.6.139") == "193.0.0.0-4096-APNIC"
            deadline = time.monotonic() + 30  # the background follower, not a speed test
            while _holder(b, "193.0.6.139") != "193.0.0.0-4096-APNIC":
                assert time.monotonic() < deadline, "the follower never refreshed"
                time.sleep(0.05)
            generation = a.get("/api/status").json()["generation"]
            assert b.get("/api/status").json()["generation"] == generation
            ipv4 = a.get("/rdap/bootstrap/ipv4.json").json()
            apnic = next(s[0] for s in ipv4["services"] if "1.0.0.0/8" in s[0])
            assert "193.0.0.0/20" in apnic
    finally:
        for store in (writer, first, second):
            store.close()
