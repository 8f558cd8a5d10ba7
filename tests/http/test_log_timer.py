"""A real ``rirport serve`` with a checkpoint interval: a burst of writes through the HTTP API
leaves the newest entries' checkpoint for later, and the server signs it in the background
within about the interval of the last commit, while it keeps running (before, only its
shutdown did). One worker on SQLite, two workers on PostgreSQL (each signs what it left)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rirport.accounts import service
from rirport.log.checkpoint import open_checkpoint
from rirport.services.registry.ingest import ingest_path
from rirport.services.transparency import keys, state, verify
from rirport.services.transparency import log as tlog
from rirport.services.transparency.timer import tick_for
from rirport.store.unit import Store
from tests.conftest import _postgres_database
from tests.paths import TEST_DATA

INTERVAL = 2.0
PASSWORD = "correct horse battery staple"
EXCERPTS = sorted((TEST_DATA / "excerpts").glob("*-excerpt.txt"))
SLACK = 4.0
"""Seconds allowed beyond the interval and a tick for a loaded machine (the bound checked
is the interval plus a tick plus this, from the last commit)."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, int]]:
    """The store's URL and how many workers serve it."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}", 1
        return
    databases = _postgres_database()
    url = next(databases)
    try:
        yield url, 2
    finally:
        for _ in databases:
            pass


def _checkpoint_size(base: str, store: Store) -> int:
    answer = httpx.get(f"{base}/log/checkpoint", timeout=5)
    assert answer.status_code == 200, answer.text
    vkey = keys.store_vkey(store)
    assert vkey is not None
    return open_checkpoint(answer.text, vkey).size


def _journal_size(store: Store) -> int:
    with store.read() as uow:
        return uow.journal.count()


def test_a_burst_through_the_api_is_signed_within_the_interval_while_serving(
    database: tuple[str, int], tmp_path: Path
) -> None:
    url, workers = database
    data = tmp_path / "data"
    store = Store(url)
    try:
        store.log_signer, _ = keys.init(store, data, "rirport.test/timer")
        for path in EXCERPTS:
            ingest_path(store, path)
        account = service.create_account(store, "member", PASSWORD, "strategy-circle", "t")
        _, token = service.create_token(store, account.id, "seed", "t")
        tlog.catch_up(store)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("RIRPORT_")},
            "RIRPORT_DATA_DIR": str(data),
            "RIRPORT_LOG_CHECKPOINT_INTERVAL": str(INTERVAL),
        }
        log = (tmp_path / "server.log").open("wb")
        server = subprocess.Popen(
            [
                *(sys.executable, "-m", "rirport", "--db", url, "serve"),
                *("--port", str(port), "--workers", str(workers), "--rate", "0"),
                *("--refresh", "0", "--no-access-log"),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            _wait(server, base, tmp_path / "server.log")
            bearer = {"Authorization": f"Bearer {token}"}
            for round_ in range(2):  # a second burst after the first was signed
                for i in range(8):
                    made = httpx.post(
                        f"{base}/api/auth/tokens",
                        json={"name": f"burst-{round_}-{i}"},
                        headers=bearer,
                        timeout=10,
                    )
                    assert made.status_code == 201, made.text
                committed = time.monotonic()
                size = _journal_size(store)
                assert _checkpoint_size(base, store) < size, "the burst left none for later"
                bound = INTERVAL + tick_for(INTERVAL) + SLACK
                while (signed := _checkpoint_size(base, store)) < size:
                    waited = time.monotonic() - committed
                    assert waited < bound, f"entries {signed + 1}..{size} unsigned {waited:.1f} s"
                    time.sleep(0.1)
                assert signed == size and server.poll() is None  # still serving
                time.sleep(0.1)
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()
        with store.read() as uow:
            latest = uow.log.latest_checkpoint()
            assert latest is not None and latest.size == uow.journal.count()
            assert latest.state_root == state.root_of(uow)
        assert verify.verify_log(store).ok
    finally:
        store.close()


def _wait(server: subprocess.Popen[bytes], base: str, log: Path) -> None:
    deadline = time.monotonic() + 90
    while True:
        if server.poll() is not None:
            raise AssertionError(log.read_text())
        try:
            if httpx.get(f"{base}/log/checkpoint", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"{base} did not start:\n{log.read_text()}"
        time.sleep(0.3)
