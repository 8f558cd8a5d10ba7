"""Signed notes, verifier keys, cosignatures, checkpoints, tile paths and bundles, entry lines
and the state root's order, each against the C2SP text it implements."""

from __future__ import annotations

import base64
import hashlib
import json
import struct

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from rirport.errors import VerificationError
from rirport.log import checkpoint as cp
from rirport.log import note, state, tiles
from rirport.log.entries import entry_line
from rirport.log.merkle import leaf_hash
from rirport.log.tree import Tree, edge_append, edge_nodes_root, right_edge

SEED = bytes(range(32))


def test_vkey_is_name_keyid_and_typed_key_as_signed_note_says() -> None:
    signer = note.Signer("example.org/log", SEED)
    vkey = signer.verifier.vkey()
    name, digest, encoded = vkey.split("+", 2)
    raw = base64.b64decode(encoded)
    assert name == "example.org/log" and raw[0] == 0x01 and len(raw) == 33
    expected = hashlib.sha256(b"example.org/log\n\x01" + raw[1:]).digest()[:4]
    assert digest == expected.hex()
    assert note.parse_vkey(vkey) == signer.verifier
    assert note.parse_skey(signer.skey()).verifier == signer.verifier


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("example.org/log+00000000+AQ==", "not an Ed25519 key"),
        ("no-plus-signs", r"not name\+hash\+base64key"),
        ("a b+00+AA==", "not usable"),
    ],
)
def test_bad_vkeys_are_named(text: str, says: str) -> None:
    with pytest.raises(VerificationError, match=says):
        note.parse_vkey(text)


def test_mistyped_vkey_hash_is_caught() -> None:
    vkey = note.Signer("example.org/log", SEED).verifier.vkey()
    name, _digest, key = vkey.split("+", 2)
    with pytest.raises(VerificationError, match="does not match its key"):
        note.parse_vkey(f"{name}+{'0' * 8}+{key}")


def test_signed_note_signature_is_ed25519_over_the_text() -> None:
    signer = note.Signer("example.org/log", SEED)
    signed = note.sign_note("hello\nworld\n", [signer])
    text, sig_block = signed.split("\n\n")
    assert text == "hello\nworld"
    dash, name, encoded = sig_block.strip().split(" ")
    assert dash == "\u2014" and name == "example.org/log"
    raw = base64.b64decode(encoded)
    assert raw[:4] == signer.verifier.id
    Ed25519PublicKey.from_public_bytes(signer.verifier.public).verify(raw[4:], b"hello\nworld\n")
    assert note.open_note(signed, [signer.verifier])[0] == "hello\nworld\n"


def test_notes_unknown_keys_ignored_bad_signatures_rejected() -> None:
    signer, other = note.Signer("a.example/x", SEED), note.Signer.generate("b.example/y")
    signed = note.sign_note("text\n", [signer, other])
    _, good = note.open_note(signed, [signer.verifier])
    assert [s.name for s in good] == ["a.example/x"]
    with pytest.raises(VerificationError, match="not signed by an expected key"):
        note.open_note(note.sign_note("text\n", [other]), [signer.verifier])
    forged = signed.replace("text\n", "txet\n", 1)
    with pytest.raises(VerificationError, match="does not verify"):
        note.open_note(forged, [signer.verifier])
    with pytest.raises(VerificationError, match="does not end with a newline"):
        note.open_note(signed.rstrip("\n"), [signer.verifier])
    with pytest.raises(VerificationError, match="no signatures"):
        note.open_note("text\n", [signer.verifier])


def test_cosignature_signs_header_time_and_checkpoint() -> None:
    witness = note.Signer("witness.example/w1", SEED, note.COSIGNATURE)
    body = "example.org/log\n3\n" + base64.b64encode(b"\x01" * 32).decode() + "\n"
    line = witness.signature_line(body.encode(), 1679315147)
    raw = base64.b64decode(line.split(" ")[2])
    assert (
        raw[:4]
        == hashlib.sha256(b"witness.example/w1\n\x04" + witness.verifier.public).digest()[:4]
    )
    assert struct.unpack(">Q", raw[4:12])[0] == 1679315147
    message = b"cosignature/v1\ntime 1679315147\n" + body.encode()
    Ed25519PublicKey.from_public_bytes(witness.verifier.public).verify(raw[12:], message)
    _, good = note.open_note(body + "\n" + line, [witness.verifier])
    assert good[0].timestamp == 1679315147


