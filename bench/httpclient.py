"""A small load generator for the HTTP benchmarks: many keep-alive connections driven by
asyncio over raw sockets (an HTTP client library would cost more than the server's work),
recording each request's latency. Runs in the benchmark's process; the server is another."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass
class Load:
    requests: int
    seconds: float
    latencies: list[float]
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else 0.0

    def line(self, name: str) -> str:
        return (
            f"{name}: {self.rps:,.0f} requests/s ({self.requests:,} in {self.seconds:.1f}s, "
            f"{self.errors} errors), p50 {self.percentile(0.5) * 1000:.2f} ms, "
            f"p99 {self.percentile(0.99) * 1000:.2f} ms"
        )


def request_bytes(path: str, host: str) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/rdap+json\r\n\r\n"
    ).encode()


async def _connection(
    host: str,
    port: int,
    requests: Sequence[bytes],
    start: int,
    until: float,
    count: int | None,
    load: Load,
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    i = start
    try:
        while (count is None and time.perf_counter() < until) or (
            count is not None and i - start < count
        ):
            began = time.perf_counter()
            writer.write(requests[i % len(requests)])
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            load.latencies.append(time.perf_counter() - began)
            load.requests += 1
            load.errors += status != 200
            i += 1
    finally:
        writer.close()


def run_load(
    host: str,
    port: int,
    requests: Sequence[bytes],
    connections: int,
    seconds: float | None = None,
    per_connection: int | None = None,
) -> Load:
    """Keep ``connections`` connections busy for ``seconds`` (or ``per_connection`` requests
    each), cycling through ``requests``."""
    load = Load(0, 0.0, [], 0)

    async def main() -> None:
        until = time.perf_counter() + (seconds or 0)
        began = time.perf_counter()
        await asyncio.gather(
            *(
                _connection(host, port, requests, k * 7919, until, per_connection, load)
                for k in range(connections)
            )
        )
        load.seconds = time.perf_counter() - began

    asyncio.run(main())
    return load


def start_server(db_url: str, data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    """``rirport serve`` in its own process (no rate limit, no access log, no refresh)."""
    command = [
        sys.executable,
        "-m",
        "rirport",
        "--db",
        db_url,
        "--data-dir",
        str(data_dir),
        "serve",
        "--port",
        str(port),
        "--rate",
        "0",
        "--refresh",
        "0",
        "--no-access-log",
    ]
    return start_process(command, port)


def start_process(
    command: list[str], port: int, path: str = "/api/health"
) -> subprocess.Popen[bytes]:
    """A server process, once ``path`` answers 200 on ``port``."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read().decode()[-2000:] if process.stderr else ""
            raise RuntimeError(f"the server exited: {stderr}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}{path}", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the server did not start in 300 s")


def start_trivial(port: int) -> subprocess.Popen[bytes]:
    """bench/trivial_app.py on ``port``."""
    return start_process([sys.executable, "-m", "bench.trivial_app", str(port)], port, "/")


_next_port = [int(os.environ.get("BENCH_PORTS", "0").split("-")[0] or 0)]


def free_port() -> int:
    """A free loopback port: the next of ``$BENCH_PORTS`` (``8170-8179``) when set, so
    benchmarks on a shared machine stay in their own range; else one the system picks."""
    import socket

    if _next_port[0]:
        port = _next_port[0]
        _next_port[0] += 1
        return port
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        chosen: int = sock.getsockname()[1]
        return chosen
