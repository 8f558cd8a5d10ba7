"""The four real RDAP clients from PyPI, unmodified, against the server on loopback.

Each is pointed at the local server the way ``shared/reference/anchors.md`` §2.1 found works
(configuration only: bootstrap URLs, a redirect base, a subclass naming the bootstrap file),
and looks up an IPv4 address, an IPv6 address, an AS number and an entity, and a block that
moved from RIPE NCC to ARIN after ingest. What a client cannot ask is said per test.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from rirport.http.app import create_app
from rirport.http.config import HttpConfig
from rirport.store.unit import Store
from tests.http.conftest import NEW_HOLDER, RIPE_HOLDER

RIPE_ENTITY = f"{RIPE_HOLDER}-RIPENCC"
ARIN_ENTITY = f"{NEW_HOLDER}-ARIN"


@pytest.fixture(scope="module")
def base(filled_store: Store) -> Iterator[str]:
    """``http://127.0.0.1:PORT`` of a uvicorn server running in a thread."""
    app = create_app(filled_store, None, HttpConfig(rate=0, refresh_seconds=0))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


def test_rdap_20c(base: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    """20c ``rdap``: our server as its bootstrap (redirect) server for addresses and entities,
    and our ``asn.json`` for AS numbers (it self-bootstraps only those); pydantic-normalised
    answers too."""
    from rdap import RdapClient

    client = RdapClient(
        config={
            "bootstrap_url": f"{base}/rdap/",
            "self_bootstrap": True,
            "bootstrap_data_url": f"{base}/rdap/bootstrap/",
            "bootstrap_dir": str(tmp_path_factory.mktemp("20c")),
        }
    )
    v4 = client.get_ip("193.0.6.139")
    assert v4.data["handle"] == "193.0.0.0-4096-RIPENCC"
    assert v4.normalized["name"] == "RIPENCC-193.0.0.0-20"
    v6 = client.get_ip("2001:4860:4860::8888")
    assert v6.data["handle"] == "2001:4860::-32-ARIN"
    asn = client.get_asn(3333)
    assert (asn.data["startAutnum"], asn.normalized["name"]) == (3333, "RIPENCC-AS3333")
    assert client.get_entity(RIPE_ENTITY).data["handle"] == RIPE_ENTITY
    moved = client.get_ip("193.0.17.1")
    assert moved.data["handle"] == "193.0.16.0-2048-ARIN"
    assert moved.data["entities"][0]["handle"] == ARIN_ENTITY


def test_rdap_20c_an_asn_inside_a_multi_asn_record(
    base: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """AS2500 is one of APNIC's record AS2497-AS2528: 20c ``rdap`` once refused the range
    answer as "AS is reported not allocated"; the lookup answers that AS number alone, and
    the client's normalised output says it is allocated, APNIC's, JP's."""
    from rdap import RdapClient

    client = RdapClient(
        config={
            "bootstrap_url": f"{base}/rdap/",
            "self_bootstrap": True,
            "bootstrap_data_url": f"{base}/rdap/bootstrap/",
            "bootstrap_dir": str(tmp_path_factory.mktemp("20c-range")),
        }
    )
    asn = client.get_asn(2500)
    assert (asn.data["startAutnum"], asn.data["endAutnum"]) == (2500, 2500)
    normalized = asn.normalized
    assert (normalized["asn"], normalized["name"]) == (2500, "APNIC-AS2500")
    assert normalized["organization"]["name"] == "A91A7381-APNIC"
    assert normalized["created"] == "2002-04-05T00:00:00Z"
    assert "AS2500" in [source["handle"] for source in normalized["sources"]]
    assert any("AS2497-AS2528" in line for r in asn.data["remarks"] for line in r["description"])


def test_whoisit(base: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """whoisit: bootstrapped from our files (fetched here, loaded with its
    ``load_bootstrap_data``); entities by its handle-suffix guess, with its RIR endpoint table
    pointed here."""
    import httpx
    import whoisit

    files = {"asn": "asn", "ipv4": "ipv4", "ipv6": "ipv6", "object": "object-tags"}
    saved: dict[str, object] = {
        name: httpx.get(f"{base}/rdap/bootstrap/{file}.json").json() for name, file in files.items()
    }
    # whoisit insists on a DNS file with services; rirport serves no domains, so the test
    # gives it one for the reserved .invalid TLD (RFC 2606)
    saved["dns"] = {"version": "1.0", "services": [[["invalid"], [f"{base}/rdap/"]]]}
    saved["timestamp"] = int(time.time())
    bootstrap = sys.modules["whoisit.bootstrap"]
    monkeypatch.setattr(
        bootstrap.Bootstrap,
        "RIR_RDAP_ENDPOINTS",
        {"arin": f"{base}/rdap/", "ripe": f"{base}/rdap/"},
    )
    whoisit.clear_bootstrapping()
    whoisit.load_bootstrap_data(json.dumps(saved), allow_insecure=True)
    try:
        assert whoisit.ip("193.0.6.139")["handle"] == "193.0.0.0-4096-RIPENCC"
        assert whoisit.ip("2001:4860:4860::8888")["handle"] == "2001:4860::-32-ARIN"
        assert whoisit.asn(13335)["handle"] == "AS13335"
        assert whoisit.entity(ARIN_ENTITY)["handle"] == ARIN_ENTITY.upper()  # it upper-cases
        moved = whoisit.ip("193.0.17.1")
        assert moved["handle"] == "193.0.16.0-2048-ARIN"
        assert moved["entities"]["registrant"][0]["handle"] == ARIN_ENTITY.upper()
    finally:
        whoisit.clear_bootstrapping()


def test_whoisit_bootstraps_from_our_five_files(base: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """whoisit's own ``bootstrap()`` fetching all five files from here (``dns.json`` once
    had no ``publication`` and no services, which it refuses), then a lookup."""
    import whoisit

    bootstrap = sys.modules["whoisit.bootstrap"]
    urls = {
        name: f"{base}/rdap/bootstrap/{file}.json"
        for name, file in (
            ("asn", "asn"),
            ("dns", "dns"),
            ("ipv4", "ipv4"),
            ("ipv6", "ipv6"),
            ("object", "object-tags"),
        )
    }
    monkeypatch.setattr(bootstrap.Bootstrap, "BOOTSTRAP_URLS", urls)
    whoisit.clear_bootstrapping()
    try:
        whoisit.bootstrap(allow_insecure=True)
        assert whoisit.is_bootstrapped()
        assert whoisit.ip("193.0.17.1")["handle"] == "193.0.16.0-2048-ARIN"
        assert whoisit.asn(3333)["handle"] == "AS3333"
    finally:
        whoisit.clear_bootstrapping()


def test_ipwhois(base: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """ipwhois: its bootstrap base pointed here; entities come from following the networks'
    entity links (depth=1). It looks up IP addresses only (ASNs go to Team Cymru's whois)."""
    import ipwhois.rdap
    from ipwhois import IPWhois

    monkeypatch.setattr(ipwhois.rdap, "BOOTSTRAP_URL", f"{base}/rdap")
    v4 = IPWhois("193.0.6.139").lookup_rdap(bootstrap=True, inc_nir=False, depth=1)
    assert v4["network"]["handle"] == "193.0.0.0-4096-RIPENCC"
    assert v4["network"]["cidr"] == "193.0.0.0/20"
    assert RIPE_ENTITY in v4["objects"]
    v6 = IPWhois("2001:4860:4860::8888").lookup_rdap(bootstrap=True, inc_nir=False, depth=1)
    assert v6["network"]["handle"] == "2001:4860::-32-ARIN"
    moved = IPWhois("193.0.17.1").lookup_rdap(bootstrap=True, inc_nir=False, depth=1)
    assert moved["network"]["handle"] == "193.0.16.0-2048-ARIN"
    assert moved["entities"] == [ARIN_ENTITY]
    assert moved["objects"][ARIN_ENTITY]["handle"] == ARIN_ENTITY


def test_whodap(base: str) -> None:
    """whodap: one client per class, each told our bootstrap file. whodap has no entity
    client; entities are checked through the networks it returns."""
    import whodap

    def pointed(cls: Any, name: str) -> Any:
        return type(
            f"Local{cls.__name__}", (cls,), {"_iana_uri": f"{base}/rdap/bootstrap/{name}.json"}
        )

    v4_client = pointed(whodap.IPv4Client, "ipv4").new_client()
    v6_client = pointed(whodap.IPv6Client, "ipv6").new_client()
    asn_client = pointed(whodap.ASNClient, "asn").new_client()
    try:
        v4 = v4_client.lookup("193.0.6.139").to_dict()
        assert v4["handle"] == "193.0.0.0-4096-RIPENCC"
        assert v4["entities"][0]["handle"] == RIPE_ENTITY
        assert v6_client.lookup("2001:4860:4860::8888").to_dict()["handle"] == (
            "2001:4860::-32-ARIN"
        )
        assert asn_client.lookup(3333).to_dict()["handle"] == "AS3333"
        moved = v4_client.lookup("193.0.17.1").to_dict()
        assert moved["handle"] == "193.0.16.0-2048-ARIN"
        assert moved["entities"][0]["handle"] == ARIN_ENTITY
    finally:
        for c in (v4_client, v6_client, asn_client):
            c.close()
