"""Readers and writers on one store from several connections at once, on both engines.

A read never takes the write lock, so it neither waits for nor fails because of a write in
progress; a write waits for another one a bounded time and then says so; an ingest of several
files survives a store that is busy while it reads ahead.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from rirport.errors import StorageError
from rirport.formats.source import read_source
from rirport.services.registry import ingest as ingest_service
from rirport.services.registry.ingest import IngestResult, PendingFile, ingest_many
from rirport.store import engine as store_engine
from rirport.store.unit import Store
from tests.paths import TEST_DATA

EXCERPTS = sorted((TEST_DATA / "excerpts").glob("*-2018-excerpt.txt"))
SAFETY = 20.0
"""Seconds a test waits for the other thread before calling the run failed (never reached
when the code is right)."""


@pytest.fixture
def quick_store(store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """A store whose writers wait 2 s for each other (the shipped wait is a minute)."""
    monkeypatch.setattr(store_engine, "WRITE_WAIT_SECONDS", 2)
    store = Store(store_url)
    with store.transaction() as uow:  # the generation row exists, as after any first write
        uow.meta.bump_generation()
    yield store
    store.close()


class HeldWrite:
    """A write transaction held open in a thread until :meth:`release` (or the safety time)."""

    def __init__(self, store: Store) -> None:
        self.started = threading.Event()
        self.released = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(store,), daemon=True)

    def _run(self, store: Store) -> None:
        with store.transaction() as uow:
            uow.journal.reserve()  # holds the write lock (SQLite) and the meta row lock
            self.started.set()
            self.released.wait(SAFETY)

    def __enter__(self) -> HeldWrite:
        self.thread.start()
        assert self.started.wait(SAFETY)
        return self

    def release(self) -> None:
        self.released.set()

    def __exit__(self, *_exc: object) -> None:
        self.release()
        self.thread.join(SAFETY)


def test_a_read_completes_while_a_write_is_open(quick_store: Store) -> None:
    with quick_store.read() as uow:
        before = uow.meta.generation()
    with HeldWrite(quick_store) as held:
        with quick_store.read() as uow:
            seen = uow.meta.generation()
            journal = uow.journal.count()
        still_held = not held.released.is_set()
    assert still_held, "the read returned only after the write had ended"
    assert seen == before and journal == 0  # the open write's change is not visible


def test_reads_from_many_threads_during_a_write(quick_store: Store) -> None:
    failures: list[BaseException] = []
    done = threading.Barrier(9, timeout=SAFETY)

    def reader() -> None:
        try:
            for _ in range(5):
                with quick_store.read() as uow:
                    uow.snapshots.current()
        except BaseException as exc:  # collected and asserted below
            failures.append(exc)
        done.wait()

    with HeldWrite(quick_store) as held:
        threads = [threading.Thread(target=reader) for _ in range(8)]
        for t in threads:
            t.start()
        done.wait()
        assert not held.released.is_set()
    assert failures == []


def test_a_write_waits_a_bounded_time_then_says_the_store_is_busy(quick_store: Store) -> None:
    with (
        HeldWrite(quick_store),
        pytest.raises(StorageError) as raised,
        quick_store.transaction() as uow,
    ):
        uow.meta.bump_generation()
    assert "the store is busy" in str(raised.value)
    assert "2 s" in str(raised.value)


def test_a_write_waiting_less_than_the_bound_goes_through(quick_store: Store) -> None:
    with HeldWrite(quick_store) as held:
        threading.Timer(0.3, held.release).start()
        with quick_store.transaction() as uow:
            after = uow.meta.bump_generation()
    assert after == 3


def test_a_write_inside_a_read_fails(quick_store: Store) -> None:
    with pytest.raises(StorageError), quick_store.read() as uow:
        uow.meta.bump_generation()
    with quick_store.read() as uow:
        assert uow.meta.generation() == 1


def test_read_ahead_survives_a_busy_store(
    quick_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read-ahead thread's "stored already?" check failing must not end the run: the
    file is parsed and stored all the same."""
    real = ingest_service.already_stored
    calls: list[str] = []

    def busy_sometimes(store: Store, source: object, registry: str | None = None) -> object:
        calls.append("x")
        if len(calls) % 2 == 0:
            raise StorageError("the store is busy: simulated")
        return real(store, source, registry)  # type: ignore[arg-type]

    monkeypatch.setattr(ingest_service, "already_stored", busy_sometimes)
    pending = [PendingFile(functools.partial(read_source, f)) for f in EXCERPTS]
    outcomes = list(ingest_many(quick_store, pending))
    assert [type(o) for o in outcomes] == [IngestResult] * len(EXCERPTS)
    assert {o.outcome for o in outcomes if isinstance(o, IngestResult)} == {"ingested"}
    assert len(calls) == len(EXCERPTS)


def test_read_ahead_during_a_long_write(quick_store: Store, tmp_path: Path) -> None:
    """Another writer holds the store while ``ingest_many`` reads ahead: the reads go
    through, and the ingest's own writes wait for it (within the bound)."""
    pending = [PendingFile(functools.partial(read_source, f)) for f in EXCERPTS[:2]]
    with HeldWrite(quick_store) as held:
        threading.Timer(0.5, held.release).start()
        outcomes = list(ingest_many(quick_store, pending))
    assert [o.outcome for o in outcomes if isinstance(o, IngestResult)] == ["ingested"] * 2
