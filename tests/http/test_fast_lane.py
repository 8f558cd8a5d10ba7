"""The RDAP fast lane (rirport.http.rdap.fast) answers exactly as the router does: status,
headers and body of many real requests — every row of the test registry as addresses,
prefixes and AS numbers, with HEAD, trailing slashes, media types, bad Hosts, long targets,
credentials, rate limits, redirect mode and a mirror's notice — compared byte for byte
between an app with the lane and one without; its kept answers follow the generation."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rirport.domain.enums import Registry, ResourceType
from rirport.errors import StorageError
from rirport.http.app import create_app
from rirport.http.config import HttpConfig
from rirport.http.rdap.fast import ENTRY_OVERHEAD, Rendered
from rirport.http.responses import dumps
from rirport.query.live import Served
from rirport.query.lookup import Lookup
from rirport.store.unit import Store
from tests.http.conftest import fill, move

Sent = tuple[str, str, dict[str, str]]
"""A request: method, target, headers."""
Answer = tuple[int, list[tuple[bytes, bytes]], bytes]

ODD = [
    "/rdap/ip/",
    "/rdap/ip//",
    "/rdap/ip/1.2.3",
    "/rdap/ip/192.0.2.1",
    "/rdap/ip/193.0.0.0/33",
    "/rdap/ip/193.0.0.0/8",
    "/rdap/ip/::/0",
    "/rdap/ip/193.0.6.139%0A",
    "/rdap/ip/193.0.6.139%20",
    "/rdap/ip/%C3%A9",
    "/rdap/ip/193.0.6.139/",
    "/rdap/ip/193.0.6.139//",
    "/rdap/ip/" + "1" * 3000,
    "/rdap/autnum/",
    "/rdap/autnum//",
    "/rdap/autnum/3333/",
    "/rdap/autnum/3333//",
    "/rdap/autnum/AS3333",
    "/rdap/autnum/as13335",
    "/rdap/autnum/4294967296",
    "/rdap/autnum/-1",
    "/rdap/autnum/1/2",
    "/rdap/autnum/2500",
    "/rdap/ip/193.0.6.139?as-of=2018-01-01",
    "/rdap/ip/193.0.6.139?",
    "/rdap/autnum/3333?as-of=2017-06-01",
]
"""Targets beside the registry's rows: errors, slashes, odd characters, queries."""
VARIANTS: list[tuple[str, dict[str, str]]] = [
    ("GET", {}),
    ("HEAD", {}),
    ("GET", {"Accept": "application/json"}),
    ("GET", {"Accept": "text/html"}),
    ("HEAD", {"Accept": "text/html"}),
    ("GET", {"Accept": "application/rdap+json;q=0, application/json"}),
    ("GET", {"Host": "a b"}),
    ("GET", {"Host": "rdap.example:8443"}),
    ("GET", {"Authorization": "Bearer not-a-token"}),
    ("POST", {}),
    ("OPTIONS", {"Origin": "https://x.example", "Access-Control-Request-Method": "GET"}),
]
"""How each of a few targets is also asked."""


def targets(client: TestClient) -> list[str]:
    """Each row of the served view as its first and last address (and prefix), or as its
    first and last AS number, with and without ``AS``."""
    served: Served = client.app.state.live.served  # type: ignore[attr-defined]
    table = served.view.table
    out = []
    for row in range(len(table)):
        d = table.row(row)
        r = d.resource
        if d.type is ResourceType.ASN:
            out += [f"/rdap/autnum/{r.first}", f"/rdap/autnum/AS{r.last}"]
            continue
        cls = ipaddress.IPv4Address if d.type is ResourceType.IPV4 else ipaddress.IPv6Address
        out += [f"/rdap/ip/{cls(r.first)}", f"/rdap/ip/{cls(r.last)}"]
        if r.size & (r.size - 1) == 0:
            bits = 32 if d.type is ResourceType.IPV4 else 128
            out.append(f"/rdap/ip/{cls(r.first)}/{bits - r.size.bit_length() + 1}")
    return out


def requests(paths: list[str]) -> list[Sent]:
    sent: list[Sent] = [("GET", p, {}) for p in paths]
    for path in [*paths[::7], *ODD]:
        sent += [(method, path, headers) for method, headers in VARIANTS]
    return sent


