"""What the transparency log adds to a write transaction.

Target: the log's work in a write (leaf and new nodes stored, the state parts the entry
touched recomputed, the checkpoint signed and stored: all of
:func:`rirport.services.transparency.log.on_append`) at most 10% of the transaction's time.
Measured inside the same transactions, for the real 2018 RIPE NCC and AFRINIC files (ingests)
and for small writes (watchlists added and removed, holds added and lifted), in rounds whose
median share is the verdict.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import files_2018, machine
from rirport.config import Settings
from rirport.domain.query import parse_resource
from rirport.log.note import Signer
from rirport.services.audit import journal
from rirport.services.monitoring.watch import Criteria, add_watch, remove_watch
from rirport.services.registry.ingest import ingest_path
from rirport.services.transfers.holds import add_hold, lift_hold
from rirport.store.batch import Batch
from rirport.store.unit import Store

SPENT = [0.0, 0.0]
"""The log's time in the measured transactions: wall clock, and this thread's CPU time."""
PARTS = {"signature": 0.0, "statements": 0.0}
"""Wall-clock time of the log's two fixed costs in a signed write: the Ed25519 signature
(``Signer.signature_line``) and sending its rows (``Batch.send``: nodes, part digests,
checkpoint); the rest of the log's time is its Python work around them."""


def _part(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            PARTS[name] += time.perf_counter() - start

    return wrapper


def _timed(real: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start, cpu = time.perf_counter(), time.thread_time()
        try:
            return real(*args, **kwargs)
        finally:
            SPENT[0] += time.perf_counter() - start
            SPENT[1] += time.thread_time() - cpu

    return wrapper


def measure(name: str, work: Callable[[], object]) -> tuple[float, float]:
    """Run ``work``; print the log's share of its time. The verdict is on wall-clock time;
    the share of this thread's CPU time is printed beside it, as it is the one that time
    slices lost to other processes on a shared machine do not move."""
    SPENT[:] = [0.0, 0.0]
    PARTS.update(signature=0.0, statements=0.0)
    start, cpu = time.perf_counter(), time.thread_time()
    work()
    total, cpu_total = time.perf_counter() - start, time.thread_time() - cpu
    share = SPENT[0] / total
    print(
        f"{name}: transaction(s) {total:.3f}s, of which the log {SPENT[0]:.4f}s -> "
        f"{share:.1%} (CPU time {SPENT[1] / cpu_total:.1%}); "
        f"target <= 10%: {'met' if share <= 0.10 else 'NOT met'}"
    )
    return SPENT[0], total


def main(url: str | None = None, rounds: int = 15) -> None:
    print(f"machine: {machine()}")
    journal.transparency.on_append = _timed(journal.transparency.on_append)  # type: ignore[method-assign]
    Signer.signature_line = _part("signature", Signer.signature_line)  # type: ignore[method-assign]
    Batch.send = _part("statements", Batch.send)  # type: ignore[method-assign]
    files = {p.name.split("-")[1]: p for p in files_2018()}
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(url or f"sqlite:///{Path(tmp) / 'append.sqlite'}")
        store.log_signer = Signer.generate("bench.rirport/log")
        logged = 0.0
        whole = 0.0
        for registry in ("afrinic", "ripencc"):
            spent, total = measure(
                f"ingest {files[registry].name}", lambda r=registry: ingest_path(store, files[r])
            )
            logged, whole = logged + spent, whole + total

        def small() -> None:
            for i in range(25):
                add_watch(store, f"w{i}", Criteria(registries=("ripencc",)))
                remove_watch(store, f"w{i}")
                hold = add_hold(
                    store,
                    parse_resource("193.0.0.0/21"),
                    "dispute",
                    "bench",
                    "bench",
                    dt.date(2026, 1, 1),
                )
                lift_hold(store, hold.id, "bench")

        default = Settings.model_fields["log_checkpoint_interval"].default
        for interval in (0.0, default):
            store.checkpoint_interval = interval
            signed = (
                "every write signed (RIRPORT_LOG_CHECKPOINT_INTERVAL=0)"
                if not interval
                else f"signed at most every {interval} s (the default policy)"
            )
            shares, split = [], []
            for round_ in range(1, rounds + 1):
                spent, total = measure(f"round {round_} ({signed}): 100 small writes", small)
                shares.append(spent / total)
                split.append((PARTS["signature"] / spent, PARTS["statements"] / spent))
            middle = statistics.median(shares)
            sign, sent = (statistics.median(x[k] for x in split) for k in (0, 1))
            print(
                f"100 small writes (watchlists, holds), {signed}, median of {rounds} round(s): "
                f"the log {middle:.1%} (rounds {min(shares):.1%} .. {max(shares):.1%}); "
                f"target <= 10%: {'met' if middle <= 0.10 else 'NOT met'}; of the log's time "
                f"the Ed25519 signatures {sign:.0%}, sending its rows {sent:.0%}, the rest "
                f"(Python around them) {1 - sign - sent:.0%}"
            )
        with store.read() as uow:
            print(f"{uow.log.checkpoint_count()} checkpoints signed, tree size {uow.log.size()}")
        store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "url", nargs="?", help="store URL (default: a SQLite file in a temporary folder)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=15,
        help="rounds of 100 small writes; the verdict is on the median round (one round lasts "
        "a few tenths of a second, too short to judge alone on a shared machine)",
    )
    args = parser.parse_args(sys.argv[1:])
    main(args.url, args.rounds)
