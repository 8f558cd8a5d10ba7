"""Signed notes (C2SP signed-note) with Ed25519 keys, and timestamped cosignatures (C2SP
tlog-cosignature).

A note is UTF-8 text ending in a newline, a blank line, then signature lines
``— <key name> base64(key ID ‖ signature)``. The key ID is the first four bytes of
SHA-256(name ‖ 0x0A ‖ type ‖ public key): type 0x01 for a log's Ed25519 signature over the
text, 0x04 for a witness's cosignature, which signs ``cosignature/v1\\ntime <t>\\n`` followed
by the text and carries the 8-byte big-endian time before the signature.

Keys travel as C2SP verifier keys, ``name+hex(key ID)+base64(type ‖ public key)``; the signing
key file holds ``PRIVATE+KEY+name+hex(key ID)+base64(type ‖ 32-byte seed)`` (the form Go's
note package reads). Verifiers ignore signatures by keys they do not know, and reject a note
whose known signature fails, as the spec says.

The cryptography is the ``cryptography`` package's Ed25519 (RFC 8032); nothing here rolls its
own.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from rirport.errors import VerificationError

ED25519 = 0x01
COSIGNATURE = 0x04
DASH = "\u2014"
MAX_SIGNATURES = 64


def key_id(name: str, kind: int, public: bytes) -> bytes:
    """SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + public).digest()[:4]


def _check_name(name: str) -> str:
    if not name or any(c.isspace() or c == "+" for c in name):
        raise VerificationError(
            f"key name {name!r} is not usable: it must be non-empty, without spaces or '+'"
        )
    return name


def _b64(data: str, what: str) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise VerificationError(f"{what} is not base64: {data[:40]!r}") from None


@dataclass(frozen=True)
class Verifier:
    """A public key to check signatures with: its name, type and key ID."""

    name: str
    kind: int
    public: bytes

    @functools.cached_property
    def id(self) -> bytes:
        """The key ID (computed once: every checkpoint signed carries it)."""
        return key_id(self.name, self.kind, self.public)

    def vkey(self) -> str:
        """The C2SP verifier key text."""
        payload = base64.b64encode(bytes([self.kind]) + self.public).decode()
        return f"{self.name}+{self.id.hex()}+{payload}"

    def verify(self, text: bytes, signature: bytes) -> bool:
        key = Ed25519PublicKey.from_public_bytes(self.public)
        message = text
        if self.kind == COSIGNATURE:
            if len(signature) != 72:
                return False
            (timestamp,) = struct.unpack(">Q", signature[:8])
            message = cosigned_message(text, timestamp)
            signature = signature[8:]
        try:
            key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


def parse_vkey(text: str) -> Verifier:
    """Read a verifier key ``name+hash+base64key``.

    Raises:
        VerificationError: it is not one (the part that is wrong named).
    """
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise VerificationError(f"verifier key {text.strip()[:60]!r} is not name+hash+base64key")
    name, digest, encoded = parts
    _check_name(name)
    raw = _b64(encoded, "the verifier key's key part")
    if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE):
        raise VerificationError(
            f"verifier key for {name!r}: not an Ed25519 key (type byte and 32 bytes expected)"
        )
    verifier = Verifier(name, raw[0], raw[1:])
    if verifier.id.hex() != digest.lower():
        raise VerificationError(
            f"verifier key for {name!r}: its hash {digest} does not match its key "
            f"({verifier.id.hex()}); the key was mistyped or altered"
        )
    return verifier


class Signer:
    """An Ed25519 private key with its name, signing as a log (type 0x01) or as a witness's
    cosigner (type 0x04)."""

    def __init__(self, name: str, seed: bytes, kind: int = ED25519) -> None:
        self.name = _check_name(name)
        self.kind = kind
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self._seed = seed
        public = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.verifier = Verifier(name, kind, public)

    @classmethod
    def generate(cls, name: str, kind: int = ED25519) -> Signer:
        from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

        seed = Ed25519PrivateKey.generate().private_bytes(
            Encoding.Raw, PrivateFormat.Raw, NoEncryption()
        )
        return cls(name, seed, kind)

    def skey(self) -> str:
        """The private key text (for a file only its owner reads)."""
        payload = base64.b64encode(bytes([self.kind]) + self._seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier.id.hex()}+{payload}"

    def signature_line(self, text: bytes, timestamp: int | None = None) -> str:
        """``— name base64(key ID ‖ signature)`` over the note text."""
        if self.kind == COSIGNATURE:
            if timestamp is None:
                raise ValueError("a cosignature needs a timestamp")
            sig = struct.pack(">Q", timestamp) + self._key.sign(cosigned_message(text, timestamp))
        else:
            sig = self._key.sign(text)
        return f"{DASH} {self.name} {base64.b64encode(self.verifier.id + sig).decode()}\n"


