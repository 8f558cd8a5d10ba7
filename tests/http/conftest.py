"""A small real registry for the HTTP tests: excerpts of the five 2017 and 2018 files holding
the records the tests ask about (history: the 2018 files are the current view), and one
completed inter-RIR transfer (RIPE NCC's 193.0.16.0/21
moved to ARIN), so the server is tested on data that changed after ingest."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rirport.domain.enums import Registry
from rirport.domain.query import parse_query
from rirport.domain.transfer import TransferKind
from rirport.http.app import create_app
from rirport.http.config import HttpConfig
from rirport.query.iana import load_iana
from rirport.query.view import load_current
from rirport.services.registry.ingest import ingest_bytes
from rirport.services.transfers.lifecycle import advance, build_request, request_transfer
from rirport.store.unit import Store
from tests.excerpts import excerpt, real_file

RIPE_HOLDER = "2971c08b-2b8e-49f9-a938-fe3a9f8348be"  # RIPE NCC's own 193.0.0.0/20
NEW_HOLDER = "org-new-holder"
MOVED = "193.0.16.0/21"
WANTED = {
    "afrinic": ("196.216.2.0",),
    "apnic": ("1.1.1.0", "2497"),  # 2497: a record of 32 AS numbers
    "arin": ("8.0.0.0", "2001:4860::", "13335"),
    "lacnic": ("200.160.0.0",),
    "ripencc": ("193.0.0.0", "193.0.16.0", "2001:5::", "3333", "101.56.0.0"),
}


def _keep(registry: str, first: int) -> object:
    def keep(index: int, fields: list[str]) -> bool:
        return index < first or fields[3] in WANTED[registry]

    return keep


def fill(store: Store) -> None:
    """Ingest the excerpts of the 2017 files, then the 2018 ones (the current view), then
    complete the transfer of :data:`MOVED` to ARIN."""
    for year in ("2017", "2018"):
        for registry in WANTED:
            keep = _keep(registry, 30)
            ingest_bytes(
                store,
                excerpt(real_file(registry, year), keep),  # type: ignore[arg-type]
                f"{registry}-{year}-excerpt",
            )
    move(store, MOVED, Registry.ARIN)


def move(store: Store, resource: str, to: Registry) -> None:
    view = load_current(store)
    iana = load_iana(store)
    query = parse_query(resource)
    assert query.resource is not None
    request = build_request(
        view,
        query.resource,
        to,
        NEW_HOLDER,
        TransferKind.INTER_RIR,
        dt.date(2026, 11, 1),
        RIPE_HOLDER,
    )
    step = request_transfer(store, view, request, "mandatory-portability", "tester", iana)
    for name in ("approve", "accept", "complete"):
        advance(
            store, load_current(store), step.transfer.id, name, "tester", iana, conditions_met=True
        )


@pytest.fixture(scope="module")
def filled_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """One SQLite store per test module (building it takes a second or two)."""
    path: Path = tmp_path_factory.mktemp("http") / "store.sqlite"
    store = Store(f"sqlite:///{path}")
    fill(store)
    yield store
    store.close()


@pytest.fixture(scope="module")
def client(filled_store: Store) -> Iterator[TestClient]:
    app = create_app(filled_store, None, HttpConfig(rate=0, refresh_seconds=0))
    with TestClient(app) as test_client:
        yield test_client
