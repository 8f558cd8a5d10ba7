"""RDAP over the test registry: golden answers per object class, their shape against the real
RIRs' responses, semantics (smallest covering delegation, transfers), searches, bootstrap,
redirect mode, and every kind of bad request answered with an RDAP error object."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rirport.domain.enums import Registry
from rirport.domain.resources import ResourceRange
from rirport.errors import StorageError
from rirport.http.app import create_app
from rirport.http.config import HttpConfig
from rirport.query.lookup import Lookup
from rirport.store.unit import Store
from tests.http.conftest import NEW_HOLDER, RIPE_HOLDER

GOLDEN = Path(__file__).parent / "golden"
RDAP = "application/rdap+json"
GOLDEN_QUERIES = {
    "ip-network": "/rdap/ip/193.0.6.139",
    "ip-network-v6": "/rdap/ip/2001:4860::/48",
    "ip-network-transferred": "/rdap/ip/193.0.17.1",
    "autnum": "/rdap/autnum/3333",
    "entity": f"/rdap/entity/{NEW_HOLDER}-ARIN",
    "help": "/rdap/help",
    "ip-search": "/rdap/ips/rirSearch1/down/193.0.0.0/16",
    "error-404": "/rdap/ip/192.0.2.1",
}


def _real(object_class: str) -> list[dict[str, Any]]:
    from tests.paths import SHARED

    found = []
    for path in sorted((SHARED / "rdap").glob("*/*.json")):
        body = json.loads(path.read_text())
        if isinstance(body, dict) and body.get("objectClassName") == object_class:
            found.append(body)
    assert found, f"no real {object_class} responses under {SHARED / 'rdap'}"
    return found


@pytest.mark.parametrize("name", sorted(GOLDEN_QUERIES))
def test_answers_match_the_golden_files(client: TestClient, name: str) -> None:
    response = client.get(GOLDEN_QUERIES[name])
    path = GOLDEN / f"{name}.json"
    if os.environ.get("RIRPORT_REGOLD") == "1":
        path.write_text(json.dumps(response.json(), indent=1, ensure_ascii=False) + "\n")
    assert response.headers["content-type"] == RDAP
    assert response.json() == json.loads(path.read_text())


@pytest.mark.parametrize(
    ("object_class", "path"),
    [
        ("ip network", "/rdap/ip/193.0.6.139"),
        ("ip network", "/rdap/ip/2001:4860::1"),
        ("autnum", "/rdap/autnum/13335"),
        ("entity", f"/rdap/entity/{RIPE_HOLDER}-RIPENCC"),
    ],
)
def test_shape_matches_the_real_registries(
    client: TestClient, object_class: str, path: str
) -> None:
    """Every member we send is one a real RIR sends for that class, with the same JSON type;
    every member all of them send, we send too (but port43: no whois here)."""
    ours = client.get(path).json()
    real = _real(object_class)
    assert ours["objectClassName"] == object_class
    _same_members(ours, real, omitted={"port43"})
    nested = [e for body in real for e in body.get("entities", [])]
    for entity in ours.get("entities", []):
        _same_members(entity, nested, omitted={"port43"})
        assert any(link["rel"] == "self" for link in entity["links"])
    assert "port43" not in ours
    assert any(link["rel"] == "self" for link in ours["links"])
    assert {"rdap_level_0", "nro_rdap_profile_0", "cidr0"} <= set(ours["rdapConformance"])


def _same_members(ours: dict[str, Any], real: list[dict[str, Any]], omitted: set[str]) -> None:
    seen: dict[str, set[type]] = {}
    for body in real:
        for key, value in body.items():
            seen.setdefault(key, set()).add(type(value))
    unknown = set(ours) - set(seen)
    assert not unknown, f"members no real response has: {unknown}"
    for key, value in ours.items():
        assert type(value) in seen[key], f"{key}: {type(value)} vs {seen[key]}"
    always = set.intersection(*(set(b) for b in real)) - omitted
    assert always <= set(ours), f"missing: {always - set(ours)}"


def test_ip_answers_the_smallest_covering_delegation(client: TestClient) -> None:
    for query in ("193.0.6.139", "193.0.0.0/20", "193.0.4.0/22", "193.0.6.0/24"):
        assert client.get(f"/rdap/ip/{query}").json()["handle"] == "193.0.0.0-4096-RIPENCC"
    assert client.get("/rdap/ip/2001:4860:4860::8888").json()["handle"] == "2001:4860::-32-ARIN"
    assert client.get("/rdap/ip/8.8.8.8").json()["cidr0_cidrs"] == [
        {"v4prefix": "8.0.0.0", "length": 9}
    ]
    # a prefix wider than any delegation is covered by none: 404, not a guess
    assert client.get("/rdap/ip/193.0.0.0/8").status_code == 404


def test_a_transferred_block_is_found_at_its_new_registry(client: TestClient) -> None:
    body = client.get("/rdap/ip/193.0.17.1").json()
    assert body["handle"] == "193.0.16.0-2048-ARIN"
    assert body["entities"][0]["handle"] == f"{NEW_HOLDER}-ARIN"
    assert {"eventAction": "transfer", "eventDate": "2026-11-01T00:00:00Z"} in body["events"]
    # what stayed behind is still RIPE NCC's
    assert client.get("/rdap/ip/193.0.6.139").json()["handle"].endswith("-RIPENCC")


def test_entities_list_their_networks_and_autnums(client: TestClient) -> None:
    body = client.get(f"/rdap/entity/{RIPE_HOLDER}-RIPENCC").json()
    assert [n["handle"] for n in body["networks"]][:1] == ["193.0.0.0-4096-RIPENCC"]
    assert [a["handle"] for a in body["autnums"]] == ["AS3333"]
    assert client.get(f"/rdap/entity/{RIPE_HOLDER}-ARIN").status_code == 404


def test_searches(client: TestClient) -> None:
    found = client.get("/rdap/ips", params={"handle": "193.0.16.0-2048-ARIN"}).json()
    assert [n["handle"] for n in found["ipSearchResults"]] == ["193.0.16.0-2048-ARIN"]
    assert (
        client.get("/rdap/ips", params={"name": "RIPENCC-193.0.0.0-20"}).json()["ipSearchResults"][
            0
        ]["handle"]
        == "193.0.0.0-4096-RIPENCC"
    )
    assert client.get("/rdap/ips", params={"handle": "nothing"}).json() == {
        **found,
        "ipSearchResults": [],
    }
    assert [
        a["handle"]
        for a in client.get("/rdap/autnums", params={"handle": "AS3333"}).json()[
            "autnumSearchResults"
        ]
    ] == ["AS3333"]
    entities = client.get("/rdap/entities", params={"handle": f"{NEW_HOLDER}-ARIN"}).json()
    assert [e["handle"] for e in entities["entitySearchResults"]] == [f"{NEW_HOLDER}-ARIN"]


def test_relation_searches(client: TestClient) -> None:
    def handles(relation: str, query: str) -> list[str] | int:
        response = client.get(f"/rdap/ips/rirSearch1/{relation}/{query}")
        if response.status_code != 200:
            return response.status_code
        return [n["handle"] for n in response.json()["ipSearchResults"]]

    assert handles("down", "193.0.0.0/16") == ["193.0.0.0-4096-RIPENCC", "193.0.16.0-2048-ARIN"]
    assert handles("bottom", "193.0.0.0/16") == handles("down", "193.0.0.0/16")
    assert handles("top", "193.0.6.139") == ["193.0.0.0-4096-RIPENCC"]
    assert handles("bottom", "193.0.6.0/24") == ["193.0.0.0-4096-RIPENCC"]
    assert handles("up", "193.0.6.139") == 404  # the files do not nest
    assert handles("sideways", "193.0.6.139") == 400
    asn = client.get("/rdap/autnums/rirSearch1/top/3333").json()
    assert [a["handle"] for a in asn["autnumSearchResults"]] == ["AS3333"]


def test_bootstrap_files_reflect_transfers(client: TestClient) -> None:
    ipv4 = client.get("/rdap/bootstrap/ipv4.json").json()
    assert ipv4["version"] == "1.0" and ipv4["services"]
    entries = [e for service in ipv4["services"] for e in service[0]]
    assert len(entries) == len(set(entries))
    # every registry's service lists what it holds now; 193/8 is carved around the moved /21
    (arin,) = [s[0] for s in ipv4["services"] if "8.0.0.0/8" in s[0] or "193.0.16.0/21" in s[0]]
    (ripe,) = [s[0] for s in ipv4["services"] if "101.56.0.0/13" in s[0]]
    assert "193.0.16.0/21" in arin and "193.0.16.0/21" not in ripe
    assert {"193.0.0.0/20", "193.0.24.0/21", "193.128.0.0/9"} <= set(ripe)
    for name in ("ipv6.json", "asn.json", "object-tags.json"):
        assert client.get(f"/rdap/bootstrap/{name}").json()["services"]


def test_redirect_mode_sends_each_registry_to_its_server(filled_store: Store) -> None:
    bases = {r: f"https://rdap.{r.value}.example/rdap" for r in Registry}
    app = create_app(filled_store, None, HttpConfig(rate=0, redirects=bases))
    with TestClient(app, follow_redirects=False) as client:
        moved = client.get("/rdap/ip/193.0.17.1")
        assert (moved.status_code, moved.headers["location"]) == (
            302,
            "https://rdap.arin.example/rdap/ip/193.0.17.1",
        )
        assert client.get("/rdap/ip/193.0.6.139").headers["location"] == (
            "https://rdap.ripencc.example/rdap/ip/193.0.6.139"
        )
        assert client.get("/rdap/autnum/13335").headers["location"] == (
            "https://rdap.arin.example/rdap/autnum/13335"
        )
        assert client.get("/rdap/ip/192.0.2.1").status_code == 404
        ipv4 = client.get("/rdap/bootstrap/ipv4.json").json()
        arin = next(s for s in ipv4["services"] if s[1] == ["https://rdap.arin.example/rdap/"])
        assert "193.0.16.0/21" in arin[0]


BAD = [
    ("/rdap/ip/1.2.3", 400),
    ("/rdap/ip/1.2.3.4/33", 400),
    ("/rdap/ip/::/-1", 400),
    ("/rdap/ip/10.0.0.1/24", 400),
    ("/rdap/ip/fe80::1%25eth0", 400),
    ("/rdap/ip/", 400),
    ("/rdap/ip/%00", 400),
    ("/rdap/ip/1.2.3.4/24/5", 400),
    ("/rdap/autnum/4294967296", 400),
    ("/rdap/autnum/-1", 400),
    ("/rdap/autnum/AS", 400),
    ("/rdap/autnum/" + "9" * 5000, 414),
    ("/rdap/autnum/١٢٣", 400),
    ("/rdap/" + "x/" * 3000, 414),
    ("/rdap/nothing", 404),
    ("/rdap/entity/nohandle", 404),
    ("/rdap/domain/example.com", 501),
    ("/rdap/nameserver/ns.example.com", 501),
    ("/rdap/ips", 400),
    ("/rdap/ips?handle=a&name=b", 400),
    ("/rdap/ips?handle=193.*", 422),
    ("/rdap/entities?fn=x", 501),
    ("/rdap/ip/193.0.6.139?as-of=2018-13-01", 400),
    ("/rdap/bootstrap/nope.json", 404),
    ("/unknown", 404),
]


@pytest.mark.parametrize(("path", "status"), BAD)
def test_bad_requests_get_rdap_errors(client: TestClient, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status
    body = response.json()
    assert body["errorCode"] == status and body["title"] and body["description"]
    assert "Traceback" not in response.text
    assert response.headers["access-control-allow-origin"] == "*"


def test_wrong_methods_and_preflight(client: TestClient) -> None:
    response = client.post("/rdap/ip/193.0.6.139")
    assert (response.status_code, response.json()["errorCode"]) == (405, 405)
    assert response.headers["allow"] == "GET, HEAD"
    assert client.delete("/api/stats").status_code == 405
    preflight = client.options(
        "/rdap/ip/193.0.6.139",
        headers={"Origin": "https://x.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize(
    ("accept", "status", "media"),
    [
        (RDAP, 200, RDAP),
        ("application/json", 200, "application/json"),
        ("*/*", 200, RDAP),
        ("application/rdap+json, application/json;q=0.9", 200, RDAP),
        ("text/html,application/xhtml+xml,*/*;q=0.8", 200, RDAP),
        ("text/html", 406, RDAP),
    ],
)
def test_content_negotiation(client: TestClient, accept: str, status: int, media: str) -> None:
    response = client.get("/rdap/ip/193.0.6.139", headers={"Accept": accept})
    assert (response.status_code, response.headers["content-type"]) == (status, media)


def test_rate_limit_answers_429_with_a_notice(filled_store: Store) -> None:
    app = create_app(filled_store, None, HttpConfig(rate=0.001, burst=3))
    with TestClient(app) as client:
        codes = [client.get("/rdap/ip/193.0.6.139").status_code for _ in range(5)]
        assert codes == [200, 200, 200, 429, 429]
        limited = client.get("/rdap/help")
        assert limited.json()["errorCode"] == 429
        assert limited.json()["notices"][0]["title"] == "Rate limit"
        assert int(limited.headers["retry-after"]) > 0


@pytest.mark.parametrize(
    "path",
    [
        "/rdap/ip/193.0.6.139",
        "/rdap/ip/2001:4860::/32",
        "/rdap/ip/193.0.17.1",
        "/rdap/autnum/3333",
        "/rdap/autnum/AS13335",
        "/rdap/ip/1.2.3",
        "/rdap/ip/192.0.2.1",
        "/rdap/autnum/4294967296",
        "/rdap/autnum/1/2",
    ],
)
def test_the_fast_path_answers_as_the_router_does(
    filled_store: Store, client: TestClient, path: str
) -> None:
    app = create_app(filled_store, None, HttpConfig(rate=0, refresh_seconds=0), fast_path=False)
    with TestClient(app) as routed:
        slow, fast = routed.get(path), client.get(path)
    assert (fast.status_code, fast.headers["content-type"], fast.json()) == (
        slow.status_code,
        slow.headers["content-type"],
        slow.json(),
    )


@pytest.mark.parametrize("fast_path", [True, False])
def test_a_project_error_on_either_path_is_mapped_not_a_500(
    filled_store: Store, monkeypatch: pytest.MonkeyPatch, fast_path: bool
) -> None:
    """The ip/ fast path runs before the app's handlers: it maps the project's errors the same
    way (a storage failure is a 503 saying so without the driver's text, not an internal error)."""

    def fail(*_args: object) -> None:
        raise StorageError("database error: the disk is full")

    app = create_app(filled_store, None, HttpConfig(rate=0, refresh_seconds=0), fast_path=fast_path)
    with TestClient(app) as each:
        monkeypatch.setattr(Lookup, "smallest_covering_row", fail)
        response = each.get("/rdap/ip/193.0.0.1")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/rdap+json"
    assert response.json()["description"] == ["the database failed (logged on the server)"]


def test_an_answer_reads_no_record_again(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The view's table already holds each record's numbers: building an RDAP answer (its
    dates, CIDRs, handle) parses no ``start`` field again."""
    expected = client.get("/rdap/ip/193.0.0.1").json()

    def parse_again(*_args: object) -> None:
        raise AssertionError("a stored record was parsed again")

    monkeypatch.setattr(ResourceRange, "from_start_value", parse_again)
    assert client.get("/rdap/ip/193.0.0.1").json() == expected
    assert client.get("/rdap/ips/rirSearch1/down/193.0.0.0/16").status_code == 200
