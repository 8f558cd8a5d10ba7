"""Inclusion and consistency proofs at tree size 1,000,000: server time per proof.

Target: under 1 ms each. The tree is what a server holds (:class:`LogReader`'s in-memory
:class:`~rirport.log.tree.Tree`, complete subtrees only); the proofs are computed as the
``/log/proof/...`` handlers compute them, for random indices and sizes, and checked.
"""

from __future__ import annotations

import hashlib
import random
import time

from bench.common import machine
from rirport.log import merkle
from rirport.log.tree import Tree

SIZE = 1_000_000
PROOFS = 2_000


def main() -> None:
    print(f"machine: {machine()}")
    start = time.perf_counter()
    tree = Tree()
    tree.extend(hashlib.sha256(i.to_bytes(8, "big")).digest() for i in range(SIZE))
    built = time.perf_counter() - start
    rng = random.Random(1)
    root = tree.root()
    cases = [(rng.randrange(SIZE), SIZE - rng.randrange(1000)) for _ in range(PROOFS)]
    start = time.perf_counter()
    for index, size in cases:
        merkle.inclusion_proof(tree, min(index, size - 1), size)
    inclusion = (time.perf_counter() - start) / PROOFS
    olds = [(rng.randrange(1, SIZE), SIZE) for _ in range(PROOFS)]
    start = time.perf_counter()
    for old, new in olds:
        merkle.consistency_proof(tree, old, new)
    consistency = (time.perf_counter() - start) / PROOFS
    index = cases[0][0]
    assert merkle.verify_inclusion(
        tree.node(0, index), index, SIZE, merkle.inclusion_proof(tree, index, SIZE), root
    )
    old = olds[0][0]
    assert merkle.verify_consistency(
        old, SIZE, merkle.consistency_proof(tree, old, SIZE), tree.root(old), root
    )
    print(f"tree of {SIZE:,} leaves built in memory in {built:.2f}s")
    for name, seconds in (("inclusion", inclusion), ("consistency", consistency)):
        print(
            f"{name} proof at size {SIZE:,}: {seconds * 1e6:.1f} us each (mean of {PROOFS}); "
            f"target < 1000 us: {'met' if seconds < 1e-3 else 'NOT met'}"
        )


if __name__ == "__main__":
    main()
