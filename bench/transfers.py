"""Completed, journaled transfers per second, on SQLite and on PostgreSQL.

The five 2018 files are ingested, then RIPE NCC IPv4 delegations move to ARIN one after the
other under the mandatory-portability regime: request, approve, accept, complete — four
transactions and four journal entries each, every step re-evaluated against the regime.
The ingest of the five files is timed too, and again into a store without the range-key
index (``ix_delegation_lo``, migration 0010), so the index's cost to ingest is measured in the
same run as what it saves the transfers. A PostgreSQL run needs the URLs of two empty
databases as the arguments.
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
from rirport.query.iana import load_iana
from rirport.query.view import load_current
from rirport.services.registry.ingest import ingest_path
from rirport.services.transfers.lifecycle import advance, build_request, request_transfer
from rirport.store.unit import Store

TRANSFERS = int(__import__("os").environ.get("BENCH_TRANSFERS", "200"))


def ingest_time(url: str, index: bool) -> tuple[Store, float]:
    """A store at ``url`` with the 2018 files, and the seconds their ingest took."""
    store = Store(url)
    if not index:
        with store.engine.begin() as c:
            c.exec_driver_sql("DROP INDEX ix_delegation_lo")
    start = time.perf_counter()
    for f in files_2018():
        ingest_path(store, f)
    return store, time.perf_counter() - start


def run(url: str, bare_url: str) -> None:
    bare, without = ingest_time(bare_url, index=False)
    bare.close()
    store, took = ingest_time(url, index=True)
    print(
        f"{store.engine.dialect.name}: ingest of the five 2018 files {took:.1f}s with the "
        f"range-key index, {without:.1f}s without: {took / without:.2f}x"
    )
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
    if len(sys.argv) > 2:
        run(sys.argv[1], sys.argv[2])
        return
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{Path(tmp) / 'transfers.sqlite'}", f"sqlite:///{Path(tmp) / 'bare.sqlite'}")


if __name__ == "__main__":
    main()
