"""The transparency log of a store: the Merkle tree over its journal, grown in the transaction
of every journaled write, and a checkpoint signed in that same transaction.

Policy: **a checkpoint after every write transaction**, signed before it commits, so a
committed entry is always covered by a signed checkpoint whose state root describes the data
as that entry left it (no window in which a reader sees data no checkpoint vouches for) — or,
with a checkpoint interval of N > 0 seconds (``RIRPORT_LOG_CHECKPOINT_INTERVAL``), **at most
every N seconds under load**: a write within N seconds of the newest checkpoint grows the tree
but leaves the checkpoint to the first write after those N seconds, or to :func:`flush`
(which every command that wrote calls before it exits, so the newest entry is signed when it
ends), or in a server to :func:`flush_due` (its timer, :mod:`.timer`, signs it once N
seconds have passed since the newest checkpoint, while the server keeps running). The cost
of a checkpoint is one Ed25519 signature, the right edge of the tree (at most log₂ n stored
hashes, one query, or none when this process's last write left it) and the state parts
written since the last one (see :mod:`.state`: recomputing a registry's part reads its
records, which is what the interval saves under load); ``bench/log_append.py`` and
``bench/transfers.py`` measure it. A store
whose data folder holds no log key grows its tree all the same, leaves its state parts
pending, and is signed from ``rirport log checkpoint`` on.

Entry *n* of the journal is leaf *n − 1*; its bytes are its export line
(:func:`rirport.log.entries.entry_line`).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from rirport.errors import NotFoundError, StorageError
from rirport.log import merkle
from rirport.log.checkpoint import Template
from rirport.log.entries import entry_line
from rirport.log.note import Signer
from rirport.log.tree import SparseNodes, edge_append, edge_nodes_root, right_edge
from rirport.services.transparency import holds_part, state
from rirport.store.batch import Batch
from rirport.store.repos.journal import JournalRow
from rirport.store.repos.log import CheckpointRow, LogTail
from rirport.store.unit import Store, UnitOfWork

__all__ = ["entry_line"]

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
    the state digests, how its checkpoints are made) is used instead of reading it back when
    the journal's head is still the entry it was left at; any other writer since (another
    process, another store object) moved the head, and then it is all read from the tables.

    Raises:
        StorageError: the tree is longer than the journal (the journal was cut behind the
            log's back).
    """
    size = row.serial - 1
    tail = uow.log_tail
    if tail is not None and (tail.size != size or tail.last_hash != row.prev_hash):
        tail = None
    leaf = merkle.leaf_hash(entry_line(*row.fields()).encode())
    if batch is None:  # the nodes, part digests and checkpoint: sent as one
        batch = Batch(uow.connection)
    if tail is not None:
        made, edge = edge_append(tail.edge, size, leaf)
        uow.log.add_nodes(made, batch)
        size += 1
    else:
        size, edge = _grow_stored(uow, row, leaf, batch)
    root = edge_nodes_root(edge)
    signer = uow.log_signer
    due, latest = _due(uow, tail) if signer is not None else (False, None)
    if not due:
        batch.send(last=True)
        uow.state_hints.pop(holds_part.PART, None)  # what a hold write noted: for this entry
        state.defer(uow, row.action, row.payload)
        uow.log_deferred = signer is not None
        template = tail.template if tail is not None else None
        uow.log_tail = LogTail(size, row.hash, edge, None, template, latest)
        return Head(size, root, "")
    assert signer is not None
    if batch.data:  # the change's own rows, queued: the parts read them
        batch.send()
    done = state.update_parts(
        uow, row.action, row.payload, tail.state if tail is not None else None, batch
    )
    uow.state_hints.pop(holds_part.PART, None)
    result = Head(size, root, state.root_over(done))
    template = tail.template if tail is not None else None
    if template is None or template.signer is not signer:
        template = _template(uow, signer)
    created = now_text()
    note = template.note(size, root, result.state_root)
    uow.log.add_checkpoint(
        CheckpointRow(size, signer.name, note, result.state_root, created), batch
    )
    batch.send(last=True)
    uow.log_tail = LogTail(size, row.hash, edge, done, template, created)
    return result


def _grow_stored(
    uow: UnitOfWork, row: JournalRow, leaf: bytes, batch: Batch
) -> tuple[int, tuple[tuple[int, int, bytes], ...]]:
    """Add ``leaf`` (and first any entries the tree lacks) to the tree as stored: its size
    and right edge after (the write of a process with nothing kept, or after another's)."""
    size = row.serial - 1
    edge = right_edge(size)
    known: dict[tuple[int, int], bytes] | None = uow.log.nodes(edge)
    leaves = []
    if known is None or len(known) != len(edge):  # the tree is behind the journal (or broken)
        size = uow.log.size()
        if size > row.serial - 1:
            raise StorageError(
                f"the log's tree has {size} entries but this is journal entry {row.serial}: "
                "the journal lost entries the log covers; run `rirport log verify`"
            )
        leaves = [leaf_of(r) for r in uow.log.journal_after(size, row.serial)]
        known = None
    leaves.append(leaf)
    tree = grow(uow, size, leaves, known, edge if known is not None else None, batch)
    return tree.size, tuple((lv, i, tree.known[(lv, i)]) for lv, i in right_edge(tree.size))