def test_checkpoint_text_and_parse() -> None:
    root = hashlib.sha256(b"x").digest()
    point = cp.Checkpoint("example.org/log", 20852163, root, (cp.state_line("ab" * 32),))
    text = point.text()
    assert text.split("\n")[:3] == ["example.org/log", "20852163", base64.b64encode(root).decode()]
    assert text.endswith(f"rirport-state {'ab' * 32}\n")
    assert cp.parse_text(text) == point and point.state_root == "ab" * 32
    signer = note.Signer("example.org/log", SEED)
    assert cp.open_checkpoint(point.sign([signer]), signer.verifier) == point
    other = cp.Checkpoint("other.example/log", 1, root)
    with pytest.raises(VerificationError, match=r"origin 'other\.example/log'"):
        cp.open_checkpoint(note.sign_note(other.text(), [signer]), signer.verifier)


@pytest.mark.parametrize(
    "extensions", [(), ("rirport-predecessor old+abcd1234+AQID 7", "rirport-predecessor b+1 9")]
)
def test_a_template_signs_the_checkpoint_sign_makes(extensions: tuple[str, ...]) -> None:
    """The per-write fast path (:class:`Template`) and :meth:`Checkpoint.sign` give the same
    note byte for byte (Ed25519 is deterministic), and it opens as that checkpoint."""
    signer = note.Signer("example.org/log", SEED)
    template = cp.Template(signer, extensions)
    for size in (0, 1, 7, 20852163):
        root = hashlib.sha256(str(size).encode()).digest()
        state_root = hashlib.sha256(root).hexdigest()
        point = cp.Checkpoint(
            "example.org/log", size, root, (cp.state_line(state_root), *extensions)
        )
        made = template.note(size, root, state_root)
        assert made == point.sign([signer])
        assert cp.open_checkpoint(made, signer.verifier) == point


def test_appending_to_a_right_edge_makes_the_nodes_and_root_of_the_tree() -> None:
    tree = Tree()
    edge: tuple[tuple[int, int, bytes], ...] = ()
    for size in range(600):
        leaf = leaf_hash(str(size).encode())
        made, edge = edge_append(edge, size, leaf)
        assert made == tree.append(leaf)
        assert [(level, index) for level, index, _ in edge] == right_edge(size + 1)
        assert all(tree.node(level, index) == h for level, index, h in edge)
        assert edge_nodes_root(edge) == tree.root()


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("o\n01\nAAAA\n", "not a decimal"),
        ("o\n1\nnot base64!\n", "not base64"),
        ("o\n1\nAAAA\n", "3 bytes, not 32"),
        ("o\n1\n", "at least three lines"),
        ("\n1\n" + base64.b64encode(bytes(32)).decode() + "\n", "origin line is empty"),
    ],
)
def test_bad_checkpoints_say_which_line(text: str, says: str) -> None:
    with pytest.raises(VerificationError, match=says):
        cp.parse_text(text)


def test_tile_paths_as_the_spec_spells_them() -> None:
    assert tiles.encode_index(1234067) == "x001/x234/067"
    assert tiles.encode_index(5) == "005"
    assert tiles.TileRef(0, 1234067).path() == "tile/0/x001/x234/067"
    assert tiles.TileRef(None, 3, 17).path() == "tile/entries/003.p/17"
    assert tiles.parse_path("tile/2/x001/x234/067.p/9") == tiles.TileRef(2, 1234067, 9)
    assert tiles.parse_path("entries/000") == tiles.TileRef(None, 0)
    for bad in (
        "tile/0/1234",
        "tile/0/x01/234",
        "tile/64/000",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
    ):
        with pytest.raises(VerificationError):
            tiles.parse_path(bad)


def test_a_tree_of_70000_is_published_as_the_spec_counts() -> None:
    refs = list(tiles.tiles_for_size(70_000))
    level0 = [r for r in refs if r.level == 0]
    assert len([r for r in level0 if not r.partial]) == 273
    assert [r.width for r in level0 if r.partial] == [112]
    assert [(r.level, r.width) for r in refs if r.level == 1] == [(1, 256), (1, 17)]
    assert [(r.level, r.width) for r in refs if r.level == 2] == [(2, 1)]
    assert [r.width for r in tiles.tiles_for_size(256) if r.level == 1] == [1]


