"""Mirrors with real processes on loopback: a publisher (`rirport serve`), a mirror
(`rirport mirror follow`) on SQLite and PostgreSQL, killed with SIGKILL mid-sync and resumed,
and the publisher tampered with; bad answers from a fake publisher apply nothing."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
from sqlalchemy import text

from rirport.errors import DownloadError, SplitViewError, VerificationError
from rirport.log.note import Signer
from rirport.services.audit import journal
from rirport.services.monitoring.watch import Criteria, add_watch, remove_watch
from rirport.services.registry.ingest import ingest_path
from rirport.services.transparency import keys, mirror, state
from rirport.services.transparency import log as tlog
from rirport.services.transparency.reader import LogReader
from rirport.simulation import ChurnRates, DailyHistory
from rirport.store.unit import Store
from tests.paths import TEST_DATA

EXCERPTS = sorted((TEST_DATA / "excerpts").glob("*-excerpt.txt"))
RIRPORT = [sys.executable, "-m", "rirport"]


def _port() -> int:
    """A free port of this helper's range, 8132-8135 for one xdist worker, 8136-8139 for
    the other (two publishers never share one)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    base = 8132 + 4 * (int(worker.removeprefix("gw") or 0) % 2)
    for port in range(base, base + 4):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port in 8132-8139")


def _days(folder: Path, n: int) -> list[Path]:
    history = DailyHistory(
        [(p.name, p.read_bytes()) for p in EXCERPTS], seed=9, rates=ChurnRates(per_record=0.05)
    )
    out = []
    for day in history.days(n):
        for f in day.files:
            path = folder / f.name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(f.data)
            out.append(path)
    return out