def parse_skey(text: str) -> Signer:
    """Read a private key ``PRIVATE+KEY+name+hash+base64(type ‖ seed)``.

    Raises:
        VerificationError: it is not one.
    """
    parts = text.strip().split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise VerificationError("the signing key file does not hold a PRIVATE+KEY+… key")
    raw = _b64(parts[4], "the signing key")
    if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE):
        raise VerificationError("the signing key is not an Ed25519 key")
    signer = Signer(parts[2], raw[1:], raw[0])
    if signer.verifier.id.hex() != parts[3].lower():
        raise VerificationError("the signing key's hash does not match its key (altered file)")
    return signer


def cosigned_message(text: bytes, timestamp: int) -> bytes:
    """What a cosignature/v1 signs: the header line, the time line, then the note text."""
    return b"cosignature/v1\ntime " + str(timestamp).encode() + b"\n" + text


@dataclass(frozen=True)
class Signature:
    name: str
    id: bytes
    signature: bytes

    def line(self) -> str:
        return f"{DASH} {self.name} {base64.b64encode(self.id + self.signature).decode()}\n"

    @property
    def timestamp(self) -> int | None:
        """The cosignature's time (cosignatures only)."""
        return struct.unpack(">Q", self.signature[:8])[0] if len(self.signature) == 72 else None


def split_note(note: str) -> tuple[str, list[Signature]]:
    """The text (with its final newline) and the signature lines of a note.

    Raises:
        VerificationError: it is not a signed note.
    """
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise VerificationError("the note holds control characters")
    if not note.endswith("\n"):
        raise VerificationError("the note does not end with a newline (truncated?)")
    cut = note.rfind("\n\n")
    if cut < 0:
        raise VerificationError("the note has no signatures (no blank line before them)")
    text, block = note[: cut + 1], note[cut + 2 :]
    signatures = []
    for line in block.splitlines():
        name, sep, encoded = line.removeprefix(f"{DASH} ").partition(" ")
        if not line.startswith(f"{DASH} ") or not sep or not name:
            raise VerificationError(f"not a signature line: {line[:60]!r}")
        raw = _b64(encoded, f"the signature by {name!r}")
        if len(raw) < 5:
            raise VerificationError(f"the signature by {name!r} is too short")
        signatures.append(Signature(name, raw[:4], raw[4:]))
    if not signatures:
        raise VerificationError("the note has no signatures")
    if len(signatures) > MAX_SIGNATURES:
        raise VerificationError(f"the note has more than {MAX_SIGNATURES} signatures")
    return text, signatures


def open_note(note: str, verifiers: list[Verifier]) -> tuple[str, list[Signature]]:
    """The text of a note and the signatures that verified by ``verifiers`` (others ignored).

    Raises:
        VerificationError: a known key's signature fails, or none of them signed it.
    """
    text, signatures = split_note(note)
    known = {(v.name, v.id): v for v in verifiers}
    good = []
    for signature in signatures:
        verifier = known.get((signature.name, signature.id))
        if verifier is None:
            continue
        if not verifier.verify(text.encode(), signature.signature):
            raise VerificationError(
                f"the signature by {signature.name} ({signature.id.hex()}) does not verify: "
                "the note was altered or signed with another key"
            )
        good.append(signature)
    if not good:
        names = ", ".join(f"{v.name}+{v.id.hex()}" for v in verifiers) or "none given"
        found = ", ".join(f"{s.name}+{s.id.hex()}" for s in signatures)
        raise VerificationError(
            f"the note is not signed by an expected key (expected {names}; signed by {found})"
        )
    return text, good


def sign_note(text: str, signers: list[Signer], timestamp: int | None = None) -> str:
    """A note of ``text`` (ending in a newline) signed by each signer."""
    if not text.endswith("\n"):
        raise ValueError("note text must end with a newline")
    body = text.encode()
    return text + "\n" + "".join(s.signature_line(body, timestamp) for s in signers)
