"""Take-over: a mirror continues a log whose publisher is gone, as its successor.

``rirport mirror take-over --origin NEW --key OLD_VKEY`` on a mirror whose journal is exactly
the last checkpoint it verified (size N, signed by the old key):

1. makes the successor's signing key for origin NEW (``log-signing.key``, mode 0600);
2. writes journal entry N + 1, action ``log-handover``, whose payload quotes the old key's
   checkpoint at N verbatim, names both keys, and carries a *statement* signed by the new key
   (``rirport-handover/v1``, predecessor key, size, root, successor key): who took over what;
3. from then on every checkpoint this store signs (origin NEW, new key) carries, after its
   ``rirport-state`` line, one ``rirport-predecessor <vkey> <size>`` line per earlier key:
   entries 1 … size were signed by that key. Successors of successors add their line, so
   the whole history of keys travels in each checkpoint and, verifiably, in the log itself.

A reader with the new key checks a succession (:func:`check_succession`, done by ``mirror
follow`` on any checkpoint carrying such lines): entry size + 1 is a hand-over naming that
key and size, the quoted checkpoint verifies by the old key, its root is consistent with the
new checkpoint (a consistency proof from size to now), and the statement is signed by the new
key. docs/log.md says what this guarantees and what it does not.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import update

from rirport.errors import ConflictError, InputError, VerificationError
from rirport.log import merkle
from rirport.log.checkpoint import PREDECESSOR, Checkpoint, open_checkpoint
from rirport.log.note import Verifier, open_note, parse_vkey, sign_note
from rirport.log.tree import SparseNodes, right_edge
from rirport.services.audit import journal
from rirport.services.transparency import keys, state
from rirport.services.transparency.readonly import clear_started
from rirport.store import schema
from rirport.store.unit import Store

ACTION = "log-handover"
STATEMENT = "rirport-handover/v1"
META = "log_predecessors"
"""Meta key: the ``rirport-predecessor`` lines this store's checkpoints carry, one a line."""


@dataclass(frozen=True)
class TakeOver:
    predecessor: str
    size: int
    serial: int
    vkey: str


def predecessor_lines(point: Checkpoint) -> list[str]:
    return [line for line in point.extensions if line.split(" ", 1)[0] == PREDECESSOR]


def statement_text(old_vkey: str, size: int, root: bytes, new_vkey: str) -> str:
    return (
        f"{STATEMENT}\npredecessor {old_vkey}\nsize {size}\n"
        f"root {base64.b64encode(root).decode()}\nsuccessor {new_vkey}\n"
    )


def take_over(
    store: Store, data_dir: Path, origin: str, old_key: Verifier, reason: str, actor: str
) -> TakeOver:
    """Make this mirror the successor of the log it follows (module doc).

    Raises:
        ConflictError: the store follows no log (or several), or its journal is not exactly
            the last verified checkpoint (nothing changed).
        VerificationError: the last verified checkpoint does not verify by ``old_key`` or the
            store no longer matches it (nothing changed).
        InputError: NEW is the predecessor's origin.
    """
    with store.read() as uow:
        peers = [p for p in uow.log.peers("mirror") if p.origin == old_key.name]
        size = uow.journal.count()
        stored = uow.log.nodes(right_edge(size))
        mine = {state.root_of(uow), state.root_of(uow, 1)}  # v1: a publisher not upgraded
    if not peers:
        raise ConflictError(
            f"this store follows no log of origin {old_key.name!r}: only a mirror can take "
            "over (nothing changed)"
        )
    peer = peers[0]
    point = open_checkpoint(peer.note, old_key)
    if origin == point.origin:
        raise InputError(
            f"the successor needs its own origin, not {origin!r} (the predecessor's): "
            "readers tell the two keys apart by it"
        )
    if size != point.size:
        raise ConflictError(
            f"this store holds {size} entries, the last checkpoint it verified covers "
            f"{point.size}: run `rirport mirror follow --once` to finish the pass, or take "
            "over from a store at a verified checkpoint (nothing changed)"
        )
    root = SparseNodes(size, stored).root() if size else merkle.EMPTY_ROOT
    if root != point.root or (point.state_root and point.state_root not in mine):
        raise VerificationError(
            f"this store no longer matches the checkpoint it verified at size {size} (tree "
            "or state root differs): run `rirport log verify` (nothing changed)"
        )
    signer, _ = keys.init(store, data_dir, origin)
    new_vkey = signer.verifier.vkey()
    lines = [*predecessor_lines(point), f"{PREDECESSOR} {old_key.vkey()} {size}"]
    payload: dict[str, Any] = {
        "predecessor": {
            "origin": point.origin,
            "vkey": old_key.vkey(),
            "size": size,
            "checkpoint": peer.note,
        },
        "successor": {"origin": origin, "vkey": new_vkey},
        "statement": sign_note(
            statement_text(old_key.vkey(), size, point.root, new_vkey), [signer]
        ),
        "reason": reason,
    }
    store.log_signer = signer
    with store.transaction() as uow:
        uow.connection.execute(
            update(schema.log_peer)
            .where(schema.log_peer.c.role == "mirror", schema.log_peer.c.origin == point.origin)
            .values(role="predecessor")
        )
        uow.meta.put(META, "\n".join(lines))
        uow.log_tail = None  # its cached key history is the old one
        clear_started(uow)
        row = journal.append(uow, actor, ACTION, payload)
    return TakeOver(point.origin, size, row.serial, new_vkey)


def check_succession(new: Checkpoint, key: Verifier, entry_at: Any, consistency: Any) -> None:
    """Check each ``rirport-predecessor`` line of a checkpoint signed by ``key``.

    ``entry_at(index)``: the bytes of leaf ``index``; ``consistency(old, new)``: the proof's
    hashes. Both come from the log being checked; what they return is verified here.

    Raises:
        VerificationError: a hand-over is missing, malformed, or does not verify (the
            line and the reason named).
    """
    for line in predecessor_lines(new):
        parts = line.split(" ")
        if len(parts) != 3 or not parts[2].isdigit():
            raise VerificationError(f"{new.origin}: malformed succession line {line!r}")
        old_key, size = parse_vkey(parts[1]), int(parts[2])
        if size >= new.size:
            raise VerificationError(
                f"{new.origin}: succession line {line!r} names size {size}, the checkpoint "
                f"has only {new.size} entries"
            )
        raw = entry_at(size)
        entry = json.loads(raw)
        p = entry.get("payload", {})
        if entry.get("action") != ACTION or p.get("predecessor", {}).get("size") != size:
            raise VerificationError(
                f"{new.origin}: entry {size + 1} is not the hand-over {line!r} announces"
            )
        try:
            old = open_checkpoint(str(p["predecessor"]["checkpoint"]), old_key)
            text, _ = open_note(str(p["statement"]), [key])
        except (KeyError, TypeError) as exc:
            raise VerificationError(f"{new.origin}: hand-over entry lacks {exc}") from None
        if old.size != size or text != statement_text(old_key.vkey(), size, old.root, key.vkey()):
            raise VerificationError(
                f"{new.origin}: the hand-over at entry {size + 1} does not state this "
                "succession (sizes, roots or keys differ)"
            )
        proof = consistency(size, new.size)
        if not merkle.verify_consistency(size, new.size, proof, old.root, new.root):
            raise VerificationError(
                f"{new.origin}: the predecessor's checkpoint at size {size} is not a prefix "
                "of this log (no consistency proof joins them): the successor rewrote the "
                "history it took over"
            )


def extension_lines(meta_value: str | None) -> tuple[str, ...]:
    return tuple(line for line in (meta_value or "").split("\n") if line)