def answers(app: Any, sent: list[Sent]) -> list[Answer]:
    out = []
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        for method, path, headers in sent:
            r = client.request(method, path, headers=headers)
            raw = [_timeless(k.lower(), v) for k, v in r.headers.raw if k.lower() != b"date"]
            out.append((r.status_code, raw, r.content))
    return out


def _timeless(name: bytes, value: bytes) -> tuple[bytes, bytes]:
    """A header, a 429's ``Retry-After`` as a positive count only (the two apps are asked
    at different moments, so their buckets refill by different amounts)."""
    if name == b"retry-after":
        assert value.isdigit() and int(value) > 0
        return name, b"N"
    return name, value


def same(store: Store, config: HttpConfig, sent: list[Sent]) -> list[Answer]:
    """The lane's answers, once checked equal to the router's (and the lane seen to answer
    many of them itself)."""
    app = create_app(store, None, config)
    fast = answers(app, sent)
    routed = answers(create_app(store, None, config, fast_path=False), sent)
    for request, a, b in zip(sent, fast, routed, strict=True):
        assert a == b, request
    rendered: Rendered = app.state.rendered
    assert config.redirects or len(sent) < 10 or rendered.misses >= len(sent) // 10
    return fast


@pytest.fixture(scope="module")
def paths(client: TestClient) -> list[str]:
    return targets(client)


def test_every_answer_is_the_routers(filled_store: Store, paths: list[str]) -> None:
    sent = requests(paths)
    got = same(filled_store, HttpConfig(rate=0, refresh_seconds=0), sent)
    statuses = {status for status, _h, _b in got}
    assert len(sent) > 1000 and {200, 204, 400, 401, 404, 405, 406, 414} <= statuses
    ok = [(h, b) for s, h, b in got if s == 200]
    assert len(ok) > len(paths)
    assert all((b"access-control-allow-origin", b"*") in h for h, _b in ok)


def test_a_second_asking_is_answered_alike(filled_store: Store, paths: list[str]) -> None:
    """Kept answers (the second round) are the router's too; each has its own Host's links."""
    config = HttpConfig(rate=0, refresh_seconds=0)
    sent = [("GET", p, h) for h in ({}, {"Host": "rdap.example"}) for p in paths[:60]] * 2
    got = same(filled_store, config, sent)
    assert got[:120] == got[120:]
    app = create_app(filled_store, None, config)
    assert answers(app, sent) == got and app.state.rendered.hits >= 100
    assert b"http://rdap.example/rdap/" in got[60][2] and b"rdap.example" not in got[0][2]


@pytest.mark.parametrize(
    "config",
    [
        HttpConfig(rate=0.001, burst=40, refresh_seconds=0),
        HttpConfig(rate=0, refresh_seconds=0, public_url="https://rdap.example/x"),
        HttpConfig(rate=0, refresh_seconds=0, allowed_hosts=("rdap.example",)),
        HttpConfig(
            rate=0,
            refresh_seconds=0,
            redirects={Registry.RIPENCC: "https://rdap.db.ripe.net/", Registry.ARIN: "x"},
        ),
    ],
    ids=["rate-limited", "public-url", "allowed-host", "redirects"],
)
def test_answers_alike_in_every_configuration(
    filled_store: Store, paths: list[str], config: HttpConfig
) -> None:
    sent: list[Sent] = [("GET", p, h) for p in paths[:50] for h in ({}, {"Host": "rdap.example"})]
    sent += [(m, p, h) for p in ODD[:14] for m, h in VARIANTS[:4] + VARIANTS[7:8]]
    same(filled_store, config, sent)


