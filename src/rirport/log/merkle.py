"""Merkle tree hashing, proofs and their verification, as RFC 9162 §2.1 defines them.

The tree is over a list of entries D[0:n]; its hash MTH is SHA-256 of the empty string for
n = 0, ``leaf_hash(d)`` = SHA-256(0x00 ‖ d) for one entry, and for n > 1, with k the largest
power of two smaller than n, ``node_hash(MTH(D[0:k]), MTH(D[k:n]))`` where node_hash is
SHA-256(0x01 ‖ left ‖ right). The distinct prefixes keep a leaf from passing for a node.

Every subtree a proof names is either *complete* (2^h leaves starting at a multiple of 2^h,
the only hashes a tree ever stores: see :class:`NodeSource`) or the ragged right edge of the
tree, which :func:`subtree_hash` folds from complete ones. So proofs cost O(log n) lookups
whatever the storage, the property that lets proofs at a million entries take microseconds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH of the empty list (RFC 9162 §2.1.1)."""


def leaf_hash(entry: bytes) -> bytes:
    """SHA-256(0x00 ‖ entry)."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 ‖ left ‖ right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


class NodeSource(Protocol):
    """Where complete subtree hashes come from: ``node(level, index)`` is MTH of the leaves
    index·2^level … (index+1)·2^level − 1 (level 0: the leaf hashes)."""

    def node(self, level: int, index: int) -> bytes: ...


def _largest_power_below(n: int) -> int:
    """The largest power of two strictly smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def subtree_hash(source: NodeSource, start: int, end: int) -> bytes:
    """MTH(D[start:end]) for a subtree of the RFC's recursion: complete, or ending at the
    tree's right edge (then split as MTH splits it)."""
    count = end - start
    if count <= 0:
        return EMPTY_ROOT
    if count & (count - 1) == 0 and start % count == 0:
        return source.node(count.bit_length() - 1, start // count)
    k = _largest_power_below(count)
    return node_hash(subtree_hash(source, start, start + k), subtree_hash(source, start + k, end))


def root(source: NodeSource, size: int) -> bytes:
    """MTH(D[0:size])."""
    return subtree_hash(source, 0, size)


def inclusion_proof(source: NodeSource, index: int, size: int) -> list[bytes]:
    """PATH(index, D[0:size]) (RFC 9162 §2.1.3.1), leaf side first.

    Raises:
        ValueError: ``index`` is not a leaf of a tree of ``size``.
    """
    if not 0 <= index < size:
        raise ValueError(f"index {index} is not in a tree of size {size}")
    path: list[bytes] = []
    start, end, m = 0, size, index
    while end - start > 1:
        k = _largest_power_below(end - start)
        if m < k:
            path.append(subtree_hash(source, start + k, end))
            end = start + k
        else:
            path.append(subtree_hash(source, start, start + k))
            start, m = start + k, m - k
    path.reverse()
    return path


def consistency_proof(source: NodeSource, old: int, new: int) -> list[bytes]:
    """PROOF(old, D[0:new]) (RFC 9162 §2.1.4.1); empty when old is 0 or equals new.

    Raises:
        ValueError: not 0 <= old <= new.
    """
    if not 0 <= old <= new:
        raise ValueError(f"no consistency proof from size {old} to size {new}")
    if old in (0, new):
        return []
    proof: list[bytes] = []
    start, end, m, whole = 0, new, old, True
    while True:
        n = end - start
        if m == n:
            if not whole:
                proof.append(subtree_hash(source, start, end))
            break
        k = _largest_power_below(n)
        if m <= k:
            proof.append(subtree_hash(source, start + k, end))
            end = start + k
        else:
            proof.append(subtree_hash(source, start, start + k))
            start, m, whole = start + k, m - k, False
    proof.reverse()
    return proof


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], expected_root: bytes
) -> bool:
    """Whether ``proof`` shows the leaf hash at ``index`` in the tree of ``size`` whose
    root is ``expected_root`` (RFC 9162 §2.1.3.2)."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected_root


def verify_consistency(
    old: int, new: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes
) -> bool:
    """Whether ``proof`` shows the tree of size ``old`` with ``old_root`` to be a prefix of
    the one of size ``new`` with ``new_root`` (RFC 9162 §2.1.4.2; an empty proof for an empty
    old tree, or for equal sizes with equal roots, as C2SP tlog-witness uses them)."""
    if not 0 <= old <= new:
        return False
    if old == 0:
        return not proof
    if old == new:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    if old & (old - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0
