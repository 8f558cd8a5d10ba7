"""Witnesses fed by the publisher itself, with real processes on loopback: `rirport serve
--witnesses …` sends each new checkpoint to its witnesses in the background while the test
keeps writing to its store, and a mirror requiring k of its witnesses (`mirror follow
--witness … --require-witnesses K`) follows it to the publisher's roots. A witness that is
down or refuses never stops a write; the mirror waits and says why. A snapshot join needs
the witnesses too."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from rirport.cli.main import cli
from rirport.log.note import COSIGNATURE, Signer, split_note
from rirport.services.monitoring.watch import Criteria, add_watch
from rirport.services.registry.ingest import ingest_path
from rirport.services.transparency import log as tlog
from rirport.services.transparency import snapshot
from rirport.store.unit import Store
from tests.services.test_mirror import _roots
from tests.services.test_witness import EXCERPTS, RIRPORT, Process, Setup, _port, rirport


def _feeding(s: Setup, *targets: tuple[str, str]) -> None:
    """The publisher started with these witnesses (URL, VKEY) fed every 0.2 s."""
    pairs = ",".join(f"{url} {vkey}" for url, vkey in targets)
    s.publisher.args = [
        *s.publisher.args,
        *("--no-access-log", "--witnesses", pairs, "--witness-interval", "0.2"),
    ]


def _cosigners(note: str) -> set[str]:
    return {sig.name for sig in split_note(note)[1]}


def _wait(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _writes(store: Store, count: int, pause: float = 0.05) -> list[float]:
    """``count`` journaled writes (watchlists), each signing a checkpoint; their durations."""
    took = []
    for i in range(count):
        start = time.monotonic()
        add_watch(store, f"feed-{i}-{time.time_ns()}", Criteria(registries=("afrinic",)))
        took.append(time.monotonic() - start)
        time.sleep(pause)
    return took


@contextmanager
def _following(s: Setup, *args: str) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """``mirror follow`` in a loop, its output in a file, stopped at the end."""
    log = s.tmp / f"mirror-{time.time_ns()}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [*RIRPORT, "--db", s.m_db, "mirror", "follow", s.pub_url, "--key", s.log_vkey, *args],
            env={**os.environ, "RIRPORT_DATA_DIR": str(s.tmp / "mdata")},
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            yield process, log
        finally:
            process.terminate()
            process.wait(15)


@pytest.fixture
def fed(tmp_path: Path, store_url: str) -> Iterator[Setup]:
    """The publisher's store on SQLite, then on PostgreSQL, fed to one witness."""
    s = Setup(tmp_path, pub_db=store_url)
    _feeding(s, (s.w_url, s.w_vkey))
    s.witness.start()
    s.publisher.start()
    try:
        yield s
    finally:
        s.publisher.stop()
        s.witness.stop()
        s.pub.close()


def test_a_mirror_requiring_witnesses_keeps_up_with_continuous_writes(fed: Setup) -> None:
    s = fed
    _wait(
        lambda: "witness.test/w1" in _cosigners(httpx.get(f"{s.pub_url}/log/checkpoint").text),
        "the first cosignature",
    )
    follows = ("--witness", s.w_vkey, "--require-witnesses", "1", "--interval", "0.3")
    with _following(s, *follows) as (_, log):
        _wait(lambda: s.mirrored() == 2, "the mirror's first pass")
        writer = threading.Thread(target=_writes, args=(s.pub, 60, 0.1))
        writer.start()
        seen = set()
        while writer.is_alive():  # the mirror applies while the publisher writes
            seen.add(s.mirrored())
            time.sleep(0.2)
        writer.join()
        assert any(2 < n < 62 for n in seen), f"none applied while writing: {log.read_text()}"
        with s.pub.read() as uow:
            size = uow.journal.count()
        assert size == 62
        _wait(lambda: s.mirrored() == size, f"the mirror at size {size}")
        mirrored = Store(s.m_db)
        try:
            _wait(lambda: _roots(mirrored) == _roots(s.pub), "the publisher's roots")
        finally:
            mirrored.close()
    said = log.read_text()
    assert "applied" in said and f"size {size}" in said, said
    # every checkpoint applied was cosigned: the newest carries the witness's cosignature
    newest = tlog.latest_checkpoint(s.pub).note
    assert "witness.test/w1" in _cosigners(newest)
    served = httpx.get(
        f"{s.pub_url}/log/checkpoint/cosigned", params={"witness": "witness.test/w1"}
    )
    assert served.status_code == 200 and served.text == newest
    nobody = httpx.get(f"{s.pub_url}/log/checkpoint/cosigned", params={"witness": "nobody/x"})
    assert nobody.status_code == 404 and "carries cosignatures by 1 of nobody/x" in nobody.text


