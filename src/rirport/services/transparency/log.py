"""The transparency log of a store: the Merkle tree over its journal, grown in the transaction
of every journaled write, and a checkpoint signed in that same transaction.

Policy: **a checkpoint after every write transaction**, signed before it commits, so a
committed entry is always covered by a signed checkpoint whose state root describes the data
as that entry left it (no window in which a reader sees data no checkpoint vouches for) — or,
with a checkpoint interval of N > 0 seconds (``RIRPORT_LOG_CHECKPOINT_INTERVAL``), **at most
every N seconds under load**: a write within N seconds of the newest checkpoint grows the tree
but leaves the checkpoint to the first write after those N seconds, or to :func:`flush`
(which every command that wrote calls before it exits, so the newest entry is signed when it
ends). The cost of a checkpoint is one Ed25519 signature, the right edge of the tree (at most
log₂ n stored hashes, one query) and the state parts written since the last one (see
:mod:`.state`: recomputing a registry's part reads its records, which is what the interval
saves under load); ``bench/log_append.py`` and ``bench/transfers.py`` measure it. A store
whose data folder holds no log key grows its tree all the same, leaves its state parts
pending, and is signed from ``rirport log checkpoint`` on.

Entry *n* of the journal is leaf *n − 1*; its bytes are its export line
(:func:`rirport.log.entries.entry_line`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rirport.errors import NotFoundError, StorageError
from rirport.log import merkle
from rirport.log.checkpoint import Checkpoint, state_line
from rirport.log.entries import entry_line
from rirport.log.state import state_root
from rirport.log.tree import SparseNodes, edge_root, right_edge

__all__ = ["entry_line"]
from rirport.services.transparency import holds_part, state
from rirport.store.batch import Batch
from rirport.store.repos.journal import JournalRow
from rirport.store.repos.log import CheckpointRow, LogTail
from rirport.store.unit import Store, UnitOfWork

PREDECESSORS = "log_predecessors"
"""The ``meta`` key of a successor log's key history (:mod:`.takeover` writes it)."""


def leaf_of(row: Sequence[Any]) -> bytes:
    """The leaf hash of a journal row (tuple in :class:`JournalRow` field order)."""
    return merkle.leaf_hash(entry_line(*row).encode())


@dataclass(frozen=True)
class Head:
    """The tree after a write: its size, root and the state root."""

    size: int
    root: bytes
    state_root: str


def on_append(uow: UnitOfWork, row: JournalRow, batch: Batch | None = None) -> Head:
    """Add the entry just written to the tree (first any the tree lacks: a store from before
    the log), update the state parts, and sign a checkpoint when the store has a key.
    ``batch``: statements of the entry queued already (its insert), sent with the log's.

    What the last write of this process committed (``uow.log_tail``: the tree's right edge,
    the state digests) is used instead of reading it back when the journal's head is still
    the entry it was left at.

    Raises:
        StorageError: the tree is longer than the journal (the journal was cut behind the
            log's back).
    """
    size = row.serial - 1
    tail = uow.log_tail
    if tail is not None and (tail.size != size or tail.last_hash != row.prev_hash):
        tail = None
    edge = list(tail.edge) if tail is not None else right_edge(size)  # the same pairs
    known: dict[tuple[int, int], bytes] | None = (
        tail.edge if tail is not None else uow.log.nodes(edge)
    )
    leaves = []
    if known is None or len(known) != len(
        edge
    ):  # the tree is behind the journal (or broken): ask its size
        size = uow.log.size()
        if size > row.serial - 1:
            raise StorageError(
                f"the log's tree has {size} entries but this is journal entry {row.serial}: "
                "the journal lost entries the log covers; run `rirport log verify`"
            )
        leaves = [leaf_of(r) for r in uow.log.journal_after(size, row.serial)]
        known = None
    leaves.append(leaf_of(tuple(row.__dict__.values())))
    if batch is None:  # the nodes, part digests and checkpoint: sent as one
        batch = Batch(uow.connection)
    head = grow(uow, size, leaves, known, edge if known is not None else None, batch)
    new_edge = right_edge(head.size)
    after = {k: head.known[k] for k in new_edge}
    root = edge_root([after[k] for k in new_edge])
    if uow.log_signer is None or not _due(uow):
        batch.send()
        uow.state_hints.pop(holds_part.PART, None)  # what a hold write noted: for this entry
        state.defer(uow, row.action, row.payload)
        uow.log_deferred = uow.log_signer is not None
        uow.log_tail = LogTail(head.size, row.hash, after)
        return Head(head.size, root, "")
    done = state.update_parts(
        uow, row.action, row.payload, tail.state if tail is not None else None, batch
    )
    uow.state_hints.pop(holds_part.PART, None)
    result = Head(head.size, root, state_root(done.parts))
    predecessors = tail.predecessors if tail is not None else None
    if predecessors is None:
        predecessors = uow.meta.get(PREDECESSORS) or ""
    sign_head(uow, result, predecessors, batch)
    batch.send()
    uow.log_tail = LogTail(head.size, row.hash, after, done, predecessors)
    return result


