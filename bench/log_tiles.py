"""Building the tiles of 100,000 entries vs reading the entries.

Target: tiles (every leaf hash, every complete subtree, the bytes of every hash tile and
entry bundle a checkpoint at that size publishes) in at most 2x the time to read the same
entries from the store. Reading an entry means getting its bytes, the export line (what
`journal export` does and what the tree hashes); the tiles' time includes that read. The
entries are those of bench/journal.py (transfer-step payloads of a few hundred bytes),
inserted in bulk.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from bench.common import best_time, machine
from bench.journal import fill
from rirport.log import merkle
from rirport.log.entries import entry_line
from rirport.log.tiles import encode_bundle, tile_hashes, tiles_for_size
from rirport.log.tree import Tree
from rirport.store.unit import Store

ENTRIES = 100_000


def read(store: Store) -> list[bytes]:
    """The entries' bytes (their export lines)."""
    with store.read() as uow:
        return [entry_line(*r).encode() for chunk in uow.journal.chunks() for r in chunk]


def tiles(store: Store) -> int:
    lines = read(store)
    tree = Tree()
    tree.extend(merkle.leaf_hash(line) for line in lines)
    total = 0
    for ref in tiles_for_size(tree.size):
        if ref.level is None:
            start = ref.index * 256
            total += len(encode_bundle(lines[start : start + ref.width]))
        else:
            total += len(tile_hashes(tree, ref))
    return total


def main(url: str | None = None) -> None:
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(url or f"sqlite:///{Path(tmp) / 'tiles.sqlite'}")
        start = time.perf_counter()
        fill(store, ENTRIES)
        print(f"{ENTRIES:,} entries inserted in {time.perf_counter() - start:.1f}s")
        reading = best_time(lambda: read(store), 3)
        building = best_time(lambda: tiles(store), 3)
        store.close()
    ratio = building / reading
    print(
        f"{store.engine.dialect.name}: read {reading:.3f}s, tiles (read included) "
        f"{building:.3f}s -> ratio {ratio:.2f}; target <= 2.0: "
        f"{'met' if ratio <= 2 else 'NOT met'}"
    )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