def test_hash_tile_level_one_holds_roots_of_full_level_zero_tiles() -> None:
    tree = Tree()
    leaves = [leaf_hash(str(i).encode()) for i in range(600)]
    tree.extend(leaves)
    level0 = tiles.tile_hashes(tree, tiles.TileRef(0, 1))
    assert level0 == b"".join(leaves[256:512])
    level1 = tiles.split_hashes(tiles.tile_hashes(tree, tiles.TileRef(1, 0, 2)), 2)
    sub = Tree()
    sub.extend(leaves[256:512])
    assert level1[1] == sub.root()


def test_bundles_round_trip_and_truncation_is_caught() -> None:
    entries = [b"one", b"", "dé".encode()]
    data = tiles.encode_bundle(entries)
    assert data[:2] == b"\x00\x03"
    assert tiles.decode_bundle(data, 3) == entries
    with pytest.raises(VerificationError, match="truncated"):
        tiles.decode_bundle(data[:-1], 3)
    with pytest.raises(VerificationError, match="holds 3 entries, not 4"):
        tiles.decode_bundle(data, 4)
    with pytest.raises(VerificationError, match="truncated"):
        tiles.split_hashes(b"\x00" * 33, 1)


def test_entry_line_is_the_canonical_json_of_the_entry() -> None:
    payload = json.dumps(
        {"b": [1, "é"], "a": None}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    line = entry_line(
        7, "2026-01-01T00:00:00.000000+00:00", "me@h", "ingest", payload, "0" * 64, "f" * 64
    )
    parsed = json.loads(line)
    assert line == json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert parsed["payload"] == {"a": None, "b": [1, "é"]} and parsed["serial"] == 7
    for actor in ('a "quoted" name', "back\\slash", "tab\there", "ünï", "del\x7f", "\u2028"):
        line = entry_line(1, "t", actor, "x", "{}", "0", "1")
        assert line == json.dumps(
            json.loads(line), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        assert json.loads(line)["actor"] == actor


def test_state_root_ignores_line_and_part_order() -> None:
    a = {"x": state.part_digest(["b", "a"]), "y": state.part_digest([])}
    b = {"y": state.part_digest([]), "x": state.part_digest(["a", "b"])}
    assert state.state_root(a) == state.state_root(b)
    for version in (1, 2):
        expected = hashlib.sha256(
            f"rirport-state/v{version}\nx ".encode()
            + hashlib.sha256(b"a\nb\n").hexdigest().encode()
            + b"\ny "
            + hashlib.sha256(b"").hexdigest().encode()
            + b"\n"
        ).hexdigest()
        assert state.state_root(a, version) == expected
    assert state.state_root(a, 1) != state.state_root(a)
    assert state.state_root({"x": state.part_digest(["a", "c"])}) != state.state_root(
        {"x": state.part_digest(["a", "b"])}
    )


def test_a_delegations_part_is_hashed_over_its_buckets_as_docs_say() -> None:
    """docs/log.md's definition, computed here from the lines alone."""
    lines = [
        "ripencc|NL|ipv4|193.0.0.0|2048|19930901|allocated|x",
        "ripencc|NL|ipv4|193.15.0.0|65536|19930901|allocated|y",
        "ripencc|FR|ipv4|194.0.0.0|256|19930901|assigned|z",
        "ripencc|NL|asn|3333|1|19930901|allocated|x",
        "ripencc|EU|ipv6|2001:67c:2e8::|48|20061016|assigned|x",
    ]
    keys = [state.key_of_line(line) for line in lines]
    assert keys[:2] == ["1c1000000", "1c10f0000"] and keys[3] == "000000d05"
    assert keys[4] == "2" + "2001067c02e8" + "0" * 20
    buckets = {"1c10": lines[:2], "1c20": lines[2:3], "000000d": lines[3:4], "2200106": lines[4:]}
    assert state.group(zip(keys, lines, strict=True)) == buckets

    def digest(lines: list[str]) -> str:
        return hashlib.sha256("".join(sorted(x + "\n" for x in lines)).encode()).hexdigest()

    body = "".join(f"{name} {digest(buckets[name])}\n" for name in sorted(buckets))
    snap = "snapshot 2018-10-13 " + "ab" * 32
    expected = hashlib.sha256(f"{snap}\n{body}".encode()).hexdigest()
    digests = state.bucket_digests(state.group(zip(keys, lines, strict=True)))
    assert state.bucketed_digest(snap, digests) == expected
    with pytest.raises(ValueError, match="not a number resource"):
        state.key_of_line("ripencc|*|ipv4|*|3|summary")
