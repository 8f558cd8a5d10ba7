"""A 20-year monthly time series over the whole archive, timed (``rirport series``).

The five real 2018 files are ingested into an empty store and read back as version columns
(:func:`rirport.query.series.load_versions`: the cold read, then from its cache file). No
store here holds 20 years of daily history, so that history is then grown as columns, at the
rate of :mod:`rirport.simulation` (0.05% of records changed a day, ``--rate``): each change
closes a record's version on a random day of the 20 years and opens a new one (a new holder
for a share of them, as the simulation's holder changes), with a snapshot for every registry
every day. Versions are what the series reads, so the columns stand for the store's table
as it would be after 20 years of ``rirport ingest``. Then every metric by every grouping, 240
monthly points, timed (best of three), beside the goal of 1 s.

    python -m bench.series [--rate 0.0005] [--years 20]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from dataclasses import fields, replace
from pathlib import Path

import numpy as np

from bench.common import files_2018, machine
from rirport.query.series import GROUPINGS, METRICS, Versions, load_versions, points, series
from rirport.services.registry.ingest import ingest_path
from rirport.store.unit import Store

EPOCH = dt.date(1970, 1, 1)


def grow(base: Versions, start: dt.date, years: int, rate: float, seed: int = 0) -> Versions:
    """``base`` (one snapshot per registry) as ``years`` of daily history at ``rate``."""
    rng = np.random.default_rng(seed)
    days = years * 365
    first = (start - EPOCH).days
    changes = int(len(base) * rate * days)
    row = np.concatenate([np.arange(len(base)), rng.integers(0, len(base), changes)])
    since = np.concatenate(
        [np.full(len(base), first), first + rng.integers(1, days, changes)]
    ).astype(np.int32)
    order = np.lexsort((since, row))
    row, since = row[order], since[order]
    until = np.full(len(row), first + days - 1, np.int32)
    same = row[1:] == row[:-1]
    until[:-1][same] = since[1:][same] - 1
    keep = since <= until  # two changes of one record on one day: one version
    row, since, until = row[keep], since[keep], until[keep]
    columns = {f.name: getattr(base, f.name) for f in fields(base)}
    grown = {k: v[row] for k, v in columns.items() if len(v) == len(base) and k != "holders"}
    changed = since > first
    new_holder = changed & (rng.random(len(row)) < 0.3)
    holder = grown["holder"].copy()
    holder[new_holder] = rng.integers(0, len(base.holders), int(new_holder.sum()))
    grown.update(holder=holder, valid_from=since, valid_to=until)
    registries = np.unique(base.snapshot_registry)
    day = np.arange(first, first + days, dtype=np.int32)
    return replace(
        base,
        **grown,
        snapshot_registry=np.repeat(registries, days).astype(np.uint8),
        snapshot_day=np.tile(day, len(registries)),
    )


def best(call, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        call()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=0.0005)
    parser.add_argument("--years", type=int, default=20)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'series.sqlite'}")
        for f in files_2018():
            ingest_path(store, f)
        cache = Path(tmp) / "cache"
        cold = best(lambda: load_versions(store), 1)
        load_versions(store, cache)
        warm = best(lambda: load_versions(store, cache))
        base = load_versions(store)
        store.close()
    print(
        f"store of the 2018 files: {len(base):,} versions; read as columns {cold:.2f}s cold, "
        f"{warm:.3f}s from the cache file"
    )
    start = dt.date(2004, 1, 1)
    history = grow(base, start, args.years, args.rate)
    at = points(start, dt.date(start.year + args.years - 1, 12, 1), "month")
    print(
        f"grown to {args.years} years of daily files at {args.rate:.4%} a day: "
        f"{len(history):,} versions, {len(history.snapshot_day):,} snapshots; "
        f"{len(at)} monthly points"
    )
    worst = 0.0
    for metric in METRICS:
        for by in GROUPINGS:
            fresh = grow(base, start, args.years, args.rate)  # nothing worked out yet
            first = best(lambda: series(fresh, metric, by, at, "month"), 1)  # noqa: B023
            took = best(lambda: series(fresh, metric, by, at, "month"))  # noqa: B023
            worst = max(worst, first)
            print(
                f"  {metric:9} by {by:8}: first {first * 1000:7.1f} ms, again "
                f"{took * 1000:7.1f} ms  ({first / 1:.2f}x the 1 s goal)"
            )
    print(f"slowest: {worst:.3f}s, {worst:.2f}x the 1 s goal ({'met' if worst < 1 else 'NOT met'})")


if __name__ == "__main__":
    main()
