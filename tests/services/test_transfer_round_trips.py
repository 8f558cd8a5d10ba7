"""What a transfer step asks the database, and that it still sees what another writer
committed while it waited (``bench/transfers.py`` measures the rates):

- PostgreSQL: a completed transfer is 10 round trips (request 2, approve 2, accept 2,
  complete 4), counted at the driver (psycopg): each transaction's ``BEGIN`` goes with its
  first statement and its last write with its ``COMMIT`` (:mod:`rirport.store.pgconn`); a
  step reads the log's pending parts, its transfer row and the completed transfers and
  holds over its range in the statement that reserves its serial (after the generation's
  lock; the rows read ``FOR SHARE`` and ``FOR UPDATE``: their newest committed versions),
  and sends its row writes (the transfer's update, the rows a completion adds) with its
  journal entry, as one statement (a request its row's insert, its id taken from the
  sequence with the bump; a completion reads where the moved numbers go with the rows it
  locks);
- on either engine, a write that waited for a checkpoint clearing the pending parts records
  its own part, and a step that waited for another store's step on the same transfer sees
  that step's outcome.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from rirport.domain.enums import Registry
from rirport.domain.query import parse_query
from rirport.domain.transfer import TransferKind
from rirport.errors import ConflictError, StorageError
from rirport.query.iana import IanaBlocks, load_iana
from rirport.query.view import CurrentView, load_current
from rirport.services.audit import journal
from rirport.services.registry.ingest import ingest_bytes
from rirport.services.transfers.lifecycle import advance, advance_in, build_request
from rirport.services.transfers.lifecycle import request_transfer as request
from rirport.services.transparency import state
from rirport.store.driver import Driver
from rirport.store.keys import key_of
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


def _only_on(store: Store, engine: str, why: str) -> None:
    """Skip a test of one engine's statements on the other."""
    if store.engine.dialect.name != engine:
        pytest.skip(why)


def _requested_with_view(store: Store) -> tuple[CurrentView, IanaBlocks, int]:
    """The current view, the IANA table and a requested transfer's id."""
    return load_current(store), load_iana(store), _requested(store)


