"""The pages under load, their weight, and their first render in Chromium.

The server (``rirport serve``, one uvicorn worker, the five 2018 files in SQLite) runs in its
own process; it makes the pages' shared facts in the background at start
(:mod:`rirport.web.warm`), and this process gives it ``--settle`` seconds for that. For each
page type this process first asks once (the cold answer: the page's own facts computed, the
generation's derived tables made if the warm-up did not make them yet), then keeps
16 keep-alive connections busy on it, and on the RDAP ``ip/`` answer for the same resource,
in alternating rounds. Targets:

* every page type's p99 under 16 concurrent clients at most 3x the RDAP ``ip/`` p99;
* the largest page (``/portability``, with the world map) transfers at most 500 KB
  compressed, every asset included (Chromium's own count of the bytes it received);
* the first render of the home and resource pages, by Chromium's own timing (first
  contentful paint, DOMContentLoaded, load, charts drawn), reported.

    python -m bench.web_pages [--seconds 3] [--rounds 2] [--settle 20] [--db sqlite:///path]

``--db`` reuses a store already holding the 2018 files (else one is made in a temporary
folder, which takes a minute or two).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import files_2018, machine
from bench.http_load import merge
from bench.httpclient import Load, free_port, run_load, start_server
from rirport.services.registry.ingest import ingest_path
from rirport.store.unit import Store

ADDRESS = "193.0.6.139"
PAGES = [
    ("home", "/"),
    ("resource ip", f"/ip/{ADDRESS}"),
    ("resource asn", "/asn/3333"),
    ("registry", "/registry/ripencc"),
    ("country", "/country/NL"),
    ("portability", "/portability"),
    ("portability switched", "/portability?regime=mandatory-portability&type=ipv6&failing=afrinic"),
    ("events", "/events"),
    ("transfers", "/transfers"),
    ("holder", None),  # the holder of ADDRESS, found at run time
    ("search suggest", "/search/suggest?q=south"),
    ("page JSON", f"/ip/{ADDRESS}?format=json"),
]
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BUDGET = 500 * 1024


def page_request(path: str, host: str, cookie: str = "", accept: str = "text/html") -> bytes:
    extra = f"Cookie: {cookie}\r\n" if cookie else ""
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: {accept}\r\n"
        f"Accept-Encoding: gzip\r\n{extra}\r\n"
    ).encode()


def prepare(folder: Path) -> str:
    url = f"sqlite:///{folder / 'rirport.sqlite'}"
    store = Store(url)
    for path in files_2018():
        ingest_path(store, path)
    store.close()
    return url


def cold(base: str, path: str) -> tuple[float, str]:
    """The first answer's time and the form cookie it set (if any)."""
    began = time.perf_counter()
    response = httpx.get(base + path, headers={"Accept": "text/html"}, timeout=600)
    took = time.perf_counter() - began
    response.raise_for_status()
    cookie = response.cookies.get("rirport_form_csrf")
    return took, f"rirport_form_csrf={cookie}" if cookie else ""


def browser_figures(base: str, holder: str) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    out: dict[str, Any] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            for name, path in (
                ("home", "/"),
                ("resource", f"/ip/{ADDRESS}"),
                ("portability", "/portability"),
            ):
                context = browser.new_context(viewport={"width": 1280, "height": 800})
                page = context.new_page()
                received: list[int] = []

                def count(response: Any, into: list[int] = received) -> None:
                    sizes = response.request.sizes()
                    into.append(sizes["responseBodySize"] + sizes["responseHeadersSize"])

                page.on("response", count)
                page.goto(base + path, wait_until="load")
                page.wait_for_function(
                    "() => [...document.querySelectorAll('figure.chart')].every("
                    "f => f.dataset.drawn !== undefined || !document.getElementById("
                    "f.dataset.for).querySelector('td.n'))",
                    timeout=60_000,
                )
                drawn = page.evaluate("performance.now()")
                timing = page.evaluate(
                    "() => { const n = performance.getEntriesByType('navigation')[0];"
                    " const p = performance.getEntriesByName('first-contentful-paint')[0];"
                    " return {fcp: p ? p.startTime : null, dcl: n.domContentLoadedEventEnd,"
                    " load: n.loadEventEnd, ttfb: n.responseStart}; }"
                )
                timing["charts"] = drawn
                timing["bytes"] = sum(received)
                timing["requests"] = len(received)
                out[name] = timing
                context.close()
        finally:
            browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--db", default=None, help="a store holding the 2018 files")
    parser.add_argument(
        "--settle", type=float, default=20.0, help="seconds given to the warm-up after start"
    )
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = args.db or prepare(folder)
        port = free_port()
        started = time.perf_counter()
        server = start_server(url, folder, port)
        print(f"server up in {time.perf_counter() - started:.1f}s")
        time.sleep(args.settle)  # the warm-up runs in the server meanwhile
        print(f"then {args.settle:g}s given to its warm-up before the first page")
        base, host = f"http://127.0.0.1:{port}", f"127.0.0.1:{port}"
        try:
            record = httpx.get(f"{base}/ip/{ADDRESS}?format=json").json()["data"]["record"]
            pages = [
                (n, p or f"/holder/{record['registry']}/{record['opaque_id']}") for n, p in PAGES
            ]
            rdap = page_request(f"/rdap/ip/{ADDRESS}", host, accept="application/rdap+json")
            run_load("127.0.0.1", port, [rdap], args.connections, 1.0)  # warm up
            results = []
            for name, path in pages:
                took, cookie = cold(base, path)
                accept = (
                    "application/json"
                    if "suggest" in path or "format=json" in path
                    else "text/html"
                )
                request = page_request(path, host, cookie, accept)
                ours: list[Load] = []
                theirs: list[Load] = []
                for _ in range(args.rounds):
                    ours.append(
                        run_load("127.0.0.1", port, [request], args.connections, args.seconds)
                    )
                    theirs.append(
                        run_load("127.0.0.1", port, [rdap], args.connections, args.seconds)
                    )
                results.append((name, path, took, merge(ours), merge(theirs)))
            figures = browser_figures(base, record["opaque_id"])
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(
        f"load: {args.connections} keep-alive connections, {args.rounds} alternating rounds "
        f"of {args.seconds:g}s per page type and for RDAP /rdap/ip/{ADDRESS}"
    )
    worst = 0.0
    for name, path, took, ours, theirs in results:
        ratio = ours.percentile(0.99) / theirs.percentile(0.99)
        worst = max(worst, ratio)
        print(
            f"{name:22} {path[:60]:60} cold {took * 1000:8.1f} ms | p99 "
            f"{ours.percentile(0.99) * 1000:6.2f} ms vs ip/ {theirs.percentile(0.99) * 1000:6.2f}"
            f" ms: ratio {ratio:.2f} ({ours.rps:,.0f} req/s, {ours.errors} errors)"
        )
    print(
        f"worst page p99 / ip/ p99: {worst:.2f}; target <= 3: {'met' if worst <= 3 else 'NOT met'}"
    )
    for name, t in figures.items():
        print(
            f"chromium first render of {name}: first contentful paint {t['fcp']:.0f} ms, "
            f"DOMContentLoaded {t['dcl']:.0f} ms, load {t['load']:.0f} ms, charts drawn "
            f"{t['charts']:.0f} ms; {t['requests']} requests, {t['bytes'] / 1024:.0f} KB "
            "received (compressed, headers included)"
        )
    size = figures["portability"]["bytes"]
    print(
        f"largest page (/portability with the map), every asset: {size / 1024:.0f} KB; "
        f"target <= {BUDGET // 1024} KB: {'met' if size <= BUDGET else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
