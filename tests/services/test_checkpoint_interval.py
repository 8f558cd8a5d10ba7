"""The checkpoint interval (issue 14 with issue 15): within it a write grows the tree and
leaves its state parts pending; the next due write, or ``flush``, recomputes them once and
signs a checkpoint whose state root is the one recomputed from the tables."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from rirport.domain.enums import Registry
from rirport.errors import StoreBusyError
from rirport.services.monitoring.watch import Criteria, add_watch
from rirport.services.registry.ingest import ingest_path
from rirport.services.transparency import log as tlog
from rirport.services.transparency import state, timer, verify
from rirport.store.unit import Store
from tests.services.test_transparency import EXCERPTS, _close_stores, signed_store

__all__ = ["_close_stores"]  # the fixture that closes the stores these tests open


def _sizes(store: Store) -> tuple[int, int]:
    with store.read() as uow:
        latest = uow.log.latest_checkpoint()
        return (latest.size if latest else 0), uow.log.size()


def test_writes_within_the_interval_wait_for_one_checkpoint(store_url: str, tmp_path: Path) -> None:
    store = signed_store(store_url, tmp_path / "data")
    ingest_path(store, EXCERPTS[0])  # the first write after catch_up is due only after N s
    store.checkpoint_interval = 3600.0
    for path in EXCERPTS[1:]:
        ingest_path(store, path)
    signed, size = _sizes(store)
    assert signed < size == len(EXCERPTS)
    with store.read() as uow:
        waiting = state.pending(uow)
    assert waiting is not None and {p.split()[-1] for p in waiting} >= {
        p.name.split("-")[0] for p in EXCERPTS[1:]
    }
    assert store.log_deferred
    head = tlog.flush(store)
    assert head is not None and head.size == size
    assert tlog.flush(store) is None  # nothing left for later any more
    with store.read() as uow:
        latest = uow.log.latest_checkpoint()
        assert latest is not None and latest.size == size
        assert latest.state_root == state.root_of(uow)
        assert not state.pending(uow)
        assert uow.log.parts() == state.compute(uow)
    assert verify.verify_log(store).ok


def test_without_an_interval_every_write_signs(tmp_path: Path) -> None:
    store = signed_store(f"sqlite:///{tmp_path / 's.sqlite'}", tmp_path / "data")
    for path in EXCERPTS:
        ingest_path(store, path)
        signed, size = _sizes(store)
        assert signed == size
    assert not store.log_deferred


def test_a_due_write_signs_what_earlier_ones_left_pending(tmp_path: Path) -> None:
    store = signed_store(f"sqlite:///{tmp_path / 's.sqlite'}", tmp_path / "data")
    store.checkpoint_interval = 3600.0
    for path in EXCERPTS[:-1]:
        ingest_path(store, path)
    assert _sizes(store)[0] < _sizes(store)[1]
    store.checkpoint_interval = 0.0  # the next write is due
    ingest_path(store, EXCERPTS[-1])
    with store.read() as uow:
        latest = uow.log.latest_checkpoint()
        assert latest is not None and latest.size == uow.log.size()
        assert latest.state_root == state.root_of(uow)


def test_a_completed_transfer_touches_only_its_registries() -> None:
    payload = {
        "step": "complete",
        "state": "completed",
        "changes": {
            "retired": ["ripencc|NL|ipv4|193.0.0.0|1024|19930901|allocated|x"],
            "added": ["arin|NL|ipv4|193.0.0.0|1024|19930901|allocated|y"],
        },
    }
    assert state.affected("transfer", json.dumps(payload)) == {
        "transfers",
        state.delegation_part(Registry.RIPENCC.value),
        state.delegation_part(Registry.ARIN.value),
    }
    refused = {"step": "complete", "state": "rejected", "changes": None}
    assert state.affected("transfer", json.dumps(refused)) == {"transfers"}
    assert state.affected("transfer", json.dumps({"step": "approve"})) == {"transfers"}


def _watch(store: Store, name: str) -> None:
    add_watch(store, name, Criteria(registries=("ripencc",)))


def test_flush_due_waits_for_the_interval_then_signs(store_url: str, tmp_path: Path) -> None:
    store = signed_store(store_url, tmp_path / "data")
    store.checkpoint_interval = 0.6
    time.sleep(0.6)
    _watch(store, "a")  # due: catch_up's checkpoint is older than the interval
    _watch(store, "b")
    _watch(store, "c")
    signed, size = _sizes(store)
    assert store.log_deferred and signed < size
    left = tlog.flush_due(store)
    assert left is not None and 0 < left <= 0.6
    assert store.log_deferred and _sizes(store)[0] == signed  # nothing signed yet
    time.sleep(left)
    assert tlog.flush_due(store) is None
    assert not store.log_deferred and _sizes(store) == (size, size)
    with store.read() as uow:
        latest = uow.log.latest_checkpoint()
        assert latest is not None and latest.state_root == state.root_of(uow)
    assert tlog.flush_due(store) is None  # nothing left


def test_flush_due_signs_nothing_when_another_writer_covered_it(
    store_url: str, tmp_path: Path
) -> None:
    store = signed_store(store_url, tmp_path / "data")
    store.checkpoint_interval = 0.2
    _watch(store, "a")
    _watch(store, "b")
    assert store.log_deferred
    other = Store(store_url)
    try:
        other.log_signer = store.log_signer
        tlog.catch_up(other)
    finally:
        other.close()
    with store.read() as uow:
        count = uow.log.checkpoint_count()
    time.sleep(0.25)
    assert tlog.flush_due(store) is None and not store.log_deferred
    with store.read() as uow:
        assert uow.log.checkpoint_count() == count


def test_a_failed_flush_leaves_the_checkpoint_for_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = signed_store(f"sqlite:///{tmp_path / 's.sqlite'}", tmp_path / "data")
    store.checkpoint_interval = 3600.0
    _watch(store, "a")
    _watch(store, "b")
    real = tlog.catch_up

    def broken(s: Store) -> tlog.Head:
        raise StoreBusyError("busy")

    monkeypatch.setattr(tlog, "catch_up", broken)
    with pytest.raises(StoreBusyError):
        tlog.flush(store)
    assert store.log_deferred
    store.checkpoint_interval = 0.001
    time.sleep(0.01)
    with pytest.raises(StoreBusyError):
        tlog.flush_due(store)
    assert store.log_deferred
    monkeypatch.setattr(tlog, "catch_up", real)
    assert tlog.flush_due(store) is None and not store.log_deferred
    signed, size = _sizes(store)
    assert signed == size


def test_the_timer_signs_a_burst_within_the_interval_and_logs_failures(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = signed_store(store_url, tmp_path / "data")
    store.checkpoint_interval = 0.8
    said: list[str] = []
    real = timer.flush_due
    failures = [StoreBusyError("busy"), StoreBusyError("busy")]

    def flaky(s: Store) -> float | None:
        if failures and s.log_deferred:
            raise failures.pop()
        return real(s)

    monkeypatch.setattr(timer, "flush_due", flaky)
    running = timer.CheckpointTimer(store, said.append).start()
    try:
        _watch(store, "a")
        for name in "bcde":
            _watch(store, name)
        committed = time.monotonic()
        signed, size = _sizes(store)
        assert signed < size, "the burst should have left its checkpoint for later"
        _wait_signed(store, size, committed, 0.8 + 3 * running.tick + 2.0)
    finally:
        running.stop()
    assert not store.log_deferred
    assert said == [
        "signing the deferred checkpoint failed (tried again): busy",  # once, not twice
        "signing deferred checkpoints works again",
    ]
    with store.read() as uow:
        latest = uow.log.latest_checkpoint()
        assert latest is not None and latest.state_root == state.root_of(uow)


def test_no_timer_without_an_interval_or_a_key(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    try:
        store.checkpoint_interval = 5.0
        assert timer.CheckpointTimer(store).start()._thread is None  # no key
        assert timer.tick_for(5.0) == 1.0 and timer.tick_for(0.4) == 0.1
    finally:
        store.close()


def test_a_new_server_process_signs_what_a_killed_one_left(tmp_path: Path) -> None:
    """A process left its checkpoint for later and ended without a flush (killed); the
    timer of the next process over the store signs it once the interval has passed."""
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    killed = signed_store(url, tmp_path / "data")
    killed.checkpoint_interval = 0.5
    _watch(killed, "a")
    _watch(killed, "b")
    signed, size = _sizes(killed)
    assert signed < size
    killed.close()  # no flush
    later = Store(url)
    try:
        later.log_signer = killed.log_signer
        later.checkpoint_interval = 0.5
        running = timer.CheckpointTimer(later).start()
        try:
            started = time.monotonic()
            _wait_signed(later, size, started, 0.5 + 2 * running.tick + 2.0)
        finally:
            running.stop()
        assert not later.log_deferred
    finally:
        later.close()


def _wait_signed(store: Store, size: int, since: float, bound: float) -> None:
    """Wait until a checkpoint covers ``size`` entries, failing once ``bound`` seconds have
    passed since ``since`` (a monotonic time)."""
    while _sizes(store)[0] < size:
        assert time.monotonic() - since < bound
        time.sleep(0.02)