def test_a_witness_down_or_refusing_never_stops_writes_and_the_mirror_waits(
    tmp_path: Path,
) -> None:
    s = Setup(tmp_path)
    made = rirport(tmp_path / "w2data", "witness", "init", "--name", "witness.test/w2")
    assert made.returncode == 0, made.stderr
    w2_vkey, w2_port = made.stdout.strip(), _port()
    w2_url = f"http://127.0.0.1:{w2_port}"
    _feeding(s, (s.w_url, s.w_vkey), (w2_url, w2_vkey))
    s.witness.start()
    s.publisher.start()  # w2 is down: nothing listens on its port
    try:
        took = _writes(s.pub, 10)
        assert len(took) == 10  # every write committed, signed, the witness down or not
        with s.pub.read() as uow:
            size = uow.journal.count()
        _wait(
            lambda: (
                _cosigners(tlog.latest_checkpoint(s.pub).note)
                == {"rirport.test/witnessed", "witness.test/w1"}
            ),
            "w1's cosignature on the newest checkpoint",
        )
        # two of two required: the mirror applies nothing and says which witness lacks
        waits = ("--witness", s.w_vkey, "--witness", w2_vkey, "--interval", "0.3")
        with _following(s, *waits) as (mirror, log):
            _wait(lambda: log.read_text().count("waiting for cosignatures") >= 2, "waiting")
            assert mirror.poll() is None  # it waits, it does not exit
        said = log.read_text()
        assert "1 valid cosignature(s) of the 2 required" in said, said
        assert "witness.test/w2: no cosignature" in said and s.mirrored() == 0
        # one of the two is enough: the mirror reaches the publisher's newest size
        once = s.follow("--witness", s.w_vkey, "--witness", w2_vkey, "--require-witnesses", "1")
        assert once.returncode == 0, once.stderr
        assert s.mirrored() == size
        # w2 comes up but does not know this log (404): refused, logged, writes go on
        other = Process(
            tmp_path / "w2data",
            f"sqlite:///{tmp_path / 'w2.sqlite'}",
            ["witness", "serve", "--origin-key", _other_log_key(), "--port", str(w2_port)],
            f"{w2_url}/",
        )
        other.start()
        try:
            _writes(s.pub, 5)
            time.sleep(1.5)  # a few rounds
        finally:
            other.stop()
        assert "witness.test/w2" not in _cosigners(tlog.latest_checkpoint(s.pub).note)
    finally:
        err = s.publisher.stop()
        s.witness.stop()
        s.pub.close()
    assert "witness witness.test/w2" in err and "HTTP 404" in err, err
    assert err.count("does not know the log") == 1, err  # logged once, not every round
    assert err.count("witness witness.test/w2") == 2, err  # down once, then refusing once


def _other_log_key() -> str:
    return Signer.generate("rirport.test/other").verifier.vkey()


def test_a_snapshot_join_needs_the_witnesses(tmp_path: Path, store_url: str) -> None:
    s = Setup(tmp_path)
    s.m_db = store_url
    s.publisher.start()
    s.witness.start()
    try:
        # a snapshot at size 2, its checkpoint cosigned by nobody yet
        path = tmp_path / "snap.ndjson.gz"
        with path.open("wb") as out:
            snapshot.write_snapshot(s.pub, out)
        other = rirport(tmp_path / "w2", "witness", "init", "--name", "witness.test/w2")
        w2_vkey = other.stdout.strip()
        # no witness cosigned anything: refused, naming what is missing, nothing applied
        refused = s.follow("--witness", s.w_vkey, "--snapshot-file", str(path))
        assert refused.returncode == 1
        assert "0 valid cosignature(s) of the 1 required" in refused.stderr
        assert "witness.test/w1: no cosignature" in refused.stderr
        assert "nothing applied" in refused.stderr and s.mirrored() == 0
        # the publisher writes and the witness cosigns size 3: the snapshot's checkpoint
        # (size 2) is joined to it by a consistency proof, so the join is witnessed
        ingest_path(s.pub, EXCERPTS[2])
        assert s.submit().returncode == 0
        lacking = s.follow(
            "--witness", s.w_vkey, "--witness", w2_vkey, "--snapshot-file", str(path)
        )
        assert lacking.returncode == 1  # two of two: w2 never cosigned
        assert "witness.test/w2: no cosignature" in lacking.stderr and s.mirrored() == 0
        joined = s.follow("--witness", s.w_vkey, "--snapshot-file", str(path))
        assert joined.returncode == 0, joined.stderr
        assert "joined from snapshot: rirport.test/witnessed at size 2" in joined.stdout
        assert "size 2 -> 3" in joined.stdout and s.mirrored() == 3
        # over HTTP, a snapshot whose own checkpoint is cosigned joins directly
        fresh = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
        s.m_db = fresh
        direct = s.follow("--witness", s.w_vkey, "--snapshot")
        assert direct.returncode == 0, direct.stderr
        assert "joined from snapshot: rirport.test/witnessed at size 3" in direct.stdout
        assert "up to date at size 3" in direct.stdout
    finally:
        s.witness.stop()
        s.publisher.stop()
        s.pub.close()


@pytest.mark.parametrize(
    "value, said",
    [
        ("127.0.0.1:8090 KEY", "is not 'URL VKEY'"),
        ("http://127.0.0.1:8090", "is not 'URL VKEY'"),
        ("http://127.0.0.1:8090 not-a-key", "not-a-key"),
        ("http://127.0.0.1:8090 {log}", "is not a witness key (type 0x04 expected)"),
        ("http://a {w}, http://b {w}", "the witness witness.test/x is named twice"),
    ],
)
def test_bad_witnesses_setting_is_refused_before_serving(
    tmp_path: Path, value: str, said: str
) -> None:
    log_key = Signer.generate("rirport.test/log").verifier.vkey()
    witness_key = Signer.generate("witness.test/x", COSIGNATURE).verifier.vkey()
    env = {"RIRPORT_WITNESSES": value.format(log=log_key, w=witness_key)}
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "serve"], env=env)
    assert result.exit_code == 2, result.output
    assert "--witnesses / RIRPORT_WITNESSES" in result.output and said in result.output
