"""Witnesses with real processes on loopback: a publisher (`rirport serve`), a witness
(`rirport witness serve`, restarted mid-way) and a mirror (`rirport mirror follow --witness
… --require-witnesses K`), each with its own store. The witness refuses a rewritten history
and quotes the evidence; the mirror refuses a checkpoint without enough cosignatures; bad
requests get the statuses C2SP tlog-witness names; bad input exits 1 and changes nothing."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rirport.errors import VerificationError
from rirport.log.checkpoint import Checkpoint
from rirport.log.cosignature import Submission, WitnessRefusedError
from rirport.log.note import COSIGNATURE, Signer, parse_vkey
from rirport.services.registry.ingest import ingest_path
from rirport.services.transparency import keys, witness
from rirport.services.transparency import log as tlog
from rirport.store.unit import Store
from tests.log import rfc9162
from tests.log.test_cosignature import spec_cosignature
from tests.paths import TEST_DATA

EXCERPTS = sorted((TEST_DATA / "excerpts").glob("*-excerpt.txt"))
RIRPORT = [sys.executable, "-m", "rirport"]
ORIGIN = "rirport.test/witnessed"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rirport(
    data: Path, *args: str, db: str | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*RIRPORT, *(["--db", db] if db else []), *args],
        env={**os.environ, "RIRPORT_DATA_DIR": str(data)},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class Process:
    """A server process, started and waited for until ``probe`` answers."""

    def __init__(self, data: Path, db: str, args: list[str], probe: str) -> None:
        self.data, self.db, self.args, self.probe = data, db, args, probe
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [*RIRPORT, "--db", self.db, *self.args],
            env={**os.environ, "RIRPORT_DATA_DIR": str(self.data)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    self.process.stderr.read().decode() if self.process.stderr else ""
                )
            try:
                if httpx.get(self.probe, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.3)
        raise RuntimeError(f"{self.args[0]} did not start")

    def stop(self) -> str:
        """Stop it; returns what it wrote on stderr."""
        if self.process is None:
            return ""
        self.process.terminate()
        _, err = self.process.communicate(timeout=15)
        self.process = None
        return err.decode()


class Setup:
    def __init__(self, tmp: Path, witness_db: str | None = None, pub_db: str | None = None) -> None:
        self.tmp = tmp
        self.pub_data = tmp / "pubdata"
        self.pub_db = pub_db or f"sqlite:///{tmp / 'pub.sqlite'}"
        self.pub = Store(self.pub_db)
        signer, _ = keys.init(self.pub, self.pub_data, ORIGIN)
        self.pub.log_signer = signer
        self.log_vkey = signer.verifier.vkey()
        for path in EXCERPTS[:2]:
            ingest_path(self.pub, path)
        port = _port()
        self.pub_url = f"http://127.0.0.1:{port}"
        self.publisher = Process(
            self.pub_data,
            self.pub_db,
            ["serve", "--port", str(port)],
            f"{self.pub_url}/log/checkpoint",
        )
        self.w_data = tmp / "wdata"
        self.w_db = witness_db or f"sqlite:///{tmp / 'witness.sqlite'}"
        made = rirport(self.w_data, "witness", "init", "--name", "witness.test/w1")
        assert made.returncode == 0, made.stderr
        self.w_key_file = self.w_data / "witness-signing.key"
        assert self.w_key_file.stat().st_mode & 0o777 == 0o600
        self.w_vkey = made.stdout.strip()
        wport = _port()
        self.w_url = f"http://127.0.0.1:{wport}"
        self.witness = Process(
            self.w_data,
            self.w_db,
            ["witness", "serve", "--origin-key", self.log_vkey, "--port", str(wport)],
            f"{self.w_url}/",
        )
        self.m_db = f"sqlite:///{tmp / 'mirror.sqlite'}"

    def submit(
        self, db: str | None = None, data: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        return rirport(
            data or self.pub_data,
            "log",
            "witness-submit",
            "--witness",
            self.w_url,
            self.w_vkey,
            db=db or self.pub_db,
        )

    def follow(self, *witness_args: str) -> subprocess.CompletedProcess[str]:
        return rirport(
            self.tmp / "mdata",
            "mirror",
            "follow",
            self.pub_url,
            "--key",
            self.log_vkey,
            "--once",
            *witness_args,
            db=self.m_db,
        )

    def mirrored(self) -> int:
        store = Store(self.m_db)
        try:
            with store.read() as uow:
                return uow.journal.count()
        finally:
            store.close()


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    yield from _running(Setup(tmp_path))


@pytest.fixture
def setup_on_each_engine(tmp_path: Path, store_url: str) -> Iterator[Setup]:
    """The witness's store on SQLite, then on PostgreSQL."""
    yield from _running(Setup(tmp_path, store_url))


