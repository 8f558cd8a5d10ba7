"""The publisher's witnesses, fed in the background (as Sunlight and Tessera do): every new
checkpoint is sent to each configured witness (C2SP tlog-witness ``add-checkpoint``, with the
consistency proof from the size that witness cosigned last), and the cosignatures returned
are added to that checkpoint's stored note.

A round (:meth:`Feeder.round`) takes the newest checkpoint, asks every witness that has not
cosigned it yet, all at once (one thread each), and stores what came back in one
transaction: so the witnesses' cosignatures land on the same checkpoints, which a mirror
requiring k of them needs. A witness that is down, slow or refuses costs its own request
only: one slower than a round's wait finishes on its own (not asked again meanwhile), writes
never wait for a round and never fail because of one (the feeder runs beside them, reading
the store like any reader). Its problem is logged once (again when it changes), and it is
asked again the next round. The size each witness cosigned last is remembered from its
answers (and learned from its 409 at the first request), so one request per witness and
round normally suffices.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

import httpx

from rirport.errors import ConfigError, RirportError
from rirport.log import cosignature
from rirport.log.note import COSIGNATURE, Verifier, parse_vkey
from rirport.services.transparency import witness as witnesses
from rirport.store.repos.log import CheckpointRow
from rirport.store.unit import Store

log = logging.getLogger("rirport.witness.feeder")


@dataclass(frozen=True)
class Target:
    """A witness the publisher submits to: its submission URL and its verifier key."""

    url: str
    key: Verifier


def parse_targets(text: str | None, where: str = "RIRPORT_WITNESSES") -> tuple[Target, ...]:
    """``URL VKEY`` pairs separated by commas (or new lines).

    Raises:
        ConfigError: a pair that is not one, a URL that is not http(s), a key that is not a
            witness (cosignature) key, or one key twice.
    """
    out: list[Target] = []
    for item in (text or "").replace("\n", ",").split(","):
        if not item.strip():
            continue
        parts = item.split()
        if len(parts) != 2 or not parts[0].startswith(("http://", "https://")):
            raise ConfigError(f"{where}: {item.strip()!r} is not 'URL VKEY' (URL http(s)://…)")
        try:
            key = parse_vkey(parts[1])
        except RirportError as exc:
            raise ConfigError(f"{where}: {parts[1]!r}: {exc}") from None
        if key.kind != COSIGNATURE:
            raise ConfigError(f"{where}: {parts[1]} is not a witness key (type 0x04 expected)")
        if any((t.key.name, t.key.id) == (key.name, key.id) for t in out):
            raise ConfigError(f"{where}: the witness {key.name} is named twice")
        out.append(Target(parts[0].rstrip("/"), key))
    return tuple(out)


@dataclass
class _State:
    cosigned: int = 0  # the size this witness cosigned last, as far as we know
    problem: str = ""  # the last problem logged, sizes left out (logged again when it changes)


@dataclass
class Feeder:
    """Submits the store's newest checkpoint to its witnesses, every ``interval`` seconds
    while there is a new one (:meth:`start` runs it in a daemon thread)."""

    store: Store
    targets: Sequence[Target]
    interval: float = 1.0
    client: httpx.Client = field(
        default_factory=lambda: httpx.Client(timeout=witnesses.TIMEOUT, follow_redirects=False)
    )
    report: Callable[[str], None] = log.warning

    round_wait: float = 5.0
    """Seconds a round waits for its answers; a witness slower than that is left to finish
    on its own (its cosignature stored when it comes) and not asked again meanwhile, so it
    delays no other witness's cosignature."""

    def __post_init__(self) -> None:
        self._states = {(t.url, t.key.name): _State() for t in self.targets}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._prove = witnesses.proofs(self.store)
        self._pool = ThreadPoolExecutor(max_workers=max(1, len(self.targets)))
        self._busy: dict[str, Future[witnesses.Cosigned | None]] = {}

    def round(self) -> list[witnesses.Cosigned]:
        """Ask every witness that has not cosigned the newest checkpoint (and is not still
        answering an earlier round) to cosign it; store the cosignatures returned within
        :attr:`round_wait`, and those of earlier rounds that came since; return them
        (problems reported, not raised)."""
        with self.store.read() as uow:
            row = uow.log.latest_checkpoint()
        if row is None:
            return []
        now = int(time.time())
        have = cosignature.cosignatures(row.note, [t.key for t in self.targets], now)[0]
        for t in self.targets:
            if t.key.name not in have and t.key.name not in self._busy:
                self._busy[t.key.name] = self._pool.submit(self._ask, t, row)
        wait(list(self._busy.values()), timeout=self.round_wait)
        done = []
        for name, future in list(self._busy.items()):
            if future.done():
                del self._busy[name]
                if (result := future.result()) is not None:
                    done.append(result)
        for size in sorted({d.size for d in done}):
            try:
                witnesses.add_cosignatures(
                    self.store, size, [d.line for d in done if d.size == size]
                )
            except RirportError as exc:  # a busy store: the next round asks again
                self.report(f"witness cosignatures at size {size} not stored: {exc}")
        return done

    def _ask(self, target: Target, row: CheckpointRow) -> witnesses.Cosigned | None:
        state = self._states[(target.url, target.key.name)]
        try:
            done = witnesses.request_cosignature(
                self.client, target.url, target.key, row, self._prove, state.cosigned
            )
        except (RirportError, httpx.HTTPError) as exc:
            problem = f"witness {target.key.name} ({target.url}): {exc}"
            kind = re.sub(r"\d+", "#", problem.split("\n", 1)[0])  # the same, at any size
            if kind != state.problem:
                state.problem = kind
                self.report(problem)
            return None
        if state.problem:
            self.report(f"witness {target.key.name} ({target.url}) cosigns again")
        state.cosigned, state.problem = done.size, ""
        return done

    def run(self) -> None:
        """Rounds until :meth:`stop`; an unexpected error is reported, never raised."""
        while not self._stop.is_set():
            try:
                self.round()
            except Exception as exc:  # the feeder must outlive any one round
                self.report(f"witness round failed: {exc!r}")
            self._stop.wait(self.interval)

    def start(self) -> Feeder:
        self._thread = threading.Thread(target=self.run, name="witness-feeder", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """End the rounds; a request still waiting for a witness is cut off."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.round_wait + 5)
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.client.close()


def describe(targets: Sequence[Target]) -> str:
    return ", ".join(f"{t.key.name} at {t.url}" for t in targets)


__all__ = ["Feeder", "Target", "describe", "parse_targets"]
