"""RDAP ``ip/`` latency while a stream of worst-case relation searches runs.

One ``rirport serve`` (one uvicorn worker, the five 2018 files in SQLite). Rounds alternate:
``ip/`` lookups alone on many keep-alive connections, then the same lookups while a few more
connections send, back to back, the searches that touch the most of the table
(``ips/rirSearch1/down/0.0.0.0/0``, ``bottom`` over the same, and their
IPv6 equivalents). Target: ``ip/`` p99 with the searches at most 2x its p99 without.
The searches' own rate, latency and answer sizes are printed too.

    python -m bench.search_load [--connections 32] [--searchers 2] [--seconds 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import machine
from bench.http_load import merge, prepare
from bench.httpclient import Load, _connection, free_port, request_bytes, start_server

SEARCHES = [
    "/rdap/ips/rirSearch1/down/0.0.0.0/0",
    "/rdap/ips/rirSearch1/bottom/0.0.0.0/0",
    "/rdap/ips/rirSearch1/down/::/0",
    "/rdap/ips/rirSearch1/bottom/::/0",
]


def mixed_load(
    port: int,
    lookups: list[bytes],
    searches: list[bytes],
    connections: int,
    searchers: int,
    seconds: float,
) -> tuple[Load, Load]:
    """``connections`` connections of lookups and ``searchers`` of searches, for ``seconds``;
    the two loads measured apart."""
    ip, search = Load(0, 0.0, [], 0), Load(0, 0.0, [], 0)

    async def main() -> None:
        until = time.perf_counter() + seconds
        began = time.perf_counter()
        tasks = [
            _connection("127.0.0.1", port, lookups, k * 7919, until, None, ip)
            for k in range(connections)
        ]
        tasks += [
            _connection("127.0.0.1", port, searches, k, until, None, search)
            for k in range(searchers)
        ]
        await asyncio.gather(*tasks)
        ip.seconds = search.seconds = time.perf_counter() - began

    asyncio.run(main())
    return ip, search


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--searchers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url, addresses = prepare(folder)
        port = free_port()
        server = start_server(url, folder, port)
        try:
            host = f"127.0.0.1:{port}"
            lookups = [request_bytes(f"/rdap/ip/{a}", host) for a in addresses]
            searches = [request_bytes(path, host) for path in SEARCHES]
            sizes = {}
            for path in SEARCHES:
                began = time.perf_counter()
                answer = httpx.get(f"http://{host}{path}", timeout=600)
                sizes[path] = (answer.status_code, len(answer.content), time.perf_counter() - began)
            mixed_load(port, lookups, searches, args.connections, 0, 2.0)  # warm up
            alone, under, stream = [], [], []
            for _ in range(args.rounds):
                alone.append(
                    mixed_load(port, lookups, searches, args.connections, 0, args.seconds)[0]
                )
                ip, search = mixed_load(
                    port, lookups, searches, args.connections, args.searchers, args.seconds
                )
                under.append(ip)
                stream.append(search)
        finally:
            server.terminate()
            server.wait(timeout=30)
    a, u, s = merge(alone), merge(under), merge(stream)
    print(
        f"server: rirport serve, 1 uvicorn worker; ip/ load: {args.connections} keep-alive "
        f"connections; searches: {args.searchers} more connections, back to back; "
        f"{args.rounds} alternating rounds of {args.seconds:g}s"
    )
    for path, (status, size, seconds) in sizes.items():
        print(f"  {path}: {status}, {size / 1e3:,.0f} kB, {seconds * 1000:.0f} ms alone")
    print(a.line("ip/ alone                 "))
    print(u.line("ip/ during the searches   "))
    print(s.line("worst-case searches       "))
    ratio = u.percentile(0.99) / a.percentile(0.99)
    print(
        f"ip/ p99 with searches vs without: ratio {ratio:.2f}; target <= 2.0: "
        f"{'met' if ratio <= 2 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
