"""A registry with members: the HTTP tests' real excerpts (with one completed transfer) on each
engine, an app over it, and one account of each role with an API token.

``la`` is a Leadership Alliance member verified for RIPE NCC's own holder id (193.0.0.0/20 and
AS3333); ``la2`` for the ARIN holder that received 193.0.16.0/21 by transfer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from rirport.accounts import service
from rirport.accounts.holdings import known_holder
from rirport.http.app import create_app
from rirport.http.config import HttpConfig
from rirport.query.view import load_current
from rirport.store import schema
from rirport.store.repos.accounts import AccountRepo
from rirport.store.unit import Store
from tests.conftest import _postgres_database
from tests.http.conftest import NEW_HOLDER, RIPE_HOLDER, fill

PASSWORD = "correct horse battery staple"
SECRET = "test-secret-not-for-production"
ROLES = ("strategy-circle", "leadership-alliance", "admin")


@dataclass
class World:
    """The store, and per account name: id and API token."""

    store: Store
    ids: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    token_ids: dict[str, int] = field(default_factory=dict)

    def bearer(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}

    def state(self) -> dict[str, Any]:
        """Everything a refused request must leave alone: the journal head and the row
        counts of the account, transfer and evidence tables."""
        with self.store.transaction() as uow:
            counts = AccountRepo(uow.connection).counts()
            for table in (schema.transfer, schema.evidence, schema.journal):
                counts[table.name] = int(
                    uow.connection.execute(select(func.count()).select_from(table)).scalar_one()
                )
            counts["generation"] = uow.meta.generation()
            counts["revoked"] = int(
                uow.connection.execute(
                    select(func.count())
                    .select_from(schema.auth_session)
                    .where(schema.auth_session.c.revoked_at.is_not(None))
                ).scalar_one()
            )
        return counts


def populate(store: Store) -> World:
    world = World(store)
    view = load_current(store)
    known = known_holder(view, store)
    for name, tier, holder in (
        ("admin", "admin", None),
        ("sc", "strategy-circle", None),
        ("la", "leadership-alliance", ("ripencc", RIPE_HOLDER)),
        ("la2", "leadership-alliance", ("arin", NEW_HOLDER)),
    ):
        row = service.create_account(store, name, PASSWORD, tier, "tester")
        world.ids[name] = row.id
        if holder:
            service.link_holder(store, row.id, *holder, "tester", known)
        token_row, token = service.create_token(store, row.id, f"{name} token", "tester")
        world.tokens[name], world.token_ids[name] = token, token_row.id
    return world


def make_client(store: Store, **config: Any) -> TestClient:
    values: dict[str, Any] = {"rate": 0, "refresh_seconds": 0, "session_secret": SECRET}
    values.update(config)
    return TestClient(create_app(store, None, HttpConfig(**values)))


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """A filled store with the four accounts, on each engine (once per module)."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("accounts") / "store.sqlite"
        urls: Iterator[str] = iter([f"sqlite:///{path}"])
    else:
        urls = _postgres_database()
    url = next(urls)
    store = Store(url)
    try:
        fill(store)
        yield populate(store)
    finally:
        store.close()
        for _ in urls:  # drops the PostgreSQL database
            pass


@pytest.fixture(scope="module")
def client(world: World) -> Iterator[TestClient]:
    with make_client(world.store) as test_client:
        yield test_client


def login(client: TestClient, name: str, password: str = PASSWORD) -> str:
    """Log in through the API; returns the CSRF token (the cookie stays in the client)."""
    response = client.post("/api/auth/login", json={"username": name, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["csrf_token"]
    return token


def past(hours: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)
