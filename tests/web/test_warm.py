"""Warming at start: a server configured to (``rirport serve`` always is) makes the pages'
shared facts in a background thread before any request, and again for a new generation; the
first page is then answered from them. (No browser: TestClient over the HTTP tests' small
registry.)"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rirport.domain.enums import REGISTRIES, Registry
from rirport.http.app import create_app
from rirport.http.config import HttpConfig
from rirport.policy.loader import builtin_names
from rirport.store.unit import Store
from tests.http.conftest import fill, move

HTML = {"Accept": "text/html"}


@pytest.fixture
def store(tmp_path) -> Iterator[Store]:
    made = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    fill(made)
    yield made
    made.close()


def _app(store: Store, warm: bool) -> Any:
    return create_app(store, None, HttpConfig(rate=0, refresh_seconds=0, warm_pages=warm))


def _made(app: Any) -> set[str]:
    return set(app.state.live.served._derived)


def test_the_facts_are_made_at_start_without_a_request(store, monkeypatch) -> None:
    app = _app(store, warm=True)
    with TestClient(app) as client:
        assert app.state.warmer.warmed.wait(120), "the warm-up did not finish"
        made = _made(app)
        today = dt.date.today()
        assert {
            "web:stats",
            "web:events",
            "web:space",
            "holders",
            "versions",
            "web:flows:None",
        } <= made
        assert {f"web:portability:{n}:{today}" for n in builtin_names()} <= made
        assert {f"web:space-over-time:{r.value}:None" for r in REGISTRIES} <= made
        assert {f"web:top-holders:{r.value}:15" for r in REGISTRIES} <= made
        assert f"profiles:{today}" in made
        assert app.state.page_cache.misses == 0  # no request was made for it
        # the first pages are answered from what was made: computing again would fail
        from rirport.web.pages import shared

        def refuse(*_args: Any, **_kw: Any) -> Any:
            raise AssertionError("computed on the request path")

        for name in ("compute_stats", "stored_events", "run_portability", "load_versions"):
            monkeypatch.setattr(shared, name, refuse)
        monkeypatch.setattr(shared, "space_over_time", refuse)
        monkeypatch.setattr(shared, "top_holders", refuse)
        for path in ("/", "/registry/ripencc", "/country/NL", "/portability", "/events"):
            assert client.get(path, headers=HTML).status_code == 200, path


def test_without_it_nothing_is_made_before_the_first_page(store) -> None:
    app = _app(store, warm=False)
    with TestClient(app) as client:
        assert not app.state.warmer.warmed.is_set()
        assert "web:stats" not in _made(app)
        assert client.get("/", headers=HTML).status_code == 200
        assert "web:stats" in _made(app)  # made by the first reader instead


def test_a_new_generation_is_warmed_too(store) -> None:
    app = _app(store, warm=True)
    with TestClient(app):
        assert app.state.warmer.warmed.wait(120)
        before = app.state.live.served.generation
        move(store, "193.0.0.0/20", Registry.ARIN)  # a write: the generation moves on
        assert app.state.live.refresh()
        served = app.state.live.served
        assert served.generation != before and "web:stats" not in served._derived
        deadline = time.monotonic() + 120  # a bound on waiting, not a speed check
        while "web:space-over-time:ripencc:None" not in served._derived:
            assert time.monotonic() < deadline, "the new generation was not warmed"
            time.sleep(0.1)
        assert {"web:stats", "web:events"} <= set(served._derived)


def test_the_serve_settings_turn_it_on() -> None:
    from rirport.config import ServeSettings

    assert HttpConfig().warm_pages is False  # tests' apps do not warm unless asked
    assert HttpConfig.from_settings(ServeSettings(), {}, None).warm_pages is True
