"""Mirrors with real processes on loopback, part two: 1,000 journal entries (the 2017 then 2018
excerpts, transfer steps, many watchlist entries) followed on SQLite and PostgreSQL with
kill -9 at random points; a new mirror joining from the signed snapshot; writes refused on a
mirror; tampered publishers and snapshots refused with the evidence; take-over by a
successor that a second mirror then follows."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from rirport.domain.enums import Registry
from rirport.domain.query import parse_query
from rirport.domain.transfer import TransferKind
from rirport.errors import (
    ConflictError,
    MirrorReadOnlyError,
    NotFoundError,
    VerificationError,
)
from rirport.log.checkpoint import open_checkpoint, parse_text
from rirport.log.note import Signer, parse_vkey, sign_note, split_note
from rirport.query.iana import load_iana
from rirport.query.view import load_current
from rirport.services.audit import journal
from rirport.services.monitoring.watch import Criteria, add_watch, remove_watch
from rirport.services.registry.ingest import ingest_bytes
from rirport.services.transfers.lifecycle import advance, build_request, request_transfer
from rirport.services.transparency import keys, snapshot, verify
from rirport.services.transparency import log as tlog
from rirport.store.unit import Store
from tests.excerpts import excerpt, real_file
from tests.services.test_mirror import RIRPORT, Publisher, _roots

ENTRIES = 1000
RIPE_HOLDER = "2971c08b-2b8e-49f9-a938-fe3a9f8348be"


def _ripe(index: int, fields: list[str]) -> bool:
    return index < 40 or fields[3] in ("193.0.0.0", "193.0.16.0", "193.0.4.0")


def _transfer(store: Store, resource: str, steps: tuple[str, ...]) -> None:
    view = load_current(store)
    query = parse_query(resource)
    assert query.resource is not None
    req = build_request(
        view,
        query.resource,
        Registry.ARIN,
        "org-new",
        TransferKind.INTER_RIR,
        dt.date(2026, 11, 1),
        RIPE_HOLDER,
    )
    made = request_transfer(store, view, req, "mandatory-portability", "t", load_iana(store))
    for step in steps:
        advance(
            store,
            load_current(store),
            made.transfer.id,
            step,
            "t",
            load_iana(store),
            conditions_met=True,
        )


def fill(store: Store, entries: int) -> None:
    """Ingests of the 2017 then the 2018 excerpts, transfer steps, then watchlist entries up
    to ``entries``."""
    for year in ("2017", "2018"):
        ingest_bytes(store, excerpt(real_file("ripencc", year), _ripe), f"ripencc-{year}.txt")
        ingest_bytes(store, excerpt(real_file("arin", year), 30), f"arin-{year}.txt")
        ingest_bytes(store, excerpt(real_file("afrinic", year), 30), f"afrinic-{year}.txt")
    _transfer(store, "193.0.16.0/21", ("approve", "accept", "complete"))
    _transfer(store, "193.0.4.0/22", ("approve",))
    with store.read() as uow:
        have = uow.journal.count()
    i = 0
    while have < entries:
        add_watch(store, f"w{i}", Criteria(registries=("afrinic",)))
        have += 1
        if i % 3 == 0 and have < entries:
            remove_watch(store, f"w{i}")
            have += 1
        i += 1


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Publisher]:
    pub = Publisher(tmp_path_factory.mktemp("big"))
    fill(pub.store, ENTRIES)
    pub.start()
    try:
        yield pub
    finally:
        pub.stop()


def run(
    db: str, pub: Publisher, tmp: Path, *extra: str, key: str | None = None
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "RIRPORT_DATA_DIR": str(tmp / "mirrordata")}
    return subprocess.Popen(
        [
            *RIRPORT,
            "--db",
            db,
            "mirror",
            "follow",
            pub.url,
            "--key",
            key or pub.vkey,
            "--once",
            *extra,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _same(mirrored: Store, pub: Publisher) -> None:
    assert _roots(mirrored) == _roots(pub.store)
    assert journal.verify(mirrored).ok and journal.verify(pub.store).ok
    assert verify.verify_log(pub.store).ok
    checked = verify.verify_log(mirrored, parse_vkey(pub.vkey))
    assert not [p for p in checked.problems if "state root" in p], checked.problems


def _wait_for_more(url: str, than: int) -> int:
    """Wait until the mirror's journal holds more than ``than`` entries; returns how many."""
    from sqlalchemy import create_engine

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        for _ in range(600):
            try:
                with engine.connect() as c:
                    count = int(c.execute(text("SELECT count(*) FROM journal")).scalar_one())
                if count > than:
                    return count
            except Exception:  # the tables are not made yet
                pass
            time.sleep(0.1)
    finally:
        engine.dispose()
    raise AssertionError("the mirror did not start applying entries")


