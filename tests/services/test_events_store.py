"""Events from the store (SQLite and PostgreSQL): per ingest, between dates, on the CLI."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from click.testing import CliRunner

from rirport.cli.main import cli
from rirport.domain.enums import Registry
from rirport.domain.events import identity
from rirport.errors import NotFoundError, QueryError
from rirport.services.monitoring.events import events_between, events_for_ingest
from rirport.services.registry.ingest import IngestOptions, ingest_bytes
from rirport.store.unit import Store
from tests.excerpts import excerpt, real_file

#: IPv4 records in 8.0.0.0/8 and 23.220.0.0-23.229.255.255: ARIN's 8/8 and 23.226.0.0/20 went
#: to APNIC between the 2017 and 2018 files.
PICK = re.compile(r"8\.|23\.22")


def _cut(registry: str, year: str) -> tuple[bytes, str]:
    path = real_file(registry, year)
    data = excerpt(path, lambda _i, f: f[2] == "ipv4" and bool(PICK.match(f[3])))
    return data, path.name


def _ingest(store: Store, registry: str, year: str) -> int:
    """Ingest without events: these tests call :func:`events_for_ingest` themselves."""
    data, name = _cut(registry, year)
    return ingest_bytes(store, data, name, options=IngestOptions(events=False)).snapshot_id


def _events_of(store: Store, snapshot_id: int) -> list[dict[str, object]]:
    with store.transaction() as uow:
        snap = uow.snapshots.get(snapshot_id)
        assert snap is not None
        return [e.to_json() for e in events_for_ingest(uow, snap)]


def test_moves_are_seen_by_the_ingest_that_reveals_them(store: Store) -> None:
    for registry in ("arin", "apnic"):
        _ingest(store, registry, "2017")
    arin = _ingest(store, "arin", "2018")
    # APNIC's 2018 file is not in yet: the blocks have only left ARIN
    arin_events = _events_of(store, arin)
    returned = {(e["start"], e["value"]) for e in arin_events if e["kind"] == "returned"}
    assert ("23.226.0.0", 4096) in returned
    assert not [e for e in arin_events if e["kind"] == "moved"]
    apnic = _ingest(store, "apnic", "2018")
    moved = {
        (e["start"], e["value"], e["from_registry"], e["to_registry"])
        for e in _events_of(store, apnic)
        if e["kind"] == "moved"
    }
    assert moved == {
        ("8.128.0.0", 4194304, "arin", "apnic"),
        ("8.208.0.0", 1048576, "arin", "apnic"),
        ("23.226.0.0", 4096, "arin", "apnic"),
    }
    stored_for_apnic = _events_of_stored(store, apnic)
    assert len(stored_for_apnic) >= 3
    with store.transaction() as uow:
        assert uow.events.count() == len(arin_events) + len(stored_for_apnic)


def _events_of_stored(store: Store, snapshot_id: int) -> list[int]:
    with store.transaction() as uow:
        return [
            row.id
            for chunk in uow.events.chunks()
            for row in chunk
            if row.snapshot_id == snapshot_id
        ]


def test_first_snapshot_of_a_registry_has_no_events(store: Store) -> None:
    snapshot = _ingest(store, "arin", "2017")
    assert _events_of(store, snapshot) == []


def test_events_between_dates_pick_the_snapshots_in_force(store: Store) -> None:
    for registry in ("arin", "apnic"):
        for year in ("2017", "2018"):
            _ingest(store, registry, year)
    events = events_between(store, dt.date(2017, 6, 1), dt.date(2018, 12, 31))
    moved = [e for e in events if e.kind == "moved"]
    assert len(moved) == 3
    assert {(e.old_file, e.new_file) for e in moved} == {
        ("delegated-arin-extended-20170321", "delegated-apnic-extended-20181014")
    }
    assert events_between(store, dt.date(2017, 6, 1), dt.date(2017, 7, 1)) == []
    only_apnic = events_between(store, dt.date(2017, 6, 1), dt.date(2018, 12, 31), Registry.APNIC)
    assert {e.registry for e in only_apnic} == {"apnic"}
    with pytest.raises(NotFoundError, match="2016-12-31"):
        events_between(store, dt.date(2016, 1, 1), dt.date(2016, 12, 31))
    # a calendar window starting before the first snapshot is answered from the first inside
    early = events_between(store, dt.date(2016, 1, 1), dt.date(2018, 12, 31))
    assert {identity(e) for e in early} == {identity(e) for e in events}
    with pytest.raises(QueryError, match="after"):
        events_between(store, dt.date(2018, 1, 1), dt.date(2017, 1, 1))


def test_cli_prints_one_event_per_line(store: Store, store_url: str) -> None:
    for registry in ("arin", "apnic"):
        for year in ("2017", "2018"):
            _ingest(store, registry, year)
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "--db",
            store_url,
            "events",
            "--from",
            "2017-06-01",
            "--to",
            "2018-12-31",
            "--format",
            "ndjson",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows and all({"kind", "type", "start", "value", "registry"} <= set(r) for r in rows)
    move = next(r for r in rows if r["kind"] == "moved" and r["start"] == "23.226.0.0")
    assert (move["from_registry"], move["to_registry"]) == ("arin", "apnic")
    assert move["snapshots"] == {
        "from": "delegated-arin-extended-20170321",
        "to": "delegated-apnic-extended-20181014",
    }
    text = runner.invoke(
        cli,
        [
            "--db",
            store_url,
            "events",
            "--from",
            "2017-06-01",
            "--to",
            "2018-12-31",
            "--format",
            "text",
            "--registry",
            "apnic",
        ],
    )
    assert "moved ipv4 23.226.0.0/20 arin -> apnic" in text.output
    bad = runner.invoke(
        cli,
        [
            "--db",
            store_url,
            "events",
            "--from",
            "2017-06-01",
            "--to",
            "2018-12-31",
            "--registry",
            "nowhere",
        ],
    )
    assert bad.exit_code == 1 and "unknown registry" in bad.output


def test_registries_publishing_on_other_days(store: Store) -> None:
    """RIPE NCC's 2017 file is dated a day before ARIN's: on RIPE NCC's 2018 ingest, ARIN is
    taken at its earliest snapshot, so ARIN → RIPE NCC moves are moves, not new blocks."""
    pick = re.compile(r"23\.19\.|80\.71\.")
    ids = {}
    for registry in ("arin", "ripencc"):
        for year in ("2017", "2018"):
            path = real_file(registry, year)
            data = excerpt(path, lambda _i, f: f[2] == "ipv4" and bool(pick.match(f[3])))
            ids[registry, year] = ingest_bytes(
                store, data, path.name, options=IngestOptions(events=False)
            ).snapshot_id
    moved = {
        (e["start"], e["from_registry"], e["to_registry"])
        for e in _events_of(store, ids["ripencc", "2018"])
        if e["kind"] == "moved"
    }
    assert ("23.19.48.0", "arin", "ripencc") in moved
    assert ("80.71.32.0", "ripencc", "arin") in moved
