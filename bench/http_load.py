"""RDAP ``ip/`` lookups under load vs a trivial JSON endpoint on the same server.

The server (``rirport serve``, one uvicorn worker, the five 2018 files in SQLite) runs in its
own process; this process keeps many keep-alive connections busy, alternating rounds of
``/api/health`` (``{"status": "ok"}``) and ``/rdap/ip/<address>`` (addresses drawn from the
real delegations). Target: ip/ serves at least 0.8x the trivial endpoint's requests a second;
p99 latencies and absolute figures are printed too.

    python -m bench.http_load [--connections 64] [--seconds 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import ipaddress
import tempfile
from pathlib import Path

import numpy as np

from bench.common import files_2018, machine
from bench.httpclient import Load, free_port, request_bytes, run_load, start_server
from rirport.domain.enums import ResourceType
from rirport.domain.table import TYPE_CODE
from rirport.query.view import load_current
from rirport.services.registry.ingest import ingest_path
from rirport.store.unit import Store


def prepare(folder: Path) -> tuple[str, list[str]]:
    """A store with the five 2018 files (and its view cache), and 20,000 real addresses."""
    url = f"sqlite:///{folder / 'rirport.sqlite'}"
    store = Store(url)
    for path in files_2018():
        ingest_path(store, path)
    table = load_current(store, folder / "cache").table
    store.close()
    rows = np.flatnonzero(table.type == TYPE_CODE[ResourceType.IPV4])
    rng = np.random.default_rng(7)
    picked = rng.choice(rows, 20_000)
    offsets = rng.random(len(picked)) * table.value[picked]
    numbers = table.first_lo[picked] + offsets.astype(np.uint64)
    return url, [str(ipaddress.IPv4Address(int(n))) for n in numbers]


def merge(loads: list[Load]) -> Load:
    return Load(
        sum(x.requests for x in loads),
        sum(x.seconds for x in loads),
        [t for x in loads for t in x.latencies],
        sum(x.errors for x in loads),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=64)
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
            trivial = [request_bytes("/api/health", host)]
            lookups = [request_bytes(f"/rdap/ip/{a}", host) for a in addresses]
            run_load("127.0.0.1", port, trivial + lookups, args.connections, 2.0)  # warm up
            health, ip = [], []
            for _ in range(args.rounds):
                health.append(run_load("127.0.0.1", port, trivial, args.connections, args.seconds))
                ip.append(run_load("127.0.0.1", port, lookups, args.connections, args.seconds))
        finally:
            server.terminate()
            server.wait(timeout=30)
    h, i = merge(health), merge(ip)
    print(
        f"server: rirport serve, 1 uvicorn worker; load: {args.connections} keep-alive "
        f"connections from this process, {args.rounds} alternating rounds of "
        f"{args.seconds:g}s each"
    )
    print(h.line("trivial JSON /api/health"))
    print(i.line("RDAP /rdap/ip/<address>  "))
    ratio = i.rps / h.rps
    print(
        f"ip/ vs trivial: ratio {ratio:.2f}; target >= 0.8: {'met' if ratio >= 0.8 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
