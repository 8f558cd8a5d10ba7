"""Witnesses (C2SP tlog-witness): the witness's side, the publisher's side, and the mirror's
k-of-n requirement.

- :class:`Witness` answers ``add-checkpoint``: it cosigns a log's checkpoint only when a
  consistency proof joins it to the last one it cosigned for that origin. That last checkpoint
  is a ``log_peer`` row (role ``witness``) of the witness's own store, checked and replaced in
  one transaction (the row held ``FOR UPDATE`` on PostgreSQL, and replaced only if it still
  has the size that was checked), so two requests cannot both advance from one state and a
  restart keeps it.
- :func:`submit` is the publisher's: it sends its newest checkpoint to a witness (from the
  size believed cosigned last, ``old 0`` when unknown; a 409 naming the witness's size is
  retried from it), checks the cosignature by the witness's key, and adds it to the stored
  checkpoint's note, which ``/log/checkpoint`` then serves with the extra signature line.
  :mod:`.feeder` does the same in the background for every new checkpoint.
- :class:`WitnessPolicy` is the mirror's: at least *k* of the configured witnesses must have
  cosigned a checkpoint before it is applied.

The witness's key is a file of its own (mode 0600), apart from any log key.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from rirport.errors import (
    ConfigError,
    ConflictError,
    DownloadError,
    InputError,
    StorageError,
    StoreBusyError,
    VerificationError,
)
from rirport.log import cosignature
from rirport.log.checkpoint import Checkpoint, parse_text
from rirport.log.cosignature import Submission, WitnessRefusedError
from rirport.log.note import COSIGNATURE, Signer, Verifier, split_note
from rirport.services.transparency.keys import read_signer
from rirport.services.transparency.log import latest_checkpoint
from rirport.services.transparency.reader import LogReader
from rirport.store.repos.log import CheckpointRow, PeerRow
from rirport.store.unit import Store

ROLE = "witness"
KEY_FILE = "witness-signing.key"
SIZE_TYPE = "text/x.tlog.size"
TIMEOUT = 20.0
log = logging.getLogger("rirport.witness")


# -- the key -------------------------------------------------------------------------------
def init_key(path: Path, name: str) -> tuple[Signer, bool]:
    """Make a witness key named ``name`` in ``path`` (mode 0600), or read the one there;
    returns it and whether it was made now.

    Raises:
        ConflictError: ``path`` holds a key of another name.
        ConfigError: it is not readable, readable by others, or not a witness key.
    """
    if path.exists():
        signer = read_key(path)
        if signer.name != name:
            raise ConflictError(
                f"{path} holds the witness key {signer.name!r}, not {name!r}; nothing changed"
            )
        return signer, False
    signer = Signer.generate(name, COSIGNATURE)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(signer.skey() + "\n")
    return signer, True


def read_key(path: Path) -> Signer:
    """The witness key in ``path``.

    Raises:
        ConfigError: not readable, readable by others, or not a cosignature key.
    """
    signer = read_signer(path, "witness key")
    if signer.kind != COSIGNATURE:
        raise ConfigError(
            f"{path}: this is a log signing key, not a witness key (`rirport witness init`)"
        )
    return signer


# -- the witness ---------------------------------------------------------------------------
class Witness:
    """Cosigns the checkpoints of the logs whose keys it is given."""

    def __init__(
        self,
        store: Store,
        signer: Signer,
        logs: Sequence[Verifier],
        clock: Callable[[], float] = time.time,
    ) -> None:
        if signer.kind != COSIGNATURE:
            raise ConfigError("a witness signs with a cosignature (type 0x04) key")
        if not logs:
            raise ConfigError("a witness needs at least one log key (--origin-key)")
        self.store = store
        self.signer = signer
        self.logs = list(logs)
        self.clock = clock

    def add_checkpoint(self, body: bytes) -> str:
        """Check a request body and, when it passes, record the checkpoint as the last
        cosigned for its origin and return the cosignature line.

        Raises:
            WitnessRefusedError: with the status C2SP tlog-witness names (400, 403, 404, 409, 422).
        """
        submission = cosignature.parse_submission(body)
        point = cosignature.open_submitted(submission.note, self.logs)
        try:
            return self._cosign(submission, point)
        except StoreBusyError as exc:
            raise WitnessRefusedError(503, f"the witness's store is busy: {exc}") from exc
        except StorageError:
            with self.store.read() as uow:  # a concurrent first request won the insert
                peer = uow.log.peer(ROLE, point.origin)
            if peer is None:
                raise
            raise WitnessRefusedError(
                409,
                f"another request for {point.origin!r} was cosigned meanwhile",
                size=peer.size if peer.size != submission.old else None,
            ) from None

    def _cosign(self, submission: Submission, point: Checkpoint) -> str:
        text, _ = split_note(submission.note)
        with self.store.transaction() as uow:
            uow.log.lock_peer(ROLE, point.origin)
            peer = uow.log.peer(ROLE, point.origin)
            last = (_point(peer.note), peer.note) if peer else None
            cosignature.judge(submission, point, last)
            line = self.signer.signature_line(text.encode(), int(self.clock()))
            row = PeerRow(
                ROLE,
                point.origin,
                point.size,
                cosignature.merge(submission.note, [line]),
                "add-checkpoint",
                dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            )
            if not uow.log.set_peer(row, expected_size=peer.size if peer else None):
                now = uow.log.peer(ROLE, point.origin)
                raise WitnessRefusedError(
                    409,
                    f"another request for {point.origin!r} was cosigned meanwhile",
                    size=now.size if now and now.size != submission.old else None,
                )
        return line

    def state(self) -> list[PeerRow]:
        """The last checkpoint cosigned for each origin."""
        with self.store.read() as uow:
            return uow.log.peers(ROLE)


def _point(note: str) -> Checkpoint:
    text, _ = split_note(note)
    return parse_text(text)


# -- the publisher's side ------------------------------------------------------------------
@dataclass(frozen=True)
class Cosigned:
    witness: str
    size: int
    old: int
    line: str


def submit(
    store: Store,
    url: str,
    witness: Verifier,
    client: httpx.Client | None = None,
    old: int = 0,
) -> Cosigned:
    """Have the witness at ``url`` (its submission prefix) cosign this store's newest
    checkpoint, and add the cosignature to that checkpoint's stored note.

    ``old`` is the size the witness is believed to have cosigned last (0: unknown; a 409
    then tells it).

    Raises:
        VerificationError: the witness refused (its status and reason quoted), or its answer
            holds no cosignature by ``witness`` that verifies.
        DownloadError: it did not answer, or answered something else.
    """
    row = latest_checkpoint(store)
    own = client or httpx.Client(timeout=TIMEOUT, follow_redirects=False)
    try:
        done = request_cosignature(own, url, witness, row, proofs(store), old)
    finally:
        if client is None:
            own.close()
    add_cosignatures(store, row.size, [done.line])
    return done


def request_cosignature(
    client: httpx.Client,
    url: str,
    witness: Verifier,
    row: CheckpointRow,
    prove: Callable[[int, int], list[bytes]],
    old: int = 0,
) -> Cosigned:
    """Ask the witness to cosign ``row`` with the consistency proof from ``old`` (``prove``
    makes it: :func:`proofs`); a 409
    naming the witness's size is retried from that size (at most twice). Stores nothing.

    Raises:
        VerificationError, DownloadError: as :func:`submit`.
    """
    if witness.kind != COSIGNATURE:
        raise VerificationError(f"{witness.vkey()} is not a witness (cosignature) key")
    old = old if old <= row.size else 0
    for _ in range(3):
        answer = _post(
            client, url, Submission(old, tuple(prove(old, row.size) if old else ()), row.note)
        )
        if answer.status_code != 409 or not answer.headers.get("content-type", "").startswith(
            SIZE_TYPE
        ):
            break
        told = _size(answer, url)
        if told > row.size:
            raise VerificationError(
                f"{url}: the witness cosigned size {told} of {row.origin}, this log is at "
                f"{row.size}: the log lost entries the witness saw"
            )
        if told == old:
            break
        old = told
    if answer.status_code != 200:
        raise VerificationError(
            f"{url}: the witness refused the checkpoint of {row.origin} at size {row.size}: "
            f"HTTP {answer.status_code}: {answer.text.strip()[:2000]}"
        )
    return Cosigned(witness.name, row.size, old, _cosignature(answer, url, witness, row))


def proofs(store: Store) -> Callable[[int, int], list[bytes]]:
    """Consistency proofs of the store's tree (one reader, its tree loaded once)."""
    reader = LogReader(store)
    return lambda old, new: reader.consistency(old, new).hashes


