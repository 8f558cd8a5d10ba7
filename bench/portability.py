"""``rirport portability`` over the five 2018 files and both built-in regimes, vs loading the
index for them.

Target: at most 2x the time to load the index (the current view from its cache plus the
RegistryIndex build). Both sides start from the store: the portability run loads the same
view, reads the IANA blocks and the store's transfers and holds, gathers every row's facts
and evaluates every delegation against every other registry under each regime. The scenario
"AFRINIC stops functioning" is timed on its own, for information.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from bench.common import best_time, files_2018, machine, report
from rirport.domain.enums import Registry
from rirport.index.registry import RegistryIndex
from rirport.policy.loader import builtin_names, load_regime
from rirport.query.view import load_current
from rirport.services.registry.iana import load_iana
from rirport.services.registry.ingest import ingest_path
from rirport.services.transfers.portability import run_portability
from rirport.store.unit import Store

AS_OF = dt.date(2026, 11, 28)


def main() -> None:
    print(f"machine: {machine()}")
    regimes = [load_regime(name) for name in builtin_names()]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store = Store(f"sqlite:///{folder / 'portability.sqlite'}")
        for path in files_2018():
            ingest_path(store, path)
        cache = folder / "cache"
        load_current(store, cache)  # write the view cache both sides read

        def load_index() -> None:
            RegistryIndex(load_current(store, cache).table)

        def portability() -> None:
            run_portability(load_current(store, cache), load_iana(store), regimes, AS_OF, store)

        def scenario() -> None:
            run_portability(
                load_current(store, cache),
                load_iana(store),
                regimes,
                AS_OF,
                store,
                registries=[],
                failing=[Registry.AFRINIC],
            )

        index_time = best_time(load_index)
        ours = best_time(portability)
        result = run_portability(
            load_current(store, cache), load_iana(store), regimes, AS_OF, store
        )
        print(
            f"{result.rows:,} delegations x 4 targets x {len(regimes)} regimes: "
            f"{len(result.cells)} cells"
        )
        report("portability vs index load", ours, index_time, "<= 2.0", ours <= 2 * index_time)
        print(f"scenario 'AFRINIC stops functioning' (both regimes): {best_time(scenario):.3f}s")
        store.close()


if __name__ == "__main__":
    main()
