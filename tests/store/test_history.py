"""History in the store, on SQLite and PostgreSQL: versions instead of copies, in any ingest
order, with every snapshot still exported byte for byte; as-of views; holder links."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from sqlalchemy import func, select

from rirport.domain.enums import Registry
from rirport.domain.resources import ResourceRange
from rirport.domain.transfer import TransferKind
from rirport.errors import NotFoundError
from rirport.query.holders import identity, links
from rirport.query.lookup import Lookup
from rirport.query.view import load_as_of, load_current
from rirport.services.registry.export import export_snapshot
from rirport.services.registry.iana import load_iana
from rirport.services.registry.ingest import ingest_bytes
from rirport.services.transfers.lifecycle import advance, build_request, request_transfer
from rirport.store import schema
from rirport.store.unit import Store
from tests.excerpts import excerpt, real_file

MID_DATE = dt.date(2018, 1, 15)


def _afrinic_asns(_index: int, fields: list[str]) -> bool:
    return fields[2] == "asn" and int(fields[3]) < 33000


def _records(data: bytes) -> set[str]:
    return {
        line
        for line in data.decode().splitlines()
        if line.count("|") >= 6 and not line[0].isdigit() and not line.startswith("#")
    }


def _files() -> dict[str, bytes]:
    """AFRINIC's real 2017 and 2018 ASN records, and a file dated between them made of the
    2018 records less every fifth record the two real files share (so versions valid in both
    must be cut around it)."""
    old = excerpt(real_file("afrinic", "2017"), _afrinic_asns)
    new = excerpt(real_file("afrinic", "2018"), _afrinic_asns)
    shared = _records(old) & _records(new)
    dropped = {line for i, line in enumerate(sorted(shared)) if i % 5 == 0}

    def middle(_index: int, fields: list[str]) -> bool:
        return _afrinic_asns(_index, fields) and "|".join(fields) not in dropped

    mid = excerpt(real_file("afrinic", "2018"), middle, serial=MID_DATE.strftime("%Y%m%d"))
    return {"old": old, "mid": mid, "new": new}


def _delegation_rows(store: Store) -> int:
    with store.transaction() as uow:
        return int(
            uow.connection.execute(select(func.count()).select_from(schema.delegation)).scalar_one()
        )


@pytest.mark.parametrize(
    "order", [("old", "mid", "new"), ("new", "old", "mid"), ("mid", "new", "old")]
)
def test_versions_not_copies_and_every_snapshot_exports_byte_for_byte(
    store: Store, order: tuple[str, str, str]
) -> None:
    files = _files()
    ids = {name: ingest_bytes(store, files[name], f"afrinic-{name}").snapshot_id for name in order}

    for name, data in files.items():
        assert export_snapshot(store, ids[name]).encode() == data, name
        assert export_snapshot(store, ids[name], state="original").encode() == data, name
    records = [len(data.decode().splitlines()) for data in files.values()]
    assert _delegation_rows(store) < sum(records) * 0.6  # most records are shared
    view = load_current(store)
    assert [s.id for s in view.snapshots] == [ids["new"]]


def test_a_late_older_file_cuts_the_versions_it_lacks(store: Store) -> None:
    files = _files()
    first = ingest_bytes(store, files["old"], "old").snapshot_id
    ingest_bytes(store, files["new"], "new")
    before = _delegation_rows(store)
    mid = ingest_bytes(store, files["mid"], "mid").snapshot_id
    lacking = _records(files["new"]) - _records(files["mid"])
    # each record the middle file lacks and the others share is now two versions
    shared = lacking & _records(files["old"])
    assert shared
    assert _delegation_rows(store) == before + len(shared)
    assert export_snapshot(store, mid).encode() == files["mid"]
    assert export_snapshot(store, first).encode() == files["old"]


def test_as_of_takes_each_registrys_newest_snapshot_on_or_before_the_date(store: Store) -> None:
    files = _files()
    ids = {name: ingest_bytes(store, data, name).snapshot_id for name, data in files.items()}
    ripe = ingest_bytes(store, excerpt(real_file("ripencc"), 20), "ripe").snapshot_id

    view = load_as_of(store, MID_DATE + dt.timedelta(days=30))
    assert {s.id for s in view.snapshots} == {ids["mid"]}  # RIPE's file is from October
    later = load_as_of(store, dt.date(2030, 1, 1))
    assert {s.id for s in later.snapshots} == {ids["new"], ripe}
    with pytest.raises(NotFoundError, match="on or before 2000-01-01"):
        load_as_of(store, dt.date(2000, 1, 1))

    dropped = min((_records(files["new"]) & _records(files["old"])) - _records(files["mid"]))
    query = "AS" + dropped.split("|")[3]
    assert Lookup(view).find(query) == []
    (then,) = Lookup(load_as_of(store, MID_DATE - dt.timedelta(days=1))).find(query)
    assert then.snapshot_id == ids["old"]
    assert then.line == files["old"].decode().splitlines().index(dropped) + 1


def test_renumbered_holders_are_linked_with_a_confidence(store: Store) -> None:
    def sample(_index: int, fields: list[str]) -> bool:
        return fields[2] == "asn" and int(fields[3]) < 3300

    old = excerpt(real_file("ripencc", "2017"), sample)
    new = excerpt(real_file("ripencc", "2018"), sample)
    ingest_bytes(store, old, "ripe-2017")
    ingest_bytes(store, new, "ripe-2018")

    found = links(store, "ripencc")
    old_ids = {line.split("|")[7] for line in _records(old) if line.count("|") == 7}
    assert len(found) > len(old_ids) * 0.8  # nearly every RIPE NCC id changed
    assert {link.confidence for link in found} <= {"exact", "high", "medium", "low"}
    exact = next(link for link in found if link.confidence == "exact")
    assert exact.shared == exact.from_records == exact.to_records
    holder = identity(store).holder("ripencc", exact.to_id)
    assert holder.key == f"ripencc:{exact.from_id}"
    assert holder.ids == [exact.from_id, exact.to_id]


def test_the_order_of_ingest_does_not_change_the_links(store: Store) -> None:
    files = _files()
    for name in ("new", "old", "mid"):
        ingest_bytes(store, files[name], name)
    with store.transaction() as uow:
        stored = uow.delegations.links("afrinic")
        dates = {s.id: s.snapshot_date for s in uow.snapshots.all()}
    assert stored
    # only consecutive snapshots are linked: none from 2017 straight to 2018
    assert all(
        (dates[link.from_snapshot], dates[link.to_snapshot])
        in itertools.pairwise(sorted(dates.values()))
        for link in stored
    )


def test_export_of_a_registry_picks_its_newest_snapshot(store: Store) -> None:
    files = _files()
    for name in ("new", "old"):
        ingest_bytes(store, files[name], name)
    assert export_snapshot(store, registry=Registry.AFRINIC).encode() == files["new"]


def test_a_transfer_changes_the_current_snapshot_only(store: Store) -> None:
    files = _files()
    old = ingest_bytes(store, files["old"], "old").snapshot_id
    new = ingest_bytes(store, files["new"], "new").snapshot_id
    ingest_bytes(store, excerpt(real_file("ripencc"), 20), "ripe")
    fields = min(_records(files["old"]) & _records(files["new"])).split("|")
    view = load_current(store)
    asn = ResourceRange.asn(int(fields[3]))
    request = build_request(
        view,
        asn,
        Registry.RIPENCC,
        "org-new",
        TransferKind.INTER_RIR,
        dt.date(2026, 11, 1),
        fields[7],
    )
    step = request_transfer(store, view, request, "mandatory-portability", "t", load_iana(store))
    for name in ("approve", "accept", "complete"):
        step = advance(
            store,
            load_current(store),
            step.transfer.id,
            name,
            "t",
            load_iana(store),
            conditions_met=True,
        )
    assert step.transfer.state == "completed"

    assert export_snapshot(store, old).encode() == files["old"]
    assert export_snapshot(store, new, state="original").encode() == files["new"]
    assert f"|asn|{fields[3]}|" not in export_snapshot(store, new)
    (now,) = Lookup(load_current(store)).find(f"AS{fields[3]}")
    assert now.delegation.registry is Registry.RIPENCC
    (then,) = Lookup(load_as_of(store, dt.date(2017, 12, 31))).find(f"AS{fields[3]}")
    assert then.delegation.registry is Registry.AFRINIC and then.snapshot_id == old