def test_a_mirror_follows_1000_entries_killed_at_random_points(
    big: Publisher, store_url: str, tmp_path: Path
) -> None:
    rng = random.Random(f"{store_url.split(':')[0]}-15")
    held = 0
    for _ in range(2):
        running = run(store_url, big, tmp_path)
        held = _wait_for_more(store_url, held)  # it is syncing: kill it at a random point
        time.sleep(rng.uniform(0.0, 1.5))
        running.send_signal(signal.SIGKILL)
        running.communicate(timeout=10)
    halfway = Store(store_url)  # writes are refused from the first pass on
    with pytest.raises(MirrorReadOnlyError, match=r"rirport\.test/publisher from http://"):
        add_watch(halfway, "local", Criteria(registries=("arin",)))
    halfway.close()
    done = run(store_url, big, tmp_path)
    _, err = done.communicate(timeout=400)
    assert done.returncode == 0, err.decode()
    mirrored = Store(store_url)
    try:
        _same(mirrored, big)
        with mirrored.read() as uow:
            assert uow.journal.count() == ENTRIES
            names = [w.name for w in uow.watches.active()]
            assert len(uow.transfers.all()) == 2
        assert len(names) == len(set(names))  # no entry applied twice
    finally:
        mirrored.close()


def test_a_new_mirror_joins_from_the_snapshot_then_follows(
    big: Publisher, store_url: str, tmp_path: Path
) -> None:
    done = run(store_url, big, tmp_path, "--snapshot")
    out, err = done.communicate(timeout=300)
    assert done.returncode == 0, err.decode()
    with big.store.read() as uow:
        size = uow.journal.count()
    assert f"joined from snapshot: rirport.test/publisher at size {size}".encode() in out
    assert f"up to date at size {size}".encode() in out  # nothing replayed
    add_watch(big.store, f"after-{size}", Criteria(registries=("arin",)))
    again = run(store_url, big, tmp_path, "--snapshot")  # the store is no longer empty
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err.decode()
    assert f"applied 1 entries, size {size} -> {size + 1}".encode() in out
    mirrored = Store(store_url)
    try:
        _same(mirrored, big)
        # writes are refused on the mirror, naming the publisher; nothing is written
        with pytest.raises(
            MirrorReadOnlyError,
            match=r"read-only mirror of rirport\.test/publisher from http://127\.0\.0\.1",
        ):
            ingest_bytes(mirrored, excerpt(real_file("lacnic"), 20), "lacnic.txt")
        with pytest.raises(MirrorReadOnlyError, match="refused transfer"):
            _transfer(mirrored, "193.0.4.0/22", ())
        env = {**os.environ, "RIRPORT_DATA_DIR": str(tmp_path / "mirrordata")}
        cli = subprocess.run(
            [*RIRPORT, "--db", store_url, "watch", "add", "mine", "--registry", "arin"],
            env=env,
            capture_output=True,
            timeout=120,
        )
        assert cli.returncode == 1 and b"read-only mirror of rirport.test/publisher" in cli.stderr
        assert _roots(mirrored)[2] == size + 1
    finally:
        mirrored.close()


