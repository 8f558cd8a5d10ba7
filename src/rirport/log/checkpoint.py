"""Checkpoints (C2SP tlog-checkpoint): the signed head of a log.

The note text is the origin line, the tree size in decimal, the base64 root hash, then
extension lines. rirport writes one extension line, ``rirport-state <hex>``: the state root,
SHA-256 over the registry's current state after the checkpoint's last entry, in the order
:mod:`rirport.log.state` documents, so a mirror that replayed the same entries can check that
it holds the same data and not only the same journal. A successor log (take-over) adds
``rirport-predecessor <vkey> <size>``: the key that signed the log up to that size.
"""

from __future__ import annotations

import base64
import binascii
from binascii import b2a_base64
from dataclasses import dataclass, field

from rirport.errors import VerificationError
from rirport.log.merkle import HASH_SIZE
from rirport.log.note import Signer, Verifier, open_note, sign_note

STATE = "rirport-state"
PREDECESSOR = "rirport-predecessor"


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = field(default=())

    def text(self) -> str:
        """The note text (with its final newline)."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode()]
        return "\n".join([*lines, *self.extensions]) + "\n"

    @property
    def state_root(self) -> str | None:
        """The state root's lowercase hex, when the checkpoint carries one."""
        for line in self.extensions:
            name, _, value = line.partition(" ")
            if name == STATE:
                return value
        return None

    def sign(self, signers: list[Signer]) -> str:
        return sign_note(self.text(), signers)

    def describe(self) -> str:
        state = self.state_root
        return f"{self.origin} size {self.size} root {base64.b64encode(self.root).decode()}" + (
            f" state {state}" if state else ""
        )


class Template:
    """A log's checkpoints as one signer makes them, with what stays the same from one to
    the next (the origin line, the extension lines after the state root, the key) prepared
    once: every signed write makes one, so :meth:`note` only fills in the size and the two
    roots. Its notes are :meth:`Checkpoint.sign`'s, byte for byte."""

    def __init__(self, signer: Signer, extensions: tuple[str, ...] = ()) -> None:
        self.signer = signer
        self.extensions = extensions
        self._origin = f"{signer.name}\n"
        self._after = "".join(f"{line}\n" for line in extensions)

    def note(self, size: int, root: bytes, state_root: str) -> str:
        """The signed note of the checkpoint at ``size`` with these roots (the state line
        first among the extensions, as :func:`state_line` makes it)."""
        text = (
            f"{self._origin}{size}\n{b2a_base64(root, newline=False).decode()}\n"
            f"{STATE} {state_root}\n{self._after}"
        )
        return f"{text}\n{self.signer.signature_line(text.encode())}"


def parse_text(text: str) -> Checkpoint:
    """Read a checkpoint's note text.

    Raises:
        VerificationError: it is not a checkpoint (which line is wrong, said).
    """
    lines = text.split("\n")
    if lines[-1] != "" or len(lines) < 4:
        raise VerificationError("a checkpoint has at least three lines: origin, size, root hash")
    origin, size, encoded, *extensions = lines[:-1]
    if not origin:
        raise VerificationError("the checkpoint's origin line is empty")
    if not size.isdigit() or (size != "0" and size.startswith("0")) or not size.isascii():
        raise VerificationError(f"the checkpoint's tree size {size!r} is not a decimal number")
    try:
        root = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise VerificationError(f"the checkpoint's root hash {encoded!r} is not base64") from None
    if len(root) != HASH_SIZE:
        raise VerificationError(f"the checkpoint's root hash has {len(root)} bytes, not 32")
    if any(not line for line in extensions):
        raise VerificationError("the checkpoint has an empty extension line")
    return Checkpoint(origin, int(size), root, tuple(extensions))


def open_checkpoint(note: str, verifier: Verifier, origin: str | None = None) -> Checkpoint:
    """Verify a signed checkpoint by the log's key and read it.

    Raises:
        VerificationError: bad signature, unknown key, not a checkpoint, or the origin is not
            the expected one (the log's key name, unless ``origin`` says otherwise).
    """
    text, _ = open_note(note, [verifier])
    checkpoint = parse_text(text)
    expected = origin or verifier.name
    if checkpoint.origin != expected:
        raise VerificationError(
            f"the checkpoint is for origin {checkpoint.origin!r}, not {expected!r}"
        )
    return checkpoint


def state_line(state_root: str) -> str:
    return f"{STATE} {state_root}"
