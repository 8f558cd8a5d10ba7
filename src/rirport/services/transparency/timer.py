"""The checkpoint a server's writes left for later, signed in the background.

With a checkpoint interval of N > 0 seconds (``RIRPORT_LOG_CHECKPOINT_INTERVAL``) a write
less than N seconds after the newest checkpoint leaves its checkpoint for later
(:mod:`.log`). A command signs it before it exits; a server runs this timer instead: a daemon
thread that looks every *tick* (a quarter of the interval, at most a second) whether this
process left one, and signs it once the interval has passed since the newest checkpoint
(:func:`.log.flush_due`). So every entry a server commits is covered by a signed checkpoint
within about N seconds plus a tick, while it keeps serving, however quiet it is afterwards.

Each process that writes runs its own (every ``serve --workers`` worker: the one that left a
checkpoint signs it; a worker whose entries another's checkpoint covers meanwhile signs
nothing). Its first look, when the server starts, also signs the newest entries if no
checkpoint covers them (a process killed before it signed what it left). Signing runs in
this thread, never on a request; a failure (a store busy with an ingest, a database gone) is
logged, once until it changes, and tried again the next tick.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from rirport.services.transparency.log import flush_due
from rirport.store.unit import Store

__all__ = ["CheckpointTimer", "flush_due", "tick_for"]

log = logging.getLogger("rirport.log")
MAX_TICK = 1.0
"""Seconds between looks, at most (a quarter of the interval when that is shorter)."""
MIN_TICK = 0.05


def tick_for(interval: float) -> float:
    """How often the timer looks, for a checkpoint interval of ``interval`` seconds."""
    return min(MAX_TICK, max(MIN_TICK, interval / 4))


class CheckpointTimer:
    """Signs the checkpoint ``store``'s writes left for later once it is due (started by
    :meth:`start`, only when the store has a key and a checkpoint interval)."""

    def __init__(self, store: Store, report: Callable[[str], None] = log.warning) -> None:
        self.store = store
        self.tick = tick_for(store.checkpoint_interval)
        self._report = report
        self._problem = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def step(self) -> float:
        """One look: sign what is due; the seconds until the next look."""
        try:
            left = flush_due(self.store)
        except Exception as exc:  # keep serving; the checkpoint is left for the next look
            problem = f"signing the deferred checkpoint failed (tried again): {exc}"
            if problem != self._problem:
                self._report(problem)
            self._problem = problem
            return self.tick
        if self._problem:
            self._report("signing deferred checkpoints works again")
            self._problem = ""
        if left is None:
            return self.tick
        # due then (a newer checkpoint only puts it later); at most the interval, should
        # another server's clock be ahead of this one's
        return min(left, self.store.checkpoint_interval) + 0.001

    def run(self) -> None:
        wait = self.tick
        while not self._stop.wait(wait):
            wait = self.step()

    def start(self) -> CheckpointTimer:
        """Run in a daemon thread; nothing when the store signs after every write or has
        no key. The first look asks the store whether its newest entries are signed."""
        if self.store.checkpoint_interval <= 0 or self.store.log_signer is None:
            return self
        # the first look also signs what a process killed before its flush left unsigned
        self.store.log_deferred = True
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self.run, name="rirport-checkpoint-timer", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread (what is left is the caller's to flush: the server does)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
