"""The transfer step's plain-SQL reads give the rows the SQLAlchemy queries they replaced gave,
on real data and both engines; the driver's errors still become the store's.

Each reference below is the query as it was written before (Core expressions decoded by
SQLAlchemy's types), run on the same store after real transfers and a hold.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import or_, select

from rirport.domain.enums import Registry, ResourceType
from rirport.domain.query import parse_resource
from rirport.domain.transfer import TransferKind
from rirport.errors import StorageError
from rirport.query.iana import load_iana
from rirport.query.view import load_current
from rirport.services.registry.ingest import ingest_bytes
from rirport.services.transfers.holds import add_hold
from rirport.services.transfers.lifecycle import advance, build_request, request_transfer
from rirport.store import schema
from rirport.store.driver import Driver
from rirport.store.keys import key_of
from rirport.store.repos.transfers import HoldRow, TransferRow
from rirport.store.unit import Store
from tests.excerpts import excerpt, real_file
from tests.store.oracle import in_force

DAY = dt.date(2026, 11, 1)


def _ripe(index: int, fields: list[str]) -> bool:
    return index < 30 or (fields[2] == "ipv4" and index % 7 == 0 and index < 3000)


@pytest.fixture
def moved(store: Store) -> Store:
    """Real RIPE NCC and ARIN excerpts, three RIPE NCC IPv4 records moved to ARIN, two
    left requested, and a hold on the second of those."""
    ingest_bytes(store, excerpt(real_file("ripencc"), _ripe), "ripe.txt")
    ingest_bytes(store, excerpt(real_file("arin"), 40), "arin.txt")
    view, iana = load_current(store), load_iana(store)
    t = view.table
    ipv4 = [
        t.row(r)
        for r in range(len(t))
        if t.row(r).registry is Registry.RIPENCC
        and t.row(r).resource.type is ResourceType.IPV4
        and t.row(r).status.delegated
    ]
    completed, requested, left = 0, 0, None
    for d in ipv4:
        req = build_request(view, d.resource, Registry.ARIN, "org-new", TransferKind.INTER_RIR, DAY)
        step = request_transfer(store, view, req, "mandatory-portability", "t", iana)
        if step.transfer.state == "rejected":
            continue
        if completed < 3:
            for name in ("approve", "accept", "complete"):
                step = advance(store, view, step.transfer.id, name, "t", iana, conditions_met=True)
            completed += step.transfer.state == "completed"
        elif not requested:
            requested = step.transfer.id
        else:
            left = d.resource
            break
    assert completed == 3 and requested and left is not None
    add_hold(store, left, "legal-hold", "court order 1", "t", dt.date(2026, 1, 1))
    return store


def _ranges(store: Store) -> list[tuple[str, str]]:
    """Ranges over the stored rows: each transfer's, all of IPv4 and a /8."""
    with store.read() as uow:
        transfers = uow.transfers.all()
    found = [(t.lo, t.hi) for t in transfers]
    for text in ("0.0.0.0-255.255.255.255", "193.0.0.0/8"):
        r = parse_resource(text)
        found.append((key_of(r.type, r.first), key_of(r.type, r.last)))
    return found


def test_overlapping_is_the_core_query(moved: Store) -> None:
    d = schema.delegation.c
    with moved.read() as uow:
        current = uow.snapshots.current()
        ids = [s.id for s in current]
        seen = 0
        for lo, hi in _ranges(moved):
            got = uow.delegations.overlapping(ids, lo, hi)
            valid = in_force(current)
            expected = uow.connection.execute(
                select(d.id, d.record)
                .where(d.lo <= hi, d.hi >= lo, d.retired_serial.is_(None), valid)
                .order_by(d.id)
            ).all()
            assert [(r.id, r.record) for r in got] == [tuple(e) for e in expected]
            seen += len(got)
        assert seen > 100  # the whole of IPv4 is among the ranges


