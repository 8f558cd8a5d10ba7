"""Shared fixtures: the real data, and a store on each engine.

Store tests take the ``store_url`` (or ``store``) fixture and so run twice: on a SQLite file in
``tmp_path`` and on a fresh PostgreSQL database that the fixture creates and drops. PostgreSQL
comes from ``RIRPORT_TEST_POSTGRES_URL`` (default: the machine's server on 127.0.0.1:5432);
when it cannot be reached the PostgreSQL runs are skipped, unless
``RIRPORT_REQUIRE_POSTGRES=1`` (set by CI), which turns that into a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from rirport.config import Settings
from rirport.store.unit import Store
from tests.paths import DELEGATED, SHARED, TEST_DATA, real_files

__all__ = ["DELEGATED", "SHARED", "TEST_DATA", "real_files"]
POSTGRES_ADMIN_URL = os.environ.get(
    "RIRPORT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = os.environ.get("RIRPORT_REQUIRE_POSTGRES") == "1"


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--screenshots DIR``: where the page tests write their screenshots (``docs/web`` to
    refresh the documented ones); without it they go to a temporary folder, so a test run
    leaves the checkout as it found it."""
    parser.addoption("--screenshots", metavar="DIR", default=None, help=pytest_addoption.__doc__)


@pytest.fixture(autouse=True)
def _isolated_data_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test may touch the user's real rirport folder or database."""
    monkeypatch.setenv("RIRPORT_DATA_DIR", str(tmp_path_factory.mktemp("rirport-home")))
    monkeypatch.delenv("RIRPORT_DATABASE_URL", raising=False)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"the shared real data is missing at {SHARED}")
    return SHARED


def _postgres_database() -> Generator[str, None, None]:
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"rirport_test_{uuid.uuid4().hex[:12]}"
    assert "test" in name  # never drop anything that is not a test database
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        message = f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {exc.orig}"
        if REQUIRE_POSTGRES:
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database on each engine."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
    else:
        yield from _postgres_database()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A migrated, empty store on each engine."""
    st = Store(store_url)
    try:
        yield st
    finally:
        st.close()


@pytest.fixture
def settings(tmp_path: Path, store_url: str) -> Settings:
    """Settings pointing at a temporary data folder and the engine under test."""
    return Settings(data_dir=tmp_path / "data", database_url=store_url)
