"""RDAP held to the standards and peer tools (issue 11, #14–#23): HEAD, RFC 9910's paths,
status filter and links, registered notice types, names rirport gives, the DNS bootstrap
file, Host handling and bounded caches, CORS everywhere, trailing slashes, Accept q=0 and a
repeated as-of; and relation searches bounded and off the event loop."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from rirport.http.app import create_app
from rirport.http.config import HttpConfig
from rirport.query.live import Served
from rirport.query.search import SEARCH_LIMIT, relation_search
from rirport.services.registry.ingest import ingest_bytes
from rirport.store.unit import Store
from tests.excerpts import excerpt, real_file

REGISTERED_TRUNCATION = {
    "result set truncated due to authorization",
    "result set truncated due to excessive load",
    "result set truncated due to unexplainable reasons",
    "object truncated due to authorization",
    "object truncated due to excessive load",
    "object truncated due to unexplainable reasons",
}


def handles(body: dict[str, Any], key: str = "ipSearchResults") -> list[str]:
    return [o["handle"] for o in body[key]]


# -- #15 HEAD ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        "/rdap/ip/193.0.6.139",
        "/rdap/autnum/3333",
        "/rdap/help",
        "/rdap/entity/2971c08b-2b8e-49f9-a938-fe3a9f8348be-RIPENCC",
        "/rdap/ips?handle=193.0.16.0-2048-ARIN",
        "/rdap/ips/rirSearch1/rdap-down/193.0.0.0/16",
        "/rdap/history/autnum/3333",
        "/rdap/bootstrap/asn.json",
        "/rdap/ip/192.0.2.1",
    ],
)
def test_head_answers_as_get_without_a_body(client: TestClient, path: str) -> None:
    got, head = client.get(path), client.head(path)
    assert head.status_code == got.status_code
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-length"] == str(len(got.content))
    assert head.content == b""
    assert head.headers["access-control-allow-origin"] == "*"


def test_a_wrong_method_names_get_and_head(client: TestClient) -> None:
    response = client.post("/rdap/ip/193.0.6.139")
    assert (response.status_code, response.headers["allow"]) == (405, "GET, HEAD")


# -- #16 RFC 9910 ---------------------------------------------------------------------------
def test_rfc_9910_relation_paths(client: TestClient) -> None:
    for old, new in (("down", "rdap-down"), ("bottom", "rdap-bottom")):
        a = client.get(f"/rdap/ips/rirSearch1/{old}/193.0.0.0/16")
        b = client.get(f"/rdap/ips/rirSearch1/{new}/193.0.0.0/16")
        assert a.status_code == b.status_code == 200
        assert (
            handles(a.json())
            == handles(b.json())
            == [
                "193.0.0.0-4096-RIPENCC",
                "193.0.16.0-2048-ARIN",
            ]
        )
    top = client.get("/rdap/ips/rirSearch1/rdap-top/193.0.6.139").json()
    assert handles(top) == ["193.0.0.0-4096-RIPENCC"]
    assert client.get("/rdap/ips/rirSearch1/rdap-up/193.0.6.139").status_code == 404
    asn = client.get("/rdap/autnums/rirSearch1/rdap-top/3333").json()
    assert handles(asn, "autnumSearchResults") == ["AS3333"]
    assert client.get("/rdap/autnums/rirSearch1/rdap-bottom/3333").status_code == 200
    assert client.get("/rdap/ips/rirSearch1/rdap-sideways/193.0.6.139").status_code == 400


def test_status_active_searches_the_active_hierarchy(client: TestClient) -> None:
    """LACNIC's 24.152.0.0/17 is reserved: found without the filter, not with it."""
    top = client.get("/rdap/ips/rirSearch1/rdap-top/24.152.0.1")
    assert handles(top.json()) == ["24.152.0.0-32768-LACNIC"]
    assert client.get("/rdap/ips/rirSearch1/rdap-top/24.152.0.1?status=active").status_code == (404)
    every = handles(client.get("/rdap/ips/rirSearch1/rdap-bottom/24.0.0.0/8").json())
    active = handles(client.get("/rdap/ips/rirSearch1/rdap-bottom/24.0.0.0/8?status=active").json())
    assert "24.152.0.0-32768-LACNIC" in every and "24.152.0.0-32768-LACNIC" not in active
    assert client.get("/rdap/ips/rirSearch1/rdap-top/8.8.8.8?status=gone").status_code == 400


