"""History over HTTP, on the test registry (2017 and 2018 excerpts, a transfer after them):
RDAP ``?as-of=``, the RDAP history extension held to APNIC's real response, and the JSON
API's timelines and events, compared with what the services (the CLI's) answer."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rirport.query.history import timeline
from rirport.query.lookup import Lookup
from rirport.query.view import load_as_of
from rirport.services.monitoring.events import events_between
from rirport.store.unit import Store
from tests.http.conftest import RIPE_HOLDER
from tests.http.test_rdap import GOLDEN, RDAP, _same_members

OLD_RIPE_HOLDER = "bc925b1f-8673-4b03-acf4-c70605c7ef6e"  # the same holder in the 2017 file


def _apnic_history() -> dict[str, Any]:
    from tests.paths import SHARED

    body: dict[str, Any] = json.loads(
        (SHARED / "rdap" / "apnic" / "ip-history-101.203.88.0.json").read_text()
    )
    return body


def _snapshot_notice(body: dict[str, Any]) -> list[str]:
    (notice,) = [n for n in body["notices"] if n["title"] == "Snapshot"]
    lines: list[str] = notice["description"]
    return lines


# -- as-of -----------------------------------------------------------------------------------
def test_ip_as_of_answers_the_object_as_it_was(client: TestClient) -> None:
    now = client.get("/rdap/ip/8.8.8.8").json()
    then = client.get("/rdap/ip/8.8.8.8", params={"as-of": "2017-12-31"}).json()
    assert now["handle"] == "8.0.0.0-8388608-ARIN"  # the /9 of the 2018 file
    assert then["handle"] == "8.0.0.0-16777216-ARIN"  # the /8 of the 2017 file
    assert "Snapshot" not in [n["title"] for n in now["notices"]]
    lines = _snapshot_notice(then)
    assert any("arin-2017-excerpt (2017-03-21)" in line for line in lines)
    assert not any("2018" in line for line in lines[1:])


def test_as_of_is_never_the_current_view(client: TestClient) -> None:
    """The moved block is ARIN's now, RIPE NCC's in the 2017 file — asked right after the
    current lookup, so an answer from the current view (or its cache) would show."""
    for _ in range(2):
        assert client.get("/rdap/ip/193.0.17.1").json()["handle"] == "193.0.16.0-2048-ARIN"
        then = client.get("/rdap/ip/193.0.17.1?as-of=2017-06-01").json()
        assert then["handle"] == "193.0.16.0-2048-RIPENCC"


def test_as_of_answers_match_the_as_of_view(client: TestClient, filled_store: Store) -> None:
    view = load_as_of(filled_store, dt.date(2017, 6, 1))
    (match,) = [m for m in Lookup(view).find("AS3333") if m.relation == "exact"]
    body = client.get("/rdap/autnum/3333", params={"as-of": "2017-06-01"}).json()
    assert body["handle"] == "AS3333"
    assert f"line {match.line}" in body["remarks"][0]["description"][0]
    assert match.file_name in body["remarks"][0]["description"][0]
    api = client.get("/api/lookup", params={"q": "8.8.8.8", "as-of": "2017-06-01"}).json()
    assert api == [m.to_json() for m in Lookup(view).find("8.8.8.8")]


def test_entity_as_of_follows_the_holder_through_renumbering(client: TestClient) -> None:
    body = client.get(f"/rdap/entity/{RIPE_HOLDER}-RIPENCC", params={"as-of": "2017-06-01"}).json()
    assert body["handle"] == f"{OLD_RIPE_HOLDER}-RIPENCC"
    assert "AS3333" in [a["handle"] for a in body["autnums"]]
    titles = [n["title"] for n in body["notices"]]
    assert "Snapshot" in titles and "Holder identity" in titles
    assert client.get(f"/rdap/entity/{OLD_RIPE_HOLDER}-RIPENCC").status_code == 404


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/rdap/ip/193.0.6.139?as-of=2010-01-01", 404),  # before every stored file
        ("/rdap/ip/193.0.6.139?as-of=yesterday", 400),
        ("/rdap/ip/193.0.6.139?as-of=2017-13-01", 400),
        ("/rdap/ip/193.0.6.139?as-of=", 400),
        ("/rdap/autnum/3333?as-of=2017-02-30", 400),
        ("/rdap/entity/x-RIPENCC?as-of=2017-06-01", 404),
        ("/rdap/ip/200.160.0.1?as-of=2014-01-01", 404),
        ("/api/lookup?q=8.8.8.8&as-of=01/02/2017", 400),
        ("/rdap/history/ip/1.2.3", 400),
        ("/rdap/history/ip/192.0.2.0/24", 404),
        ("/rdap/history/autnum/4294967296", 400),
        ("/rdap/history/entity/nohandle", 404),
        ("/rdap/history/entity/nobody-ARIN", 404),
        ("/api/history?q=1.2.3.4/33", 400),
        ("/api/history?q=8.8.8.8&limit=0", 400),
        ("/api/events?from=2017-01-01", 400),
        ("/api/events?from=x&to=2018-12-31", 400),
        ("/api/events?from=2018-12-31&to=2017-01-01", 400),
        ("/api/events?from=2000-01-01&to=2010-12-31", 404),
        ("/api/events?from=2017-06-01&to=2018-12-31&kind=nope", 400),
        ("/api/events?from=2017-06-01&to=2018-12-31&registry=nope", 400),
        ("/api/events?from=2017-06-01&to=2018-12-31&format=xml", 400),
    ],
)
def test_bad_history_requests(client: TestClient, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["errorCode"] == status and body["description"]
    assert "Traceback" not in response.text


def test_as_of_ignores_redirect_mode(filled_store: Store) -> None:
    """The registries' own servers keep no history: as-of is answered here."""
    from rirport.domain.enums import Registry
    from rirport.http.app import create_app
    from rirport.http.config import HttpConfig

    app = create_app(
        filled_store,
        None,
        HttpConfig(
            rate=0,
            refresh_seconds=0,
            redirects={r: f"https://{r.value}.example/" for r in Registry},
        ),
    )
    with TestClient(app, follow_redirects=False) as redirecting:
        assert redirecting.get("/rdap/ip/8.8.8.8").status_code == 302
        then = redirecting.get("/rdap/ip/8.8.8.8?as-of=2017-06-01")
        assert (then.status_code, then.json()["handle"]) == (200, "8.0.0.0-16777216-ARIN")


