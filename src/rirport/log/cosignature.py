"""Witness cosignatures as values: the C2SP tlog-witness ``add-checkpoint`` request body, the
witness's decision on it, and the k-of-n check a mirror makes on a cosigned checkpoint.

The request body (C2SP tlog-witness) is the line ``old <size>``, up to 63 lines of one base64
hash each (an RFC 6962/9162 consistency proof from the old size to the checkpoint's), a blank
line, then the signed checkpoint. A witness answers with cosignature lines (C2SP
tlog-cosignature, Ed25519 ``cosignature/v1``: see :mod:`rirport.log.note`), which a client
appends to its checkpoint's signature lines.

What the witness decides (:func:`judge`) needs only the checkpoint it cosigned last for the
origin; storing that atomically is the caller's part
(:mod:`rirport.services.transparency.witness`).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass

from rirport.errors import NotWitnessedError, VerificationError
from rirport.log import merkle
from rirport.log.checkpoint import Checkpoint, parse_text
from rirport.log.note import COSIGNATURE, Signature, Verifier, split_note

MAX_PROOF = 63
MAX_BODY = 64 * 1024
FUTURE_SKEW = 600
"""Seconds a cosignature's time may be ahead of the verifier's clock before it is not counted
(the spec lets verifiers refuse times in the future; a little skew is tolerated)."""


class WitnessRefusedError(VerificationError):
    """The witness will not cosign: ``status`` is the HTTP status C2SP tlog-witness names."""

    def __init__(self, status: int, message: str, size: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.size = size
        """For a 409 on the old size: the size the witness last cosigned (the response body)."""


@dataclass(frozen=True)
class Submission:
    """An ``add-checkpoint`` request: the old size, the consistency proof, the signed note."""

    old: int
    proof: tuple[bytes, ...]
    note: str

    def body(self) -> bytes:
        lines = [f"old {self.old}", *(base64.b64encode(h).decode() for h in self.proof)]
        return ("\n".join(lines) + "\n\n" + self.note).encode()


def _decimal(text: str) -> int | None:
    if not text.isascii() or not text.isdigit() or (text != "0" and text.startswith("0")):
        return None
    return int(text)


def parse_submission(body: bytes) -> Submission:
    """Read an ``add-checkpoint`` body.

    Raises:
        WitnessRefusedError: 400, it is not one (which line is wrong, said).
    """
    if len(body) > MAX_BODY:
        raise WitnessRefusedError(400, f"the request body is over {MAX_BODY} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise WitnessRefusedError(400, "the request body is not UTF-8") from None
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise WitnessRefusedError(
            400, "the request has no blank line between the proof and the note"
        )
    lines = head.split("\n")
    keyword, _, size = lines[0].partition(" ")
    old = _decimal(size)
    if keyword != "old" or old is None:
        raise WitnessRefusedError(
            400, f"the first line must be 'old <size>' in decimal, not {lines[0][:40]!r}"
        )
    if len(lines) - 1 > MAX_PROOF:
        raise WitnessRefusedError(
            400, f"the proof has {len(lines) - 1} lines, more than {MAX_PROOF}"
        )
    proof = []
    for number, line in enumerate(lines[1:], start=2):
        try:
            digest = base64.b64decode(line, validate=True)
        except (binascii.Error, ValueError):
            raise WitnessRefusedError(
                400, f"proof line {number} is not base64: {line[:40]!r}"
            ) from None
        if len(digest) != merkle.HASH_SIZE:
            raise WitnessRefusedError(400, f"proof line {number} is not a 32-byte hash")
        proof.append(digest)
    return Submission(old, tuple(proof), note)


def open_submitted(note: str, verifiers: Sequence[Verifier]) -> Checkpoint:
    """The checkpoint of a submitted note, checked by the log key(s) trusted for its origin.

    Raises:
        WitnessRefusedError: 400 not a checkpoint; 404 an origin this witness does not know; 403
            no signature by a trusted key verifies.
    """
    try:
        text, signatures = split_note(note)
        point = parse_text(text)
    except VerificationError as exc:
        raise WitnessRefusedError(400, f"the checkpoint is not one: {exc}") from None
    trusted = [v for v in verifiers if v.name == point.origin]
    if not trusted:
        raise WitnessRefusedError(404, f"this witness does not know the log {point.origin!r}")
    good = [
        s
        for s in signatures
        for v in trusted
        if (s.name, s.id) == (v.name, v.id) and v.verify(text.encode(), s.signature)
    ]
    if not good:
        keys = ", ".join(v.vkey() for v in trusted)
        raise WitnessRefusedError(
            403, f"no signature on the checkpoint of {point.origin!r} verifies by its key ({keys})"
        )
    return point


def _quote(label: str, note: str) -> str:
    return f"{label}:\n" + "\n".join(f"    {line}" for line in note.rstrip("\n").split("\n"))


def judge(submission: Submission, point: Checkpoint, last: tuple[Checkpoint, str] | None) -> None:
    """Whether the witness may cosign ``point`` given the checkpoint it cosigned last for that
    origin (``last``: it and its note; None: never).

    Raises:
        WitnessRefusedError: 400 the old size is beyond the checkpoint; 409 the old size is not the
            last cosigned one (``size`` set) or the same size has another root; 422 the proof
            does not join them. 409 on a root and 422 quote both checkpoints.
    """
    if submission.old > point.size:
        raise WitnessRefusedError(
            400, f"old size {submission.old} is beyond the checkpoint's size {point.size}"
        )
    cosigned = last[0].size if last else 0
    if submission.old != cosigned:
        raise WitnessRefusedError(
            409,
            f"the last checkpoint cosigned for {point.origin!r} has size {cosigned}, "
            f"not {submission.old}",
            size=cosigned,
        )
    evidence = ""
    if last is not None:
        evidence = (
            f"\n{_quote('cosigned before', last[1])}\n{_quote('submitted now', submission.note)}"
        )
    if last is not None and point.size == last[0].size and point.root != last[0].root:
        raise WitnessRefusedError(
            409,
            f"{point.origin}: a checkpoint of size {point.size} with another root than the one "
            f"cosigned (a split view){evidence}",
        )
    old_root = last[0].root if last else merkle.EMPTY_ROOT
    if not merkle.verify_consistency(
        submission.old, point.size, submission.proof, old_root, point.root
    ):
        raise WitnessRefusedError(
            422,
            f"{point.origin}: the consistency proof from size {submission.old} to "
            f"{point.size} does not verify: the history was rewritten, or the proof is "
            f"wrong{evidence}",
        )


def cosignatures(note: str, witnesses: Sequence[Verifier], now: int) -> tuple[list[str], list[str]]:
    """Which of ``witnesses`` cosigned the note's checkpoint: (names whose cosignature
    verifies, problems with the others: bad, from the future, or missing)."""
    text, signatures = split_note(note)
    good, problems = [], []
    for witness in witnesses:
        if witness.kind != COSIGNATURE:
            problems.append(f"{witness.vkey()} is not a cosignature (type 0x04) key")
            continue
        mine = [s for s in signatures if (s.name, s.id) == (witness.name, witness.id)]
        ok = [s for s in mine if witness.verify(text.encode(), s.signature)]
        late = [s for s in ok if (s.timestamp or 0) > now + FUTURE_SKEW]
        if ok and len(late) < len(ok):
            good.append(witness.name)
        elif late:
            problems.append(f"{witness.name}: its cosignature is dated in the future")
        elif mine:
            problems.append(f"{witness.name}: its cosignature does not verify")
        else:
            problems.append(f"{witness.name}: no cosignature")
    return good, problems


def require(
    note: str, point: Checkpoint, witnesses: Sequence[Verifier], k: int, now: int
) -> list[str]:
    """The names of the witnesses that cosigned, when at least ``k`` did.

    Raises:
        NotWitnessedError: fewer than ``k`` cosignatures by ``witnesses`` verify (each
            witness's problem named, the checkpoint quoted).
    """
    good, problems = cosignatures(note, witnesses, now)
    if len(good) < k:
        raise NotWitnessedError(
            f"{point.origin}: the checkpoint at size {point.size} has {len(good)} valid "
            f"cosignature(s) of the {k} required ({'; '.join(problems)}); nothing applied\n"
            f"{_quote('checkpoint', note)}"
        )
    return good


def merge(note: str, lines: Sequence[str]) -> str:
    """The note with the signature ``lines`` added (a key's older line replaced by its new
    one: one cosignature per witness key)."""
    text, signatures = split_note(note)
    added: list[Signature] = []
    for line in lines:
        _, parsed = split_note(text + "\n" + line.rstrip("\n") + "\n")
        added.extend(parsed)
    keys = {(s.name, s.id) for s in added}
    kept = [s for s in signatures if (s.name, s.id) not in keys]
    return text + "\n" + "".join(s.line() for s in [*kept, *added])
