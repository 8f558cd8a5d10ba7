"""The Merkle tree against the RFC 9162 reference of tests/log/rfc9162.py (written from the
RFC alone) and against the published test vectors of the certificate-transparency project."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rirport.log import merkle
from rirport.log.tree import SparseNodes, Tree, right_edge
from tests.log import rfc9162

# The eight leaves of RFC 6962's reference test tree (certificate-transparency, merkle
# tree tests) and the roots it lists for sizes 1..8.
CT_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    bytes(range(0x60, 0x70)),
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def tree_of(entries: list[bytes]) -> Tree:
    tree = Tree()
    tree.extend(merkle.leaf_hash(e) for e in entries)
    return tree


def test_roots_match_the_published_vectors() -> None:
    tree = Tree()
    for size, (entry, expected) in enumerate(zip(CT_LEAVES, CT_ROOTS, strict=True), 1):
        tree.append(merkle.leaf_hash(entry))
        assert tree.root().hex() == expected
        assert rfc9162.MTH(CT_LEAVES[:size]).hex() == expected
    assert tree.root(0) == hashlib.sha256(b"").digest()


def test_every_proof_up_to_40_leaves_matches_the_rfc_and_verifies_both_ways() -> None:
    entries = [f"entry {i}".encode() for i in range(40)]
    tree = tree_of(entries)
    for size in range(1, 41):
        root = rfc9162.MTH(entries[:size])
        assert tree.root(size) == root
        for index in range(size):
            proof = merkle.inclusion_proof(tree, index, size)
            assert proof == rfc9162.PATH(index, entries[:size])
            leaf = merkle.leaf_hash(entries[index])
            assert rfc9162.verify_inclusion(index, size, leaf, proof, root)
            assert merkle.verify_inclusion(leaf, index, size, proof, root)
        for old in range(1, size):
            proof = merkle.consistency_proof(tree, old, size)
            assert proof == rfc9162.PROOF(old, entries[:size])
            old_root = rfc9162.MTH(entries[:old])
            assert rfc9162.verify_consistency(old, size, old_root, root, proof)
            assert merkle.verify_consistency(old, size, proof, old_root, root)


def test_tampered_proofs_fail() -> None:
    entries = [bytes([i]) for i in range(21)]
    tree = tree_of(entries)
    root, leaf = tree.root(), merkle.leaf_hash(entries[5])
    proof = merkle.inclusion_proof(tree, 5, 21)
    bad = [proof[0][:-1] + bytes([proof[0][-1] ^ 1]), *proof[1:]]
    assert not merkle.verify_inclusion(leaf, 5, 21, bad, root)
    assert not merkle.verify_inclusion(leaf, 6, 21, proof, root)
    assert not merkle.verify_inclusion(leaf, 5, 40, proof, root)
    assert not merkle.verify_inclusion(leaf, 5, 21, proof[:-1], root)
    assert not merkle.verify_inclusion(leaf, 21, 21, proof, root)
    consistency = merkle.consistency_proof(tree, 7, 21)
    old_root = tree.root(7)
    assert merkle.verify_consistency(7, 21, consistency, old_root, root)
    assert not merkle.verify_consistency(7, 21, consistency[1:], old_root, root)
    assert not merkle.verify_consistency(7, 21, consistency, tree.root(8), root)
    assert not merkle.verify_consistency(8, 21, consistency, old_root, root)
    assert not merkle.verify_consistency(7, 21, [], old_root, root)
    assert not merkle.verify_consistency(21, 7, consistency, root, old_root)
    # the edge cases the witness protocol uses
    assert merkle.verify_consistency(0, 21, [], merkle.EMPTY_ROOT, root)
    assert merkle.verify_consistency(21, 21, [], root, root)
    assert not merkle.verify_consistency(21, 21, [], root, old_root)


def test_proofs_refuse_sizes_beyond_the_tree() -> None:
    tree = tree_of([b"a", b"b", b"c"])
    with pytest.raises(ValueError):
        merkle.inclusion_proof(tree, 3, 3)
    with pytest.raises(ValueError):
        merkle.consistency_proof(tree, 4, 3)
    with pytest.raises(IndexError):
        merkle.inclusion_proof(tree, 0, 5)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=8), min_size=1, max_size=70), st.data())
def test_incremental_append_from_the_right_edge_equals_the_whole_tree(
    entries: list[bytes], data: st.DataObject
) -> None:
    cut = data.draw(st.integers(0, len(entries)))
    whole = tree_of(entries)
    head = tree_of(entries[:cut])
    sparse = SparseNodes(cut, {(lv, i): head.node(lv, i) for lv, i in right_edge(cut)})
    made = []
    for entry in entries[cut:]:
        made.extend(sparse.append(merkle.leaf_hash(entry)))
    assert sparse.root() == whole.root() == rfc9162.MTH(entries)
    for level, index, digest in made:
        assert whole.node(level, index) == digest
    restored = Tree()
    restored.load(
        sorted((lv, i, whole.node(lv, i)) for lv in range(8) for i in range(whole.count(lv)))
    )
    assert restored.root() == whole.root()