# -- the RDAP history extension ----------------------------------------------------------------
def test_history_golden(client: TestClient) -> None:
    response = client.get("/rdap/history/ip/193.0.17.1")
    path = GOLDEN / "ip-history.json"
    if os.environ.get("RIRPORT_REGOLD") == "1":
        path.write_text(json.dumps(response.json(), indent=1, ensure_ascii=False) + "\n")
    assert response.headers["content-type"] == RDAP
    assert response.json() == json.loads(path.read_text())


@pytest.mark.parametrize(
    "path",
    ["/rdap/history/ip/193.0.17.1", "/rdap/history/ip/8.8.8.8", "/rdap/history/ip/2001:4860::/32"],
)
def test_history_has_the_shape_of_apnics(client: TestClient, path: str) -> None:
    """Top-level and record members, their JSON types and the contents' members, as in
    APNIC's real history response (no port43 here: no whois)."""
    ours, real = client.get(path).json(), _apnic_history()
    assert ours["rdapConformance"][0] == "history_version_0"
    assert "history_version_0" in real["rdapConformance"]
    _same_members(ours, [real], omitted={"port43"})
    _same_members(ours["records"][0], real["records"], omitted=set())
    assert {type(r["applicableUntil"]) for r in ours["records"]} <= {str, type(None)}
    for record in ours["records"]:
        _same_members(record["content"], [r["content"] for r in real["records"]], set())
        links = record["content"]["links"]
        assert links[0]["rel"] == "self" and links[0]["value"].endswith(path)


def test_history_records_follow_the_stored_versions(
    client: TestClient, filled_store: Store
) -> None:
    records = client.get("/rdap/history/ip/193.0.17.1").json()["records"]
    spans = [
        (
            r["content"]["handle"],
            r["applicableFrom"][:10],
            r["applicableUntil"] and r["applicableUntil"][:10],
        )
        for r in records
    ]
    # RIPE NCC's /21 in 2017 and 2018 (one version per line text), retired by the transfer
    # of 2026-11-01, which made ARIN's
    assert spans == [
        ("193.0.16.0-2048-RIPENCC", "2017-03-20", "2018-10-13"),
        ("193.0.16.0-2048-RIPENCC", "2018-10-13", "2026-11-01"),
        ("193.0.16.0-2048-ARIN", "2026-11-01", None),
    ]
    periods = timeline(filled_store, "193.0.17.1")
    assert len(periods) == len(records)
    autnum = client.get("/rdap/history/autnum/AS3333").json()["records"]
    assert [r["content"]["handle"] for r in autnum] == ["AS3333", "AS3333"]
    assert autnum[-1]["applicableUntil"] is None


