"""Python's cyclic garbage collector paused while a file is ingested.

An ingest allocates many short-lived containers (rows, statements, events) and frees nearly
all of them by reference counting; each young collection during it scans them for cycles for
nothing, and now and then one of them sets off a full collection of everything the process
holds (tens of milliseconds with a few parsed files kept: a tenth of a day's ingest). Paused
for the file, the collector runs once afterwards, on the next allocation, over what is left.

Scoped, not ``gc.freeze()``: freezing moves every object alive into a generation never
collected again, for the rest of the process (a server or a long sync would keep any cycle
made before it for good); a pause only delays collection by one file. Pauses nest and may
overlap across threads (``ingest_many`` prepares the next file in a worker while this one is
stored): the collector is enabled again when the last one ends, and only if it was enabled
when the first began.
"""

from __future__ import annotations

import functools
import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class _Pauses:
    """The pauses in progress in this process (a count), and whether to enable after."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open = 0
        self._was_enabled = False

    @contextmanager
    def paused(self) -> Iterator[None]:
        with self._lock:
            if self._open == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._open += 1
        try:
            yield
        finally:
            with self._lock:
                self._open -= 1
                if self._open == 0 and self._was_enabled:
                    gc.enable()

    @property
    def open(self) -> int:
        """Pauses in progress (for tests)."""
        return self._open


_PAUSES = _Pauses()


def collection_paused() -> AbstractContextManager[None]:
    """Pause the cyclic garbage collector for the block (see the module's note)."""
    return _PAUSES.paused()


def paused_collection(fn: Callable[P, R]) -> Callable[P, R]:
    """``fn`` run with the collector paused (:func:`collection_paused`)."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with _PAUSES.paused():
            return fn(*args, **kwargs)

    return run


def pauses_open() -> int:
    """How many pauses are in progress in this process."""
    return _PAUSES.open
