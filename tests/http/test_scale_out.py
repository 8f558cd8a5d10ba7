"""Two real ``rirport serve`` processes over one PostgreSQL and one Redis share one request
limit, one login throttle and one session store; as-of views are bounded per process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from rirport.accounts import service
from rirport.store.unit import Store
from tests.conftest import _postgres_database
from tests.http.conftest import fill

REDIS_URL = "redis://127.0.0.1:6379/0"
PORTS = (8150, 8151)
PASSWORD = "correct horse battery staple"
BURST = 6

pytestmark = pytest.mark.postgres


def _redis() -> Any:
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    return client


@pytest.fixture
def servers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[list[str], str]]:
    """Both servers' base URLs (one database, one Redis, this test's own key prefix; the
    keys are removed after); ``request.param`` is the burst (default :data:`BURST`)."""
    burst = getattr(request, "param", BURST)
    client = _redis()
    prefix = f"rirport-test-{uuid.uuid4().hex[:12]}"
    databases = _postgres_database()
    url = next(databases)
    store = Store(url)
    fill(store)
    service.create_account(store, "member", PASSWORD, "strategy-circle", "tester")
    store.close()
    secret = tmp_path / "secret"
    secret.write_text("a shared secret for both servers, long enough")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("RIRPORT_")},
        "RIRPORT_DATA_DIR": str(tmp_path),
        "RIRPORT_REDIS_URL": REDIS_URL,
        "RIRPORT_REDIS_PREFIX": prefix,
    }
    logs = [(tmp_path / f"server-{port}.log").open("wb") for port in PORTS]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "rirport",
                "--db",
                url,
                "serve",
                "--port",
                str(port),
                "--rate",
                "0.1",
                "--burst",
                str(burst),
                "--refresh",
                "0",
                "--no-access-log",
                "--session-secret-file",
                str(secret),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        for port, log in zip(PORTS, logs, strict=True)
    ]
    bases = [f"http://127.0.0.1:{port}" for port in PORTS]
    try:
        _wait(procs, bases, tmp_path)
        client.delete(*client.keys(f"{prefix}*") or [b"none"])  # the health checks' hits
        yield bases, prefix
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=20)
        for log in logs:
            log.close()
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
        for _ in databases:
            pass


def _wait(procs: list[subprocess.Popen[bytes]], bases: list[str], logs: Path) -> None:
    deadline = time.monotonic() + 90
    for proc, base in zip(procs, bases, strict=True):
        while True:
            if proc.poll() is not None:
                raise AssertionError("".join(p.read_text() for p in logs.glob("server-*.log")))
            try:
                if httpx.get(f"{base}/api/health", timeout=2).status_code in (200, 429):
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"{base} did not start"
            time.sleep(0.3)


def test_two_servers_share_one_request_limit(servers: tuple[list[str], str]) -> None:
    """Alternating between the servers, the burst is spent once: one bucket per process
    would have let 2 x BURST through."""
    bases, prefix = servers
    codes = [httpx.get(f"{bases[k % 2]}/api/health").status_code for k in range(2 * BURST)]
    assert codes.count(200) == BURST, codes
    assert codes[BURST:] == [429] * BURST
    refused = httpx.get(f"{bases[1]}/api/health")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    keys = _redis().keys(f"{prefix}*")
    assert keys, "the counts live in Redis under this test's prefix"


@pytest.mark.parametrize("servers", [100], indirect=True)
def test_a_session_made_on_one_server_works_on_the_other(
    servers: tuple[list[str], str],
) -> None:
    """A login on one server is a session on the other (the sessions are rows of the one
    PostgreSQL, signed with the one secret); failed logins count on both together."""
    bases, _ = servers
    with httpx.Client(base_url=bases[0]) as a:
        made = a.post("/api/auth/login", json={"username": "member", "password": PASSWORD})
        assert made.status_code == 200, made.text
        cookies = dict(a.cookies)
    with httpx.Client(base_url=bases[1], cookies=cookies) as b:
        seen = b.get("/api/auth/session")
        assert seen.status_code == 200, seen.text
        body = seen.json()
        assert body["authenticated"] and body["via"] == "session"
        assert body["tier"] == "strategy-circle" and body["account"] == made.json()["account"]
    with httpx.Client(base_url=bases[1]) as stranger:
        assert stranger.get("/api/auth/session").json()["authenticated"] is False

    wrong = {"username": "member", "password": "not the password"}
    codes = [httpx.post(f"{bases[k % 2]}/api/auth/login", json=wrong).status_code for k in range(6)]
    assert codes == [401] * 5 + [429], codes  # five a window per account, shared