def _running(s: Setup) -> Iterator[Setup]:
    s.publisher.start()
    s.witness.start()
    try:
        yield s
    finally:
        s.witness.stop()
        s.publisher.stop()
        s.pub.close()


def test_publisher_witness_and_mirror_k_of_n(setup_on_each_engine: Setup) -> None:
    s = setup_on_each_engine
    done = s.submit()
    assert done.returncode == 0, done.stderr
    assert "witness.test/w1: cosigned size 2 (proof from size 0)" in done.stdout
    served = httpx.get(f"{s.pub_url}/log/checkpoint").text
    assert served.startswith(f"{ORIGIN}\n2\n")
    assert abs(spec_cosignature(served, s.w_vkey) - time.time()) < 600
    # the mirror applies the cosigned checkpoint with one of one witness
    follow = s.follow("--witness", s.w_vkey, "--require-witnesses", "1")
    assert follow.returncode == 0, follow.stderr
    assert "applied 2 entries" in follow.stdout
    # a second witness that never cosigned: two of two required is refused
    other = rirport(s.tmp / "w2", "witness", "init", "--name", "witness.test/w2")
    refused = s.follow("--witness", s.w_vkey, "--witness", other.stdout.strip())
    assert refused.returncode == 1
    assert "1 valid cosignature(s) of the 2 required" in refused.stderr
    assert "witness.test/w2: no cosignature" in refused.stderr
    # the publisher writes: its new checkpoint has no cosignature, the mirror stays at the
    # newest cosigned one (size 2) and says why the newest waits
    ingest_path(s.pub, EXCERPTS[2])
    lacking = s.follow("--witness", s.w_vkey, "--require-witnesses", "1")
    assert lacking.returncode == 0, lacking.stderr
    assert "up to date at size 2" in lacking.stdout
    assert (
        "waiting: rirport.test/witnessed: the checkpoint at size 3 has 0 valid cosignature(s) "
        "of the 1 required (witness.test/w1: no cosignature)" in lacking.stdout
    )
    assert s.mirrored() == 2
    # the witness restarts and still knows it cosigned size 2: the proof goes from there
    s.witness.stop()
    s.witness.start()
    again = s.submit()
    assert again.returncode == 0, again.stderr
    assert "cosigned size 3 (proof from size 2)" in again.stdout
    follow = s.follow("--witness", s.w_vkey)
    assert follow.returncode == 0, follow.stderr
    assert "size 2 -> 3" in follow.stdout and s.mirrored() == 3


def _fork(s: Setup, files: list[Path], name: str) -> tuple[Store, str, Path]:
    """Another history signed by the publisher's own key (a copy of its key file)."""
    data = s.tmp / f"{name}data"
    data.mkdir()
    shutil.copy2(s.pub_data / keys.KEY_FILE, data / keys.KEY_FILE)
    db = f"sqlite:///{s.tmp / f'{name}.sqlite'}"
    store = Store(db)
    store.log_signer, _ = keys.init(store, data, ORIGIN)
    for path in files:
        ingest_path(store, path)
    return store, db, data


