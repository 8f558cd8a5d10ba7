"""As-of lookups on a store holding every shared snapshot (14 files, 2014-2018) vs lookups on
the current view of the same store.

Target: an as-of lookup takes at most 2x a current-view lookup. Measured three ways, each in
this one run: (1) single queries (addresses, prefixes, ASNs of both years) on an as-of view vs
the current view, both loaded; (2) what one ``rirport lookup --as-of`` invocation does with a
warm cache (load the view from its cache file, build the index, answer one query) vs the same
without ``--as-of``; (3) for information, the cold as-of load (read from the store, the first
time a date is asked) vs the cold current load.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import DELEGATED, best_time, machine, report
from rirport.domain.enums import ResourceType
from rirport.domain.table import TYPE_CODE, DelegationTable
from rirport.query.lookup import Lookup
from rirport.query.view import load_as_of, load_current
from rirport.services.registry.ingest import expand_paths, ingest_path
from rirport.store.unit import Store

AS_OF = dt.date(2017, 6, 1)  # every registry's 2017 file (the 2018 ones are newer)
QUERIES = 3000


def queries(table: DelegationTable, rng: np.random.Generator) -> list[str]:
    """Starts of real delegations of every type, as lookup text."""
    rows = rng.choice(len(table), QUERIES, replace=False)
    texts = []
    for row in rows.tolist():
        delegation = table.row(row)
        if table.type[row] == TYPE_CODE[ResourceType.ASN]:
            texts.append(f"AS{delegation.start}")
        else:
            texts.append(str(delegation.resource.to_cidrs()[0]))
    return texts


def per_query(
    lookups: tuple[Lookup, Lookup], texts: list[str], rounds: int = 5
) -> tuple[float, float]:
    """Seconds per query of each lookup, best of ``rounds`` runs taken alternately (so load
    from other processes falls on both sides alike)."""
    best = [float("inf"), float("inf")]
    for _ in range(rounds):
        for side, lookup in enumerate(lookups):
            start = time.perf_counter()
            for text in texts:
                lookup.find(text)
            best[side] = min(best[side], time.perf_counter() - start)
    return best[0] / len(texts), best[1] / len(texts)


def main() -> None:
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'asof.sqlite'}")
        files = expand_paths([DELEGATED])
        started = time.perf_counter()
        for path in files:
            ingest_path(store, path)
        print(f"ingested {len(files)} files in {time.perf_counter() - started:.1f}s")
        cache = Path(tmp) / "cache"
        cold_current = best_time(lambda: load_current(store), repeat=1)
        cold_as_of = best_time(lambda: load_as_of(store, AS_OF), repeat=1)
        current, then = load_current(store, cache), load_as_of(store, AS_OF, cache)
        chosen = ", ".join(f"{s.registry} {s.snapshot_date}" for s in then.snapshots)
        print(
            f"as of {AS_OF}: {chosen} ({len(then.table)} records; current view "
            f"{len(current.table)})"
        )
        rng = np.random.default_rng(4)
        texts = queries(then.table, rng) + queries(current.table, rng)
        now_lookup, then_lookup = Lookup(current), Lookup(then)
        ours, base = per_query((then_lookup, now_lookup), texts)
        report("as-of lookup, view loaded (per query)", ours, base, "<= 2.0", ours <= 2 * base)
        print(f"  {ours * 1e6:.0f} us vs {base * 1e6:.0f} us per query")

        def invocation(as_of: dt.date | None) -> None:
            view = load_current(store, cache) if as_of is None else load_as_of(store, as_of, cache)
            Lookup(view).find(texts[0])

        warm_as_of = best_time(lambda: invocation(AS_OF), repeat=3)
        warm_current = best_time(lambda: invocation(None), repeat=3)
        report(
            "as-of lookup, one invocation with a warm cache",
            warm_as_of,
            warm_current,
            "<= 2.0",
            warm_as_of <= 2 * warm_current,
        )
        print(
            f"for information, cold loads from the store: as of {AS_OF} {cold_as_of:.2f}s, "
            f"current {cold_current:.2f}s (ratio {cold_as_of / cold_current:.2f})"
        )
        store.close()


if __name__ == "__main__":
    main()
