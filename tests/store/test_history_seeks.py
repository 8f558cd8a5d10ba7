"""What an ingest asks of a store holding many daily snapshots, answered without reading all
of them: each registry's oldest snapshot before a date and newest on or before one (a seek
per registry), and the shared line-order cache keeping the orders asked for, not the ones
decoded only as the base of an edit (issue 14: ingest cost flat with history)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, select

from rirport.services.registry.ingest import ingest_bytes
from rirport.simulation import ChurnRates, DailyHistory
from rirport.store import schema
from rirport.store.order import LineOrder
from rirport.store.repos.delegations import SnapshotCache
from rirport.store.unit import Store
from tests.excerpts import excerpt, real_file

REGISTRIES = ("apnic", "arin", "ripencc")
DAYS = 6


@pytest.fixture
def daily(store: Store) -> Store:
    """Three registries' excerpts and five days derived from them, ingested with events."""
    base = [
        (real_file(r).name, excerpt(real_file(r), lambda i, _: i % 400 == 0)) for r in REGISTRIES
    ]
    history = DailyHistory(base, seed=3, rates=ChurnRates(per_record=0.02))
    for day in history.days(DAYS):
        for f in day.files:
            ingest_bytes(store, f.data, f.name)
    return store


def _all(store: Store) -> list[tuple[int, str, dt.date]]:
    s = schema.snapshot.c
    with store.read() as uow:
        rows = uow.connection.execute(
            select(s.id, s.registry, s.snapshot_date).order_by(s.registry, s.snapshot_date, s.id)
        )
        return [(int(i), str(r), d) for i, r, d in rows]


def test_earliest_before_and_newest_are_the_full_scans(daily: Store) -> None:
    rows = _all(daily)
    dates = sorted({d for _, _, d in rows})
    assert len(dates) >= DAYS and {r for _, r, _ in rows} == set(REGISTRIES)
    probes = [
        dates[0] - dt.timedelta(days=1),
        dates[0],
        dates[2],
        dates[-1],
        dates[-1] + dt.timedelta(days=9),
    ]
    for until in probes:
        earliest: dict[str, int] = {}
        newest: dict[str, int] = {}
        for sid, registry, date in rows:  # by registry, date, id
            if date < until:
                earliest.setdefault(registry, sid)
            if date <= until:
                newest[registry] = sid
        with daily.read() as uow:
            got = uow.snapshots.earliest_before(until)
            assert [(r.registry, r.id) for r in got] == sorted(earliest.items())
            assert uow.snapshots.newest_ids(until) == newest
    with daily.read() as uow:
        assert uow.snapshots.newest_ids() == {
            registry: max((d, i) for i, r, d in rows if r == registry)[1] for registry in REGISTRIES
        }


def test_shared_cache_keeps_the_orders_asked_for_not_their_bases(daily: Store) -> None:
    with daily.read() as uow:
        newest = uow.snapshots.newest_ids()["ripencc"]
        blob = uow.connection.execute(
            select(schema.snapshot_order.c.origins).where(
                schema.snapshot_order.c.snapshot_id == newest
            )
        ).scalar_one()
    based = LineOrder.base_of(blob)
    assert based is not None and based[1] == DAYS - 1  # an edit of edits back to day 0
    daily.snapshot_cache = SnapshotCache()
    with daily.read() as uow:
        order = uow.delegations.order(newest)
    assert list(daily.snapshot_cache.orders) == [newest]  # its five bases decoded, not kept
    cached, depth = daily.snapshot_cache.orders[newest]
    assert depth == DAYS - 1 and cached is order
    statements: list[str] = []
    with daily.read() as uow:  # the next unit takes it from the cache: no read of the blob
        event.listen(
            uow.connection, "before_cursor_execute", lambda *a: statements.append(str(a[2]))
        )
        assert uow.delegations.order(newest) is order
        assert uow.snapshots.get(newest) is not None  # the listener hears this unit
    assert statements and not [s for s in statements if "snapshot_order" in s]


def test_an_as_of_read_leaves_the_newest_orders_cached(daily: Store) -> None:
    """After an as-of read decoded older orders (each an edit of edits), the registries'
    newest orders, which the next ingests edit, are still in the shared cache."""
    daily.snapshot_cache = SnapshotCache()
    with daily.read() as uow:
        newest = uow.snapshots.newest_ids()
        for sid in newest.values():
            uow.delegations.order(sid)
        before = [
            uow.snapshots.neighbours(r, d)[0] for r, d in uow.snapshots.newest_dates().items()
        ]
    with daily.read() as uow:  # each of these decodes DAYS - 2 bases
        for snap in before:
            assert snap is not None
            uow.delegations.order(snap.id)
    kept = set(daily.snapshot_cache.orders)
    assert set(newest.values()) | {s.id for s in before if s is not None} == kept