def test_the_witness_refuses_a_rewritten_history_and_quotes_it(setup: Setup) -> None:
    s = setup
    assert s.submit().returncode == 0
    fork, db, data = _fork(s, [EXCERPTS[0], EXCERPTS[2], EXCERPTS[3]], "fork")
    refused = s.submit(db, data)
    assert refused.returncode == 1
    assert "HTTP 422" in refused.stderr and "the history was rewritten" in refused.stderr
    assert "cosigned before:" in refused.stderr and "submitted now:" in refused.stderr
    assert f"    {ORIGIN}" in refused.stderr and "    3" in refused.stderr
    # the same size with another root: a split view, refused with 409
    split, _, _ = _fork(s, [EXCERPTS[0], EXCERPTS[3]], "split")
    with pytest.raises(VerificationError, match=r"HTTP 409.*split view"):
        witness.submit(split, s.w_url, parse_vkey(s.w_vkey))
    # a shorter history: the size would go backwards
    short, _, _ = _fork(s, [EXCERPTS[0]], "short")
    with pytest.raises(VerificationError, match=r"cosigned size 2 of .*, this log is at 1"):
        witness.submit(short, s.w_url, parse_vkey(s.w_vkey))
    backwards = Submission(2, (), tlog.latest_checkpoint(short).note).body()
    answer = httpx.post(f"{s.w_url}/add-checkpoint", content=backwards)
    assert answer.status_code == 400 and "beyond the checkpoint's size 1" in answer.text
    short.close()
    state = rirport(s.w_data, "witness", "state", db=s.w_db)
    assert f"{ORIGIN}: size 2" in state.stdout
    log = s.witness.stop()
    assert "evidence of log misbehaviour" in log and "submitted now:" in log
    with fork.read() as uow:  # nothing was added to the fork's checkpoint
        latest = uow.log.latest_checkpoint()
    assert latest is not None and "witness.test/w1" not in latest.note
    fork.close()
    split.close()


def test_bad_requests_get_the_specs_statuses(setup: Setup) -> None:
    s = setup
    url = f"{s.w_url}/add-checkpoint"
    note = tlog.latest_checkpoint(s.pub).note
    size = tlog.latest_checkpoint(s.pub).size

    def post(body: bytes) -> httpx.Response:
        return httpx.post(url, content=body)

    assert post(b"hello").status_code == 400
    big = b"old 0\n" + b"A" * 70_000
    assert post(big).status_code == 400 and "over 65536 bytes" in post(big).text
    chunked = httpx.post(url, content=iter([big[:40_000], big[40_000:]]))  # no Content-Length
    assert chunked.status_code == 400 and "over 65536 bytes" in chunked.text
    assert post(Submission(size + 1, (), note).body()).status_code == 400
    stranger = Signer("other.test/log", bytes(range(32)))
    point = Checkpoint("other.test/log", 0, rfc9162.MTH([]))
    assert post(Submission(0, (), point.sign([stranger])).body()).status_code == 404
    impostor = Signer(ORIGIN, bytes(range(1, 33)))
    forged = Checkpoint(ORIGIN, 0, rfc9162.MTH([])).sign([impostor])
    forbidden = post(Submission(0, (), forged).body())
    assert forbidden.status_code == 403 and "no signature" in forbidden.text
    assert post(Submission(0, (b"\x00" * 32,), note).body()).status_code == 422
    first = post(Submission(0, (), note).body())
    assert first.status_code == 200 and first.text.startswith("\u2014 witness.test/w1 ")
    conflict = post(Submission(0, (), note).body())
    assert conflict.status_code == 409
    assert conflict.headers["content-type"].startswith("text/x.tlog.size")
    assert conflict.text == f"{size}\n"
    same = post(Submission(size, (), note).body())  # the same checkpoint again: cosigned
    assert same.status_code == 200


