"""SQLite: reads during an ingest, and the ingest's own time, per journal mode.

Issue 11 #30 measured reads failing after 16-41 s during an ingest, when every transaction
(reads included) began ``BEGIN IMMEDIATE`` on a rollback-journal file. Three set-ups, each
ingesting the five 2018 files over a store holding the 2017 files (the longest write
transactions rirport makes, change events included) while the main thread reads as
``journal show`` and a token check do, one short read transaction every 50 ms (the ingest
runs in a process of its own, as ``rirport ingest`` beside a server does):

* ``old``: rollback journal (``DELETE``), reads take the write lock (as before the fix);
* ``delete``: rollback journal, reads deferred (:meth:`Store.read`);
* ``wal``: write-ahead log, reads deferred: what rirport ships.

Printed per set-up: the ingest time, reads done, the slowest and 99th-percentile read, and
reads that failed. Then the fresh-store ingest (five 2018 files) in each journal mode,
interleaved, best of three: WAL must not make an ingest slower.
"""

from __future__ import annotations

import functools
import multiprocessing
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from bench.common import files_2018, machine
from bench.ingest import files_2017, ingest_all
from rirport.errors import StorageError
from rirport.formats.source import read_source
from rirport.services.registry.ingest import PendingFile, ingest_many
from rirport.store import engine
from rirport.store.unit import Store, UnitOfWork

SETUPS = {"old": ("DELETE", False), "delete": ("DELETE", True), "wal": ("WAL", True)}


def _ingest_2018(url: str, mode: str) -> None:
    """The writer, in a process of its own (as ``rirport ingest`` beside a server is)."""
    engine.JOURNAL_MODE = mode
    store = Store(url)
    pending = [PendingFile(functools.partial(read_source, f)) for f in files_2018()]
    list(ingest_many(store, pending))
    store.close()


def reads_during_ingest(base: Path, folder: Path, name: str) -> str:
    mode, deferred = SETUPS[name]
    engine.JOURNAL_MODE = mode
    target = folder / f"{name}.sqlite"
    shutil.copy(base, target)
    url = f"sqlite:///{target}"
    store = Store(url)
    begin: Callable[[], AbstractContextManager[UnitOfWork]] = (
        store.read if deferred else store.transaction
    )
    start = time.perf_counter()
    writer = multiprocessing.get_context("fork").Process(target=_ingest_2018, args=(url, mode))
    writer.start()
    latencies, failures = [], 0
    while writer.is_alive():
        before = time.perf_counter()
        try:
            with begin() as uow:
                uow.journal.count()
                uow.snapshots.current()
        except StorageError:
            failures += 1
        latencies.append(time.perf_counter() - before)
        time.sleep(0.05)
    writer.join()
    took = time.perf_counter() - start
    store.close()
    target.unlink()
    p99 = statistics.quantiles(latencies, n=100)[98] if len(latencies) > 1 else latencies[0]
    return (
        f"{name:>6}: ingest {took:6.2f}s, {len(latencies):5d} reads, slowest "
        f"{max(latencies):6.3f}s, p99 {p99:6.3f}s, failed {failures}"
    )


def fresh_ingest(folder: Path, mode: str, run: int) -> float:
    engine.JOURNAL_MODE = mode
    url = f"sqlite:///{folder / f'fresh-{mode}-{run}.sqlite'}"
    start = time.perf_counter()
    ingest_all(files_2018(), url, events=True)
    return time.perf_counter() - start


def main() -> None:
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        base = folder / "base-2017.sqlite"
        engine.JOURNAL_MODE = "DELETE"  # one file, no -wal beside it, for copying
        ingest_all(files_2017(), f"sqlite:///{base}")
        print("reads during an ingest of the 2018 files over the 2017 store:")
        for name in SETUPS:
            print(reads_during_ingest(base, folder, name))
        times: dict[str, list[float]] = {"DELETE": [], "WAL": []}
        for run in range(3):  # interleaved, so both see the same machine load
            for mode in times:
                times[mode].append(fresh_ingest(folder, mode, run))
        delete, wal = min(times["DELETE"]), min(times["WAL"])
        print(
            f"fresh ingest of the five 2018 files: DELETE {delete:.3f}s, WAL {wal:.3f}s; "
            f"WAL/DELETE ratio {wal / delete:.2f} (target <= 1.05: "
            f"{'met' if wal <= 1.05 * delete else 'NOT met'})"
        )


if __name__ == "__main__":
    main()
