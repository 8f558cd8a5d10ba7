"""What a log hands out: the checkpoint, tiles, entry bundles and proofs, answered from an
in-memory copy of the tree.

The copy (:class:`rirport.log.tree.Tree`, under 64 bytes per entry) is loaded once and then
follows the store: each call reads the stored size (one indexed row) and loads only the nodes
added since. A proof is then O(log n) slices of memory, microseconds at a million entries,
instead of O(log n) queries. A server holds one reader per process; ``log publish`` and the
CLI make one per command.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rirport.errors import InputError, NotFoundError
from rirport.log import merkle
from rirport.log.entries import entry_line
from rirport.log.note import split_note
from rirport.log.tiles import WIDTH, TileRef, encode_bundle, tile_hashes, tiles_for_size
from rirport.log.tree import Tree
from rirport.services.registry.export import export_snapshot
from rirport.services.transparency.log import latest_checkpoint
from rirport.services.transparency.mirror import MirrorBanner, banners, notice
from rirport.store.repos.log import CheckpointRow
from rirport.store.unit import Store

NOTICE_SECONDS = 5.0


@dataclass(frozen=True)
class InclusionProof:
    index: int
    size: int
    leaf_hash: bytes
    hashes: list[bytes]


@dataclass(frozen=True)
class ConsistencyProof:
    old: int
    new: int
    hashes: list[bytes]


class LogReader:
    """The log of one store, for serving."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.tree = Tree()
        self._lock = threading.Lock()
        self._notice: tuple[float, dict[str, Any] | None] = (-NOTICE_SECONDS, None)
        self._banners: tuple[float, tuple[MirrorBanner, ...]] = (-NOTICE_SECONDS, ())

    def mirror_notice(self) -> dict[str, Any] | None:
        """The RDAP notice of a mirror (None for a publisher), read at most every few
        seconds (every RDAP answer asks)."""
        at, found = self._notice
        now = time.monotonic()
        if now - at >= NOTICE_SECONDS:
            found = notice(self.store)
            self._notice = (now, found)
        return found

    def mirror_banners(self) -> tuple[MirrorBanner, ...]:
        """The pages' banner of a mirror (empty for a publisher), read at most every few
        seconds (every page asks)."""
        at, found = self._banners
        now = time.monotonic()
        if now - at >= NOTICE_SECONDS:
            found = banners(self.store)
            self._banners = (now, found)
        return found

    def refresh(self) -> Tree:
        """The tree, brought up to the stored size."""
        with self._lock:
            with self.store.read() as uow:
                size = uow.log.size()
                if size != self.tree.size:
                    counts = [self.tree.count(lv) for lv in range(len(self.tree.levels))]
                    self.tree.load(uow.log.nodes_from(counts))
            return self.tree

    def checkpoint(self) -> CheckpointRow:
        """The newest signed checkpoint (NotFoundError when there is none)."""
        return latest_checkpoint(self.store)

    def cosigned(self, names: Sequence[str], k: int, after: int = 0) -> CheckpointRow:
        """The newest checkpoint past size ``after`` whose note carries signature lines by at
        least ``k`` of the witnesses ``names`` (by name: whoever asks verifies them by their
        keys).

        Raises:
            InputError: ``k`` is not 1 … the number of names.
            NotFoundError: no stored checkpoint has that many.
        """
        wanted = set(names)
        if not 1 <= k <= len(wanted):
            raise InputError(f"k={k}: give 1 to {len(wanted)} (the number of witness names)")
        with self.store.read() as uow:
            rows = uow.log.signed_by(sorted(wanted), after)
        for row in rows:
            if len(wanted & {s.name for s in split_note(row.note)[1]}) >= k:
                return row
        raise NotFoundError(
            f"no checkpoint past size {after} carries cosignatures by {k} of "
            f"{', '.join(sorted(wanted))}"
        )

    def checkpoint_at(self, size: int) -> CheckpointRow:
        with self.store.read() as uow:
            row = uow.log.checkpoint(size)
        if row is None:
            raise NotFoundError(f"no checkpoint was signed at size {size}")
        return row

    def _within(self, size: int, what: str) -> Tree:
        tree = self.refresh()
        if size > tree.size:
            raise InputError(f"{what}: size {size} is beyond the tree (size {tree.size})")
        return tree

    def inclusion(self, index: int, size: int) -> InclusionProof:
        """The RFC 9162 inclusion proof of leaf ``index`` in the tree of ``size``.

        Raises:
            InputError: index or size out of the tree.
        """
        tree = self._within(size, "inclusion proof")
        if not 0 <= index < size:
            raise InputError(f"inclusion proof: index {index} is not below size {size}")
        return InclusionProof(
            index, size, tree.node(0, index), merkle.inclusion_proof(tree, index, size)
        )

    def consistency(self, old: int, new: int) -> ConsistencyProof:
        """The RFC 9162 consistency proof from size ``old`` to ``new``.

        Raises:
            InputError: not 0 <= old <= new <= the tree's size.
        """
        tree = self._within(new, "consistency proof")
        if not 0 <= old <= new:
            raise InputError(f"consistency proof: from {old} to {new} is not 0 <= from <= to")
        return ConsistencyProof(old, new, merkle.consistency_proof(tree, old, new))

    def root(self, size: int) -> bytes:
        return self._within(size, "root").root(size)

    def tile(self, ref: TileRef) -> bytes:
        """The bytes of a hash tile or an entry bundle.

        Raises:
            NotFoundError: the tree does not (yet) hold that tile at that width.
        """
        tree = self.refresh()
        span = WIDTH ** (ref.level or 0)
        needed = (ref.index * WIDTH + ref.width) * span
        if needed > tree.size:
            raise NotFoundError(f"{ref.path()}: the tree has {tree.size} entries")
        if ref.level is not None:
            return tile_hashes(tree, ref)
        return encode_bundle(self.entries(ref.index * WIDTH, ref.index * WIDTH + ref.width))

    def source_file(self, sha256: str) -> bytes:
        """The statistics file an ingest entry names by its content sha256, as ingested
        (the export of the snapshot's original state is byte-identical to it), so a mirror
        can replay the entry; it checks the hash itself.

        Raises:
            NotFoundError: no snapshot has that content.
        """
        with self.store.read() as uow:
            snap = uow.snapshots.find_sha(sha256.lower())
        if snap is None:
            raise NotFoundError(f"no stored file has content sha256 {sha256}")
        return export_snapshot(self.store, snap.id, state="original").encode()

    def entries(self, start: int, stop: int) -> list[bytes]:
        """The bytes of leaves start … stop − 1 (journal serials start + 1 … stop)."""
        with self.store.read() as uow:
            rows = list(uow.log.journal_after(start, stop + 1))
        if len(rows) != stop - start:
            raise NotFoundError(f"entries {start}..{stop - 1}: the journal has {len(rows)} of them")
        return [entry_line(*r).encode() for r in rows]


def publish(store: Store, folder: Path) -> tuple[CheckpointRow, int]:
    """Write the newest checkpoint, every tile and bundle it needs into ``folder`` (for a
    static web server); tiles already there are not rewritten (they are immutable).
    Returns the checkpoint and how many files were written.

    Raises:
        NotFoundError: no checkpoint yet.
    """
    reader = LogReader(store)
    point = reader.checkpoint()
    written = 0
    for ref in tiles_for_size(point.size):
        target = folder / ref.path()
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_bytes(reader.tile(ref))
        tmp.replace(target)
        written += 1
    tmp = folder / ".checkpoint.tmp"
    folder.mkdir(parents=True, exist_ok=True)
    tmp.write_text(point.note, encoding="utf-8")
    tmp.replace(folder / "checkpoint")
    return point, written + 1
