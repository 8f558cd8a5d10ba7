"""Memory the in-memory index adds to a process, for the five 2018 registries.

Target: at most 100 MB. The store is filled first; then a fresh process measures the growth
of its resident set (RSS) from before the current view is read from the store to after the
index is built (a fresh process, so freed memory from ingest cannot hide growth). The exact
bytes of all numpy arrays are printed beside it as a cross-check.
"""

from __future__ import annotations

import gc
import subprocess
import sys
import tempfile
from dataclasses import fields
from pathlib import Path

import numpy as np
import psutil

from bench.common import files_2018, machine
from rirport.index.registry import RegistryIndex
from rirport.query.view import load_current, release_free_memory
from rirport.services.registry.ingest import ingest_path
from rirport.store.unit import Store


def rss() -> int:
    gc.collect()
    _trim()
    return int(psutil.Process().memory_info().rss)


def _trim() -> None:
    """Return freed heap pages to the system, as a long-running server would."""
    release_free_memory()


def array_bytes(obj: object) -> int:
    """Bytes of the numpy arrays held by a dataclass or plain object (one level deep)."""
    names = (
        [f.name for f in fields(obj)] if hasattr(obj, "__dataclass_fields__") else list(vars(obj))
    )
    return sum(getattr(obj, n).nbytes for n in names if isinstance(getattr(obj, n), np.ndarray))


def measure(url: str, cache: Path | None) -> None:
    store = Store(url)
    before = rss()
    view = load_current(store, cache)
    after_view = rss()
    index = RegistryIndex(view.table)
    after_index = rss()
    exact_view = array_bytes(view.table) + view.snapshot_ids.nbytes
    exact_index = array_bytes(index) + sum(array_bytes(r) for r in index.by_type.every())
    total = (after_index - before) / 1e6
    print(f"rows: {len(view.table):,}")
    print(
        f"numpy arrays: view {exact_view / 1e6:.1f} MB, index {exact_index / 1e6:.1f} MB, "
        f"together {(exact_view + exact_index) / 1e6:.1f} MB"
    )
    source = "the cache file" if cache else "the store"
    print(
        f"RSS growth in a fresh process reading {source}: "
        f"view {(after_view - before) / 1e6:.1f} MB, "
        f"index {(after_index - after_view) / 1e6:.1f} MB, total {total:.1f} MB; "
        f"target <= 100 MB: {'met' if total <= 100 else 'NOT met'}"
    )


def main() -> None:
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'memory.sqlite'}"
        store = Store(url)
        for f in files_2018():
            ingest_path(store, f)
        cache = Path(tmp) / "cache"
        load_current(store, cache)
        store.close()
        for args in ([url], [url, str(cache)]):
            subprocess.run([sys.executable, "-m", "bench.memory", "--measure", *args], check=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--measure"]:
        measure(sys.argv[2], Path(sys.argv[3]) if len(sys.argv) > 3 else None)
    else:
        main()
