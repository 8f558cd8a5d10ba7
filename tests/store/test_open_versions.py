"""Ingest over a history: unchanged records keep their row untouched (an open end), only what
changed is written; the head state a file is diffed against survives appends and is rebuilt
after what rewrites rows otherwise (a late file, a transfer)."""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Callable

import numpy as np
import pytest
from sqlalchemy import func, select

from rirport.domain.enums import Registry, ResourceType
from rirport.domain.resources import ResourceRange
from rirport.domain.transfer import TransferKind
from rirport.query.history import timeline
from rirport.query.iana import load_iana
from rirport.query.view import load_current
from rirport.services.registry.export import export_snapshot
from rirport.services.registry.ingest import ingest_bytes
from rirport.services.transfers.lifecycle import advance, build_request, request_transfer
from rirport.store import schema
from rirport.store.head import HeadState, fingerprints, match
from rirport.store.order import LineOrder
from rirport.store.unit import Store
from tests.excerpts import excerpt, real_file


def _days(n: int) -> list[bytes]:
    """n consecutive APNIC files from one real excerpt: each day lacks one more record."""

    def lacking(day: int) -> Callable[[int, list[str]], bool]:
        return lambda i, _fields: i < 60 and not 5 <= i < 5 + day

    return [
        excerpt(real_file("apnic"), lacking(day), serial=f"201810{14 + day}") for day in range(n)
    ]


def _returned(files: list[bytes], day: int) -> int:
    """Change events from day - 1 to day: the record dropped, if it was delegated."""
    before = set(files[day - 1].decode().split("\n"))
    gone = before - set(files[day].decode().split("\n"))
    records = [r.split("|") for r in gone if r.count("|") >= 6 and not r[0].isdigit()]
    return sum(1 for f in records if f[6] in ("allocated", "assigned"))


def _query(record: str) -> str:
    fields = record.split("|")
    if fields[2] == "asn":
        return f"AS{fields[3]}"
    return fields[3]


def _rows(store: Store) -> list[tuple[int, str, dt.date]]:
    d = schema.delegation.c
    with store.read() as uow:
        return [
            (int(r[0]), r[1], r[2] if isinstance(r[2], dt.date) else dt.date.fromisoformat(r[2]))
            for r in uow.connection.execute(select(d.id, d.record, d.valid_to).order_by(d.id))
        ]


def test_unchanged_records_are_one_row_with_an_open_end_and_closed_ones_end_where_they_left(
    store: Store,
) -> None:
    files = _days(4)
    ids = [ingest_bytes(store, data, f"apnic-{i}").snapshot_id for i, data in enumerate(files)]
    rows = _rows(store)
    assert len(rows) == len({r[1] for r in rows})  # no record stored twice
    closed = [r for r in rows if r[2] != schema.OPEN_END]
    assert [r[2] for r in closed] == [dt.date(2018, 10, 14), dt.date(2018, 10, 15),
                                      dt.date(2018, 10, 16)]  # fmt: skip
    for sid, data in zip(ids, files, strict=True):
        assert export_snapshot(store, sid).encode() == data
    kept = next(r for r in rows if r[2] == schema.OPEN_END)
    periods = timeline(store, _query(kept[1]))
    assert [p.last_seen for p in periods if p.delegation.start in kept[1]] == [
        dt.date(2018, 10, 17)  # the newest file's date, not the open end
    ]


def test_a_late_file_and_a_transfer_drop_the_head_state_and_the_next_file_rebuilds_it(
    store: Store,
) -> None:
    files = _days(5)
    for i in (0, 1, 3):
        ingest_bytes(store, files[i], f"apnic-{i}")
    late = ingest_bytes(store, files[2], "apnic-2")  # slots in before day 3
    assert late.slotted_before == dt.date(2018, 10, 17)
    with store.read() as uow:
        assert uow.delegations.head("apnic") is None
    last = ingest_bytes(store, files[4], "apnic-4")
    with store.read() as uow:
        head = uow.delegations.head("apnic")
        assert head is not None and head.snapshot_id == last.snapshot_id
    for sid in range(1, 6):
        with store.read() as uow:
            snap = uow.snapshots.get(sid)
        assert snap is not None
        day = int(snap.file_name.split("-")[1])
        assert export_snapshot(store, sid).encode() == files[day]
    assert last.events == _returned(files, 4)


def test_fingerprints_do_not_depend_on_the_widest_record_and_duplicates_pair_by_count() -> None:
    a = fingerprints(["apnic|AU|ipv4|1.0.0.0|256", "x"])
    b = fingerprints(["x" * 90, "apnic|AU|ipv4|1.0.0.0|256", "x"])
    assert a[0] == b[1] and a[1] == b[2] and len(set(b.tolist())) == 3
    old = fingerprints(["r1", "r2", "r2", "r3"])
    new = fingerprints(["r2", "r4", "r1", "r2", "r2"])
    m = match(old, new)
    pairs = sorted(zip(m.old.tolist(), m.new.tolist(), strict=True))
    assert pairs in ([(0, 2), (1, 0), (2, 3)], [(0, 2), (1, 3), (2, 0)])
    assert m.gone.tolist() == [3] and sorted(m.fresh.tolist()) == [1, 4]
    head = HeadState.of(7, [5, 3, 9], [5, 1, 9], old[:3])
    back = HeadState.decode(7, *head.encode())
    assert back.ids.tolist() == [3, 5, 9] and back.origins.tolist() == [1, 5, 9]
    assert (back.prints == head.prints).all()