class Publisher:
    """A store with a log key, served by a `rirport serve` process."""

    def __init__(self, tmp: Path) -> None:
        self.data = tmp / "pubdata"
        self.url_db = f"sqlite:///{tmp / 'pub.sqlite'}"
        self.store = Store(self.url_db)
        signer, _ = keys.init(self.store, self.data, "rirport.test/publisher")
        self.store.log_signer = signer
        self.vkey = signer.verifier.vkey()
        self.port = _port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "RIRPORT_DATA_DIR": str(self.data)}
        self.process = subprocess.Popen(
            [*RIRPORT, "--db", self.url_db, "serve", "--port", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/log/checkpoint", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.3)
        raise RuntimeError("the publisher did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
        self.store.close()


@pytest.fixture
def publisher(tmp_path: Path) -> Iterator[Publisher]:
    pub = Publisher(tmp_path)
    for path in _days(tmp_path / "days", 2):
        ingest_path(pub.store, path)
    add_watch(pub.store, "ripe", Criteria(registries=("ripencc",)))
    pub.start()
    try:
        yield pub
    finally:
        pub.stop()


def follow(db: str, pub: Publisher, tmp: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "RIRPORT_DATA_DIR": str(tmp / "mirrordata")}
    return subprocess.Popen(
        [*RIRPORT, "--db", db, "mirror", "follow", pub.url, "--key", pub.vkey, "--once"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _roots(store: Store) -> tuple[bytes, str, int]:
    with store.read() as uow:
        size = uow.journal.count()
        root = state.root_of(uow)
    return LogReader(store).root(size), root, size


def test_a_mirror_follows_and_ends_with_the_publishers_roots(
    publisher: Publisher, store_url: str, tmp_path: Path
) -> None:
    done = follow(store_url, publisher, tmp_path)
    out, err = done.communicate(timeout=180)
    assert done.returncode == 0, err.decode()
    assert b"applied 11 entries, size 0 -> 11" in out
    mirrored = Store(store_url)
    try:
        assert _roots(mirrored) == _roots(publisher.store)
        # the publisher goes on; the mirror checks the consistency proof and catches up
        remove_watch(publisher.store, "ripe")
        add_watch(publisher.store, "arin", Criteria(registries=("arin",)))
        again = follow(store_url, publisher, tmp_path)
        out, err = again.communicate(timeout=180)
        assert again.returncode == 0, err.decode()
        assert b"size 11 -> 13" in out
        assert _roots(mirrored) == _roots(publisher.store)
        assert journal.verify(mirrored).ok and journal.verify(publisher.store).ok
        status = mirror.mirror_status(mirrored)["mirrors"][0]
        assert status["origin"] == "rirport.test/publisher" and status["size"] == 13
    finally:
        mirrored.close()


def test_kill_9_mid_sync_then_resume_applies_nothing_twice(
    publisher: Publisher, tmp_path: Path
) -> None:
    for i in range(40):
        add_watch(publisher.store, f"w{i}", Criteria(registries=("afrinic",)))
    db = f"sqlite:///{tmp_path / 'mirror.sqlite'}"
    for delay in (2.5, 3.5):
        running = follow(db, publisher, tmp_path)
        time.sleep(delay)
        running.send_signal(signal.SIGKILL)
        running.communicate(timeout=10)  # reaps it and closes its pipes
    done = follow(db, publisher, tmp_path)
    _, err = done.communicate(timeout=240)
    assert done.returncode == 0, err.decode()
    mirrored = Store(db)
    try:
        assert _roots(mirrored) == _roots(publisher.store)
        assert journal.verify(mirrored).ok
        with mirrored.read() as uow:
            names = [w.name for w in uow.watches.active()]
        assert len(names) == len(set(names)) == 41
    finally:
        mirrored.close()


def test_an_edited_publisher_entry_is_refused_with_the_evidence(
    publisher: Publisher, tmp_path: Path
) -> None:
    with publisher.store.transaction() as uow:
        uow.connection.execute(text("UPDATE journal SET actor = 'mallory' WHERE serial = 3"))
    db = f"sqlite:///{tmp_path / 'mirror.sqlite'}"
    done = follow(db, publisher, tmp_path)
    _, err = done.communicate(timeout=120)
    assert done.returncode == 1
    assert b"do not make the signed root" in err and b"rirport.test/publisher" in err
    with Store(db).read() as uow:
        assert uow.journal.count() == 0


# -- bad answers, in process, from a fake publisher ------------------------------------------
class Fake(BaseHTTPRequestHandler):
    answers: ClassVar[dict[str, tuple[int, str, bytes]]] = {}
    stall = 0.0

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if self.stall:
            time.sleep(self.stall)
        status, kind, body = self.answers.get(path, (404, "text/plain", b"no"))
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Fake)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Fake.answers, Fake.stall = {}, 0.0
    yield f"http://127.0.0.1:{server.server_address[1]}"
    Fake.stall = 0.0
    server.shutdown()
    server.server_close()


def _signed(tmp: Path) -> tuple[Store, Signer]:
    store = Store(f"sqlite:///{tmp / 'src.sqlite'}")
    signer = Signer.generate("fake.test/log")
    store.log_signer = signer
    ingest_path(store, EXCERPTS[0])
    ingest_path(store, EXCERPTS[1])
    return store, signer


def _serve_log(store: Store) -> None:
    reader = LogReader(store)
    note = tlog.latest_checkpoint(store).note
    Fake.answers["/log/checkpoint"] = (200, "text/plain", note.encode())
    from rirport.log.tiles import TileRef

    bundle = reader.tile(TileRef(None, 0, 2))
    Fake.answers["/log/tile/entries/000.p/2"] = (200, "application/octet-stream", bundle)
    with store.read() as uow:
        shas = [s.content_sha256 for s in uow.snapshots.all()]
    for sha in shas:
        Fake.answers[f"/log/file/{sha}"] = (
            200,
            "application/octet-stream",
            reader.source_file(sha),
        )


def _empty(tmp: Path) -> Store:
    return Store(f"sqlite:///{tmp / 'mirror.sqlite'}")


def test_bad_answers_apply_nothing(fake: str, tmp_path: Path) -> None:
    source, signer = _signed(tmp_path)
    _serve_log(source)
    target = _empty(tmp_path)
    with pytest.raises(VerificationError, match="not signed by an expected key"):
        mirror.follow_once(target, fake, Signer.generate("fake.test/log").verifier)
    with pytest.raises(
        VerificationError, match=r"for origin 'fake\.test/log', not 'other\.test/log'"
    ):
        other = Signer("other.test/log", b"\x01" * 32)
        Fake.answers["/log/checkpoint"] = (
            200,
            "text/plain",
            other.signature_line(b"x")[:0].encode() + _resign(source, other).encode(),
        )
        mirror.follow_once(target, fake, other.verifier)
    _serve_log(source)
    data = Fake.answers["/log/tile/entries/000.p/2"][2]
    Fake.answers["/log/tile/entries/000.p/2"] = (200, "application/octet-stream", data[:-5])
    with pytest.raises(VerificationError, match="truncated"):
        mirror.follow_once(target, fake, signer.verifier)
    Fake.answers["/log/checkpoint"] = (200, "text/html", b"<!DOCTYPE html><html>down</html>")
    with pytest.raises(VerificationError, match="answered HTML"):
        mirror.follow_once(target, fake, signer.verifier)
    with target.read() as uow:
        assert uow.journal.count() == 0 and not uow.log.peers("mirror")


def _resign(store: Store, signer: Signer) -> str:
    from rirport.log.checkpoint import parse_text
    from rirport.log.note import split_note

    text_, _ = split_note(tlog.latest_checkpoint(store).note)
    point = parse_text(text_)
    return point.sign([signer])


def test_size_backwards_and_split_view_quote_both_checkpoints(fake: str, tmp_path: Path) -> None:
    source, signer = _signed(tmp_path)
    _serve_log(source)
    target = _empty(tmp_path)
    mirror.follow_once(target, fake, signer.verifier)
    # the publisher now serves a checkpoint of size 1 (signed, but going backwards)
    with source.read() as uow:
        first = uow.log.checkpoint(1)
    assert first is not None
    Fake.answers["/log/checkpoint"] = (200, "text/plain", first.note.encode())
    with pytest.raises(SplitViewError, match="went backwards") as caught:
        mirror.follow_once(target, fake, signer.verifier)
    assert "verified before:" in str(caught.value) and "now served:" in str(caught.value)
    # a second history of size 2 signed by the same key: a split view
    fork = Store(f"sqlite:///{tmp_path / 'fork.sqlite'}")
    fork.log_signer = signer
    ingest_path(fork, EXCERPTS[0])
    ingest_path(fork, EXCERPTS[2])
    Fake.answers["/log/checkpoint"] = (
        200,
        "text/plain",
        tlog.latest_checkpoint(fork).note.encode(),
    )
    with pytest.raises(SplitViewError, match="split view"):
        mirror.follow_once(target, fake, signer.verifier)


def test_a_publisher_that_stalls_times_out(
    fake: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mirror, "TIMEOUT", 0.5)
    Fake.stall = 2.0
    with pytest.raises(DownloadError, match=r"did not answer in 0\.5 s"):
        mirror.follow_once(_empty(tmp_path), fake, Signer.generate("x.test/log").verifier)
