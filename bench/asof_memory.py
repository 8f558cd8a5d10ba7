"""Memory of a server's as-of views: bounded by ``RIRPORT_AS_OF_VIEWS`` (least recently used
dropped).

The five real 2018 files and ``--days`` simulated days after them (:mod:`rirport.simulation`)
are ingested; then a :class:`~rirport.query.live.LiveIndex` with a bound of ``--bound``
views loads the as-of view of every day in turn, twice round, and the process's resident
memory is printed after each load: it grows for the first ``bound`` views, then stays flat
(within what the allocator keeps) however many dates are asked for.

    python -m bench.asof_memory --days 4 --bound 2
"""

from __future__ import annotations

import argparse
import gc
import tempfile
from pathlib import Path

import psutil

from bench.common import files_2018, machine
from rirport.query.live import LiveIndex
from rirport.query.view import release_free_memory
from rirport.services.registry.ingest import ingest_bytes
from rirport.simulation import DailyHistory
from rirport.store.unit import Store


def rss() -> float:
    gc.collect()
    release_free_memory()
    return float(psutil.Process().memory_info().rss) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=4)
    parser.add_argument("--bound", type=int, default=2)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'asof.sqlite'}")
        dates = []
        for day in DailyHistory.from_paths(files_2018(), seed=1).days(args.days + 1):
            for f in day.files:
                ingest_bytes(store, f.data, f.name)
            dates.append(max(f.date for f in day.files))
        live = LiveIndex(store, None, as_of_views=args.bound)
        base = rss()
        print(f"current view loaded: {base:.0f} MiB resident; bound {args.bound} as-of views")
        figures = []
        for k, date in enumerate(dates * 2):
            live.as_of(date)
            figures.append(rss())
            held = len(live._as_of._done)
            print(
                f"  as-of {date} (load {k + 1}): {figures[-1]:.0f} MiB "
                f"(+{figures[-1] - base:.0f} over the current view), {held} views held"
            )
        store.close()
    plateau = figures[args.bound - 1]
    print(
        f"after {len(figures)} loads of {len(dates)} dates: {figures[-1]:.0f} MiB, "
        f"{figures[-1] / plateau:.2f}x the memory at {args.bound} views "
        f"(per view about {(plateau - base) / args.bound:.0f} MiB)"
    )


if __name__ == "__main__":
    main()