def _due(uow: UnitOfWork) -> bool:
    """Whether this write signs a checkpoint: always without an interval, else when the
    newest checkpoint is at least the interval old (or there is none)."""
    interval = uow.checkpoint_interval
    if interval <= 0:
        return True
    latest = uow.log.latest_checkpoint_time()
    if latest is None:
        return True
    age = dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(latest)
    return age.total_seconds() >= interval


def flush(store: Store) -> Head | None:
    """Sign the checkpoint this process's writes left for later (the checkpoint interval);
    nothing when none was left. Returns the head signed."""
    if not store.log_deferred or store.log_signer is None:
        return None
    store.log_deferred = False
    return catch_up(store)


def grow(
    uow: UnitOfWork,
    size: int,
    leaves: Iterable[bytes],
    known: dict[tuple[int, int], bytes] | None = None,
    edge: list[tuple[int, int]] | None = None,
    batch: Batch | None = None,
) -> SparseNodes:
    """Append leaf hashes to the stored tree of ``size`` (``known``: its right edge, when
    already read; ``edge``: :func:`right_edge` of ``size``, when already made; ``batch``:
    where the new nodes are queued instead of written at once); returns it grown."""
    edge = right_edge(size) if edge is None else edge
    if known is None:
        known = uow.log.nodes(edge)
    if len(known) != len(edge):
        raise StorageError(
            f"the log's tree of size {size} lacks stored nodes "
            f"{sorted(set(edge) - set(known))}; run `rirport log verify --rebuild`"
        )
    tree = SparseNodes(size, known)
    made = []
    for leaf in leaves:
        made.extend(tree.append(leaf))
    uow.log.add_nodes(made, batch)
    return tree


def sign_head(
    uow: UnitOfWork, head: Head, predecessors: str | None = None, batch: Batch | None = None
) -> CheckpointRow:
    """Sign and store the checkpoint of ``head`` with the store's key (``predecessors``:
    ``meta.log_predecessors`` when already read; ``batch``: where the row is queued instead
    of written at once)."""
    signer = uow.log_signer
    assert signer is not None
    if predecessors is None:
        predecessors = uow.meta.get(PREDECESSORS) or ""
    successions = tuple(
        line for line in predecessors.split("\n") if line
    )  # a successor log's key history (takeover.py)
    point = Checkpoint(
        signer.name, head.size, head.root, (state_line(head.state_root), *successions)
    )
    row = CheckpointRow(
        head.size,
        signer.name,
        point.sign([signer]),
        head.state_root,
        dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
    )
    uow.log.add_checkpoint(row, batch)
    return row


def catch_up(store: Store) -> Head:
    """Bring the tree up to the journal (a store from before the log) and, when the store
    has a key and the newest entry has no checkpoint, sign one; returns the head."""
    with store.transaction() as uow:
        size = uow.log.size()
        leaves = [leaf_of(r) for r in uow.log.journal_after(size)]
        tree = grow(uow, size, leaves) if leaves else None
        parts = state.update_parts(uow).parts
        size = tree.size if tree else size
        root = tree.root() if tree else _root_at(uow, size)
        head = Head(size, root, state_root(parts))
        latest = uow.log.latest_checkpoint()
        if uow.log_signer is not None and (latest is None or latest.size < size):
            sign_head(uow, head)
        return head


def _root_at(uow: UnitOfWork, size: int) -> bytes:
    if size == 0:
        return merkle.EMPTY_ROOT
    return SparseNodes(size, uow.log.nodes(right_edge(size))).root()


def latest_checkpoint(store: Store) -> CheckpointRow:
    """The newest signed checkpoint.

    Raises:
        NotFoundError: none was signed yet (``rirport log init``).
    """
    with store.read() as uow:
        row = uow.log.latest_checkpoint()
    if row is None:
        raise NotFoundError(
            "this store has no signed checkpoint: run `rirport log init --origin NAME`"
        )
    return row