# -- snapshots tampered with: refused before anything is applied ------------------------------
@pytest.fixture
def small(tmp_path: Path) -> Iterator[Publisher]:
    pub = Publisher(tmp_path)
    fill(pub.store, 20)
    yield pub
    pub.store.close()


def _dump(store: Store) -> list[str]:
    out = io.BytesIO()
    snapshot.write_snapshot(store, out)
    return gzip.decompress(out.getvalue()).decode().splitlines()


def _pack(lines: list[str]) -> io.BytesIO:
    return io.BytesIO(gzip.compress(("\n".join(lines) + "\n").encode()))


def _section(lines: list[str], table: str) -> int:
    return next(i for i, line in enumerate(lines) if line.startswith(f'{{"table": "{table}"'))


def test_a_tampered_snapshot_is_refused_and_nothing_applied(
    small: Publisher, tmp_path: Path
) -> None:
    key = parse_vkey(small.vkey)
    lines = _dump(small.store)
    target = Store(f"sqlite:///{tmp_path / 'join.sqlite'}")
    # a delegation row edited: the recomputed state root is not the signed one
    start = _section(lines, "delegation") + 1
    at = next(  # a row in force now (older versions are history, not in the state root)
        i
        for i in range(start, len(lines))
        if lines[i].startswith("[") and '"9999-12-31"' in lines[i] and "|allocated|" in lines[i]
    )
    row = json.loads(lines[at])
    edited = [*lines]
    edited[at] = json.dumps([*row[:6], row[6].replace("|allocated|", "|reserved|", 1), *row[7:]])
    assert edited[at] != lines[at]
    with pytest.raises(VerificationError, match="state root of the snapshot's tables") as caught:
        snapshot.load_snapshot(target, _pack(edited), key, "x")
    assert "rirport-state" in str(caught.value)  # the checkpoint quoted
    # a stored file that no signed ingest entry names
    first = _section(lines, "snapshot") + 1
    row = json.loads(lines[first])
    renamed = [*lines]
    renamed[first] = json.dumps([*row[:6], "0" * 64, *row[7:]])
    with pytest.raises(VerificationError, match="no ingest entry of the signed journal names"):
        snapshot.load_snapshot(target, _pack(renamed), key, "x")
    # a journal row deleted, or two swapped: the chain and the tree say so
    j = _section(lines, "journal") + 1
    with pytest.raises(VerificationError, match="chain is broken"):
        snapshot.load_snapshot(target, _pack([*lines[: j + 2], *lines[j + 3 :]]), key, "x")
    swapped = [*lines]
    swapped[j + 2], swapped[j + 3] = swapped[j + 3], swapped[j + 2]
    with pytest.raises(VerificationError, match=r"chain is broken.*\(removed or reordered\)"):
        snapshot.load_snapshot(target, _pack(swapped), key, "x")
    # cut short; signed by another key
    with pytest.raises(VerificationError, match=r"cut short|not a whole gzip"):
        snapshot.load_snapshot(target, _pack(lines[:-1]), key, "x")
    with pytest.raises(VerificationError, match="not signed by an expected key"):
        other = Signer.generate("rirport.test/publisher")
        snapshot.load_snapshot(target, _pack(lines), other.verifier, "x")
    with target.read() as uow:
        assert uow.journal.count() == 0 and not uow.snapshots.all() and not uow.log.peers("mirror")
    # the snapshot as written joins; a second join into the now full store is refused
    snapshot.load_snapshot(target, _pack(lines), key, "x")
    with pytest.raises(ConflictError, match="only an empty store"):
        snapshot.load_snapshot(target, _pack(lines), key, "x")
    assert _roots(target) == _roots(small.store)