def test_objects_link_to_their_relation_searches(client: TestClient) -> None:
    body = client.get("/rdap/ip/193.0.6.139").json()
    links = {link["rel"]: link for link in body["links"]}
    self_href = links["self"]["href"]
    for rel in ("rdap-up", "rdap-down", "rdap-top", "rdap-bottom"):
        assert links[rel]["value"] == self_href
        assert links[rel]["href"].endswith(f"/rdap/ips/rirSearch1/{rel}/193.0.0.0/20")
        path = links[rel]["href"].removeprefix("http://testserver")
        assert client.get(path).status_code in (200, 404)
    autnum = {link["rel"] for link in client.get("/rdap/autnum/3333").json()["links"]}
    assert {"self", "rdap-up", "rdap-top"} <= autnum


# -- #17 notices ----------------------------------------------------------------------------
def test_help_has_no_top_level_links(client: TestClient) -> None:
    body = client.get("/rdap/help").json()
    assert "links" not in body and body["notices"]


def test_truncation_uses_registered_notice_types(filled_store: Store) -> None:
    """A search and an entity listing cut at a limit of 1 say so with registered values."""
    import rirport.http.rdap.routes as routes

    app = create_app(filled_store, None, HttpConfig(rate=0, refresh_seconds=0))
    limit = routes.MAX_RESULTS
    routes.MAX_RESULTS = 1
    try:
        with TestClient(app) as each:
            search = each.get("/rdap/ips/rirSearch1/rdap-down/193.0.0.0/16").json()
            entity = each.get("/rdap/entity/2971c08b-2b8e-49f9-a938-fe3a9f8348be-RIPENCC")
    finally:
        routes.MAX_RESULTS = limit
    assert len(search["ipSearchResults"]) == 1
    (cut,) = [n for n in search["notices"] if "type" in n]
    assert cut["type"] == "result set truncated due to excessive load"
    types = [n.get("type") for n in entity.json()["notices"] if "type" in n]
    assert types == ["object truncated due to excessive load"]
    assert set(types) <= REGISTERED_TRUNCATION


# -- #18 names ------------------------------------------------------------------------------
def test_ips_by_the_name_of_a_multi_cidr_record(tmp_path: Path) -> None:
    """Every network is named after its first CIDR: RIPE NCC's 31.41.240.0 + 768 addresses
    (a /23 and a /24) is ``RIPENCC-31.41.240.0-23``, and the name finds it."""
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    wanted = {"31.41.240.0", "31.41.242.0", "31.41.238.0"}
    data = excerpt(real_file("ripencc"), lambda _i, f: f[3] in wanted)
    ingest_bytes(store, data, "ripencc-2018-excerpt")
    with TestClient(create_app(store, None, HttpConfig(rate=0, refresh_seconds=0))) as each:
        multi = each.get("/rdap/ip/31.41.240.1").json()
        assert (multi["name"], len(multi["cidr0_cidrs"])) == ("RIPENCC-31.41.240.0-23", 2)
        found = each.get("/rdap/ips", params={"name": "RIPENCC-31.41.240.0-23"}).json()
        assert handles(found) == [multi["handle"]]
        for other in ("RIPENCC-31.41.240.0-22", "RIPENCC-31.41.240.0-24", "ARIN-31.41.240.0-23"):
            assert each.get("/rdap/ips", params={"name": other}).json()["ipSearchResults"] == []
    store.close()


def test_autnums_by_name_honour_the_registry(client: TestClient) -> None:
    ripe = client.get("/rdap/autnums", params={"name": "RIPENCC-AS3333"}).json()
    assert handles(ripe, "autnumSearchResults") == ["AS3333"]
    arin = client.get("/rdap/autnums", params={"name": "ARIN-AS3333"}).json()
    assert arin["autnumSearchResults"] == []
    bare = client.get("/rdap/autnums", params={"name": "AS3333"}).json()
    assert handles(bare, "autnumSearchResults") == ["AS3333"]


# -- #19 dns.json ---------------------------------------------------------------------------
def test_dns_bootstrap_file_is_valid(client: TestClient) -> None:
    body = client.get("/rdap/bootstrap/dns.json").json()
    assert body["publication"].endswith("Z") and body["version"] == "1.0"
    ((tlds, urls),) = body["services"]
    assert tlds == ["invalid"] and urls[0].startswith("http://testserver/rdap")


# -- #20 Host -------------------------------------------------------------------------------
@pytest.mark.parametrize("host", ["a b", "x/y", "[::1", "h:99999", "-bad-.example"])
def test_a_malformed_host_is_a_400(client: TestClient, host: str) -> None:
    response = client.get("/rdap/ip/193.0.6.139", headers={"Host": host})
    assert response.status_code == 400
    assert response.headers["access-control-allow-origin"] == "*"
    assert "Host" in response.json()["description"][0]