def test_newest_snapshots_are_the_core_pick(moved: Store) -> None:
    s = schema.snapshot.c
    with moved.read() as uow:
        newest: dict[str, int] = {}
        for sid, registry in uow.connection.execute(
            select(s.id, s.registry).order_by(s.registry, s.snapshot_date, s.id)
        ):
            newest[registry] = sid
        assert uow.snapshots.newest_ids() == newest
        assert [r.id for r in uow.snapshots.current()] == [newest[k] for k in sorted(newest)]
        assert uow.snapshots.newest_ids(dt.date(1990, 1, 1)) == {}


def test_transfer_rows_are_the_core_rows(moved: Store) -> None:
    t = schema.transfer.c
    with moved.read() as uow:
        core = [
            TransferRow(**r._mapping)
            for r in uow.connection.execute(select(schema.transfer).order_by(t.id))
        ]
        assert [r.state for r in core].count("completed") == 3
        assert "requested" in {r.state for r in core}
        assert [uow.transfers.get(r.id) for r in core] == core
        assert uow.transfers.get(10_000) is None
        for lo, hi in _ranges(moved):
            expected = [
                TransferRow(**r._mapping)
                for r in uow.connection.execute(
                    select(schema.transfer)
                    .where(t.state == "completed", t.lo <= hi, t.hi >= lo)
                    .order_by(t.updated_serial)
                )
            ]
            assert uow.transfers.completed_into(lo, hi) == expected


def test_an_update_writes_what_core_reads_back(moved: Store) -> None:
    with moved.transaction() as uow:
        row = uow.transfers.all(("requested",))[0]
        uow.transfers.update(row.id, decision={"outcome": "x", "n": [1]}, conditions_met=True)
    with moved.read() as uow:
        back = uow.connection.execute(
            select(schema.transfer).where(schema.transfer.c.id == row.id)
        ).one()
        assert back.decision == {"outcome": "x", "n": [1]} and back.conditions_met is True
    with pytest.raises(TypeError, match="not transfer columns: nope"), moved.transaction() as uow:
        uow.transfers.update(row.id, nope=1)


def test_active_holds_are_the_core_holds(moved: Store) -> None:
    h = schema.legal_hold.c
    with moved.read() as uow:
        for lo, hi in _ranges(moved):
            for on in (dt.date(2025, 12, 31), DAY):
                expected = [
                    HoldRow(**r._mapping)
                    for r in uow.connection.execute(
                        select(schema.legal_hold)
                        .where(
                            h.lifted_serial.is_(None),
                            h.lo <= hi,
                            h.hi >= lo,
                            h.since <= on,
                            or_(h.until.is_(None), h.until >= on),
                        )
                        .order_by(h.id)
                    )
                ]
                assert uow.holds.active(lo, hi, on) == expected
        wide = _ranges(moved)[-2]  # all of IPv4
        assert len(uow.holds.active(*wide, DAY)) == 1
        assert uow.holds.active(*wide, dt.date(2025, 12, 31)) == []


def test_a_driver_error_is_the_stores_and_rolls_back(moved: Store) -> None:
    with moved.read() as uow:
        before = uow.meta.generation()
    with pytest.raises(StorageError, match="database error"), moved.transaction() as uow:
        uow.journal.reserve()
        d = Driver(uow.connection)
        d.run(f"INSERT INTO journal (serial) VALUES ({d.mark})", (1,))
    with moved.read() as uow:
        assert uow.meta.generation() == before


def test_reads_stay_read_only_between_writes(moved: Store) -> None:
    """The SQLite pragmas are set only when they change: a read after a write still refuses
    to write, and a write after a read still writes."""
    for _ in range(2):
        with moved.transaction() as uow:
            serial = uow.journal.reserve()
        with pytest.raises(StorageError), moved.read() as uow:
            uow.meta.put("probe", "1")
        with moved.read() as uow:
            assert uow.meta.generation() == serial
