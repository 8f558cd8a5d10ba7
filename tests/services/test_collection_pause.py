"""The garbage collector paused for a file's ingest (:mod:`rirport.services.registry.collection`):
paused inside, enabled again after (also when the ingest fails), left off when it was off, and
pauses that overlap across threads enable it only when the last one ends."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from rirport.errors import FileRejectedError
from rirport.services.registry import ingest
from rirport.services.registry.collection import collection_paused, pauses_open
from rirport.services.registry.ingest import ingest_bytes
from rirport.store.unit import Store
from tests.excerpts import excerpt, real_file


@pytest.fixture(autouse=True)
def _collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def test_an_ingest_runs_with_the_collector_paused_and_enables_it_after(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    prepare = ingest.prepare_source.__wrapped__  # type: ignore[attr-defined]

    def watched(*args: object, **kwargs: object) -> ingest.PreparedFile:
        seen.append(gc.isenabled())
        return prepare(*args, **kwargs)

    monkeypatch.setattr(ingest, "prepare_source", watched)
    path = real_file("apnic")
    result = ingest_bytes(store, excerpt(path, 40), path.name)
    assert result.outcome == "ingested" and seen == [False]
    assert gc.isenabled() and pauses_open() == 0


def test_a_failed_ingest_enables_the_collector_again(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    check = ingest.ensure_acceptable

    def watched(*args: object) -> None:
        seen.append(gc.isenabled())
        check(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(ingest, "ensure_acceptable", watched)
    path = real_file("apnic")
    bad = excerpt(path, 40) + b"apnic|AU|ipv4|1.0.0.0|many|20110811|assigned|A91872ED|e-stats\n"
    with pytest.raises(FileRejectedError):
        ingest_bytes(store, bad, path.name)
    assert seen == [False]  # refused inside the pause
    assert gc.isenabled() and pauses_open() == 0


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with collection_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_overlapping_pauses_enable_the_collector_when_the_last_ends() -> None:
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    states: list[bool] = []

    def second() -> None:
        first_in.wait()
        with collection_paused():
            second_in.set()
            first_out.wait()
            states.append(gc.isenabled())  # the first pause ended: still paused for this one

    worker = threading.Thread(target=second)
    worker.start()
    with collection_paused():
        first_in.set()
        second_in.wait()
    first_out.set()
    worker.join()
    assert states == [False]
    assert gc.isenabled() and pauses_open() == 0