def test_links_come_from_the_public_url_or_an_allowed_host(filled_store: Store) -> None:
    public = HttpConfig(rate=0, refresh_seconds=0, public_url="https://rdap.example.net")
    with TestClient(create_app(filled_store, None, public)) as each:
        body = each.get("/rdap/ip/193.0.6.139", headers={"Host": "evil.example"}).json()
        assert body["links"][0]["href"] == "https://rdap.example.net/rdap/ip/193.0.0.0/20"
    allowed = HttpConfig(rate=0, refresh_seconds=0, allowed_hosts=("rdap.example.org",))
    with TestClient(create_app(filled_store, None, allowed)) as each:
        ok = each.get("/rdap/help", headers={"Host": "rdap.example.org:8443"})
        assert ok.status_code == 200
        assert each.get("/rdap/help", headers={"Host": "evil.example"}).status_code == 400


def test_bootstrap_cache_does_not_grow_per_host(
    filled_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ipv4.json is computed once per generation whatever the Host (it was once per Host,
    kept without bound); each Host still gets its own URLs."""
    import rirport.http.rdap.routes as routes

    calls = []
    real = routes.registry_entries  # type: ignore[attr-defined]

    def counted(*args: Any) -> Any:
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(routes, "registry_entries", counted)
    with TestClient(create_app(filled_store, None, HttpConfig(rate=0))) as each:
        for n in range(30):
            body = each.get("/rdap/bootstrap/ipv4.json", headers={"Host": f"h{n}.example"}).json()
            assert body["services"][0][1][0] == f"http://h{n}.example/rdap/"
        served: Served = each.app.state.live.served  # type: ignore[attr-defined]
        assert len(calls) == 1
        assert len([k for k in served._derived if k.startswith("bootstrap")]) == 1


# -- #21 CORS -------------------------------------------------------------------------------
@pytest.mark.parametrize("origin", [None, "https://tool.example"])
@pytest.mark.parametrize(
    "path", ["/rdap/ip/193.0.6.139", "/rdap/help", "/rdap/nothing", "/rdap/ip/1.2.3"]
)
def test_cors_on_every_rdap_response(client: TestClient, path: str, origin: str | None) -> None:
    headers = {"Origin": origin} if origin else {}
    assert client.get(path, headers=headers).headers["access-control-allow-origin"] == "*"


def test_cors_even_on_an_unexpected_failure(
    filled_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rirport.query.lookup import Lookup

    def broken(*_args: object) -> None:
        raise RuntimeError("boom")

    app = create_app(filled_store, None, HttpConfig(rate=0, refresh_seconds=0), fast_path=False)
    with TestClient(app, raise_server_exceptions=False) as each:
        monkeypatch.setattr(Lookup, "smallest_covering_row", broken)
        response = each.get("/rdap/ip/193.0.0.1")
    assert response.status_code == 500
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.json()["errorCode"] == 500


# -- #23 slashes, Accept, as-of -------------------------------------------------------------
@pytest.mark.parametrize(
    "path", ["/rdap/ip/193.0.6.139", "/rdap/autnum/3333", "/rdap/help", "/rdap/ip/193.0.0.0/20"]
)
def test_a_trailing_slash_answers_as_without(client: TestClient, path: str) -> None:
    plain, slashed = client.get(path), client.get(path + "/", follow_redirects=False)
    assert (slashed.status_code, slashed.json()) == (plain.status_code, plain.json())


@pytest.mark.parametrize(
    "accept", ["application/rdap+json;q=0", "application/rdap+json;q=0, application/json;q=0"]
)
def test_q_zero_is_not_acceptable(client: TestClient, accept: str) -> None:
    assert client.get("/rdap/ip/193.0.6.139", headers={"Accept": accept}).status_code == 406


def test_a_repeated_as_of_is_a_400(client: TestClient) -> None:
    response = client.get("/rdap/ip/193.0.6.139?as-of=2018-12-01&as-of=2017-06-01")
    assert response.status_code == 400
    assert "as-of" in response.json()["description"][0]


# -- #14 bounded searches -------------------------------------------------------------------
def test_relation_searches_stop_at_the_limit(client: TestClient, filled_store: Store) -> None:
    served: Served = client.app.state.live.served  # type: ignore[attr-defined]
    every = relation_search(served.lookup, "down", _resource("0.0.0.0/0"), limit=10**6)
    assert not every.truncated and len(every.matches) > 3
    few = relation_search(served.lookup, "down", _resource("0.0.0.0/0"), limit=3)
    assert few.truncated and few.matches == every.matches[:3]
    v6 = relation_search(served.lookup, "bottom", _resource("::/0"), limit=10**6).matches
    bottom = relation_search(served.lookup, "bottom", _resource("::/0"), limit=len(v6) - 1)
    assert bottom.truncated and bottom.matches == v6[:-1]
    assert SEARCH_LIMIT == 1000


def test_search_cost_follows_the_answer_not_the_table(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search over 0.0.0.0/0 with a limit of 2 reads only the rows it needs (the table's
    rows are counted as the sweep reads them)."""
    from rirport.domain.table import DelegationTable

    served: Served = client.app.state.live.served  # type: ignore[attr-defined]
    reads = []
    real = DelegationTable.first_int

    def counted(self: DelegationTable, row: int) -> int:
        reads.append(row)
        return real(self, row)

    monkeypatch.setattr(DelegationTable, "first_int", counted)
    relation_search(served.lookup, "down", _resource("0.0.0.0/0"), limit=2)
    assert len(reads) < 20


def _resource(text: str) -> Any:
    from rirport.domain.resources import ResourceRange

    return ResourceRange.from_network(text)


def test_a_huge_search_does_not_stall_a_concurrent_lookup(
    filled_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a search made to take over a second (each of its objects 10 ms to build, five
    a slice), an autnum lookup sent meanwhile on the same event loop is answered long before
    it (it once waited for the whole search): the search returns to the loop after each
    slice."""
    import rirport.http.rdap.routes as routes

    real = routes.object_of

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.01)
        return real(*args, **kwargs)

    monkeypatch.setattr(routes, "object_of", slow)
    monkeypatch.setattr(routes, "SLICE", 5)
    app = create_app(filled_store, None, HttpConfig(rate=0, refresh_seconds=0))

    async def both() -> tuple[float, float]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            start = time.monotonic()

            async def timed(path: str) -> float:
                response = await c.get(path)
                assert response.status_code == 200, response.text
                return time.monotonic() - start

            search = asyncio.create_task(timed("/rdap/ips/rirSearch1/rdap-down/0.0.0.0/0"))
            await asyncio.sleep(0.05)
            lookup = await timed("/rdap/autnum/3333")
            return await search, lookup

    with TestClient(app):  # runs the lifespan (the index is loaded at creation)
        search_took, lookup_took = asyncio.run(both())
    assert search_took >= 1.0
    assert lookup_took < 0.5


def test_history_over_a_huge_range_reads_only_covering_versions(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """history/ip/0.0.0.0/0 once read (and parsed) every stored IPv4 version to answer 404:
    a covering query asks the store for the versions containing all of it."""
    from rirport.store.repos.delegations import DelegationRepo

    def everything(*_args: object) -> None:
        raise AssertionError("read every overlapping version")

    monkeypatch.setattr(DelegationRepo, "history_overlapping", everything)
    assert client.get("/rdap/history/ip/0.0.0.0/0").status_code == 404
    assert client.get("/rdap/history/ip/::/0").status_code == 404
    records = client.get("/rdap/history/ip/193.0.17.1").json()["records"]
    assert [r["content"]["handle"] for r in records][-1] == "193.0.16.0-2048-ARIN"


# -- #8 a moved block's source -----------------------------------------------------------------
def test_a_moved_block_names_the_transfer_as_its_source(
    client: TestClient, filled_store: Store
) -> None:
    """193.0.16.0/21 moved from RIPE NCC to ARIN: its source is the transfer (journal serial
    and date), and the RIPE NCC file's line that listed it is kept as its origin — not the
    line of ARIN's file it sorts at, which holds another block."""
    with filled_store.read() as uow:
        (transfer,) = uow.transfers.all(("completed",))
        ripe = next(s for s in uow.snapshots.current() if s.registry == "ripencc")
        lines, records = uow.delegations.record_columns(ripe.id, state="original")
    line, record = next(
        (n, r) for n, r in zip(lines, records, strict=True) if "|193.0.16.0|2048|" in r
    )
    body = client.get("/rdap/ip/193.0.17.1").json()
    (remark,) = [r for r in body["remarks"] if r["title"] == "Source"]
    first, origin = remark["description"][:2]
    assert f"journal serial {transfer.updated_serial}" in first
    assert f"transfer date {transfer.transfer_date.isoformat()}" in first
    assert origin == f"Origin: RIPE NCC statistics file {ripe.file_name}, line {line}: {record}"
    history = client.get("/rdap/history/ip/193.0.17.1").json()["records"]
    moved = next(r for r in history if r["content"]["handle"] == "193.0.16.0-2048-ARIN")
    assert moved["applicableFrom"] == f"{transfer.transfer_date.isoformat()}T00:00:00Z"
    source = next(r for r in moved["content"]["remarks"] if r["title"] == "Source")
    assert f"journal serial {transfer.updated_serial}" in source["description"][0]
    assert f"line {line}: {record}" in source["description"][1]
    # what was not moved still names its file and line
    kept = client.get("/rdap/ip/193.0.6.139").json()["remarks"][0]["description"][0]
    assert kept.startswith("RIPE NCC statistics file ")
