"""RDAP ``ip/`` lookups under load vs a trivial Starlette app on the same uvicorn.

Two servers run, each in its own process with one uvicorn worker: ``rirport serve`` (the five
2018 files in SQLite) and bench/trivial_app.py (one route answering a small JSON object, on
the same uvicorn protocol and limits). This process keeps many keep-alive connections busy,
alternating rounds of the trivial app, rirport's ``/rdap/ip/<address>`` (addresses drawn
from the real delegations) and rirport's ``/api/health`` (which pays rirport's middleware, so
it shows what the stack costs apart from the lookup). Target: ip/ serves at least 0.7x the
trivial app's requests a second; p99 latencies and absolute figures are printed too. The
server's resident memory after the run is printed as well.

Rounds start once the rirport server is idle: at start its page warmer (rirport.web.warm)
makes the pages' facts in a background thread for some seconds, which would take the GIL
(and a core) from the rounds. Each server's CPU time per request is printed too: on a
shared machine it does not move with what other processes take.

    python -m bench.http_load [--connections 64] [--seconds 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import ipaddress
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

from bench.common import files_2018, machine
from bench.httpclient import Load, free_port, request_bytes, run_load, start_server, start_trivial
from rirport.domain.enums import ResourceType
from rirport.domain.table import TYPE_CODE
from rirport.query.view import load_current
from rirport.services.registry.ingest import ingest_path
from rirport.store.unit import Store


def prepare(folder: Path, count: int = 20_000) -> tuple[str, list[str]]:
    """A store with the five 2018 files (and its view cache), and ``count`` real addresses
    (drawn with replacement from the IPv4 delegations)."""
    url = f"sqlite:///{folder / 'rirport.sqlite'}"
    store = Store(url)
    for path in files_2018():
        ingest_path(store, path)
    table = load_current(store, folder / "cache").table
    store.close()
    rows = np.flatnonzero(table.type == TYPE_CODE[ResourceType.IPV4])
    rng = np.random.default_rng(7)
    picked = rng.choice(rows, count)
    offsets = rng.random(len(picked)) * table.value[picked]
    numbers = table.first_lo[picked] + offsets.astype(np.uint64)
    return url, [str(ipaddress.IPv4Address(int(n))) for n in numbers]


def settle(pid: int, limit: float = 300.0) -> float:
    """Seconds until process ``pid`` uses under 5% of a core over a second (at most
    ``limit``)."""
    process = psutil.Process(pid)
    began = time.monotonic()
    while time.monotonic() - began < limit:
        before = sum(process.cpu_times()[:2])
        time.sleep(1.0)
        if sum(process.cpu_times()[:2]) - before < 0.05:
            break
    return time.monotonic() - began


def cpu_seconds(pid: int) -> float:
    return float(sum(psutil.Process(pid).cpu_times()[:2]))


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
    parser.add_argument(
        "--addresses",
        type=int,
        default=20_000,
        help="distinct-ish addresses cycled through (200000: more records than the lane keeps "
        "answers for, so nearly every ip/ request renders its answer)",
    )
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url, addresses = prepare(folder, args.addresses)
        port, trivial_port = free_port(), free_port()
        server = start_server(url, folder, port)
        trivial_server = start_trivial(trivial_port)
        try:
            host = f"127.0.0.1:{port}"
            health = [request_bytes("/api/health", host)]
            lookups = [request_bytes(f"/rdap/ip/{a}", host) for a in addresses]
            trivial = [request_bytes("/", f"127.0.0.1:{trivial_port}")]
            run_load("127.0.0.1", port, health + lookups, args.connections, 2.0)  # warm up
            run_load("127.0.0.1", trivial_port, trivial, args.connections, 2.0)
            waited = settle(server.pid)
            loads: dict[str, list[Load]] = {"trivial": [], "ip": [], "health": []}
            cpu = dict.fromkeys(loads, 0.0)
            targets = {
                "trivial": (trivial_server.pid, trivial_port, trivial),
                "ip": (server.pid, port, lookups),
                "health": (server.pid, port, health),
            }
            for _ in range(args.rounds):
                for name, (pid, at, requests) in targets.items():
                    before = cpu_seconds(pid)
                    loads[name].append(
                        run_load("127.0.0.1", at, requests, args.connections, args.seconds)
                    )
                    cpu[name] += cpu_seconds(pid) - before
            rss = psutil.Process(server.pid).memory_full_info()
        finally:
            for process in (server, trivial_server):
                process.terminate()
                process.wait(timeout=30)
    t, i, h = merge(loads["trivial"]), merge(loads["ip"]), merge(loads["health"])
    print(
        f"servers: rirport serve and bench/trivial_app.py, 1 uvicorn worker each; load: "
        f"{args.connections} keep-alive connections from this process, {args.rounds} "
        f"alternating rounds of {args.seconds:g}s each"
    )
    print(f"rounds began once the rirport server was idle, {waited:.0f}s after it answered")
    print(t.line("trivial Starlette app GET / "))
    print(i.line("rirport /rdap/ip/<address>  "))
    print(h.line("rirport /api/health         "))
    per = {name: cpu[name] / max(1, merge(loads[name]).requests) * 1e6 for name in cpu}
    print(
        f"server CPU per request: trivial {per['trivial']:.0f} us, ip/ {per['ip']:.0f} us "
        f"(trivial/ip {per['trivial'] / per['ip']:.2f}), /api/health {per['health']:.0f} us"
    )
    ratio = i.rps / t.rps
    print(
        f"ip/ vs trivial app: ratio {ratio:.2f}; target >= 0.7: "
        f"{'met' if ratio >= 0.7 else 'NOT met'} (/api/health vs trivial app: {h.rps / t.rps:.2f})"
    )
    print(
        f"rirport worker after the run: RSS {rss.rss / 1e6:.0f} MB, of which unique to it "
        f"(USS) {rss.uss / 1e6:.0f} MB"
    )


if __name__ == "__main__":
    main()
