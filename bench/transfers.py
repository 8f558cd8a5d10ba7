"""Completed, journaled transfers per second, on SQLite and on PostgreSQL.

The five 2018 files are ingested, then RIPE NCC IPv4 delegations move to ARIN one after the
other under the mandatory-portability regime: request, approve, accept, complete — four
transactions and four journal entries each, every step re-evaluated against the regime.
Reported, not held to a target. A PostgreSQL run needs a URL of an empty database as the
first argument.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import files_2018, machine
from rirport.domain.enums import Registry, ResourceType
from rirport.domain.resources import ResourceRange
from rirport.domain.table import REGISTRY_CODE, TYPE_CODE
from rirport.domain.transfer import TransferKind
from rirport.query.view import load_current
from rirport.services.registry.iana import load_iana
from rirport.services.registry.ingest import ingest_path
from rirport.services.transfers.lifecycle import advance, build_request, request_transfer
from rirport.store.unit import Store

TRANSFERS = int(__import__("os").environ.get("BENCH_TRANSFERS", "200"))


def run(url: str) -> None:
    store = Store(url)
    for f in files_2018():
        ingest_path(store, f)
    view, iana = load_current(store), load_iana(store)
    t = view.table
    rows = np.flatnonzero(
        (t.registry == REGISTRY_CODE[Registry.RIPENCC])
        & (t.type == TYPE_CODE[ResourceType.IPV4])
        & (t.status <= 1)
    )
    rows = rows[:: max(len(rows) // TRANSFERS, 1)][:TRANSFERS]
    start = time.perf_counter()
    for row in rows.tolist():
        d = t.row(row)
        resource = ResourceRange(ResourceType.IPV4, t.first_int(row), t.last_int(row))
        req = build_request(
            view,
            resource,
            Registry.ARIN,
            "bench-recipient",
            TransferKind.INTER_RIR,
            max(d.date or view.snapshots[0].snapshot_date, view.snapshots[0].snapshot_date),
        )
        transfer = request_transfer(store, view, req, "mandatory-portability", "bench", iana)
        for step in ("approve", "accept", "complete"):
            result = advance(
                store, view, transfer.transfer.id, step, "bench", iana, conditions_met=True
            )
        assert result.transfer.state == "completed", result.transfer
    elapsed = time.perf_counter() - start
    store.close()
    print(
        f"{store.engine.dialect.name}: {len(rows)} transfers completed in {elapsed:.2f}s: "
        f"{len(rows) / elapsed:.1f} transfers/s ({4 * len(rows) / elapsed:.1f} journaled "
        "steps/s)"
    )


def main() -> None:
    print(f"machine: {machine()}")
    if len(sys.argv) > 1:
        run(sys.argv[1])
        return
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{Path(tmp) / 'transfers.sqlite'}")


if __name__ == "__main__":
    main()