def _cosignature(answer: httpx.Response, url: str, witness: Verifier, row: CheckpointRow) -> str:
    """The witness's verified cosignature line in its answer."""
    lines = [ln + "\n" for ln in answer.text.splitlines() if ln]
    try:
        merged = cosignature.merge(row.note, lines)
    except VerificationError as exc:
        raise DownloadError(f"{url}: the answer is not signature lines: {exc}") from exc
    good, problems = cosignature.cosignatures(merged, [witness], int(time.time()))
    if not good:
        raise VerificationError(f"{url}: {'; '.join(problems)} (key {witness.vkey()})")
    text, _ = split_note(row.note)
    return [ln for ln in lines if _by(witness, text, ln)][-1]


def add_cosignatures(store: Store, size: int, lines: Sequence[str]) -> None:
    """Add cosignature lines to the stored checkpoint at ``size`` (one transaction, the row
    re-read in it, so lines added meanwhile are kept)."""
    if not lines:
        return
    with store.transaction() as uow:
        current = uow.log.checkpoint(size, lock=True)
        assert current is not None
        uow.log.set_checkpoint_note(size, cosignature.merge(current.note, lines))


def _by(witness: Verifier, text: str, line: str) -> bool:
    """Whether the signature ``line`` is ``witness``'s and verifies on ``text``."""
    (signature,) = split_note(text + "\n" + line)[1]
    return (signature.name, signature.id) == (witness.name, witness.id) and witness.verify(
        text.encode(), signature.signature
    )


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, httpx.TransportError) or (
        isinstance(exc, _BusyError) and exc.response.status_code in (429, 502, 503, 504)
    )