def test_entity_history_lists_what_the_holder_held_under_every_id(
    client: TestClient, filled_store: Store
) -> None:
    body = client.get(f"/rdap/history/entity/{RIPE_HOLDER}-RIPENCC").json()
    holders = {r["content"]["entities"][0]["handle"] for r in body["records"]}
    assert holders == {f"{RIPE_HOLDER}-RIPENCC", f"{OLD_RIPE_HOLDER}-RIPENCC"}
    assert len(body["records"]) == len(timeline(filled_store, f"ripencc:{RIPE_HOLDER}"))


# -- the JSON API -----------------------------------------------------------------------------
def test_api_history_is_the_cli_timeline(client: TestClient, filled_store: Store) -> None:
    expected = [p.to_json() for p in timeline(filled_store, "8.8.8.8")]
    response = client.get("/api/history", params={"q": "8.8.8.8"})
    assert response.json() == expected and len(expected) == 2
    assert response.headers["x-total-count"] == "2" and "link" not in response.headers
    first = client.get("/api/history", params={"q": "8.8.8.8", "limit": 1})
    assert first.json() == expected[:1]
    following = first.headers["link"].split(">")[0][1:]
    assert client.get(following).json() == expected[1:]


def test_api_events_page_and_speak_ndjson(client: TestClient, filled_store: Store) -> None:
    every = [
        e.to_json()
        for e in events_between(filled_store, dt.date(2017, 6, 1), dt.date(2018, 12, 31))
    ]
    assert every, "the excerpts changed between 2017 and 2018"
    params = {"from": "2017-06-01", "to": "2018-12-31"}
    body = client.get("/api/events", params=params)
    assert body.json() == every and body.headers["x-total-count"] == str(len(every))
    kind = every[0]["kind"]
    assert client.get("/api/events", params={**params, "kind": kind}).json() == [
        e for e in every if e["kind"] == kind
    ]
    arin = client.get("/api/events", params={**params, "registry": "arin"}).json()
    assert arin and all(
        "arin" in (e["registry"], e.get("from_registry"), e.get("to_registry")) for e in arin
    )
    for asked in ({"format": "ndjson"}, {}):
        headers = {} if asked else {"Accept": "application/x-ndjson"}
        lines = client.get("/api/events", params={**params, **asked, "limit": 2}, headers=headers)
        assert lines.headers["content-type"] == "application/x-ndjson"
        assert [json.loads(line) for line in lines.text.splitlines()] == every[:2]
    assert (
        client.get("/rdap/help", headers={"Accept": "application/x-ndjson"}).status_code == 406
    )  # RDAP speaks no NDJSON


def test_docs_name_every_history_path() -> None:
    text = (Path(__file__).parents[2] / "docs" / "rdap.md").read_text()
    for path in (
        "history/ip/",
        "history/autnum/",
        "history/entity/",
        "as-of",
        "/api/history",
        "/api/events",
    ):
        assert path in text, path


def test_as_of_and_history_on_each_engine(store_url: str) -> None:
    """The same answers from a store on SQLite and on PostgreSQL."""
    from rirport.http.app import create_app
    from rirport.http.config import HttpConfig
    from tests.http.conftest import fill

    store = Store(store_url)
    try:
        fill(store)
        with TestClient(create_app(store, None, HttpConfig(rate=0, refresh_seconds=0))) as c:
            then = c.get("/rdap/ip/193.0.17.1", params={"as-of": "2017-06-01"}).json()
            assert then["handle"] == "193.0.16.0-2048-RIPENCC"
            records = c.get("/rdap/history/ip/193.0.17.1").json()["records"]
            assert [r["applicableUntil"] for r in records][-1] is None and len(records) == 3
            assert c.get("/api/history", params={"q": "AS3333"}).json() == [
                p.to_json() for p in timeline(store, "AS3333")
            ]
            events = c.get("/api/events", params={"from": "2017-06-01", "to": "2018-12-31"})
            assert events.json() == [
                e.to_json()
                for e in events_between(store, dt.date(2017, 6, 1), dt.date(2018, 12, 31))
            ]
    finally:
        store.close()