def test_bad_input_on_the_command_line_exits_1_and_changes_nothing(setup: Setup) -> None:
    s = setup
    cases = [
        (["witness", "serve", "--origin-key", "not-a-key"], "not name+hash+base64key"),
        (["witness", "serve", "--origin-key", s.w_vkey], "not a log key (this is a witness key)"),
        (
            ["mirror", "follow", s.pub_url, "--key", s.log_vkey, "--once", "--witness", s.log_vkey],
            "not a witness key",
        ),
        (
            [
                "mirror",
                "follow",
                s.pub_url,
                "--key",
                s.log_vkey,
                "--once",
                "--witness",
                s.w_vkey,
                "--require-witnesses",
                "2",
            ],
            "--require-witnesses 2 needs 1 to 1",
        ),
        (["log", "witness-submit", "--witness", s.w_url, s.log_vkey], "not a witness"),
    ]
    for args, says in cases:
        done = rirport(s.tmp / "mdata", *args, db=s.m_db if args[0] != "log" else s.pub_db)
        assert done.returncode == 1, (args, done.stderr)
        assert says in done.stderr, (args, done.stderr)
    # a witness key by another party: the cosignature there is not by it
    stranger = Signer("witness.test/w1", bytes(range(9, 41)), COSIGNATURE).verifier.vkey()
    assert s.submit().returncode == 0
    refused = s.follow("--witness", stranger)
    assert refused.returncode == 1 and "witness.test/w1: no cosignature" in refused.stderr
    assert s.mirrored() == 0
    wrong = rirport(
        s.pub_data, "log", "witness-submit", "--witness", s.w_url, stranger, db=s.pub_db
    )
    assert wrong.returncode == 1 and "no cosignature" in wrong.stderr


def test_the_witness_state_survives_a_new_store_object_on_each_engine(store_url: str) -> None:
    """In process, on SQLite and PostgreSQL: the last cosigned checkpoint is the store's."""
    log_key = Signer(ORIGIN, bytes(range(32)))
    signer = Signer("witness.test/w1", bytes(range(1, 33)), COSIGNATURE)
    entries = [f"e{i}".encode() for i in range(5)]

    def note(n: int) -> str:
        return Checkpoint(ORIGIN, n, rfc9162.MTH(entries[:n])).sign([log_key])

    first = Store(store_url)
    witness.Witness(first, signer, [log_key.verifier]).add_checkpoint(
        Submission(0, (), note(3)).body()
    )
    first.close()
    second = Store(store_url)
    w = witness.Witness(second, signer, [log_key.verifier])
    with pytest.raises(WitnessRefusedError) as caught:
        w.add_checkpoint(Submission(0, (), note(5)).body())
    assert caught.value.status == 409 and caught.value.size == 3
    line = w.add_checkpoint(Submission(3, tuple(rfc9162.PROOF(3, entries)), note(5)).body())
    assert [p.size for p in w.state()] == [5]
    assert spec_cosignature(note(5) + line, signer.verifier.vkey()) > 0
    second.close()


def test_concurrent_requests_advance_the_state_once_on_each_engine(store_url: str) -> None:
    """Eight threads submit the same first checkpoint at once: one is cosigned, the others
    hear the size it cosigned (409), none is a server error."""
    from concurrent.futures import ThreadPoolExecutor

    log_key = Signer(ORIGIN, bytes(range(32)))
    signer = Signer("witness.test/w1", bytes(range(1, 33)), COSIGNATURE)
    body = Submission(0, (), Checkpoint(ORIGIN, 1, rfc9162.MTH([b"e"])).sign([log_key])).body()
    store = Store(store_url)
    w = witness.Witness(store, signer, [log_key.verifier])

    def attempt(_: int) -> int | str:
        try:
            w.add_checkpoint(body)
        except WitnessRefusedError as refused:
            return f"{refused.status} {refused.size}"
        return 200

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(attempt, range(8)))
    store.close()
    assert sorted(map(str, outcomes)) == ["200", *["409 1"] * 7]
