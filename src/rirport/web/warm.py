"""Making the pages' shared facts before anyone asks.

The first reader of a fresh server (or of a fresh generation of the data, or of a new day:
the portability runs are made per day) would otherwise pay for the stats, the events, one
portability run per shipped regime, the versions… (2.7 s for the home page over the 2018
files). :class:`Warmer` makes them in a background thread when the app starts, then again
whenever the generation served or the day changes (it looks every ``every`` seconds), off the
request path: requests keep being answered meanwhile, and one asking for a fact being made
waits for that computation instead of starting another (:meth:`Served.derived`).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Sequence

from rirport.domain.enums import REGISTRIES
from rirport.query.live import LiveIndex
from rirport.web.pages.shared import Facts

log = logging.getLogger("rirport.web")


def warm(live: LiveIndex, day: dt.date, stop: Callable[[], bool] = lambda: False) -> list[str]:
    """Make every shared fact of the generation served now, on ``day``; the keys made (the
    facts already made count too). Stops early, between two facts, when ``stop()``."""
    shared = Facts(live.served, live, day)
    made: list[str] = []
    for fact in shared.warmed():
        if stop():
            return made
        shared.get(fact)
        made.append(fact.key)
    versions = shared.get(shared.versions())
    for registry in REGISTRIES:  # the registry pages' series, as of now
        if stop():
            return made
        fact = shared.space_over_time(versions, registry, None)
        shared.get(fact)
        made.append(fact.key)
    return made


class Warmer:
    """The background thread that keeps the current generation's facts made."""

    def __init__(
        self, live: LiveIndex, every: float = 1.0, once: Sequence[Callable[[], object]] = ()
    ) -> None:
        self.live = live
        self.every = every
        self.once = once
        """Made once at start, before the facts (the templates, compiled)."""
        self.warmed = threading.Event()
        """Set once the generation served at start is warm (tests and operators wait on it)."""
        self.keys: list[str] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="rirport-warm", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Ask the thread to stop (between two facts) and wait a little: it is a daemon, so a
        long computation under way does not hold up the server's exit."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            self._thread = None

    def _run(self) -> None:
        began = time.perf_counter()
        for prepare in self.once:
            try:
                prepare()
            except Exception as exc:
                log.warning("warming the pages failed: %s", exc)
        done: tuple[int, dt.date] | None = None  # the generation and day made
        while not self._stop.is_set():
            now = (self.live.served.generation, dt.date.today())
            if now != done:
                try:
                    self.keys = warm(self.live, now[1], self._stop.is_set)
                    took = time.perf_counter() - began
                    log.info("pages warm: %d facts made in %.1fs", len(self.keys), took)
                except Exception as exc:  # a failed warm-up only costs the first reader
                    log.warning("warming the pages failed: %s", exc)
                done = now
                self.warmed.set()
            self._stop.wait(self.every)
            began = time.perf_counter()
