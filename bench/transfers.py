"""Completed, journaled transfers per second, on SQLite and on PostgreSQL, in one run.

The five 2018 files are ingested into a store per engine; then RIPE NCC IPv4 delegations move
to ARIN one after the other under the mandatory-portability regime: request, approve, accept,
complete — four transactions and four journal entries each, every step re-decided against the
regime. Measured in three log configurations: no log key (the tree grows, the state parts wait
for a checkpoint), a key with a checkpoint after every write, and a key with a checkpoint at
most every second (``RIRPORT_LOG_CHECKPOINT_INTERVAL=1``); on PostgreSQL also without a key and with
``synchronous_commit=off`` chosen in the database URL (``?options=-c
synchronous_commit=off``: commits do not wait for the disk; never the default), which says
how much of the wall time is the wait for each commit's flush. The first transfers after the
ingest are a warm-up (the widths of the stored rows, the view's range index), timed apart.

The baseline, in the same run and database: the same four transactions in plain SQL through
the driver — a transfer row inserted and updated three times, each step appending a journal
row hash-chained to the one before (SHA-256), and the completion locking the moved row through
the range-key index (``ix_delegation_lo_hi``), retiring it and inserting the moved copy. It is
what the store's work costs without rirport's policy evaluation, checks and log.

Usage: ``python -m bench.transfers [--engines sqlite,postgres]``; ``BENCH_TRANSFERS`` (200)
transfers per configuration (a tenth of them for a checkpoint after every write).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.common import files_2018, machine
from rirport.domain.enums import Registry, ResourceType
from rirport.domain.resources import ResourceRange
from rirport.domain.table import REGISTRY_CODE, TYPE_CODE
from rirport.domain.transfer import TransferKind
from rirport.log.note import Signer
from rirport.query.iana import load_iana
from rirport.query.view import CurrentView, load_current
from rirport.services.registry.ingest import ingest_path
from rirport.services.transfers.facts import INDEX_AFTER
from rirport.services.transfers.lifecycle import advance, build_request, request_transfer
from rirport.services.transparency import log as tlog
from rirport.store.keys import key_of
from rirport.store.unit import Store

TRANSFERS = int(os.environ.get("BENCH_TRANSFERS", "200"))
GOAL = 200.0
WARMUP = INDEX_AFTER // 2 + 2
"""Enough transfers for the view's range and holder indexes to be built in the warm-up
(each transfer gathers facts twice: its request and its first step; the index comes at the
``INDEX_AFTER``-th): with 5, as before, they were built inside the first timed run."""
POSTGRES = os.environ.get(
    "RIRPORT_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def database(engine: str) -> Iterator[str]:
    """The URL of an empty database of ``engine``, dropped afterwards."""
    if engine == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'transfers.sqlite'}"
        return
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    name = f"bench_transfers_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def transfer_rows(view: CurrentView, n: int) -> list[int]:
    t = view.table
    rows = np.flatnonzero(
        (t.registry == REGISTRY_CODE[Registry.RIPENCC])
        & (t.type == TYPE_CODE[ResourceType.IPV4])
        & (t.status <= 1)
    )
    return [int(r) for r in rows[:: max(len(rows) // n, 1)][:n]]


Timing = tuple[float, float]
"""(wall seconds, this process's CPU seconds)."""


def complete(store: Store, view: CurrentView, iana: list, rows: list[int]) -> Timing:  # type: ignore[type-arg]
    """Request, approve, accept and complete a transfer of each row; seconds taken."""
    t = view.table
    start, cpu = time.perf_counter(), time.process_time()
    for row in rows:
        d = t.row(row)
        resource = ResourceRange(ResourceType.IPV4, t.first_int(row), t.last_int(row))
        first = view.snapshots[0].snapshot_date
        req = build_request(
            view, resource, Registry.ARIN, "bench-recipient", TransferKind.INTER_RIR,
            max(d.date or first, first),
        )  # fmt: skip
        transfer = request_transfer(store, view, req, "mandatory-portability", "bench", iana)
        for step in ("approve", "accept", "complete"):
            result = advance(
                store, view, transfer.transfer.id, step, "bench", iana, conditions_met=True
            )
        assert result.transfer.state == "completed", result.transfer
    tlog.flush(store)  # the checkpoint an interval left for later is part of the cost
    return time.perf_counter() - start, time.process_time() - cpu


def _plain_connection(store: Store) -> Any:
    """A DBAPI connection of the driver itself: on PostgreSQL a fresh psycopg connection, not
    the store's (whose connection class sends BEGIN and COMMIT with statements), so the
    baseline stays plain SQL as the driver sends it."""
    if store.engine.dialect.name != "postgresql":
        return store.engine.raw_connection()
    import psycopg

    url = store.engine.url.set(drivername="postgresql")
    return psycopg.connect(url.render_as_string(hide_password=False))


def plain_sql(store: Store, view: CurrentView, rows: list[int]) -> Timing:
    """The baseline: the four journaled, hash-chained transactions per transfer in plain
    SQL through the driver (own tables for the transfer and journal rows)."""
    pg = store.engine.dialect.name == "postgresql"
    mark = "%s" if pg else "?"
    serial = "SERIAL" if pg else "INTEGER"
    with store.engine.begin() as c:
        c.exec_driver_sql(
            f"CREATE TABLE bench_transfer (id {serial} PRIMARY KEY, state TEXT, lo TEXT, hi TEXT)"
        )
        c.exec_driver_sql(
            "CREATE TABLE bench_journal (serial INTEGER PRIMARY KEY, created_at TEXT, "
            "payload TEXT, prev_hash TEXT, hash TEXT)"
        )
    t = view.table
    keys = []
    for row in rows:
        r = t.row(row).resource
        keys.append((key_of(r.type, r.first), key_of(r.type, r.last)))
    raw = _plain_connection(store)
    cur = raw.cursor()
    begin = "BEGIN" if pg else "BEGIN IMMEDIATE"

    def journal(payload: str) -> None:
        cur.execute("SELECT serial, hash FROM bench_journal ORDER BY serial DESC LIMIT 1")
        last = cur.fetchone()
        number, prev = (last[0] + 1, last[1]) if last else (1, "0" * 64)
        created = time.strftime("%Y-%m-%dT%H:%M:%S")
        digest = hashlib.sha256(f"{number}\n{created}\n{prev}\n{payload}".encode()).hexdigest()
        cur.execute(
            f"INSERT INTO bench_journal VALUES ({mark}, {mark}, {mark}, {mark}, {mark})",
            (number, created, payload, prev, digest),
        )

    if not pg:
        raw.driver_connection.isolation_level = None  # type: ignore[union-attr]
    start, cpu = time.perf_counter(), time.process_time()
    for lo, hi in keys:
        cur.execute(begin) if not pg else None
        cur.execute(
            f"INSERT INTO bench_transfer (state, lo, hi) VALUES ('requested', {mark}, {mark})"
            + (" RETURNING id" if pg else ""),
            (lo, hi),
        )
        tid = cur.fetchone()[0] if pg else cur.lastrowid
        journal(f'{{"transfer":{tid},"step":"request"}}')
        raw.commit() if pg else cur.execute("COMMIT")
        for state in ("approved", "accepted", "completed"):
            cur.execute(begin) if not pg else None
            cur.execute(
                f"SELECT state FROM bench_transfer WHERE id = {mark}"
                + (" FOR UPDATE" if pg else ""),
                (tid,),
            )
            cur.fetchone()
            if state == "completed":
                cur.execute(
                    f"SELECT id, record FROM delegation WHERE lo >= {mark} AND lo <= {mark} "
                    f"AND hi >= {mark} AND retired_serial IS NULL" + (" FOR UPDATE" if pg else ""),
                    (lo, hi, lo),
                )
                found = cur.fetchall()
                assert found, (lo, hi)
                for did, _record in found:
                    cur.execute(
                        f"UPDATE delegation SET retired_serial = -1 WHERE id = {mark}", (did,)
                    )
                    cur.execute(
                        "INSERT INTO delegation (snapshot_id, line, lo, hi, opaque_id, record, "
                        "added_serial, registry, valid_from, valid_to) SELECT snapshot_id, "
                        "line, lo, hi, opaque_id, record, -1, registry, valid_from, valid_to "
                        f"FROM delegation WHERE id = {mark}",
                        (did,),
                    )
            cur.execute(f"UPDATE bench_transfer SET state = {mark} WHERE id = {mark}", (state, tid))
            journal(f'{{"transfer":{tid},"step":"{state}"}}')
            raw.commit() if pg else cur.execute("COMMIT")
    took = time.perf_counter() - start, time.process_time() - cpu
    raw.close()
    return took


def run(engine: str) -> None:
    with database(engine) as url:
        store = Store(url)
        started = time.perf_counter()
        for f in files_2018():
            ingest_path(store, f)
        name = store.engine.dialect.name
        print(f"{name}: ingest of the five 2018 files {time.perf_counter() - started:.1f}s")
        view, iana = load_current(store), load_iana(store)
        n_every = max(TRANSFERS // 10, 5)
        pg = name == "postgresql"
        rows = transfer_rows(view, WARMUP + (4 + pg) * TRANSFERS + n_every)
        cut = iter(range(len(rows)))
        take = lambda k: [rows[next(cut)] for _ in range(k)]  # noqa: E731
        warm, _ = complete(store, view, iana, take(WARMUP))
        print(f"{name}: warm-up, {WARMUP} transfers after the ingest: {warm:.2f}s")
        results = []
        no_key = take(TRANSFERS)
        results.append(("no log key", len(no_key), complete(store, view, iana, no_key)))
        if pg:  # what waiting for the disk at each commit costs (an opt-in, never the default)
            relaxed = Store(f"{url}?options=-c%20synchronous_commit%3Doff")
            off = take(TRANSFERS)
            results.append(
                (
                    "no log key, synchronous_commit=off (opt-in URL option)",
                    len(off),
                    complete(relaxed, view, iana, off),
                )
            )
            relaxed.close()
        store.log_signer = Signer.generate("bench.rirport/log")
        tlog.catch_up(store)  # sign once: the state parts computed, the first checkpoint
        every = take(n_every)
        results.append(
            ("key, checkpoint after every write", len(every), complete(store, view, iana, every))
        )
        store.checkpoint_interval = 1.0
        interval = take(TRANSFERS)
        results.append(
            (
                "key, checkpoint at most every 1 s",
                len(interval),
                complete(store, view, iana, interval),
            )
        )
        base_rows = take(TRANSFERS)
        base_wall, base_cpu = plain_sql(store, view, base_rows)
        baseline = len(base_rows) / base_wall
        print(
            f"{name}: plain-SQL baseline (same four journaled transactions): {baseline:.1f}/s "
            f"wall, {len(base_rows) / base_cpu:.1f}/s of this process's CPU"
        )
        for label, n, (took, cpu) in results:
            rate = n / took
            print(
                f"{name}: {label}: {n} transfers in {took:.2f}s = {rate:.1f} completed "
                f"transfers/s; {rate / GOAL:.2f}x the {GOAL:.0f}/s goal "
                f"({'met' if rate >= GOAL else 'NOT met'}); {rate / baseline:.3f}x plain SQL; "
                f"CPU {cpu:.2f}s = {n / cpu:.1f}/s of this process's CPU"
            )
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="sqlite,postgres")
    args = parser.parse_args()
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f}")
    for engine in args.engines.split(","):
        run(engine.strip())
    print(
        f"load average at the end {os.getloadavg()[0]:.1f} (CPU rates count this process "
        "only: PostgreSQL's server time is not in them)"
    )


if __name__ == "__main__":
    main()
