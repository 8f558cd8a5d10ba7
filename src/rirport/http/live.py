"""The current view and its index, kept fresh by following the store's write generation.

Every write transaction (ingest, transfer step, IANA file, hold) bumps the store's generation
and appends a journal entry, so a process that sees the generation move knows its index is
stale. Asking costs one tiny query; a background thread asks every ``refresh_seconds`` and
swaps in a new :class:`Served` when the answer changed. Requests never wait for a reload:
they use whichever :class:`Served` is current when they start (an atomic reference swap).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from rirport.services.iana import IanaBlocks, load_iana
from rirport.services.lookup import Lookup
from rirport.services.view import CurrentView, load_current
from rirport.store.repos import SnapshotRow, TransferRow
from rirport.store.unit import Store

T = TypeVar("T")


class Served:
    """One generation of the registry as the server answers from it.

    Derived answers that are costly (bootstrap files, stats, integrity findings, portability
    tables) are computed on first use and kept with the generation they belong to.
    """

    def __init__(self, view: CurrentView, iana: IanaBlocks,
                 transfers: list[TransferRow] | None = None) -> None:
        self.view = view
        self.lookup = Lookup(view)
        self.iana = iana
        self.transfers = transfers or []
        """Completed transfers, for the ``transfer`` events of the objects they moved."""
        self._snapshots = {snap.id: snap for snap in view.snapshots}
        self._derived: dict[str, Any] = {}
        self._lock = threading.Lock()

    @property
    def generation(self) -> int:
        return self.view.generation

    def snapshot(self, snapshot_id: int) -> SnapshotRow:
        return self._snapshots[snapshot_id]

    def transfer_dates(self, registry: str, first_key: str, last_key: str) -> list[str]:
        """Dates of completed transfers into ``registry`` overlapping the keyed range."""
        return sorted(t.transfer_date.isoformat() for t in self.transfers
                      if t.recipient_registry == registry and t.lo <= last_key
                      and first_key <= t.hi)

    def derived(self, key: str, compute: Callable[[], T]) -> T:
        """``compute()`` once per generation (concurrent first callers wait for one)."""
        with self._lock:
            if key not in self._derived:
                self._derived[key] = compute()
            value: T = self._derived[key]
            return value


class LiveIndex:
    """The :class:`Served` generation of one store, refreshed when the store moves on."""

    def __init__(self, store: Store, cache_dir: Path | None = None) -> None:
        self.store = store
        self.cache_dir = cache_dir
        self._served = self._load()
        self._reload_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def served(self) -> Served:
        return self._served

    def store_generation(self) -> int:
        with self.store.transaction() as uow:
            return uow.meta.generation()

    def refresh(self) -> bool:
        """Reload when the store's generation differs from the one served; True if it did."""
        with self._reload_lock:
            if self.store_generation() == self._served.generation:
                return False
            self._served = self._load()
            return True

    def _load(self, attempts: int = 5) -> Served:
        """A view of one generation: loaded again when a write landed meanwhile.

        A load reads the snapshots and their records in several statements; under
        PostgreSQL's READ COMMITTED a write committing in between could show a moved block at
        neither registry (or both). Every write bumps the generation, so an unchanged
        generation before and after the load proves nothing landed in between. After
        ``attempts`` busy tries the last load is served; the next refresh replaces it.
        """
        for _ in range(attempts):
            before = self.store_generation()
            with self.store.transaction() as uow:
                transfers = uow.transfers.all(("completed",))
            served = Served(self._view(), load_iana(self.store), transfers)
            if before == served.generation == self.store_generation():
                return served
        return served

    def _view(self) -> CurrentView:
        """The view, through the cache file; without it if writing the file failed (worker
        processes starting together race for the same file)."""
        try:
            return load_current(self.store, self.cache_dir)
        except OSError:
            return load_current(self.store, None)

    # -- the background follower ---------------------------------------------------------
    def follow(self, every: float, on_error: Callable[[Exception], None]) -> None:
        """Start a daemon thread calling :meth:`refresh` every ``every`` seconds."""
        if every <= 0 or self._thread is not None:
            return

        def loop() -> None:
            while not self._stop.wait(every):
                try:
                    self.refresh()
                except Exception as exc:  # keep serving the old generation, say why
                    on_error(exc)

        self._thread = threading.Thread(target=loop, name="rirport-follow", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