def test_a_mirrors_notice_is_in_the_answers(
    filled_store: Store, paths: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kept answers are dropped when the mirror's notice changes (a checkpoint verified)."""
    from rirport.services.transparency.reader import LogReader

    notice: dict[str, Any] = {"now": None}
    monkeypatch.setattr(LogReader, "mirror_notice", lambda self: notice["now"])
    config = HttpConfig(rate=0, refresh_seconds=0)
    lane = TestClient(create_app(filled_store, None, config))
    routed = TestClient(create_app(filled_store, None, config, fast_path=False))
    with lane, routed:
        plain = [lane.get(p).content for p in paths[:5]]
        notice["now"] = {"title": "Mirror", "description": ["of https://origin.example"]}
        mirrored = [lane.get(p).content for p in paths[:5]]
        assert mirrored == [routed.get(p).content for p in paths[:5]]
    assert all(b'"title":"Mirror"' in b for b in mirrored)
    assert not any(b"Mirror" in b for b in plain)


@pytest.mark.parametrize("fast_path", [True, False])
def test_a_project_error_is_mapped_and_an_unexpected_one_logged(
    filled_store: Store,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    fast_path: bool,
) -> None:
    errors: list[Exception] = [StorageError("database error: the disk is full"), KeyError("x")]

    def fail(*_args: object) -> None:
        raise errors.pop(0)

    app = create_app(filled_store, None, HttpConfig(rate=0, refresh_seconds=0), fast_path=fast_path)
    with TestClient(app, raise_server_exceptions=False) as each:
        monkeypatch.setattr(Lookup, "smallest_covering_row", fail)
        with caplog.at_level(logging.ERROR, "rirport.http"):
            storage, unexpected = each.get("/rdap/ip/193.0.0.1"), each.head("/rdap/ip/193.0.0.1")
    assert (storage.status_code, storage.json()["errorCode"]) == (503, 503)
    assert storage.json()["description"] == ["the database failed (logged on the server)"]
    assert (unexpected.status_code, unexpected.content) == (500, b"")
    assert unexpected.headers["access-control-allow-origin"] == "*"
    assert [r.exc_info[1] for r in caplog.records if r.exc_info] and "disk is full" in caplog.text


def test_a_failing_rate_limiter_is_answered_as_without_the_lane(
    filled_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A limiter that fails (a shared Redis gone) fails a lookup as it fails any request:
    Starlette's 500 from the app's handler, the error raised on to the server."""
    from rirport.http.ratelimit import TokenBuckets

    def down(*_args: object) -> float:
        raise ConnectionError("redis is gone")

    monkeypatch.setattr(TokenBuckets, "take", down)
    got = same(
        filled_store, HttpConfig(rate=5, refresh_seconds=0), [("GET", "/rdap/ip/1.1.1.1", {})]
    )
    assert got[0][0] == 500 and b"internal error" in got[0][2]


@pytest.fixture
def own_store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    fill(store)
    yield store
    store.close()


def test_kept_answers_follow_the_generation(own_store: Store) -> None:
    """A completed transfer moves the generation: the lane answers the new view at once."""
    app = create_app(own_store, None, HttpConfig(rate=0, refresh_seconds=0))
    with TestClient(app) as client:
        before = client.get("/rdap/ip/193.0.6.139").json()
        move(own_store, "193.0.0.0/21", Registry.ARIN)
        assert client.app.state.live.refresh()  # type: ignore[attr-defined]
        after = client.get("/rdap/ip/193.0.6.139")
    assert before["handle"].endswith("-RIPENCC")
    assert after.json()["handle"].endswith("-ARIN")
    routed = create_app(own_store, None, HttpConfig(rate=0, refresh_seconds=0), fast_path=False)
    with TestClient(routed) as other:
        assert other.get("/rdap/ip/193.0.6.139").content == after.content


def test_kept_answers_are_bounded() -> None:
    class View:
        pass

    served: Any = View()
    obj = {"objectClassName": "ip network", "x": "y" * 90}
    rendered = Rendered(max_bytes=3 * (len(dumps(obj)) - 2 + ENTRY_OVERHEAD))
    for row in range(10):
        body = rendered.answer(served, None, (row, -1, "b"), lambda: obj)
        assert body.startswith(b'{"rdapConformance":[') and body.endswith(b"}]}")
    assert len(rendered._items) == 3 and rendered.misses == 10
    rendered.answer(served, None, (9, -1, "b"), lambda: obj)
    assert rendered.hits == 1
    rendered.answer(served, {"title": "m"}, (9, -1, "b"), lambda: obj)  # another notice
    assert rendered.misses == 11 and len(rendered._items) == 1
