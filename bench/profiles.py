"""Building every profile (registries, policies, countries, ~100,000 holders) vs loading the
index, on the five October 2018 files.

Baseline: load the current view from its cache file and build the RegistryIndex, which is what
any command answering about the data pays first. Ours: (1) the bulk aggregation — facts for
every delegation, every row decided for every target registry under both regimes, summed per
holder, registry and country; (2) that plus formatting every profile as an NDJSON line
(``rirport profile --all --format ndjson`` without the terminal). Ratios measured in one run.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import time
from pathlib import Path

from bench.common import best_time, files_2018, machine
from rirport.index.registry import RegistryIndex
from rirport.query.view import load_current
from rirport.services.profiles.build import build_profiles
from rirport.services.registry.ingest import ingest_path
from rirport.store.unit import Store

AS_OF = dt.date(2026, 11, 28)


def main() -> None:
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store = Store(f"sqlite:///{folder / 'profiles.sqlite'}")
        for path in files_2018():
            ingest_path(store, path)
        cache = folder / "cache"
        load_current(store, cache)  # write the cache file both sides then read

        def index() -> None:
            RegistryIndex(load_current(store, cache).table)

        view = load_current(store, cache)
        baseline = best_time(index, repeat=3)
        aggregate = best_time(lambda: build_profiles(store, AS_OF, cache, view), repeat=3)
        start = time.perf_counter()
        profiles = build_profiles(store, AS_OF, cache, view)
        count = sum(len(json.dumps(p.to_json(), ensure_ascii=False)) > 0 for p in profiles.all())
        full = time.perf_counter() - start
        holders = len(profiles.context.holdings)
        store.close()
    print(f"load view + index: {baseline:.2f}s")
    print(
        f"aggregate every holder, registry, country ({holders:,} holders): {aggregate:.2f}s "
        f"= {aggregate / baseline:.1f}x the index"
    )
    print(
        f"aggregate + format all {count:,} profiles as NDJSON: {full:.1f}s "
        f"= {full / baseline:.1f}x the index ({1e6 * (full - aggregate) / count:.0f} us a "
        "profile)"
    )


if __name__ == "__main__":
    main()
