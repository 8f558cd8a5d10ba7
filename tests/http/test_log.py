"""/log/ over HTTP: the checkpoint, tiles and bundles (C2SP tlog-tiles) and JSON proofs, each
checked with the RFC 9162 reference written from the RFC alone (tests/log/rfc9162.py)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rirport.http.app import create_app
from rirport.http.config import HttpConfig
from rirport.log import merkle
from rirport.log.checkpoint import open_checkpoint
from rirport.log.tiles import decode_bundle, split_hashes
from rirport.services.registry.ingest import ingest_path
from rirport.services.transparency import keys
from rirport.services.transparency import log as tlog
from rirport.store.unit import Store
from tests.log import rfc9162
from tests.paths import TEST_DATA

EXCERPTS = sorted((TEST_DATA / "excerpts").glob("*-excerpt.txt"))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Store]]:
    tmp = tmp_path_factory.mktemp("log-http")
    store = Store(f"sqlite:///{tmp / 's.sqlite'}")
    signer, _ = keys.init(store, tmp / "data", "rirport.test/http")
    store.log_signer = signer
    for path in EXCERPTS:
        ingest_path(store, path)
    app = create_app(store, None, HttpConfig(rate=1000, burst=1000), fast_path=False)
    with TestClient(app) as client:
        yield client, store
    store.close()


def leaves(store: Store) -> list[bytes]:
    with store.read() as uow:
        return [tlog.entry_line(*r).encode() for r in uow.log.journal_after(0)]


def test_checkpoint_is_signed_text_not_cached_long(served: tuple[TestClient, Store]) -> None:
    client, store = served
    answer = client.get("/log/checkpoint", headers={"Accept": "text/plain"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    assert answer.headers["cache-control"] == "public, max-age=2"
    vkey = keys.store_vkey(store)
    assert vkey is not None
    point = open_checkpoint(answer.text, vkey)
    assert point.size == 5 and point.root == rfc9162.MTH(leaves(store))


def test_tiles_and_bundles_are_immutable_and_hash_to_the_root(
    served: tuple[TestClient, Store],
) -> None:
    client, store = served
    bundle = client.get("/log/tile/entries/000.p/5", headers={"Accept": "application/octet-stream"})
    tile = client.get("/log/tile/0/000.p/5")
    assert bundle.status_code == tile.status_code == 200
    assert "immutable" in tile.headers["cache-control"]
    entries = decode_bundle(bundle.content, 5)
    assert entries == leaves(store)
    assert split_hashes(tile.content, 5) == [merkle.leaf_hash(e) for e in entries]
    missing = client.get("/log/tile/0/000.p/9")
    assert missing.status_code == 404 and "the tree has 5 entries" in missing.text
    bad = client.get("/log/tile/0/12")
    assert bad.status_code == 400 and "bad tile index" in bad.text


def test_json_proofs_verify_with_the_rfc_reference(served: tuple[TestClient, Store]) -> None:
    client, store = served
    data = leaves(store)
    root = rfc9162.MTH(data)
    for index in range(5):
        body = client.get(f"/log/proof/inclusion?index={index}&size=5").json()
        assert set(body) == {"index", "size", "leaf_hash", "hashes"}
        path = [base64.b64decode(h) for h in body["hashes"]]
        leaf = base64.b64decode(body["leaf_hash"])
        assert leaf == merkle.leaf_hash(data[index])
        assert rfc9162.verify_inclusion(index, 5, leaf, path, root)
    for old in range(1, 5):
        body = client.get(f"/log/proof/consistency?from={old}&to=5").json()
        assert set(body) == {"from", "to", "hashes"}
        path = [base64.b64decode(h) for h in body["hashes"]]
        assert rfc9162.verify_consistency(old, 5, rfc9162.MTH(data[:old]), root, path)


@pytest.mark.parametrize(
    ("query", "status", "says"),
    [
        ("inclusion?index=0&size=6", 400, "beyond the tree"),
        ("inclusion?index=5&size=5", 400, "not below size"),
        ("consistency?from=4&to=3", 400, "not 0 <= from <= to"),
        ("consistency?from=1&to=99", 400, "beyond the tree"),
        ("inclusion?index=-1&size=5", 400, "index"),
    ],
)
def test_proofs_beyond_the_tree_are_clear_errors(
    served: tuple[TestClient, Store], query: str, status: int, says: str
) -> None:
    client, _ = served
    answer = client.get(f"/log/proof/{query}")
    assert answer.status_code == status
    assert says in " ".join(answer.json()["description"])


def test_no_checkpoint_yet_is_404(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    ingest_path(store, EXCERPTS[0])
    with TestClient(create_app(store, None, fast_path=False)) as client:
        answer = client.get("/log/checkpoint")
    store.close()
    assert answer.status_code == 404 and "log init" in answer.text
