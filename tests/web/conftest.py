"""The browser tests' fixtures: one served store per test session, one Chromium, and a
fresh page per test that fails the test on any console error, failed request or request to a
host other than the server.

The server is the real app (:func:`rirport.http.app.create_app`) on uvicorn, in a thread, on a
free loopback port of 8110–8119 (or the first free one above 8120), over the HTTP tests' small
real registry (:func:`tests.http.conftest.fill`: excerpts of the five 2017 and 2018 files and
one completed transfer). Chromium is Debian's (``/usr/bin/chromium``, installed by
``scripts/install-browser``), launched by its path: Playwright downloads nothing.

Helpers: :func:`axe_check` (axe-core, vendored from the npm registry into ``tests/web/vendor``,
run in the page) and :func:`screenshot` (``docs/web/<name>-desktop.png`` and ``-phone.png``).
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import uvicorn

from rirport.http.app import create_app
from rirport.http.config import HttpConfig
from rirport.store.unit import Store
from tests.http.conftest import fill

playwright_sync = pytest.importorskip("playwright.sync_api")

CHROMIUM = os.environ.get("RIRPORT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PORTS = range(8110, 8120)
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "web"  # replaced per session by _screenshot_folder
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def bound_socket() -> socket.socket:
    """A socket bound to the first free loopback port of 8110–8199, listening, and handed to
    uvicorn. It listens at once: with SO_REUSEADDR, Linux lets two sockets bind one port while
    neither listens, so two test workers starting together could both take it and the second
    would fail in uvicorn's ``listen`` ("Address already in use")."""
    for port in [*PORTS, *range(8120, 8200)]:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen(128)
        except OSError:
            sock.close()
            continue
        return sock
    raise RuntimeError("no free loopback port in 8110-8199")


@dataclass
class Served:
    base: str
    store: Store
    app: Any


@pytest.fixture(scope="session")
def served_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    path = tmp_path_factory.mktemp("web") / "store.sqlite"
    store = Store(f"sqlite:///{path}")
    fill(store)
    yield store
    store.close()


@pytest.fixture(scope="session")
def server(served_store: Store) -> Iterator[Served]:
    """The app served on a loopback port for the whole session (warming its pages' facts at
    start, as ``rirport serve`` does)."""
    with serve(served_store) as served:
        yield served


@contextmanager
def serve(store: Store) -> Iterator[Served]:
    """The real app over ``store`` on uvicorn, in a thread, on a free loopback port."""
    app = create_app(store, None, HttpConfig(rate=0, refresh_seconds=0, warm_pages=True))
    sock = bound_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="web-test-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    try:
        yield Served(f"http://127.0.0.1:{port}", store, app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: run scripts/install-browser")
    with playwright_sync.sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@dataclass
class Watch:
    """What went wrong in the browser during one test."""

    base: str
    problems: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def allow(self, pattern: str) -> None:
        """Tolerate console errors matching ``pattern`` (a page the test expects to fail
        makes the browser log its status)."""
        self.allowed.append(re.compile(pattern))

    def note(self, text: str) -> None:
        if not any(p.search(text) for p in self.allowed):
            self.problems.append(text)


@pytest.fixture
def watch(server: Served) -> Watch:
    return Watch(server.base)


@pytest.fixture
def page(browser: Any, server: Served, watch: Watch) -> Iterator[Any]:
    """A fresh page (desktop size) whose console errors, failed requests and requests
    anywhere but the server fail the test at its end."""
    with open_tab(browser, server.base, watch) as tab:
        yield tab


@contextmanager
def open_tab(browser: Any, base: str, watch: Watch) -> Iterator[Any]:
    """A fresh page on ``base`` (see :func:`page`); asserts ``watch`` saw no problem."""
    context = browser.new_context(viewport=DESKTOP, base_url=base)
    origin = urlsplit(base).netloc

    def guard(route: Any) -> None:
        netloc = urlsplit(route.request.url).netloc
        if route.request.url.startswith("data:") or netloc == origin:
            route.continue_()
        else:
            watch.problems.append(f"request to another host: {route.request.url}")
            route.abort()

    context.route("**/*", guard)
    tab = context.new_page()
    tab.on("console", lambda m: watch.note(f"console: {m.text}") if m.type == "error" else None)
    tab.on("pageerror", lambda e: watch.problems.append(f"page error: {e}"))
    tab.on("requestfailed", lambda r: failed(watch, r))
    tab.set_default_timeout(10_000)
    try:
        yield tab
    finally:
        context.close()
    assert watch.problems == [], "\n".join(watch.problems)


def failed(watch: Watch, request: Any) -> None:
    """A failed request is a problem, except one the browser cancelled because the page
    navigated away meanwhile (``net::ERR_ABORTED``: a form submitted, a link followed);
    requests to other hosts are aborted by the guard, which notes them itself."""
    if "ERR_ABORTED" not in str(request.failure):
        watch.note(f"request failed: {request.url} ({request.failure})")


def axe_check(page: Any, allow: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Run axe-core in the page; fail on any serious or critical violation (rule ids in
    ``allow`` excepted). Returns every violation (for the test to look at minor ones)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")  # by CDP: the page CSP stays on
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    violations: list[dict[str, Any]] = result["violations"]
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(n["target"][0] if n["target"] else "?" for n in v["nodes"][:5])
        for v in violations
        if v["impact"] in ("serious", "critical") and v["id"] not in allow
    ]
    assert bad == [], f"accessibility violations on {page.url}:\n" + "\n".join(bad)
    return violations


@pytest.fixture(scope="session", autouse=True)
def _screenshot_folder(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Screenshots go to ``--screenshots DIR`` when given, else to a temporary folder."""
    global SHOTS
    chosen = request.config.getoption("--screenshots")
    SHOTS = Path(chosen).resolve() if chosen else tmp_path_factory.mktemp("screenshots")


def screenshot(page: Any, name: str) -> list[Path]:
    """``docs/web/<name>-desktop.png`` and ``<name>-phone.png`` of the page as it is (full
    height), the viewport restored after."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    before = page.viewport_size
    written = []
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.wait_for_timeout(150)  # charts redraw to the new width
        target = SHOTS / f"{name}-{label}.png"
        page.screenshot(path=str(target), full_page=True)
        written.append(target)
    page.set_viewport_size(before)
    return written
