"""Watchlists, feeds and webhooks against a real HTTP receiver on loopback (both engines).

The receiver is down, then slow, then failing, then well: every event arrives exactly once
with a valid signature. Retry times are driven by the ``now`` the test passes, not by sleeping.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner

from rirport.cli.main import cli
from rirport.errors import InputError, NotFoundError
from rirport.services.monitoring.events import events_between, record_between
from rirport.services.monitoring.watch import (
    Criteria,
    add_watch,
    atom_feed,
    list_watches,
    matching_events,
    remove_watch,
)
from rirport.services.monitoring.webhooks import RetryPolicy, deliver, verify
from rirport.store.unit import Store
from tests.services.test_events_store import _ingest

SECRET = "s3cret"
T0 = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)  # after the events are queued
POLICY = RetryPolicy(max_attempts=6, base_delay=dt.timedelta(seconds=30), timeout=0.5)


@dataclass
class Receiver:
    """What the loopback receiver does with each post, and what it got."""

    mode: str = "ok"  # ok | fail | slow | redirect
    received: list[dict[str, object]] = field(default_factory=list)
    stamps: list[int] = field(default_factory=list)
    gets: int = 0
    bad_signatures: int = 0
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


def _handler(state: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.arrived.set()
            if state.mode == "slow":
                state.release.wait(5)
            if state.mode == "fail":
                self.send_response(500)
                self.end_headers()
                return
            if state.mode in ("301", "302", "307"):
                self.send_response(int(state.mode))
                self.send_header("Location", "/moved")
                self.end_headers()
                return
            state.stamps.append(int(self.headers["X-Rirport-Timestamp"]))
            if not verify(
                SECRET,
                self.headers["X-Rirport-Timestamp"],
                body,
                self.headers["X-Rirport-Signature"],
            ):
                state.bad_signatures += 1
            if state.mode == "ok":
                state.received.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def do_GET(self) -> None:  # what a redirect followed with GET would reach
            state.gets += 1
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def port() -> int:
    return _free_port()


def _listen(port: int, state: Receiver) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(state))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _stop(server: ThreadingHTTPServer) -> None:
    server.shutdown()
    server.server_close()


def _load_events(store: Store) -> list[int]:
    for registry in ("arin", "apnic"):
        for year in ("2017", "2018"):
            _ingest(store, registry, year)
    return record_between(store, events_between(store, dt.date(2017, 6, 1), dt.date(2018, 12, 31)))


def test_nothing_is_lost_through_outage_slowness_and_errors(store: Store, port: int) -> None:
    add_watch(
        store,
        "moves",
        Criteria.parse({"kinds": ["moved"]}),
        f"http://127.0.0.1:{port}/hook",
        SECRET,
    )
    _load_events(store)
    state = Receiver()
    # down: nothing listens
    report = deliver(store, now=T0, policy=POLICY)
    assert (report.delivered, report.retried) == (0, 3)
    assert "Connection refused" in report.errors[0] or "Errno" in report.errors[0]
    assert deliver(store, now=T0, policy=POLICY).retried == 0  # not due before the backoff
    server = _listen(port, state)
    try:
        state.mode = "slow"  # answers after the timeout
        report = deliver(store, now=T0 + dt.timedelta(seconds=30), policy=POLICY)
        state.release.set()
        assert (report.delivered, report.retried) == (0, 3)
        state.mode = "fail"
        report = deliver(store, now=T0 + dt.timedelta(seconds=90), policy=POLICY)
        assert report.errors[0].endswith("HTTP 500") and report.retried == 3
        state.mode = "ok"  # the third backoff is 60 to 120 s (jitter), from T0 + 90 s
        assert deliver(store, now=T0 + dt.timedelta(seconds=149), policy=POLICY).delivered == 0
        report = deliver(store, now=T0 + dt.timedelta(seconds=210), policy=POLICY)
        assert (report.delivered, report.retried, report.dead) == (3, 0, 0)
    finally:
        _stop(server)
    assert state.bad_signatures == 0
    starts = sorted(str(r["event"]["start"]) for r in state.received)  # type: ignore[index]
    assert starts == ["23.226.0.0", "8.128.0.0", "8.208.0.0"]
    assert {r["attempt"] for r in state.received} == {4}
    with store.transaction() as uow:
        assert uow.outbox.by_state() == {"delivered": 3}
    assert deliver(store, now=T0 + dt.timedelta(days=1), policy=POLICY).delivered == 0


def test_last_failure_leaves_a_dead_letter(store: Store, port: int) -> None:
    add_watch(
        store,
        "apnic-moves",
        Criteria.parse({"kinds": ["moved"], "registries": ["apnic"]}),
        f"http://127.0.0.1:{port}/hook",
        SECRET,
    )
    _load_events(store)
    policy = RetryPolicy(max_attempts=2, base_delay=dt.timedelta(seconds=10), timeout=0.5)
    assert deliver(store, now=T0, policy=policy).retried == 3
    assert deliver(store, now=T0 + dt.timedelta(seconds=10), policy=policy).dead == 3
    with store.transaction() as uow:
        dead = uow.outbox.dead_letters()
        assert uow.outbox.by_state() == {"dead": 3}
    assert len(dead) == 3 and all(
        "refused" in d["last_error"].lower() or "Errno" in d["last_error"] for d in dead
    )
    assert {d["attempts"] for d in dead} == {2}


def test_a_slow_receiver_does_not_block_writes(store: Store, port: int) -> None:
    add_watch(
        store,
        "all-moves",
        Criteria.parse({"kinds": ["moved"]}),
        f"http://127.0.0.1:{port}/hook",
        SECRET,
    )
    _load_events(store)
    state = Receiver(mode="slow")
    server = _listen(port, state)
    slow = RetryPolicy(timeout=10.0)
    worker = threading.Thread(
        target=deliver, kwargs={"store": store, "now": T0, "policy": slow, "limit": 1}
    )
    try:
        worker.start()
        assert state.arrived.wait(10)
        # the worker is waiting on the receiver; a write transaction goes through meanwhile
        add_watch(store, "written-meanwhile", Criteria.parse({"countries": ["NL"]}))
        assert not state.release.is_set()
    finally:
        state.release.set()
        worker.join(15)
        _stop(server)
    assert [w["name"] for w in list_watches(store)][-1] == "written-meanwhile"


def test_feeds_match_stored_events(store: Store) -> None:
    _load_events(store)
    add_watch(store, "block", Criteria.parse({"resources": ["23.226.0.0/22"]}))
    add_watch(store, "sg", Criteria.parse({"countries": ["sg"], "kinds": ["moved"]}))
    watch, rows = matching_events(store, "block")
    bodies = [json.loads(r.body) for r in rows]
    assert {(b["kind"], b["start"]) for b in bodies} >= {("moved", "23.226.0.0")}
    assert all(b["start"].startswith("23.226.") for b in bodies)
    feed = ET.fromstring(atom_feed(watch, rows))
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = [e.findtext("a:title", namespaces=ns) for e in feed.findall("a:entry", ns)]
    assert "moved ipv4 23.226.0.0/20 arin -> apnic" in titles
    _, sg = matching_events(store, "sg")
    assert {json.loads(r.body)["start"] for r in sg} == {"8.128.0.0", "8.208.0.0"}


def test_watch_cli_and_bad_input(store: Store, store_url: str) -> None:
    runner = CliRunner()
    base = ["--db", store_url, "watch"]
    ok = runner.invoke(cli, [*base, "add", "nl", "--country", "NL", "--kind", "holder"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(runner.invoke(cli, [*base, "list"]).output)[0]["criteria"] == {
        "countries": ["NL"],
        "kinds": ["holder"],
    }
    for args, message in (
        (["add", "x", "--kind", "teleported"], "unknown event kind"),
        (["add", "x", "--country", "Netherlands"], "two-letter"),
        (["add", "x", "--resource", "10.0.0.1/24"], "10.0.0.1/24"),
        (["add", "x"], "at least one"),
        (["add", "nl", "--country", "DE"], "already exists"),
        (["add", "x", "--kind", "moved", "--url", "ftp://h/x"], "http"),
        (["add", "x", "--kind", "moved", "--url", "http://h/x"], "secret"),
        (["remove", "nobody"], "no watchlist"),
    ):
        result = runner.invoke(cli, [*base, *args])
        assert result.exit_code == 1 and message in result.output, (args, result.output)
    assert runner.invoke(cli, [*base, "feed", "nl", "--format", "ndjson"]).output == ""
    assert "<feed" in runner.invoke(cli, [*base, "feed", "nl"]).output
    assert runner.invoke(cli, [*base, "remove", "nl"]).exit_code == 0
    assert json.loads(runner.invoke(cli, [*base, "list"]).output) == []


def test_criteria_checks() -> None:
    with pytest.raises(InputError, match="unknown watch categories"):
        Criteria.parse({"colours": ["red"]})
    assert Criteria.parse({"registries": ["RIPE NCC"]}).registries == ("ripencc",)


def test_remove_unknown(store: Store) -> None:
    with pytest.raises(NotFoundError):
        remove_watch(store, "ghost")


def test_recorded_events_reach_the_cli_feed(store: Store, store_url: str) -> None:
    for registry in ("arin", "apnic"):
        for year in ("2017", "2018"):
            _ingest(store, registry, year)
    runner = CliRunner()
    base = ["--db", store_url]
    assert (
        runner.invoke(
            cli,
            [
                *base,
                "watch",
                "add",
                "to-apnic",
                "--kind",
                "moved",
                "--registry",
                "apnic",
                "--url",
                f"http://127.0.0.1:{_free_port()}/x",
                "--secret",
                SECRET,
            ],
        ).exit_code
        == 0
    )
    recorded = runner.invoke(
        cli,
        [
            *base,
            "events",
            "--from",
            "2017-06-01",
            "--to",
            "2018-12-31",
            "--record",
            "--format",
            "text",
        ],
    )
    assert recorded.exit_code == 0 and "stored" in recorded.output
    lines = runner.invoke(cli, [*base, "watch", "feed", "to-apnic", "--format", "ndjson"])
    starts = sorted(json.loads(line)["start"] for line in lines.output.splitlines())
    assert starts == ["23.226.0.0", "8.128.0.0", "8.208.0.0"]
    listed = json.loads(runner.invoke(cli, [*base, "watch", "list"]).output)
    assert listed[0]["deliveries"] == {"pending": 3}
    report = runner.invoke(cli, [*base, "watch", "deliver", "--timeout", "0.5"])
    assert report.exit_code == 0, report.output
    assert json.loads(report.output)["retried"] == 3
    listed = json.loads(runner.invoke(cli, [*base, "watch", "list"]).output)
    assert listed[0]["deliveries"] == {"pending": 3}  # waiting for their next attempt


@pytest.mark.parametrize("status", ["301", "302", "307"])
def test_a_redirect_is_not_a_delivery(store: Store, port: int, status: str) -> None:
    """Only a 2xx to the POST counts: a receiver answering a redirect has accepted nothing,
    and the redirect is not followed (issue 11 #28)."""
    add_watch(
        store, "moves", Criteria.parse({"kinds": ["moved"]}), f"http://127.0.0.1:{port}/", SECRET
    )
    _load_events(store)
    state = Receiver(mode=status)
    server = _listen(port, state)
    try:
        report = deliver(store, now=T0, policy=POLICY)
        assert (report.delivered, report.retried) == (0, 3)
        assert f"HTTP {status} redirect to /moved (not followed" in report.errors[0]
        assert state.gets == 0
        state.mode = "ok"
        report = deliver(store, now=T0 + dt.timedelta(seconds=30), policy=POLICY)
        assert report.delivered == 3
    finally:
        _stop(server)
    with store.read() as uow:
        assert uow.outbox.by_state() == {"delivered": 3}


def test_each_post_is_signed_at_its_own_send_time(store: Store, port: int) -> None:
    """The signature timestamp is the moment of sending, not the start of the run (#28)."""
    add_watch(
        store, "moves", Criteria.parse({"kinds": ["moved"]}), f"http://127.0.0.1:{port}/", SECRET
    )
    _load_events(store)
    state = Receiver()
    ticks = iter(range(0, 10_000, 40))  # each clock reading 40 s after the one before
    start = dt.datetime.now(dt.UTC)

    def clock() -> dt.datetime:
        return start + dt.timedelta(seconds=next(ticks))

    server = _listen(port, state)
    try:
        report = deliver(store, now=T0, policy=POLICY, clock=clock)
    finally:
        _stop(server)
    assert report.delivered == 3 and state.bad_signatures == 0
    assert state.stamps == sorted(state.stamps) and len(set(state.stamps)) == 3
    assert state.stamps[-1] - state.stamps[0] == 80  # one clock reading per post


def test_deliveries_do_not_invalidate_the_read_side(store: Store, port: int) -> None:
    """Delivery bookkeeping (and account or watch changes) is journaled but moves no data
    generation, so no server process reloads its index for it (#29)."""
    from rirport.query.live import LiveIndex

    add_watch(
        store, "moves", Criteria.parse({"kinds": ["moved"]}), f"http://127.0.0.1:{port}/", SECRET
    )
    _load_events(store)
    live = LiveIndex(store)
    with store.read() as uow:
        data_before, journal_before = uow.meta.data_generation(), uow.meta.generation()
    add_watch(store, "another", Criteria.parse({"countries": ["NL"]}))
    deliver(store, now=T0, policy=POLICY)  # nothing listens: three failed attempts
    server = _listen(port, Receiver())
    try:
        assert deliver(store, now=T0 + dt.timedelta(seconds=30), policy=POLICY).delivered == 3
    finally:
        _stop(server)
    with store.read() as uow:
        assert uow.meta.generation() == journal_before + 7  # watch-add, 6 delivery entries
        assert uow.meta.data_generation() == data_before
    assert live.refresh() is False
    _ingest(store, "lacnic", "2018")  # a registry change still moves it
    assert live.refresh() is True


def test_backoff_has_jitter_within_its_bounds() -> None:
    policy = RetryPolicy(base_delay=dt.timedelta(seconds=30), max_delay=dt.timedelta(hours=1))
    for attempt, (low, high) in {1: (15, 30), 3: (60, 120), 12: (1800, 3600)}.items():
        waits = [policy.delay(attempt).total_seconds() for _ in range(200)]
        assert low <= min(waits) and max(waits) <= high
        assert len(set(waits)) > 150  # spread out, not one value
