"""A Merkle tree held as its complete subtree hashes, level by level.

Appending leaf i creates the leaf hash and one node per trailing one bit of i + 1 (on average
two hashes in all); nothing is ever rewritten, so what :meth:`Tree.append` returns is exactly
what a store must persist, and a tree of n leaves holds fewer than 2n hashes. Each level is
one ``bytearray`` of 32-byte hashes, so a tree of a million entries is 64 MB of flat memory
and a node is a slice, which keeps proofs (:mod:`rirport.log.merkle`) in microseconds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from rirport.log.merkle import EMPTY_ROOT, HASH_SIZE, node_hash, root

Node = tuple[int, int, bytes]
"""(level, index, hash) of a complete subtree."""


class Tree:
    """The complete subtrees of a tree of :attr:`size` leaves."""

    def __init__(self) -> None:
        self.levels: list[bytearray] = [bytearray()]

    @property
    def size(self) -> int:
        return len(self.levels[0]) // HASH_SIZE

    def node(self, level: int, index: int) -> bytes:
        """The complete subtree ``index`` of height ``level``.

        Raises:
            IndexError: the tree has no such complete subtree (yet).
        """
        if level >= len(self.levels):
            raise IndexError(f"no node at level {level}")
        data = self.levels[level]
        at = index * HASH_SIZE
        if index < 0 or at + HASH_SIZE > len(data):
            raise IndexError(f"no node {index} at level {level}")
        return bytes(data[at : at + HASH_SIZE])

    def count(self, level: int) -> int:
        """How many complete subtrees of height ``level`` the tree has."""
        return len(self.levels[level]) // HASH_SIZE if level < len(self.levels) else 0

    def append(self, leaf: bytes) -> list[Node]:
        """Add a leaf hash; returns the nodes it completed (the leaf first)."""
        index = self.size
        self.levels[0] += leaf
        made: list[Node] = [(0, index, leaf)]
        level, current = 0, leaf
        while index & 1:
            left = self.node(level, index - 1)
            current = node_hash(left, current)
            level, index = level + 1, index >> 1
            if level == len(self.levels):
                self.levels.append(bytearray())
            self.levels[level] += current
            made.append((level, index, current))
        return made

    def extend(self, leaves: Iterable[bytes]) -> None:
        """Append many leaf hashes at once: each level is completed in one pass over the
        level below (the same nodes :meth:`append` makes, several times faster)."""
        level0 = self.levels[0]
        for leaf in leaves:
            level0 += leaf
        level = 0
        sha256 = hashlib.sha256
        while self.count(level) >= 2:
            below = memoryview(self.levels[level])
            if level + 1 == len(self.levels):
                self.levels.append(bytearray())
            above = self.levels[level + 1]
            for i in range(self.count(level + 1), self.count(level) // 2):
                at = 2 * i * HASH_SIZE
                above += sha256(b"\x01" + below[at : at + 2 * HASH_SIZE]).digest()
            below.release()
            level += 1

    def load(self, nodes: Iterable[Node]) -> None:
        """Take stored nodes, in (level, index) order from where this tree stops.

        Raises:
            ValueError: a node is missing or out of order (storage is not a tree).
        """
        for level, index, digest in nodes:
            while level >= len(self.levels):
                self.levels.append(bytearray())
            if index != self.count(level) or len(digest) != HASH_SIZE:
                raise ValueError(f"stored node ({level}, {index}) is out of sequence")
            self.levels[level] += digest

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first ``size`` leaves (all of them by default)."""
        size = self.size if size is None else size
        if size > self.size:
            raise ValueError(f"the tree has {self.size} leaves, not {size}")
        return root(self, size) if size else EMPTY_ROOT


class SparseNodes:
    """A few known nodes (from storage) and the append arithmetic over them: what a write
    transaction needs to add leaves without loading the whole tree. Seeded with the
    :func:`right_edge` of the stored tree, it holds every left sibling an append can reach
    (the trailing one bits of the size are right-edge subtrees) and every hash of the new
    root."""

    def __init__(self, size: int, known: dict[tuple[int, int], bytes]) -> None:
        self.size = size
        self.known = dict(known)

    def node(self, level: int, index: int) -> bytes:
        return self.known[(level, index)]

    def append(self, leaf: bytes) -> list[Node]:
        index = self.size
        self.known[(0, index)] = leaf
        made: list[Node] = [(0, index, leaf)]
        level, current = 0, leaf
        while index & 1:
            current = node_hash(self.known[(level, index - 1)], current)
            level, index = level + 1, index >> 1
            self.known[(level, index)] = current
            made.append((level, index, current))
        self.size += 1
        return made

    def root(self) -> bytes:
        """The root, folded from the right edge (one hash per one bit of the size) when it
        is known, as it is after every append."""
        if not self.size:
            return EMPTY_ROOT
        edge = right_edge(self.size)
        if any(k not in self.known for k in edge):
            return root(self, self.size)
        return edge_root([self.known[k] for k in edge])


def edge_append(
    edge: tuple[Node, ...], size: int, leaf: bytes
) -> tuple[list[Node], tuple[Node, ...]]:
    """Append a leaf hash to a tree of ``size`` leaves known only by its right edge (the
    nodes of :func:`right_edge` with their hashes, largest first): the nodes the leaf
    completed (the leaf first, as :meth:`Tree.append` returns them) and the new right edge.
    The left sibling of each merge is the edge's last subtree not yet merged (the trailing one
    bits of ``size`` are its smallest subtrees), so nothing is looked up."""
    made: list[Node] = [(0, size, leaf)]
    level, index, current = 0, size, leaf
    cut = len(edge)
    while index & 1:
        cut -= 1
        current = node_hash(edge[cut][2], current)
        level, index = level + 1, index >> 1
        made.append((level, index, current))
    return made, (*edge[:cut], (level, index, current))


def edge_root(hashes: list[bytes]) -> bytes:
    """The root of a tree from its right edge's hashes (:func:`right_edge` order, at least
    one): RFC 9162's MTH splits at the largest power of two, which is the first of them."""
    acc = hashes[-1]
    for left in reversed(hashes[:-1]):
        acc = node_hash(left, acc)
    return acc


def edge_nodes_root(edge: tuple[Node, ...]) -> bytes:
    """:func:`edge_root` of a right edge given as nodes (what :func:`edge_append` returns),
    the node hash written out: it runs once per one bit of the size in every write."""
    sha256 = hashlib.sha256
    acc = edge[-1][2]
    for i in range(len(edge) - 2, -1, -1):
        acc = sha256(b"\x01" + edge[i][2] + acc).digest()
    return acc


def right_edge(size: int) -> list[tuple[int, int]]:
    """The complete subtrees whose hashes make up the root of a tree of ``size`` (one per one
    bit of size, largest first)."""
    out, start = [], 0
    while size:  # one step per one bit (every write computes this, so not per bit)
        level = size.bit_length() - 1
        out.append((level, start >> level))
        start += 1 << level
        size ^= 1 << level
    return out
