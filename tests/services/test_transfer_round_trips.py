"""What a transfer step asks the database, and that it still sees what another writer
committed while it waited (``bench/transfers.py`` measures the rates):

- PostgreSQL: a step reads the log's pending parts and its transfer row in the statement
  that reserves its serial (after the generation's lock, the rows read ``FOR SHARE`` and
  ``FOR UPDATE``: their newest committed versions), and sends its row writes (the transfer's
  update, the rows a completion adds) with its journal entry, as one statement;
- on either engine, a write that waited for a checkpoint clearing the pending parts records
  its own part, and a step that waited for another store's step on the same transfer sees
  that step's outcome.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from rirport.domain.enums import Registry
from rirport.domain.query import parse_query
from rirport.domain.transfer import TransferKind
from rirport.errors import ConflictError
from rirport.query.iana import load_iana
from rirport.query.view import load_current
from rirport.services.audit import journal
from rirport.services.registry.ingest import ingest_bytes
from rirport.services.transfers.lifecycle import advance, advance_in, build_request
from rirport.services.transfers.lifecycle import request_transfer as request
from rirport.services.transparency import state
from rirport.store.driver import Driver
from rirport.store.repos.journal import PREFETCHED
from rirport.store.unit import Store
from tests.concurrent import while_held
from tests.excerpts import excerpt, real_file
from tests.services.test_transfers import DAY, NEW_HOLDER, PORTABLE, RIPE_HOLDER, _ripe_sample

RESOURCE = "193.0.16.0/21"


@pytest.fixture
def two_registries(store: Store) -> Store:
    ingest_bytes(store, excerpt(real_file("ripencc"), _ripe_sample), "ripe.txt")
    ingest_bytes(store, excerpt(real_file("arin"), 40), "arin.txt")
    return store


def _requested(store: Store, resource: str = RESOURCE) -> int:
    view = load_current(store)
    query = parse_query(resource)
    assert query.resource is not None
    req = build_request(
        view, query.resource, Registry.ARIN, NEW_HOLDER, TransferKind.INTER_RIR, DAY, RIPE_HOLDER
    )
    return request(store, view, req, PORTABLE, "tester", load_iana(store)).transfer.id


def _statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement the driver sends from here on (one a round trip)."""
    sent: list[str] = []
    run, many = Driver._run, Driver.many

    def counted_run(self: Driver, sql: str, params: Any) -> Any:
        sent.append(f"{sql} {list(params)}" if sql.startswith("SELECT value FROM meta") else sql)
        return run(self, sql, params)

    def counted_many(self: Driver, sql: str, params: Any) -> None:
        sent.append(sql)
        many(self, sql, params)

    monkeypatch.setattr(Driver, "_run", counted_run)
    monkeypatch.setattr(Driver, "many", counted_many)
    return sent


def test_the_prefetched_keys_are_the_pending_parts() -> None:
    assert PREFETCHED == (state.PENDING, state.PENDING_BUCKETS)


def test_a_step_after_this_process_wrote_reads_no_pending_parts_nor_its_row_apart(
    two_registries: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = two_registries
    if store.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's statements (SQLite has no round trips to save)")
    view, iana = load_current(store), load_iana(store)
    steps = ("approve", "accept", "complete")
    for resource in (RESOURCE, "193.0.0.0/22"):  # the first one: what a process reads once
        transfer = _requested(store, resource)  # the journal's head is this process's
        sent = _statements(monkeypatch)
        for step in steps:
            done = advance(store, view, transfer, step, "tester", iana, conditions_met=True)
        assert done.transfer.state == "completed"
        monkeypatch.undo()
    assert [s for s in sent if s.startswith("SELECT value FROM meta")] == []
    assert [s for s in sent if "FROM transfer WHERE id" in s and "json_build" not in s] == []
    writes = [s for s in sent if "UPDATE transfer" in s or "INSERT INTO delegation" in s]
    assert len(writes) == len(steps), writes  # one statement a step, with its entry's insert
    assert all("INSERT INTO journal" in s for s in writes), writes
    assert "INSERT INTO delegation" in writes[-1]  # the completion's rows too
    assert journal.verify(store).ok


@pytest.fixture
def two_stores(store_url: str) -> Iterator[tuple[Store, Store]]:
    a, b = Store(store_url), Store(store_url)
    try:
        yield a, b
    finally:
        a.close()
        b.close()


def test_a_write_that_waited_for_a_checkpoint_records_its_pending_part(
    two_stores: tuple[Store, Store],
) -> None:
    a, b = two_stores
    with a.transaction() as uow:  # unsigned: the holds part is left pending
        journal.append(uow, "test", "hold", {"n": 0})
    with a.read() as uow:
        assert state.pending(uow) == {"holds"}

    def checkpoint(uow: Any) -> None:  # what `rirport log checkpoint` does to the parts
        uow.meta.lock_generation()
        state.update_parts(uow)

    out = while_held(a, checkpoint, b, lambda uow: journal.append(uow, "test", "hold", {"n": 1}))
    assert "error" not in out, out.get("error")
    with a.read() as uow:  # cleared by the checkpoint, then pending again after b's write
        assert state.pending(uow) == {"holds"}
    assert journal.verify(a).ok


def test_a_step_that_waited_for_another_stores_step_sees_its_outcome(
    two_registries: Store,
) -> None:
    a = two_registries
    b = Store(a.url)
    try:
        view, iana = load_current(a), load_iana(a)
        transfer = _requested(a)
        advance(b, view, transfer, "approve", "tester", iana)  # b's tail: its own last write
        out = while_held(
            a,
            lambda uow: advance_in(uow, view, transfer, "accept", "tester", iana),
            b,
            lambda uow: advance_in(uow, view, transfer, "accept", "tester", iana),
        )
    finally:
        b.close()
    assert isinstance(out.get("error"), ConflictError), out
    assert "is accepted: it cannot accept" in str(out["error"])
    with a.read() as uow:
        row = uow.transfers.get(transfer)
    assert row is not None and row.state == "accepted"
    assert journal.verify(a).ok
