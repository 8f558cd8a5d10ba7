"""One bulk POST of 100,000 addresses vs 100,000 single ``/rdap/ip/`` requests.

The server (``rirport serve``, one worker, the five 2018 files) runs in its own process. The
bulk side is timed whole (request sent, 100,000 answers with their matches built and the
response read to its last byte); like the single side, it does not time the client decoding
the JSON (printed apart: for a 30 MB answer it costs more than the server's work). The
single side is measured on a sample of requests over many keep-alive connections and
extrapolated to 100,000 (the output says so). Target: bulk at least 20x faster.

    python -m bench.bulk [--sample 10000] [--connections 64]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import machine
from bench.http_load import prepare
from bench.httpclient import free_port, request_bytes, run_load, start_server

COUNT = 100_000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sample", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url, addresses = prepare(folder)
        queries = (addresses * (COUNT // len(addresses) + 1))[:COUNT]
        port = free_port()
        server = start_server(url, folder, port)
        try:
            body = json.dumps({"queries": queries}).encode()
            bulk_times, parse_times = [], []
            for _ in range(3):
                began = time.perf_counter()
                response = httpx.post(
                    f"http://127.0.0.1:{port}/api/lookup",
                    content=body,
                    headers={"content-type": "application/json"},
                    timeout=600,
                )
                bulk_times.append(time.perf_counter() - began)
                began = time.perf_counter()
                answers = response.json()
                parse_times.append(time.perf_counter() - began)
                assert response.status_code == 200 and len(answers) == COUNT
            matched = sum(1 for a in answers if a["matches"])
            host = f"127.0.0.1:{port}"
            requests = [request_bytes(f"/rdap/ip/{a}", host) for a in addresses]
            per = max(1, args.sample // args.connections)
            run_load("127.0.0.1", port, requests, args.connections, per_connection=20)
            single = run_load("127.0.0.1", port, requests, args.connections, per_connection=per)
        finally:
            server.terminate()
            server.wait(timeout=30)
    bulk = min(bulk_times)
    singles = COUNT / single.rps
    print(
        f"bulk POST /api/lookup of {COUNT:,} addresses ({len(body) / 1e6:.1f} MB body, "
        f"{matched:,} matched, {len(response.content) / 1e6:.1f} MB answer): {bulk:.2f}s "
        f"(best of 3); the client's json.loads of the answer, not timed on either side: "
        f"{min(parse_times):.2f}s"
    )
    print(
        f"single GET /rdap/ip/: {single.requests:,} requests measured over "
        f"{args.connections} keep-alive connections in {single.seconds:.2f}s "
        f"({single.rps:,.0f}/s, p99 {single.percentile(0.99) * 1000:.1f} ms, "
        f"{single.errors} errors); extrapolated to {COUNT:,}: {singles:.1f}s"
    )
    ratio = singles / bulk
    print(
        f"bulk vs single requests: {ratio:.1f}x faster; target >= 20x: "
        f"{'met' if ratio >= 20 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
