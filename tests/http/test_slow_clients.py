"""A real uvicorn server with the connection limits ``rirport serve`` sets: a client sending
its headers or body too slowly is cut off, a normal one is served (issue 11 #35)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from rirport.http import guard
from rirport.http.guard import uvicorn_limits


async def echo_app(scope: dict, receive, send) -> None:
    """Reads the whole body, answers its length."""
    if scope["type"] != "http":
        return
    size, more = 0, True
    while more:
        message = await receive()
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(size).encode()})


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    monkeypatch.setattr(guard, "HEADER_SECONDS", 1.0)
    monkeypatch.setattr(guard, "BODY_SECONDS", 1.5)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    config = uvicorn.Config(
        echo_app, host="127.0.0.1", port=port, log_level="error", **uvicorn_limits()
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not running.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running.started
    yield port
    running.should_exit = True
    thread.join(10)


def trickle(port: int, parts: list[bytes], every: float, limit: float = 6.0) -> tuple[bytes, float]:
    """Send ``parts`` one every ``every`` seconds; what came back and when the server closed
    (or ``limit`` if it never did)."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=limit) as conn:
        received = b""
        try:
            for part in parts:
                conn.sendall(part)
                time.sleep(every)
            conn.settimeout(max(0.1, limit - (time.monotonic() - start)))
            while chunk := conn.recv(4096):
                received += chunk
        except (BrokenPipeError, ConnectionResetError):
            pass
        except TimeoutError:
            return received, limit
    return received, time.monotonic() - start


def test_a_normal_request_is_served(server: int) -> None:
    body = b"x" * 5000
    head = f"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    received, _ = trickle(server, [head.encode(), body], 0.0)
    assert received.startswith(b"HTTP/1.1 200") and b"\r\n5000\r\n" in received


def test_headers_sent_a_byte_at_a_time_are_cut_off(server: int) -> None:
    head = b"GET / HTTP/1.1\r\nHost: t\r\nX-Slow: " + b"a" * 40
    received, closed_after = trickle(server, [bytes([b]) for b in head], 0.1)
    assert received == b""  # no request was ever handled
    assert closed_after < 4.5  # closed near the 1 s deadline, long before the 4 s of trickle


def test_a_silent_connection_is_cut_off(server: int) -> None:
    received, closed_after = trickle(server, [], 0.0)
    assert received == b"" and closed_after < 3


def test_a_body_sent_slowly_is_cut_off(server: int) -> None:
    head = b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n"
    received, closed_after = trickle(server, [head] + [b"x"] * 60, 0.1)
    assert b"200" not in received  # the body never completed, nothing was answered
    assert closed_after < 5


def test_keep_alive_requests_each_get_the_header_deadline_afresh(server: int) -> None:
    request = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"
    received, _ = trickle(server, [request, request, request], 0.6, limit=2.5)
    assert received.count(b"HTTP/1.1 200") == 3  # 1.8 s in all: each request under 1 s


@pytest.mark.parametrize("workers", [1, 2])
def test_rirport_serve_runs_uvicorn_with_the_limits(
    workers: int, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    from pathlib import Path

    from rirport.config import Settings
    from rirport.http import serve as serving
    from rirport.http.config import HttpConfig

    calls: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *_a, **kw: calls.append(kw))
    # several workers: uvicorn's supervisor is given a Config; check the limits on it
    monkeypatch.setattr(
        serving,
        "run_workers",
        lambda config: calls.append({k: getattr(config, k) for k in uvicorn_limits()}),
    )
    monkeypatch.setattr(serving, "create_app", lambda *_a, **_kw: object())
    monkeypatch.setattr(serving, "open_store", lambda *_a, **_kw: object())
    settings = Settings(data_dir=Path(str(tmp_path)))
    serving.serve(settings, HttpConfig(), "127.0.0.1", 18599, workers=workers)
    (kwargs,) = calls
    assert {k: kwargs[k] for k in uvicorn_limits()} == uvicorn_limits()
    assert kwargs["http"] == "rirport.http.guard:GuardedH11Protocol"
