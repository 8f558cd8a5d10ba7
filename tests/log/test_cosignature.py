"""The witness protocol's values (C2SP tlog-witness request body, the witness's decisions and
their status codes) and cosignatures checked against C2SP tlog-cosignature's byte format,
written here from the spec text, not from the code under test."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from rirport.errors import VerificationError
from rirport.log import cosignature, merkle
from rirport.log.checkpoint import Checkpoint, parse_text
from rirport.log.cosignature import Submission, WitnessRefusedError
from rirport.log.note import COSIGNATURE, Signer, split_note
from tests.log import rfc9162

LOG = Signer("example.org/log", bytes(range(32)))
WITNESS = Signer("witness.example/w1", bytes(range(1, 33)), COSIGNATURE)
ENTRIES = [f"entry {i}".encode() for i in range(7)]


def signed(
    size: int, entries: list[bytes] = ENTRIES, signer: Signer = LOG
) -> tuple[str, Checkpoint]:
    point = Checkpoint(signer.name, size, rfc9162.MTH(entries[:size]), ("rirport-state ab",))
    return point.sign([signer]), point


def spec_cosignature(note: str, vkey: str) -> int:
    """Verify the cosignature by ``vkey`` on ``note`` as C2SP tlog-cosignature words it;
    returns its timestamp. A vkey is name+hex(key ID)+base64(0x04 ‖ key); the key ID is
    SHA-256(name ‖ "\\n" ‖ 0x04 ‖ key)[:4]; the line is "— name base64(key ID ‖ u64 timestamp
    big-endian ‖ 64-byte Ed25519 signature)"; the signed message is "cosignature/v1\\n",
    "time <decimal>\\n", then the note body with its final newline and no signature lines."""
    name, hex_id, encoded = vkey.split("+", 2)
    typed = base64.b64decode(encoded)
    assert typed[0] == 0x04 and len(typed) == 33
    key_id = hashlib.sha256(name.encode() + b"\n" + b"\x04" + typed[1:]).digest()[:4]
    assert key_id.hex() == hex_id
    body, _, lines = note.partition("\n\n")
    body += "\n"
    for line in lines.splitlines():
        prefix = "\u2014 " + name + " "
        if not line.startswith(prefix):
            continue
        blob = base64.b64decode(line[len(prefix) :])
        if blob[:4] != key_id:
            continue
        assert len(blob) == 4 + 8 + 64
        timestamp = int.from_bytes(blob[4:12], "big")
        message = b"cosignature/v1\ntime " + str(timestamp).encode() + b"\n" + body.encode()
        Ed25519PublicKey.from_public_bytes(typed[1:]).verify(blob[12:], message)
        return timestamp
    raise AssertionError(f"no cosignature by {name} on the note")


def test_a_cosignature_line_verifies_by_the_spec_text() -> None:
    note, _ = signed(5)
    text, _ = split_note(note)
    line = WITNESS.signature_line(text.encode(), 1679315147)
    cosigned = cosignature.merge(note, [line])
    assert spec_cosignature(cosigned, WITNESS.verifier.vkey()) == 1679315147
    # the log's own signature is still there, and a later cosignature by the same key replaces
    # the first (one line per witness key)
    again = cosignature.merge(cosigned, [WITNESS.signature_line(text.encode(), 1679315200)])
    assert again.count("\u2014 ") == 2 and spec_cosignature(again, WITNESS.verifier.vkey()) == (
        1679315200
    )


def test_the_request_body_round_trips_and_bad_ones_are_400() -> None:
    note, _ = signed(5)
    proof = (b"\x01" * 32, b"\x02" * 32)
    body = Submission(3, proof, note).body()
    assert body.startswith(b"old 3\n" + base64.b64encode(proof[0]) + b"\n")
    assert cosignature.parse_submission(body) == Submission(3, proof, note)
    for bad, says in [
        (b"old 03\n\n" + note.encode(), "'old <size>'"),
        (b"new 3\n\n" + note.encode(), "'old <size>'"),
        (b"old 3\n", "no blank line"),
        (b"old 3\nnot-base64!\n\n" + note.encode(), "proof line 2 is not base64"),
        (b"old 3\n" + base64.b64encode(b"x" * 31) + b"\n\n" + note.encode(), "32-byte"),
        (b"old 3\n" + (base64.b64encode(b"x" * 32) + b"\n") * 64 + b"\n" + note.encode(), "63"),
        (b"old 1\n\n\xff", "not UTF-8"),
    ]:
        with pytest.raises(WitnessRefusedError, match=says) as caught:
            cosignature.parse_submission(bad)
        assert caught.value.status == 400


def test_origin_and_signature_decide_404_and_403() -> None:
    note, _ = signed(5)
    assert cosignature.open_submitted(note, [LOG.verifier]).size == 5
    other = Signer("other.org/log", bytes(range(2, 34)))
    with pytest.raises(WitnessRefusedError, match="does not know the log") as caught:
        cosignature.open_submitted(signed(5, signer=other)[0], [LOG.verifier])
    assert caught.value.status == 404
    impostor = Signer("example.org/log", bytes(range(3, 35)))  # the right name, another key
    with pytest.raises(WitnessRefusedError, match="no signature") as caught:
        cosignature.open_submitted(signed(5, signer=impostor)[0], [LOG.verifier])
    assert caught.value.status == 403
    _, sigs = split_note(note)
    forged = note.replace("\n5\n", "\n6\n")  # the signature no longer covers the text
    with pytest.raises(WitnessRefusedError) as caught:
        cosignature.open_submitted(forged, [LOG.verifier])
    assert caught.value.status == 403 and sigs


def test_judge_old_size_proof_and_root() -> None:
    old_note, old = signed(3)
    new_note, new = signed(7)
    proof = tuple(rfc9162.PROOF(3, ENTRIES[:7]))
    cosignature.judge(Submission(3, proof, new_note), new, (old, old_note))
    cosignature.judge(Submission(0, (), old_note), old, None)
    cases = [
        (Submission(8, (), new_note), (old, old_note), 400, "beyond"),
        (Submission(0, (), new_note), (old, old_note), 409, "has size 3, not 0"),
        (Submission(3, proof[:-1], new_note), (old, old_note), 422, "does not verify"),
        (Submission(0, proof, new_note), None, 422, "does not verify"),
    ]
    for submission, last, status, says in cases:
        with pytest.raises(WitnessRefusedError, match=says) as caught:
            cosignature.judge(submission, new, last)
        assert caught.value.status == status
    assert cosignature.judge.__doc__
    # a rewritten history: entry 1 changed, re-signed by the log's own key
    rewritten = [ENTRIES[0], b"forged", *ENTRIES[2:]]
    fork_note, fork = signed(7, rewritten)
    with pytest.raises(WitnessRefusedError, match="rewritten") as caught:
        cosignature.judge(
            Submission(3, tuple(rfc9162.PROOF(3, rewritten)), fork_note), fork, (old, old_note)
        )
    assert caught.value.status == 422
    assert "cosigned before:" in str(caught.value) and "submitted now:" in str(caught.value)
    same_size_note, same_size = signed(3, rewritten)
    with pytest.raises(WitnessRefusedError, match="split view") as caught:
        cosignature.judge(Submission(3, (), same_size_note), same_size, (old, old_note))
    assert caught.value.status == 409 and caught.value.size is None


def test_k_of_n_counts_only_good_cosignatures() -> None:
    note, point = signed(5)
    text, _ = split_note(note)
    second = Signer("witness.example/w2", bytes(range(4, 36)), COSIGNATURE)
    third = Signer("witness.example/w3", bytes(range(5, 37)), COSIGNATURE)
    now = 1_700_000_000
    lines = [WITNESS.signature_line(text.encode(), now), second.signature_line(b"other\n", now)]
    cosigned = cosignature.merge(note, lines)
    keys = [WITNESS.verifier, second.verifier, third.verifier]
    assert cosignature.require(cosigned, point, keys, 1, now) == ["witness.example/w1"]
    with pytest.raises(VerificationError, match="1 valid cosignature") as caught:
        cosignature.require(cosigned, point, keys, 2, now)
    message = str(caught.value)
    assert "w2: its cosignature does not verify" in message and "w3: no cosignature" in message
    future = cosignature.merge(note, [WITNESS.signature_line(text.encode(), now + 3600)])
    with pytest.raises(VerificationError, match="dated in the future"):
        cosignature.require(future, point, [WITNESS.verifier], 1, now)
    with pytest.raises(VerificationError, match="not a cosignature"):
        cosignature.require(cosigned, point, [LOG.verifier], 1, now)


def test_parse_text_of_a_cosigned_note_is_the_checkpoint() -> None:
    note, point = signed(4)
    text, _ = split_note(note)
    cosigned = cosignature.merge(note, [WITNESS.signature_line(text.encode(), 1)])
    assert parse_text(split_note(cosigned)[0]) == point
    assert rfc9162.MTH([]) == merkle.EMPTY_ROOT