def test_line_order_is_stored_as_its_changes_and_old_blobs_still_read() -> None:
    origins = np.r_[np.arange(10, 200_010), [900_000]]
    lines = np.r_[np.arange(1, 200_001) + 3, [2]]
    order = LineOrder.build(origins, lines)
    stored = order.encode()
    assert sum(map(len, stored)) < 200  # 200,001 rows, two out of step
    back = LineOrder.decode(*stored)
    assert (back.origins == order.origins).all() and (back.lines == order.lines).all()
    legacy = LineOrder.decode(
        zlib.compress(order.origins.astype("<i8").tobytes()),
        zlib.compress(order.lines.astype("<i4").tobytes()),
    )
    assert (legacy.lines_of([900_000, 10]) == [2, 4]).all()


def test_a_transfer_after_appends_then_a_new_file(store: Store) -> None:
    files = _days(3)
    ingest_bytes(store, files[0], "apnic-0")
    second = ingest_bytes(store, files[1], "apnic-1")
    ingest_bytes(store, excerpt(real_file("ripencc"), 20), "ripe")
    record = next(
        line for line in files[1].decode().split("\n") if "|ipv4|" in line and "allocated" in line
    )
    fields = record.split("|")
    view = load_current(store)
    block = ResourceRange.from_start_value(ResourceType.IPV4, fields[3], int(fields[4]))
    request = build_request(
        view, block, Registry.RIPENCC, "org-new", TransferKind.INTER_RIR, dt.date(2026, 11, 1),
        fields[7],
    )  # fmt: skip
    step = request_transfer(store, view, request, "mandatory-portability", "t", load_iana(store))
    for name in ("approve", "accept", "complete"):
        step = advance(
            store, load_current(store), step.transfer.id, name, "t", load_iana(store),
            conditions_met=True,
        )  # fmt: skip
    assert step.transfer.state == "completed"
    with store.read() as uow:
        assert uow.delegations.head("apnic") is None
    third = ingest_bytes(store, files[2], "apnic-2")
    assert export_snapshot(store, second.snapshot_id, state="original").encode() == files[1]
    assert export_snapshot(store, third.snapshot_id).encode() == files[2]
    assert third.events == _returned(files, 2)
    with store.read() as uow:
        n = uow.connection.execute(
            select(func.count())
            .select_from(schema.delegation)
            .where(
                schema.delegation.c.valid_to == schema.OPEN_END,
                schema.delegation.c.retired_serial.is_not(None),
            )
        ).scalar_one()
    assert n == 0  # a retired row never stays open


def test_a_line_order_is_stored_as_an_edit_of_the_one_before() -> None:
    base = LineOrder.build(np.arange(1, 1001), np.arange(3, 1003))
    by_line = np.r_[np.arange(1, 500), [5000, 5001], np.arange(501, 1001)]  # 500 out, 2 in
    order = LineOrder.build(by_line, np.arange(3, 3 + len(by_line)))
    stored = order.encode_after(base, 7, 1)
    assert stored is not None and sum(map(len, stored)) < 100
    assert LineOrder.base_of(stored[0]) == (7, 1)
    back = LineOrder.decode(*stored, base=base)
    assert (back.origins == order.origins).all() and (back.lines == order.lines).all()
    swapped = LineOrder.build(np.r_[[2, 1], np.arange(3, 1001)], np.arange(3, 1003))
    assert swapped.encode_after(base, 7, 1) is None  # kept rows reordered: a full blob


def test_a_failure_after_the_versions_are_written_leaves_the_history_as_it_was(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _days(3)
    first = ingest_bytes(store, files[0], "apnic-0")
    ingest_bytes(store, files[1], "apnic-1")
    rows = _rows(store)

    def fail(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk full (simulated)")

    monkeypatch.setattr("rirport.services.monitoring.events.record", fail)
    with pytest.raises(RuntimeError, match="simulated"):
        ingest_bytes(store, files[2], "apnic-2")
    assert _rows(store) == rows  # no row closed, none added
    with store.read() as uow:
        head = uow.delegations.head("apnic")
        assert head is not None and head.snapshot_id == first.snapshot_id + 1
    monkeypatch.undo()
    third = ingest_bytes(store, files[2], "apnic-2")
    assert export_snapshot(store, third.snapshot_id).encode() == files[2]
    assert third.events == _returned(files, 2)