# -- a publisher tampered with, behind its log ------------------------------------------------
def test_deleted_reordered_and_rewritten_history_are_refused(
    small: Publisher, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'mirror.sqlite'}"
    small.start()
    done = run(db, small, tmp_path)
    assert done.communicate(timeout=300) and done.returncode == 0
    before = tlog.latest_checkpoint(small.store).note
    add_watch(small.store, "later-1", Criteria(registries=("arin",)))
    add_watch(small.store, "later-2", Criteria(registries=("arin",)))
    # two entries the mirror lacks swapped in the publisher's journal
    with small.store.transaction() as uow:
        c = uow.connection
        c.execute(text("UPDATE journal SET serial = -1 WHERE serial = 21"))
        c.execute(text("UPDATE journal SET serial = 21 WHERE serial = 22"))
        c.execute(text("UPDATE journal SET serial = 22 WHERE serial = -1"))
    done = run(db, small, tmp_path)
    _, err = done.communicate(timeout=120)
    assert done.returncode == 1 and b"do not make the signed root" in err, err
    assert b"rirport-state" in err  # the checkpoint quoted
    # one deleted: the publisher cannot serve the bundle; nothing applied
    with small.store.transaction() as uow:
        uow.connection.execute(text("DELETE FROM journal WHERE serial = 22"))
    done = run(db, small, tmp_path)
    _, err = done.communicate(timeout=120)
    assert done.returncode == 1, err
    with Store(db).read() as uow:
        assert uow.journal.count() == 20
    small.stop()
    # a rewritten history signed by the same key (the key was stolen): another store
    fork = Publisher.__new__(Publisher)
    fork.data, fork.url_db = small.data, f"sqlite:///{tmp_path / 'fork.sqlite'}"
    fork.store = Store(fork.url_db)
    fork.store.log_signer = keys.read_signer(keys.key_path(small.data))
    with fork.store.transaction() as uow:
        uow.meta.put("log_vkey", small.vkey)
    fill(fork.store, 25)
    fork.vkey, fork.port, fork.url, fork.process = small.vkey, small.port, small.url, None
    fork.start()
    try:
        done = run(db, fork, tmp_path)
        _, err = done.communicate(timeout=120)
    finally:
        fork.stop()
    assert done.returncode == 1
    message = err.decode()
    assert "no consistency proof joins" in message
    assert "verified before:" in message and "now served:" in message
    quoted = before.split("\n")[2]
    assert quoted in message  # the checkpoint verified before, verbatim


