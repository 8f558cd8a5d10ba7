"""Range lookups with the wide rows kept apart (:mod:`rirport.store.widths`) find what a scan
of every row finds: over IPv4 /8s and ranges inside them, after a transfer of part of a /8
(its parts are wide too), and on a store whose widths were kept the old way or not at all.

Each reference is the plain overlap query (``lo <= hi AND hi >= lo``) with no bound on ``lo``.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select, text

from rirport.domain.enums import Registry
from rirport.domain.query import parse_resource
from rirport.domain.transfer import TransferKind
from rirport.query.iana import load_iana
from rirport.query.view import load_current
from rirport.services.registry.ingest import ingest_bytes
from rirport.services.transfers.lifecycle import advance, build_request, request_transfer
from rirport.store import schema
from rirport.store.keys import key_of
from rirport.store.repos.delegations import NewDelegation
from rirport.store.repos.transfers import TransferRow
from rirport.store.unit import Store
from rirport.store.widths import WIDE, Widths
from tests.excerpts import excerpt, real_file
from tests.store.oracle import in_force

DAY = dt.date(2026, 11, 1)
RANGES = (
    "6.0.0.0/8",  # one /8 row
    "12.34.0.0/16",  # inside a /8 row only
    "12.0.0.0/7",  # two /8 rows
    "7.255.0.0-8.0.255.255",  # the end of one /8 and the start of a /9
    "9.13.0.0/16",  # inside a /14, itself inside 9.0.0.0/8's rows
    "13.50.1.0/24",  # inside a /14
    "0.0.0.0-255.255.255.255",
    "2001:400::/32",
    "1-4294967295",
)


def _arin(index: int, fields: list[str]) -> bool:
    """ARIN's legacy /8s and the smaller rows among them, and its first other records."""
    if fields[2] == "ipv4":
        return 3 <= int(fields[3].split(".")[0]) <= 13
    return index < 60


def _ingest(store: Store) -> None:
    ingest_bytes(store, excerpt(real_file("arin"), _arin), "arin.txt")
    ingest_bytes(store, excerpt(real_file("ripencc"), 30), "ripe.txt")


def _keys(text_range: str) -> tuple[str, str]:
    r = parse_resource(text_range)
    return key_of(r.type, r.first), key_of(r.type, r.last)


def _check_lookups(store: Store) -> int:
    """Every range's overlapping rows and completed transfers are the unbounded query's;
    returns how many rows were found."""
    d, t = schema.delegation.c, schema.transfer.c
    with store.read() as uow:
        current = uow.snapshots.current()
        ids = [s.id for s in current]
        valid = in_force(current)
        ranges = [_keys(r) for r in RANGES] + [(x.lo, x.hi) for x in uow.transfers.all()]
        seen = 0
        for lo, hi in ranges:
            got = uow.delegations.overlapping(ids, lo, hi)
            expected = uow.connection.execute(
                select(d.id, d.record)
                .where(d.lo <= hi, d.hi >= lo, d.retired_serial.is_(None), valid)
                .order_by(d.id)
            ).all()
            assert [(r.id, r.record) for r in got] == [tuple(e) for e in expected], (lo, hi)
            moved = [
                TransferRow(**r._mapping)
                for r in uow.connection.execute(
                    select(schema.transfer)
                    .where(t.state == "completed", t.lo <= hi, t.hi >= lo)
                    .order_by(t.updated_serial)
                )
            ]
            assert uow.transfers.completed_into(lo, hi) == moved, (lo, hi)
            seen += len(got)
        return seen


def _move(store: Store, text_range: str) -> None:
    view, iana = load_current(store), load_iana(store)
    req = build_request(
        view, parse_resource(text_range), Registry.RIPENCC, "org-new", TransferKind.INTER_RIR, DAY
    )
    step = request_transfer(store, view, req, "mandatory-portability", "t", iana)
    for name in ("approve", "accept", "complete"):
        step = advance(store, view, step.transfer.id, name, "t", iana, conditions_met=True)
    assert step.transfer.state == "completed"


def _meta(store: Store, key: str) -> dict[str, object] | None:
    with store.engine.connect() as c:
        raw = c.execute(text("SELECT value FROM meta WHERE key = :k"), {"k": key}).scalar()
    return None if raw is None else json.loads(raw)


def test_wide_rows_and_ranges_inside_them(store: Store) -> None:
    _ingest(store)
    with store.read() as uow:
        inside = uow.delegations.overlapping(
            [s.id for s in uow.snapshots.current()], *_keys("12.34.0.0/16")
        )
    assert [r.record.split("|")[3] for r in inside] == ["12.0.0.0"]
    assert _check_lookups(store) > 150


