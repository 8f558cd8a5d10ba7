"""The current view and its index, kept fresh by following the store's write generation.

Every write transaction (ingest, transfer step, IANA file, hold) bumps the store's generation
and appends a journal entry, so a process that sees the generation move knows its index is
stale. Asking costs one tiny query; a background thread asks every ``refresh_seconds`` and
swaps in a new :class:`Served` when the answer changed. Requests never wait for a reload:
they use whichever :class:`Served` is current when they start (an atomic reference swap).

Views as of a date (``?as-of=``) are loaded on demand, at most one load per view however many
requests ask for it at once (:class:`Memo`), and the last few are kept; they never come from,
nor go into, the current :class:`Served`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Generic, TypeVar

from rirport.errors import NotFoundError
from rirport.query.iana import IanaBlocks, load_iana
from rirport.query.lookup import Lookup
from rirport.query.transfers import CompletedTransfers
from rirport.query.view import CurrentView, load_as_of, load_current
from rirport.store.repos.snapshots import SnapshotRow
from rirport.store.unit import Store

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
AS_OF_VIEWS = 2
"""As-of views kept per process: each holds a whole index (up to 240 MB on the 2018 files)."""
_MISSING = object()


class Served:
    """One generation of the registry as the server answers from it.

    Derived answers that are costly (bootstrap files, stats, integrity findings, portability
    tables) are computed on first use and kept with the generation they belong to.
    """

    def __init__(
        self, view: CurrentView, iana: IanaBlocks, transfers: CompletedTransfers | None = None
    ) -> None:
        self.view = view
        self.lookup = Lookup(view)
        self.iana = iana
        self.transfers = transfers or CompletedTransfers()
        """Completed transfers, for the ``transfer`` events of the objects they moved."""
        self._snapshots = {snap.id: snap for snap in view.snapshots}
        self._derived: dict[str, Any] = {}
        self._lock = threading.Lock()

    @property
    def generation(self) -> int:
        return self.view.generation

    def snapshot(self, snapshot_id: int) -> SnapshotRow:
        return self._snapshots[snapshot_id]

    def derived(self, key: str, compute: Callable[[], T]) -> T:
        """``compute()`` once per generation (concurrent first callers wait for one)."""
        with self._lock:
            if key not in self._derived:
                self._derived[key] = compute()
            value: T = self._derived[key]
            return value

    async def derived_off_loop(self, key: str, compute: Callable[[], T]) -> T:
        """:meth:`derived` for async handlers: a value already made is returned at once; a
        first computation (a second or more for bootstrap files) runs in a worker thread, so
        the event loop keeps serving other requests meanwhile."""
        made = self._derived.get(key, _MISSING)  # a dict read is atomic: no lock needed
        if made is not _MISSING:
            value: T = made
            return value
        return await asyncio.to_thread(self.derived, key, compute)


class Memo(Generic[K, T]):
    """The last ``size`` values computed, with one computation per key in flight: callers
    asking for a key being computed wait for that computation instead of starting another
    (two requests for one as-of view would otherwise load it twice, side by side)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._done: OrderedDict[K, T] = OrderedDict()
        self._pending: dict[K, Future[T]] = {}

    def get(self, key: K, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._done:
                self._done.move_to_end(key)
                return self._done[key]
            future = self._pending.get(key)
            owner = future is None
            if future is None:
                future = self._pending[key] = Future()
        if not owner:
            return future.result()
        try:
            value = compute()
        except BaseException as exc:
            with self._lock:
                del self._pending[key]
            future.set_exception(exc)
            raise
        with self._lock:
            self._done[key] = value
            while len(self._done) > self.size:
                self._done.popitem(last=False)
            del self._pending[key]
        future.set_result(value)
        return value


class LiveIndex:
    """The :class:`Served` generation of one store, refreshed when the store moves on."""

    def __init__(
        self, store: Store, cache_dir: Path | None = None, as_of_views: int = AS_OF_VIEWS
    ) -> None:
        self.store = store
        self.cache_dir = cache_dir
        self._served = self._load()
        self._reload_lock = threading.Lock()
        self._as_of: Memo[tuple[int, tuple[int, ...]], Served] = Memo(as_of_views)
        self.memo: Memo[Hashable, Any] = Memo(2)
        """Costly store reads requests page through (events between two dates); keys carry
        the generation they were read at."""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def served(self) -> Served:
        return self._served

    def store_generation(self) -> int:
        with self.store.read() as uow:
            return uow.meta.data_generation()

    def refresh(self) -> bool:
        """Reload when the store's generation differs from the one served; True if it did."""
        with self._reload_lock:
            if self.store_generation() == self._served.generation:
                return False
            self._served = self._load()
            return True

    def as_of(self, date: dt.date) -> Served:
        """The registries as they stood on ``date`` (each one's newest snapshot on or before
        it), loaded once per store generation and set of snapshots.

        Raises:
            NotFoundError: no snapshot is dated on or before ``date``.
        """
        key = self._as_of_key(date)
        return self._as_of.get(key, lambda: self._load_as_of(date))

    def _as_of_key(self, date: dt.date) -> tuple[int, tuple[int, ...]]:
        with self.store.read() as uow:
            generation = uow.meta.data_generation()
            ids = tuple(s.id for s in uow.snapshots.as_of(date))
        if not ids:
            raise NotFoundError(f"no snapshot is dated on or before {date.isoformat()}")
        return generation, ids

    def _load_as_of(self, date: dt.date) -> Served:
        try:
            view = load_as_of(self.store, date, self.cache_dir)
        except OSError:
            view = load_as_of(self.store, date, None)
        # the view shows them on the newest files
        return Served(view, self._served.iana, CompletedTransfers.load(self.store))

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
            transfers = CompletedTransfers.load(self.store)
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
        self._stop.clear()  # the app may be started again after a stop (tests do)

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
