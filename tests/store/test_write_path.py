"""What each journaled write (a transfer step above all) asks the database, and what it may
remember instead (``bench/transfers.py`` measures the rates):

- the not-a-mirror check is asked once a transaction (one statement), not once an entry;
- the completed transfers into a range are found on the range index, not by reading every
  completed transfer (their number grew with each transfer made);
- PostgreSQL: an ingest that grew ``delegation`` leaves the planner statistics of it, and a
  pooled connection is pinged only after it sat idle.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from rirport.errors import MirrorReadOnlyError
from rirport.services.audit import journal
from rirport.store import engine as engines
from rirport.store.driver import Driver
from rirport.store.repos.log import LogRepo
from rirport.store.unit import Store


def _count_calls(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> list[int]:
    calls: list[int] = []
    real: Callable[..., Any] = getattr(owner, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


def _write(store: Store, entries: int = 1) -> None:
    with store.transaction() as uow:
        for n in range(entries):
            journal.append(uow, "test", "watch-add", {"n": n})


def test_the_mirror_check_is_asked_once_a_transaction(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = _count_calls(monkeypatch, LogRepo, "mirrored")
    _write(store, entries=3)  # a batch: asked once for its three entries
    assert asked == [1]
    _write(store)  # every transaction asks again: the statement that reserves the serial
    # answers it, once the store has a generation to count up (SQLite too, in its RETURNING)
    assert asked == [1]
    with store.transaction() as uow:  # a pass that fetched nothing: no entry, a publisher
        uow.connection.execute(
            text(
                "INSERT INTO log_peer (role, origin, size, note, source, verified_at) "
                "VALUES ('mirror', 'pub', 5, 'note', 'http://pub', 'now')"
            )
        )
    with pytest.raises(MirrorReadOnlyError, match="read-only mirror of pub"):
        _write(store)
    with store.read() as uow:
        assert uow.journal.count() == 4  # the refused write left nothing


def test_a_started_mirror_is_refused_from_the_first_write(store: Store) -> None:
    with store.transaction() as uow:
        uow.meta.put("mirror_started", "pub http://pub")
    with pytest.raises(MirrorReadOnlyError, match="first pass not finished"):
        _write(store)
    with store.transaction() as uow:
        uow.meta.put("mirror_started", "")  # take-over clears it
    _write(store)


def test_completed_transfers_into_a_range_are_found_on_the_range_index(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, tuple[Any, ...]]] = []
    real = Driver.rows

    def rows(self: Driver, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        if "FROM transfer" in sql and "completed" in sql:
            seen.append((sql, tuple(params)))
        return real(self, sql, params)

    monkeypatch.setattr(Driver, "rows", rows)
    with store.transaction() as uow:
        uow.transfers._widths().fold("1c0a80000", "1c0a800ff")
        uow.transfers._save_widths(uow.transfers._widths())
        uow.transfers.completed_into("1c0a80000", "1c0a800ff")
    ((sql, params),) = seen
    with store.engine.connect() as c:
        if store.engine.dialect.name == "postgresql":
            c.exec_driver_sql("SET enable_seqscan = off")  # an empty table: ask for an index
            plan = " ".join(str(r[0]) for r in c.exec_driver_sql("EXPLAIN " + sql, params))
        else:
            found = c.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)
            plan = " ".join(str(r[-1]) for r in found)
    assert "ix_transfer_lo_hi" in plan, plan
    assert "ix_transfer_state" not in plan, plan


def test_statistics_are_refreshed_after_a_write_that_grew_the_table(store: Store) -> None:
    if store.engine.dialect.name != "postgresql":
        assert not store.refresh_statistics("delegation", 10)  # SQLite: nothing to do
        return
    assert not store.refresh_statistics("delegation", 0)
    assert store.refresh_statistics("delegation", 10)  # never analysed: analyse
    with store.engine.connect() as c:
        tuples = c.exec_driver_sql(
            "SELECT reltuples FROM pg_class WHERE oid = 'delegation'::regclass"
        ).scalar()
    assert tuples is not None and tuples >= 0
    assert not store.refresh_statistics("delegation", 10)  # few against what it knows


def test_an_idle_pooled_connection_is_pinged_and_replaced_when_dropped(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not store_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL connection pool")
    engine, killer = engines.make_engine(store_url), create_engine(store_url)
    pings = _count_calls(monkeypatch, type(engine.dialect), "do_ping")
    try:
        with engine.connect() as c:
            pid = c.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with engine.connect() as c:  # used again at once: not pinged
            assert c.exec_driver_sql("SELECT pg_backend_pid()").scalar() == pid
        assert pings == []
        with killer.connect() as k:  # the server drops it
            k.exec_driver_sql("SELECT pg_terminate_backend(%s)", (pid,))
        monkeypatch.setattr(engines, "PING_AFTER_IDLE_SECONDS", 0.05)
        time.sleep(0.1)
        with engine.connect() as c:  # idle: pinged, found dropped, replaced
            assert c.exec_driver_sql("SELECT pg_backend_pid()").scalar() != pid
        assert len(pings) >= 1
    finally:
        engine.dispose()
        killer.dispose()