# -- take-over ------------------------------------------------------------------------------
def test_take_over_continues_the_log_and_a_second_mirror_follows_the_successor(
    small: Publisher, tmp_path: Path
) -> None:
    small.start()
    first, second = (f"sqlite:///{tmp_path / f'm{i}.sqlite'}" for i in (1, 2))
    for db in (first, second):
        done = run(db, small, tmp_path / db[-10:-7])
        assert done.communicate(timeout=300) and done.returncode == 0
    small.stop()  # the publisher is gone
    data = tmp_path / "successor"
    env = {**os.environ, "RIRPORT_DATA_DIR": str(data)}
    taken = subprocess.run(
        [
            *RIRPORT,
            "--db",
            first,
            "mirror",
            "take-over",
            "--origin",
            "rirport.test/successor",
            "--key",
            small.vkey,
            "--reason",
            "publisher gone",
            "--yes",
        ],
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert taken.returncode == 0, taken.stderr.decode()
    new_vkey = taken.stdout.decode().strip()
    successor = Store(first)
    successor.log_signer = keys.attach(successor, data)
    try:
        # the successor writes now; its checkpoints carry the predecessor's key and size
        ingest_bytes(successor, excerpt(real_file("lacnic"), 20), "lacnic.txt")
        note = tlog.latest_checkpoint(successor).note
        point = open_checkpoint(note, parse_vkey(new_vkey))
        assert f"rirport-predecessor {small.vkey} 20" in point.extensions
        hand = journal.entries(successor, "log-handover")
        assert len(hand) == 1 and hand[0].serial == 21
        quoted = json.loads(hand[0].payload)["predecessor"]["checkpoint"]
        assert open_checkpoint(quoted, parse_vkey(small.vkey)).size == 20
        assert verify.verify_log(successor).ok
        # a second mirror of the old publisher follows the successor with the new key
        succ = Publisher.__new__(Publisher)
        succ.data, succ.url_db, succ.store = data, first, successor
        succ.vkey, succ.port, succ.url, succ.process = new_vkey, small.port, small.url, None
        succ.start()
        done = run(second, succ, tmp_path / "m2", key=new_vkey)
        out, err = done.communicate(timeout=300)
        assert done.returncode == 0, err.decode()
        assert b"size 20 -> 22" in out
        follower = Store(second)
        assert _roots(follower) == _roots(successor)
        follower.close()
    finally:
        if succ.process is not None:
            succ.process.terminate()
            succ.process.wait(10)
        successor.close()


def test_a_forged_hand_over_is_refused(small: Publisher) -> None:
    from rirport.log.checkpoint import Checkpoint
    from rirport.services.transparency.takeover import check_succession

    old = parse_text(split_note(tlog.latest_checkpoint(small.store).note)[0])
    new_signer = Signer.generate("rirport.test/successor")
    forged = Checkpoint(
        "rirport.test/successor",
        old.size + 1,
        old.root,
        (f"rirport-predecessor {small.vkey} {old.size}",),
    )
    entry = json.dumps({"action": "watch-add", "payload": {}}).encode()
    with pytest.raises(VerificationError, match="is not the hand-over"):
        check_succession(forged, new_signer.verifier, lambda i: entry, lambda a, b: [])
    with pytest.raises(VerificationError, match=r"is not name\+hash\+base64key"):
        check_succession(
            Checkpoint("s", 5, old.root, ("rirport-predecessor bad 9",)),
            new_signer.verifier,
            lambda i: entry,
            lambda a, b: [],
        )


def test_http_writes_on_a_mirror_are_refused_and_reads_name_the_publisher(
    small: Publisher, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from rirport.accounts.credentials import digest, new_token
    from rirport.http.app import create_app
    from rirport.http.config import HttpConfig

    lines = _dump(small.store)
    mirrored = Store(f"sqlite:///{tmp_path / 'http-mirror.sqlite'}")
    snapshot.load_snapshot(mirrored, _pack(lines), parse_vkey(small.vkey), "http://pub.test")
    token = new_token()
    now = dt.datetime.now(dt.UTC)
    with mirrored.transaction() as uow:  # a local administrator, made behind the journal
        admin = uow.accounts.add(
            {
                "username": "local-admin",
                "username_key": "local-admin",
                "password_hash": "!",
                "tier": "admin",
                "created_at": now,
                "password_changed_at": now,
                "created_serial": 0,
                "updated_serial": 0,
            }
        )
        uow.accounts.add_token(admin, "t", digest(token), now, 0)
    before = _roots(mirrored)
    app = create_app(mirrored, None, HttpConfig(rate=0, refresh_seconds=0))
    with TestClient(app) as client:
        answer = client.post(
            "/api/admin/accounts",
            json={"username": "newcomer", "password": "a long enough passphrase 42"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 409, answer.text
        assert "read-only mirror of rirport.test/publisher from http://pub.test" in answer.text
        read = client.get("/rdap/ip/193.0.0.1")
        assert read.status_code == 200, read.text
        notices = [n for n in read.json().get("notices", []) if n.get("title") == "Mirror"]
        assert notices and "rirport.test/publisher" in notices[0]["description"][0]
        assert "tree size 20" in notices[0]["description"][0]
    assert _roots(mirrored) == before  # nothing written
    mirrored.close()


def test_log_snapshot_file_then_follow_from_it(small: Publisher, tmp_path: Path) -> None:
    env = {**os.environ, "RIRPORT_DATA_DIR": str(small.data)}
    folder = tmp_path / "snaps"
    folder.mkdir()
    made = subprocess.run(
        [*RIRPORT, "--db", small.url_db, "log", "snapshot", str(folder)],
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr.decode()
    (written,) = folder.glob("snapshot-20.ndjson.gz")
    assert b"rirport.test/publisher at size 20" in made.stdout
    small.start()
    db = f"sqlite:///{tmp_path / 'from-file.sqlite'}"
    done = run(db, small, tmp_path, "--snapshot-file", str(written))
    out, err = done.communicate(timeout=120)
    assert done.returncode == 0, err.decode()
    assert b"joined from snapshot" in out and b"up to date at size 20" in out
    mirrored = Store(db)
    assert _roots(mirrored) == _roots(small.store)
    mirrored.close()
    small.stop()


def test_kill_9_while_joining_from_the_snapshot_then_restart(
    big: Publisher, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'killed-join.sqlite'}"
    rng = random.Random(1015)
    for _ in range(2):
        running = run(db, big, tmp_path, "--snapshot")
        time.sleep(rng.uniform(0.5, 3.0))
        running.send_signal(signal.SIGKILL)
        running.communicate(timeout=10)
    done = run(db, big, tmp_path, "--snapshot")
    _, err = done.communicate(timeout=300)
    assert done.returncode == 0, err.decode()
    mirrored = Store(db)
    try:
        _same(mirrored, big)
        with mirrored.read() as uow:
            names = [w.name for w in uow.watches.active()]
        assert len(names) == len(set(names))
    finally:
        mirrored.close()


def test_a_tampered_history_row_is_refused_and_nothing_applied(
    small: Publisher, tmp_path: Path
) -> None:
    """Rows outside the state root (an older delegation version, an event, a watchlist) are
    covered by the log key's signature over the snapshot's rows, bound to its checkpoint."""
    key = parse_vkey(small.vkey)
    lines = _dump(small.store)
    target = Store(f"sqlite:///{tmp_path / 'join.sqlite'}")
    start = _section(lines, "delegation") + 1
    old = next(  # a version no longer in force: history, not in the state root
        i
        for i in range(start, len(lines))
        if lines[i].startswith("[") and '"9999-12-31"' not in lines[i]
    )
    row = json.loads(lines[old])
    history = [*lines]
    history[old] = json.dumps([*row[:6], row[6].replace("|", "| ", 1), *row[7:]])
    assert history[old] != lines[old]
    event = _section(lines, "event") + 1
    assert lines[event].startswith("[")
    events = [*lines]
    events[event] = lines[event].replace('"', '"x', 1) if '"' in lines[event] else "[]"
    watch = _section(lines, "watch") + 1
    watches = [*lines]
    watches[watch] = lines[watch].replace('"w', '"forged-w', 1)
    assert watches[watch] != lines[watch]
    for edited in (history, events, watches):
        with pytest.raises(VerificationError, match="not the ones the log key signed") as caught:
            snapshot.load_snapshot(target, _pack(edited), key, "x")
        message = str(caught.value)
        assert "signed:" in message and "read:" in message and "rirport-state" in message
    # the signature removed, or one by another key over the same rows
    end = json.loads(lines[-1])
    unsigned = [*lines[:-1], json.dumps({"end": end["end"]})]
    with pytest.raises(VerificationError, match="carry no signature by the log key"):
        snapshot.load_snapshot(target, _pack(unsigned), key, "x")
    text, _ = split_note(end["signed"])
    other = Signer.generate("rirport.test/publisher")
    forged = [*lines[:-1], json.dumps({"end": end["end"], "signed": sign_note(text, [other])})]
    with pytest.raises(VerificationError, match="not signed by an expected key"):
        snapshot.load_snapshot(target, _pack(forged), key, "x")
    with target.read() as uow:
        assert uow.journal.count() == 0 and not uow.snapshots.all() and not uow.log.peers("mirror")
    # a store without the log key (a mirror) does not hand out snapshots
    small.store.log_signer = None
    with pytest.raises(NotFoundError, match="does not hold it"):
        _dump(small.store)
    snapshot.load_snapshot(target, _pack(lines), key, "x")
    assert _roots(target) == _roots(small.store)
