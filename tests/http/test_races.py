"""The server's races, made deterministic with barriers (no sleeps):

* several loads of one view cache at once — threads of one process (a refresh and an as-of
  request, two apps) or uvicorn worker processes starting together — each write the cache
  cache through their own temporary folder, and none removes another's;
* two requests needing one as-of view at once load it once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import multiprocessing
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rirport.query import view as view_module
from rirport.query.live import LiveIndex, Memo
from rirport.query.view import load_current
from rirport.store.unit import Store
from tests.http.conftest import fill
from tests.http.race_worker import TIMEOUT, load_in_a_worker, savez_meeting


def _same_views(a: view_module.CurrentView, b: view_module.CurrentView) -> bool:
    return (
        a.generation == b.generation
        and np.array_equal(a.snapshot_ids, b.snapshot_ids)
        and (a.table.rows() == b.table.rows())
    )


@pytest.fixture
def filled_url(store_url: str) -> str:
    store = Store(store_url)
    try:
        fill(store)
    finally:
        store.close()
    return store_url


def test_two_loads_in_one_process_write_the_cache_safely(
    filled_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tmp_path = tmp_path / "cache"
    monkeypatch.setattr(view_module, "_write_arrays", savez_meeting(threading.Barrier(2)))
    stores = [Store(filled_url), Store(filled_url)]
    results: list[Any] = [None, None]

    def load(i: int) -> None:
        try:
            results[i] = load_current(stores[i], tmp_path)
        except BaseException as exc:  # reported below
            results[i] = exc

    threads = [threading.Thread(target=load, args=(i,)) for i in range(2)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(TIMEOUT)
        errors = [r for r in results if isinstance(r, BaseException)]
        assert not errors, errors
        assert _same_views(results[0], results[1])
        monkeypatch.undo()
        (cache,) = tmp_path.iterdir()  # one whole cache, no temporary left behind
        assert (cache / "meta.json").is_file()
        with stores[0].read() as uow:
            head = uow.meta.head()
        again = view_module._read_cache(cache, stores[0].identity, head, results[0].snapshots)
        assert again is not None and _same_views(again, results[0])
    finally:
        for store in stores:
            store.close()


def test_worker_processes_starting_together_share_one_cache(
    filled_url: str, tmp_path: Path
) -> None:
    tmp_path = tmp_path / "cache"
    context = multiprocessing.get_context("spawn")  # fresh interpreters, like uvicorn's
    barrier, out = context.Barrier(2), context.Queue()
    workers = [
        context.Process(target=load_in_a_worker, args=(filled_url, str(tmp_path), barrier, out))
        for _ in range(2)
    ]
    for w in workers:
        w.start()
    answers = [out.get(timeout=TIMEOUT) for _ in workers]
    for w in workers:
        w.join(TIMEOUT)
    assert [a[0] for a in answers] == ["ok", "ok"], "\n".join(str(a[1]) for a in answers)
    assert answers[0][1:] == answers[1][1:]
    assert len(list(tmp_path.iterdir())) == 1
    store = Store(filled_url)
    try:
        assert len(load_current(store, tmp_path).table) == answers[0][2]
    finally:
        store.close()


def _waiting_on_a_future(thread: threading.Thread) -> bool:
    """Whether ``thread`` is blocked in ``Future.result`` (what a second caller should do)."""
    frame = sys._current_frames().get(thread.ident or -1)
    while frame is not None:
        if frame.f_code.co_name == "result" and "concurrent" in frame.f_code.co_filename:
            return True
        frame = frame.f_back
    return False


def test_two_requests_for_one_as_of_view_load_it_once(filled_store: Store) -> None:
    live = LiveIndex(filled_store)
    release, first_started = threading.Event(), threading.Event()
    calls: list[dt.date] = []
    real = live._load_as_of

    def slow_load(date: dt.date) -> Any:
        calls.append(date)
        first_started.set()
        assert release.wait(TIMEOUT)
        return real(date)

    live._load_as_of = slow_load  # type: ignore[method-assign]
    day = dt.date(2018, 12, 31)
    got: list[Any] = []
    first = threading.Thread(target=lambda: got.append(live.as_of(day)))
    second = threading.Thread(target=lambda: got.append(live.as_of(day)))
    first.start()
    assert first_started.wait(TIMEOUT)
    second.start()
    deadline = time.monotonic() + TIMEOUT  # until the second caller loads or waits
    while len(calls) < 2 and not _waiting_on_a_future(second):
        assert time.monotonic() < deadline, "the second request neither loaded nor waited"
        time.sleep(0.01)
    release.set()
    first.join(TIMEOUT)
    second.join(TIMEOUT)
    assert calls == [day]
    assert len(got) == 2 and got[0] is got[1]
    assert live.as_of(day) is got[0]  # kept for the next request


def test_memo_keeps_the_last_values_and_forgets_failures() -> None:
    memo: Memo[int, str] = Memo(2)
    assert [memo.get(k, functools.partial("v{}".format, k)) for k in (1, 2, 1, 3)] == [
        "v1",
        "v2",
        "v1",
        "v3",
    ]
    assert memo.get(2, lambda: "again") == "again"  # 2 was the oldest: evicted

    def fail() -> str:
        raise ValueError("no")

    with pytest.raises(ValueError):
        memo.get(4, fail)
    assert memo.get(4, lambda: "v4") == "v4"


def test_a_first_derived_answer_leaves_the_event_loop_free(filled_store: Store) -> None:
    """Bootstrap files and stats are made on first request; an async handler making them on
    the event loop would stall every other request of the process meanwhile."""
    served = LiveIndex(filled_store).served

    def slow() -> int:
        time.sleep(0.3)
        return 42

    async def scenario() -> tuple[int, int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        task = asyncio.create_task(ticker())
        value = await served.derived_off_loop("slow", slow)
        task.cancel()
        return value, ticks

    value, ticks = asyncio.run(scenario())
    assert value == 42 and ticks >= 10

    def never() -> int:
        raise AssertionError("computed twice")

    assert asyncio.run(served.derived_off_loop("slow", never)) == 42
    assert served.derived("slow", never) == 42