class _BusyError(Exception):
    def __init__(self, response: httpx.Response) -> None:
        self.response = response


@retry(
    retry=retry_if_exception(_transient),
    stop=stop_after_attempt(3),
    wait=wait_exponential_jitter(multiplier=0.2, max=2),
    reraise=True,
)
def _send(client: httpx.Client, where: str, body: bytes) -> httpx.Response:
    answer = client.post(where, content=body)
    if answer.status_code in (429, 502, 503, 504):
        raise _BusyError(answer)
    return answer


def _post(client: httpx.Client, url: str, submission: Submission) -> httpx.Response:
    """POST the submission; what may pass (no connection, 429, 502–504) is tried three times
    with jittered backoff."""
    where = url.rstrip("/") + "/add-checkpoint"
    try:
        return _send(client, where, submission.body())
    except _BusyError as exc:
        return exc.response
    except httpx.TimeoutException as exc:
        raise DownloadError(f"{where}: the witness did not answer in {TIMEOUT:g} s") from exc
    except httpx.HTTPError as exc:
        raise DownloadError(f"{where}: {exc}") from exc


def _size(answer: httpx.Response, url: str) -> int:
    text = answer.text.strip()
    if not text.isdigit():
        raise DownloadError(f"{url}: a 409 without a tree size in its body: {text[:80]!r}")
    return int(text)


# -- the mirror's side ---------------------------------------------------------------------
@dataclass(frozen=True)
class WitnessPolicy:
    """At least ``required`` of ``witnesses`` must have cosigned a checkpoint."""

    witnesses: tuple[Verifier, ...]
    required: int

    def __post_init__(self) -> None:
        if not 1 <= self.required <= len(self.witnesses):
            raise InputError(
                f"--require-witnesses {self.required} needs 1 to {len(self.witnesses)} "
                "(the number of --witness keys given)"
            )
        for w in self.witnesses:
            if w.kind != COSIGNATURE:
                raise InputError(f"{w.vkey()}: not a witness key (type 0x04 expected)")

    def check(self, note: str, point: Checkpoint) -> list[str]:
        """The witnesses that cosigned ``point``.

        Raises:
            VerificationError: fewer than ``required`` did.
        """
        return cosignature.require(note, point, self.witnesses, self.required, int(time.time()))
