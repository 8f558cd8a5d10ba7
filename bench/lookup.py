"""Bulk IPv4 lookups: rirport's index vs pytricia, and vs a bare numpy.searchsorted.

Targets: from strings, at least 2x pytricia's throughput (both answering registry and
delegation); from an integer array, at least 0.8x the throughput of a bare searchsorted over
the same ranges' starts (which answers only "the nearest start below", not containment).
"""

from __future__ import annotations

import ipaddress
import tempfile
from pathlib import Path

import numpy as np
import pytricia

from bench.common import best_time, files_2018, machine
from rirport.domain.enums import REGISTRIES, ResourceType
from rirport.domain.resources import ResourceRange
from rirport.domain.table import TYPE_CODE
from rirport.index.registry import RegistryIndex
from rirport.query.view import load_current
from rirport.services.registry.ingest import ingest_path
from rirport.store.unit import Store

QUERIES = 1_000_000


def load_table(folder: Path):  # type: ignore[no-untyped-def]
    store = Store(f"sqlite:///{folder / 'lookup.sqlite'}")
    for f in files_2018():
        ingest_path(store, f)
    return load_current(store).table


def build_pytricia(table) -> pytricia.PyTricia:  # type: ignore[no-untyped-def]
    """Every IPv4 delegation as CIDR prefixes, valued (registry, row)."""
    trie = pytricia.PyTricia(32)
    rows = np.flatnonzero(table.type == TYPE_CODE[ResourceType.IPV4])
    # biggest first, so a smaller (more specific) range overwrites a shared exact prefix
    for row in sorted(rows.tolist(), key=lambda r: -int(table.value[r])):
        rng = ResourceRange(ResourceType.IPV4, table.first_int(row), table.last_int(row))
        for net in rng.to_cidrs():
            trie[str(net)] = (REGISTRIES[table.registry[row]].value, row)
    return trie


def make_queries(table, rng: np.random.Generator) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Half inside delegations, half uniformly random."""
    rows = np.flatnonzero(table.type == TYPE_CODE[ResourceType.IPV4])
    picked = rng.choice(rows, QUERIES // 2)
    offsets = (rng.random(len(picked)) * table.value[picked]).astype(np.uint64)
    inside = table.first_lo[picked] + offsets
    anywhere = rng.integers(0, 2**32, QUERIES - len(inside), dtype=np.uint64)
    queries = np.concatenate([inside, anywhere])
    rng.shuffle(queries)
    return queries


def main() -> None:
    print(f"machine: {machine()}; pytricia {getattr(pytricia, '__version__', '?')}")
    with tempfile.TemporaryDirectory() as tmp:
        table = load_table(Path(tmp))
    index = RegistryIndex(table)
    trie = build_pytricia(table)
    numbers = make_queries(table, np.random.default_rng(2018))
    texts = [str(ipaddress.IPv4Address(n)) for n in numbers.tolist()]

    def with_trie() -> list[object]:
        get = trie.get
        return [get(t) for t in texts]

    trie_time = best_time(with_trie, repeat=3)
    ours_text = best_time(lambda: index.best_ipv4_text(texts), repeat=3)
    rows, _ = index.best_ipv4_text(texts)
    agree = sum(
        1
        for r, t in zip(rows.tolist(), with_trie(), strict=True)
        if (t is None and r < 0) or (t is not None and t[1] == r)
    )
    print(f"{QUERIES:,} queries; answers agree with pytricia on {agree / QUERIES:.4%}")
    ratio = trie_time / ours_text
    print(
        f"strings: rirport {QUERIES / ours_text:,.0f}/s, pytricia {QUERIES / trie_time:,.0f}/s"
        f" -> throughput ratio {ratio:.2f}; target >= 2.0: {'met' if ratio >= 2 else 'NOT met'}"
    )

    ipv4 = index.by_type[ResourceType.IPV4]
    starts = ipv4.first_sorted
    bare = best_time(lambda: np.searchsorted(starts, numbers, side="right") - 1)
    ours_int = best_time(lambda: index.best_ipv4(numbers))
    ratio = bare / ours_int
    print(
        f"integers: rirport {QUERIES / ours_int:,.0f}/s, bare searchsorted "
        f"{QUERIES / bare:,.0f}/s -> throughput ratio {ratio:.2f}; target >= 0.8: "
        f"{'met' if ratio >= 0.8 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