def test_a_transfer_inside_a_wide_row(store: Store) -> None:
    _ingest(store)
    _move(store, "12.34.0.0/16")  # splits the /8: its parts are wide rows of their own
    _move(store, "6.0.0.0/9")  # a wide transfer
    widths = _meta(store, "transfer_widest")
    assert widths is not None and widths["wide"] == {"1": [list(_keys("6.0.0.0/9"))]}
    assert _check_lookups(store) > 150
    with pytest.raises(_UndoError), store.transaction() as uow:
        # a part of a wide row this unit adds (as a transfer does) is found by this unit
        ids = [s.id for s in uow.snapshots.current()]
        uow.delegations.widest()
        (row,) = uow.delegations.overlapping(ids, *_keys("4.0.0.0/8"))
        lo, hi = _keys("4.128.0.0/9")
        part = NewDelegation(row.snapshot_id, row.line, lo, hi, None, row.record)
        uow.delegations.add([part], uow.journal.reserve())
        found = uow.delegations.overlapping(ids, *_keys("4.200.0.0/16"))
        assert len(found) == 2 and found[0].id == row.id
        raise _UndoError


class _UndoError(Exception):
    """Rolls a test's transaction back."""


def _all_widths(store: Store, table: str, upto: object = None) -> Widths:
    """The widths of every row (of ids up to ``upto``)."""
    w = Widths()
    upto = upto if upto is not None else 1 << 62
    with store.engine.connect() as c:
        for lo, hi in c.execute(text(f"SELECT lo, hi FROM {table} WHERE id <= :u"), {"u": upto}):
            w.fold(lo, hi)
    return w


def test_stores_with_old_or_no_widths_fall_back_to_the_scan(store: Store) -> None:
    _ingest(store)
    _move(store, "12.34.0.0/16")
    new = _meta(store, "widest")
    assert new is not None and "wide" in new
    with store.engine.begin() as c:  # the widths as kept before: one widest row per type
        old = {"upto": new["upto"], "widths": {"1": (1 << 24) - 1, "0": 0, "2": 1 << 100}}
        c.execute(text("UPDATE meta SET value = :v WHERE key = 'widest'"), {"v": json.dumps(old)})
        c.execute(
            text("UPDATE meta SET value = :v WHERE key = 'transfer_widest'"),
            {"v": json.dumps({"1": 65535})},
        )
    # a store from before is opened by a process that did not write it (this Store object
    # remembers its own last write, made before the widths were edited behind its back)
    store = Store(store.url)
    _check_lookups(store)
    assert _meta(store, "widest") == old  # reads write nothing
    _move(store, "6.0.0.0/9")
    for key, table in (("widest", "delegation"), ("transfer_widest", "transfer")):
        value = _meta(store, key) or {}
        kept = Widths.decode(value)  # made anew from every row (up to the id it says)
        assert kept == _all_widths(store, table, value.get("upto")), key
    _check_lookups(store)
    with store.engine.begin() as c:
        c.execute(text("DELETE FROM meta WHERE key IN ('widest', 'transfer_widest')"))
    _check_lookups(store)
    store.close()


def test_widths_keep_wide_rows_apart() -> None:
    w = Widths()
    a, b = _keys("12.0.0.0/8"), _keys("12.34.0.0/16")
    assert w.floor(b[0]) is None and w.wide_starts(*b) == []
    assert w.fold(*a) and not w.fold(*a)  # a wide row is kept once
    assert w.fold(*b) and not w.fold(*_keys("12.35.0.0/16"))
    assert w.ordinary == {"1": 65535} and w.wide == {"1": [a]}
    assert w.floor(b[0]) == "10c210001"  # 12.34.0.0 less 65,535
    assert w.wide_starts(*b) == [a[0]]
    assert w.wide_starts(*_keys("13.0.0.0/8")) == []
    assert w.wide_starts(*_keys("12.0.0.0/32")) == []  # at the floor: the range scan has it
    assert Widths.decode(w.encode()) == w
    assert Widths.decode({"upto": 3, "widths": {"1": 5}}) is None  # kept the old way
    assert WIDE["1"] == 1 << 20


def _newest_id(store: Store) -> int:
    with store.engine.connect() as c:
        return int(c.execute(text("SELECT max(id) FROM delegation")).scalar_one())


def test_an_ingest_records_its_rows_widths(store: Store) -> None:
    """The widths come from the file's columns as it is stored: no transfer reads them back."""
    _ingest(store)
    value = _meta(store, "widest") or {}
    assert value.get("upto") == _newest_id(store)
    kept = Widths.decode(value)
    assert kept == _all_widths(store, "delegation")
    assert kept is not None and len(kept.wide["1"]) > 10  # ARIN's legacy blocks


def test_an_ingest_over_widths_kept_the_old_way(store: Store) -> None:
    ingest_bytes(store, excerpt(real_file("ripencc"), 30), "ripe.txt")
    with store.engine.begin() as c:
        c.execute(
            text("UPDATE meta SET value = :v WHERE key = 'widest'"),
            {"v": json.dumps({"upto": 10**9, "widths": {"1": 1}})},  # says it covers every id
        )
    ingest_bytes(store, excerpt(real_file("arin"), _arin), "arin.txt")
    value = _meta(store, "widest") or {}
    assert value.get("upto") == _newest_id(store)
    assert Widths.decode(value) == _all_widths(store, "delegation")  # every row scanned again
    _check_lookups(store)
