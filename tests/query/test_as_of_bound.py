"""A server keeps at most ``as_of_views`` as-of views (least recently used dropped), the
bound a setting (``RIRPORT_AS_OF_VIEWS``) that reaches the server."""

from __future__ import annotations

import datetime as dt

import pytest

from rirport.config import Settings
from rirport.errors import ConfigError
from rirport.http.app import create_app
from rirport.http.config import HttpConfig
from rirport.query.live import LiveIndex
from rirport.services.registry.ingest import ingest_bytes
from rirport.simulation import DailyHistory
from rirport.store.unit import Store
from tests.formats.test_simulation import excerpts


def _days(store: Store, n: int) -> list[dt.date]:
    dates = []
    for day in DailyHistory(excerpts(300), seed=5).days(n):
        for f in day.files:
            ingest_bytes(store, f.data, f.name)
        dates.append(max(f.date for f in day.files))
    return dates


def test_least_recently_used_views_are_dropped(tmp_path) -> None:
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    d1, d2, d3 = _days(store, 3)
    live = LiveIndex(store, None, as_of_views=2)
    first, second = live.as_of(d1), live.as_of(d2)
    assert live.as_of(d1) is first  # kept, and now the most recent
    third = live.as_of(d3)  # drops d2, the least recently used
    assert live.as_of(d1) is first and live.as_of(d3) is third
    assert live.as_of(d2) is not second  # loaded again
    assert len(live._as_of._done) == 2
    store.close()


def test_the_bound_is_a_setting_that_reaches_the_server(tmp_path) -> None:
    settings = Settings.from_env({"RIRPORT_AS_OF_VIEWS": "7"})
    assert settings.as_of_views == 7
    with pytest.raises(ConfigError, match="RIRPORT_AS_OF_VIEWS"):
        Settings.from_env({"RIRPORT_AS_OF_VIEWS": "0"})
    assert Settings.from_env({"RIRPORT_REDIS_URL": "redis://x:1/0"}).redis_url == "redis://x:1/0"
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    _days(store, 1)
    app = create_app(store, None, HttpConfig(rate=0, refresh_seconds=0, as_of_views=3))
    assert app.state.live._as_of.size == 3
    store.close()