def _template(uow: UnitOfWork, signer: Signer) -> Template:
    """How this store's checkpoints are made: the signer, and a successor log's key history
    (``meta.log_predecessors``, :mod:`.takeover`) as extension lines after the state root."""
    predecessors = uow.meta.get(PREDECESSORS) or ""
    return Template(signer, tuple(line for line in predecessors.split("\n") if line))


_SECOND: tuple[int, str] = (-1, "")
"""The last whole second :func:`now_text` formatted, and its text (one tuple, replaced
whole: threads read it as one)."""


def now_text() -> str:
    """The time now as a checkpoint records it: ISO 8601 in UTC with microseconds, as
    ``datetime.now(UTC).isoformat(timespec="microseconds")`` gives it (the date and time of
    day formatted once a second, not once a write)."""
    global _SECOND
    second, fraction = divmod(time.time_ns() // 1000, 1_000_000)
    cached = _SECOND
    if cached[0] != second:
        text = dt.datetime.fromtimestamp(second, dt.UTC).isoformat(timespec="seconds")
        cached = _SECOND = (second, text.removesuffix("+00:00"))
    return f"{cached[1]}.{fraction:06d}+00:00"


def _due(uow: UnitOfWork, tail: LogTail | None) -> tuple[bool, str | None]:
    """Whether this write signs a checkpoint: always without an interval, else when the
    newest checkpoint is at least the interval old (or there is none); and when the newest
    was signed, if known. That time is the one this process's last write left (``tail``)
    when it knows it, else read (one row)."""
    interval = uow.checkpoint_interval
    if interval <= 0:
        return True, None
    latest = tail.checkpoint_at if tail is not None else None
    if latest is None:
        latest = uow.log.latest_checkpoint_time()
        if latest is None:
            return True, None
    age = dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(latest)
    return age.total_seconds() >= interval, latest


def flush(store: Store) -> Head | None:
    """Sign the checkpoint this process's writes left for later (the checkpoint interval);
    nothing when none was left. Returns the head signed. A flush that fails leaves the
    checkpoint for later again."""
    if not store.log_deferred or store.log_signer is None:
        return None
    store.log_deferred = False  # a write that commits from here on sets it again
    try:
        return catch_up(store)
    except BaseException:
        store.log_deferred = True
        raise


def flush_due(store: Store) -> float | None:
    """Sign the checkpoint this process's writes left for later once it is due: the
    checkpoint interval has passed since the newest checkpoint (what a write would wait
    for). Returns the seconds until it is due when it is not yet, else None (signed now,
    or nothing left: none was, or another writer's checkpoint covers the journal already).
    A server calls it from a timer (:mod:`.timer`), never on a request.

    Raises:
        RirportError: the store failed (the checkpoint is left for later again).
    """
    if not store.log_deferred or store.log_signer is None:
        return None
    store.log_deferred = False  # cleared before reading: a write committed since sets it
    try:
        with store.read() as uow:
            latest = uow.log.latest_signed()
            size = uow.log.size()
        if latest is not None and latest[0] >= size:
            return None  # another process (or a write due since) signed it
        if latest is not None:
            age = dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(latest[1])
            left = store.checkpoint_interval - age.total_seconds()
            if left > 0:
                store.log_deferred = True
                return left
        catch_up(store)
        return None
    except BaseException:
        store.log_deferred = True
        raise


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
        template = _template(uow, signer)
    else:
        template = Template(signer, tuple(line for line in predecessors.split("\n") if line))
    row = CheckpointRow(
        head.size,
        signer.name,
        template.note(head.size, head.root, head.state_root),
        head.state_root,
        now_text(),
    )
    uow.log.add_checkpoint(row, batch)
    return row


def catch_up(store: Store) -> Head:
    """Bring the tree up to the journal (a store from before the log) and, when the store
    has a key and the newest entry has no checkpoint, sign one; returns the head.

    It holds the writers' lock for its transaction (the journal's generation row: SQLite's
    writers are serialised anyway), so a write in flight elsewhere is either wholly before it
    or wholly after: the tree size and the state it signs are of the same moment. When it
    signed at the entry this process's last write left (``store.log_tail``), the tail keeps
    the digests it stored and the checkpoint's time, so the next write reads neither."""
    with store.transaction() as uow:
        uow.meta.lock_generation()
        size = uow.log.size()
        leaves = [leaf_of(r) for r in uow.log.journal_after(size)]
        tree = grow(uow, size, leaves) if leaves else None
        done = state.update_parts(uow)
        size = tree.size if tree else size
        root = tree.root() if tree else _root_at(uow, size)
        head = Head(size, root, state.root_over(done))
        latest = uow.log.latest_checkpoint()
        if uow.log_signer is not None and (latest is None or latest.size < size):
            row = sign_head(uow, head)
            tail = uow.log_tail
            if (
                tail is not None
                and not leaves
                and tail.size == size
                and uow.journal.last_hash(size + 1) == tail.last_hash
            ):
                uow.log_tail = replace(tail, state=done, checkpoint_at=row.created_at)
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
