"""Verifying a journal of 100,000 entries vs reading them.

Target: verification at most 2x the time it takes to read the same entries from the store.
The entries are built as transfer steps would write them (payloads of a few hundred bytes),
chained with the same hash function, and inserted in bulk.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from pathlib import Path

from bench.common import best_time, machine
from rirport.services.audit import journal
from rirport.store.unit import Store

ENTRIES = 100_000


def fill(store: Store, count: int) -> None:
    """``count`` chained entries, written with the driver in one transaction."""
    prev, rows = journal.GENESIS, []
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for serial in range(1, count + 1):
        created = (start + dt.timedelta(seconds=serial)).isoformat(timespec="microseconds")
        payload = journal.canonical(
            {
                "transfer": serial // 4 + 1,
                "step": ("request", "approve", "accept", "complete")[serial % 4],
                "state": "requested",
                "regime": "current",
                "request": {
                    "resource": f"193.{serial % 256}.0.0/24",
                    "source": "ripencc",
                    "recipient": "arin",
                    "source_holder": "x" * 36,
                    "recipient_holder": "y" * 32,
                    "kind": "inter-rir",
                },
            }
        )
        digest = journal.entry_hash(serial, created, "bench", "transfer", prev, payload)
        rows.append((serial, created, "bench", "transfer", payload, prev, digest))
        prev = digest
    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO journal (serial, created_at, actor, action, payload, prev_hash, hash) "
            "VALUES (" + ", ".join([_mark(store)] * 7) + ")",
            rows,
        )


def _mark(store: Store) -> str:
    return "%s" if store.engine.dialect.name == "postgresql" else "?"


def read_all(store: Store) -> int:
    with store.transaction() as uow:
        return sum(len(chunk) for chunk in uow.journal.chunks())


def main(url: str | None = None) -> None:
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(url or f"sqlite:///{Path(tmp) / 'journal.sqlite'}")
        fill(store, ENTRIES)
        assert read_all(store) == ENTRIES and journal.verify(store).ok
        read = best_time(lambda: read_all(store))
        verify = best_time(lambda: journal.verify(store))
        store.close()
    ratio = verify / read
    print(
        f"{store.engine.dialect.name}: {ENTRIES:,} entries: read {read:.3f}s, verify "
        f"{verify:.3f}s -> ratio {ratio:.2f}; target <= 2.0: "
        f"{'met' if ratio <= 2 else 'NOT met'}"
    )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