class RoundTrips:
    """Every statement psycopg sends from here on, and the round trips they took: a
    statement outside a pipeline is one (a ``COMMIT`` or ``ROLLBACK`` too), a pipeline's
    statements together are one (sent at its sync)."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.trips: list[list[str]] = []
        self._open: list[str] | None = None

    def sent(self, text: str, piped: bool) -> None:
        self.statements.append(text)
        if piped:
            self._open = [] if self._open is None else self._open
            self._open.append(text)
        else:
            self.trips.append([text])

    def synced(self) -> None:
        self.trips.append(self._open or [])
        self._open = None


def _round_trips(monkeypatch: pytest.MonkeyPatch) -> RoundTrips:
    seen = RoundTrips()
    execute, many = psycopg.Cursor.execute, psycopg.Cursor.executemany
    commit, rollback = psycopg.Connection.commit, psycopg.Connection.rollback
    pipeline_exit = psycopg.Pipeline.__exit__

    def text(query: Any, params: Any) -> str:
        sql = str(query)
        return f"{sql} {list(params)}" if sql.startswith("SELECT value FROM meta") else sql

    def counted(self: psycopg.Cursor[Any], query: Any, params: Any = None, **kw: Any) -> Any:
        seen.sent(text(query, params or ()), self.connection._pipeline is not None)
        return execute(self, query, params, **kw)

    def counted_many(self: psycopg.Cursor[Any], query: Any, params: Any, **kw: Any) -> Any:
        seen.sent(str(query), False)
        return many(self, query, params, **kw)

    def ending(real: Any, word: str) -> Any:
        def end(self: psycopg.Connection[Any]) -> None:
            if self.pgconn.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                seen.sent(word, self._pipeline is not None)
            real(self)

        return end

    def synced(self: psycopg.Pipeline, *args: Any) -> None:
        seen.synced()
        pipeline_exit(self, *args)

    monkeypatch.setattr(psycopg.Cursor, "execute", counted)
    monkeypatch.setattr(psycopg.Cursor, "executemany", counted_many)
    monkeypatch.setattr(psycopg.Connection, "commit", ending(commit, "COMMIT"))
    monkeypatch.setattr(psycopg.Connection, "rollback", ending(rollback, "ROLLBACK"))
    monkeypatch.setattr(psycopg.Pipeline, "__exit__", synced)
    return seen


def test_the_prefetched_keys_are_the_pending_parts() -> None:
    assert PREFETCHED == (state.PENDING, state.PENDING_BUCKETS)


def test_a_completed_transfer_is_ten_round_trips_and_reads_nothing_twice(
    two_registries: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = two_registries
    _only_on(store, "postgresql", "PostgreSQL's round trips (SQLite has none to save)")
    view, iana = load_current(store), load_iana(store)
    steps = ("approve", "accept", "complete")
    trips: dict[str, int] = {}
    # the first one: what a process reads once; the second: every one after
    for resource in (RESOURCE, "193.0.0.0/22"):
        query = parse_query(resource)
        assert query.resource is not None
        req = build_request(
            view, query.resource, Registry.ARIN, NEW_HOLDER, TransferKind.INTER_RIR, DAY,
            RIPE_HOLDER,
        )  # fmt: skip
        seen = _round_trips(monkeypatch)
        before = len(seen.trips)
        transfer = request(store, view, req, PORTABLE, "tester", iana).transfer.id
        trips["request"] = len(seen.trips) - before
        for step in steps:
            before = len(seen.trips)
            done = advance(store, view, transfer, step, "tester", iana, conditions_met=True)
            trips[step] = len(seen.trips) - before
        assert done.transfer.state == "completed"
        monkeypatch.undo()
    assert trips == {"request": 2, "approve": 2, "accept": 2, "complete": 4}, seen.trips
    sent = seen.statements
    assert [s for s in sent if s.startswith("SELECT value FROM meta")] == []
    assert [s for s in sent if "FROM transfer WHERE id" in s and "json_build" not in s] == []
    assert [s for s in sent if s.startswith("SELECT json_build_array")] == []  # the facts
    line_before = "SELECT id, origin_id, line, lo, added_serial FROM"  # asked with the rows
    assert [s for s in sent if s.startswith(line_before)] == []
    alone = [t for t in seen.trips if t in (["BEGIN"], ["COMMIT"])]
    assert alone == [], seen.trips  # each goes with a statement of its transaction
    assert sum(t[0] == "BEGIN" for t in seen.trips) == 1 + len(steps)
    assert sum(t[-1] == "COMMIT" for t in seen.trips) == 1 + len(steps)
    inserts = [s for s in sent if "INSERT INTO transfer" in s]
    assert len(inserts) == 1 and "INSERT INTO journal" in inserts[0], inserts  # the request's
    writes = [s for s in sent if "UPDATE transfer" in s or "INSERT INTO delegation" in s]
    assert len(writes) == len(steps), writes  # one statement a step, with its entry's insert
    assert all("INSERT INTO journal" in s for s in writes), writes
    assert "INSERT INTO delegation" in writes[-1]  # the completion's rows too
    assert journal.verify(store).ok


def test_a_step_of_a_transfer_this_process_does_not_know_reads_its_facts_after_its_row(
    two_registries: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = two_registries
    _only_on(store, "postgresql", "PostgreSQL's round trips")
    view, iana, transfer = _requested_with_view(store)
    store.transfers_known.clear()  # (as another process that made the request)
    seen = _round_trips(monkeypatch)
    done = advance(store, view, transfer, "approve", "tester", iana)
    monkeypatch.undo()
    assert done.transfer.state == "approved"
    assert len(seen.trips) == 3, seen.trips  # the facts asked apart, once the row is read
    assert len([s for s in seen.statements if s.startswith("SELECT json_build_array")]) == 1
    assert journal.verify(store).ok


def test_a_failed_write_sent_with_the_commit_rolls_the_whole_transaction_back(
    two_registries: Store,
) -> None:
    store = two_registries
    _only_on(store, "postgresql", "PostgreSQL's deferred writes")
    before = journal.verify(store)
    with pytest.raises(StorageError), store.transaction() as uow:
        journal.append(uow, "test", "hold", {"n": 1})  # its rows go with the commit
        duplicate = "INSERT INTO meta (\"key\", value) VALUES ('generation', '0')"
        Driver(uow.connection).defer(duplicate, ())  # fails at the commit, with them
    after = journal.verify(store)
    assert after.ok and after.entries == before.entries
    with store.transaction() as uow:  # and the connection is usable again
        journal.append(uow, "test", "hold", {"n": 2})
    assert journal.verify(store).entries == before.entries + 1


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


def _hold_in(uow: Any, resource: str) -> None:
    """A legal hold over ``resource`` written in ``uow`` (as ``add_hold`` writes one)."""
    query = parse_query(resource)
    assert query.resource is not None
    r = query.resource
    serial = uow.journal.reserve()
    hold = uow.holds.add(
        {
            "kind": "legal-hold",
            "type": r.type.value,
            "resource": str(r),
            "lo": key_of(r.type, r.first),
            "hi": key_of(r.type, r.last),
            "reason": "court order",
            "reference": None,
            "since": dt.date(2020, 1, 1),
            "until": None,
            "created_serial": serial,
        }
    )
    journal.append(uow, "test", "hold", {"hold": hold, "step": "add"}, serial)


@pytest.mark.parametrize("concurrent", [False, True], ids=["after", "while-waiting"])
def test_a_step_sees_a_hold_another_store_placed_before_it_took_the_lock(
    two_registries: Store, concurrent: bool
) -> None:
    a = two_registries
    b = Store(a.url)
    try:
        view, iana = load_current(a), load_iana(a)
        transfer = _requested(a)  # a knows the range: its next step asks the facts early
        if concurrent:  # placed while a's step waits for the lock (its snapshot before it)
            out = while_held(
                b,
                lambda uow: _hold_in(uow, RESOURCE),
                a,
                lambda uow: advance_in(uow, view, transfer, "approve", "tester", iana),
            )
            assert "error" not in out, out.get("error")
            done = out["then"]
        else:
            with b.transaction() as uow:
                _hold_in(uow, RESOURCE)
            done = advance(a, view, transfer, "approve", "tester", iana)
    finally:
        b.close()
    assert done.transfer.state == "rejected", done.decision
    assert done.decision is not None and "court order" in str(done.decision.to_json())
    assert journal.verify(a).ok


def test_a_sqlite_step_asks_the_entry_before_the_mirror_and_the_pending_parts_with_its_bump(
    two_registries: Store,
) -> None:
    store = two_registries
    _only_on(store, "sqlite", "SQLite's statements")
    view, iana, transfer = _requested_with_view(store)
    sent: list[str] = []
    with store.transaction() as uow:
        raw = uow.connection.connection.dbapi_connection
        raw.set_trace_callback(sent.append)  # type: ignore[union-attr]
        try:
            advance_in(uow, view, transfer, "approve", "tester", iana)
        finally:
            raw.set_trace_callback(None)  # type: ignore[union-attr]
    assert any("RETURNING" in s and "FROM journal" in s for s in sent), sent
    apart = [
        s
        for s in sent
        if not s.startswith("UPDATE meta SET value = CAST")
        and ("FROM journal" in s or "FROM log_peer" in s or "'log_pending" in s)
    ]
    assert apart == [], apart
    assert journal.verify(store).ok
