"""The journal: one entry per change, in the same transaction, and tampering detected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rirport.errors import FileRejectedError, ParseError
from rirport.services.audit import journal
from rirport.services.registry.ingest import ingest_bytes
from rirport.store.unit import Store
from tests.excerpts import excerpt, real_file


def _filled(store: Store) -> None:
    for rir in ("afrinic", "lacnic", "arin"):
        ingest_bytes(store, excerpt(real_file(rir), 20), f"{rir}.txt", actor="tester")


def test_each_ingest_appends_one_linked_entry(store: Store) -> None:
    _filled(store)
    rows = journal.entries(store)
    assert [r.serial for r in rows] == [1, 2, 3]
    assert [json.loads(r.payload)["registry"] for r in rows] == ["afrinic", "lacnic", "arin"]
    assert {r.actor for r in rows} == {"tester"} and {r.action for r in rows} == {"ingest"}
    assert rows[0].prev_hash == journal.GENESIS
    assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]
    result = journal.verify(store)
    assert result.ok and result.entries == 3 and result.last_hash == rows[-1].hash


def test_a_refused_file_leaves_no_entry(store: Store) -> None:
    _filled(store)
    lines = excerpt(real_file("ripencc"), 10).decode().split("\n")
    lines[6] = lines[6].replace("|ipv4|", "|ipv9|").replace("|asn|", "|ipv9|")
    with pytest.raises(FileRejectedError):
        ingest_bytes(store, "\n".join(lines).encode(), "ripe.txt")
    assert journal.verify(store).entries == 3


def _sql(store: Store, statement: str) -> None:
    with store.engine.begin() as conn:
        conn.exec_driver_sql(statement)


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (
            "UPDATE journal SET payload = replace(payload, '\"records\":20', '\"records\":21') "
            "WHERE serial = 2",
            "serial 2: content does not match its hash (edited)",
        ),
        (
            "UPDATE journal SET actor = 'mallory' WHERE serial = 1",
            "serial 1: content does not match its hash (edited)",
        ),
        (
            "DELETE FROM journal WHERE serial = 2",
            "serial 3: entries 2-2 are missing (removed or reordered)",
        ),
        ("DELETE FROM journal WHERE serial = 3", None),
        ("UPDATE journal SET serial = serial + 10 WHERE serial = 1", None),
    ],
)
def test_tampering_is_detected(store: Store, tamper: str, expected: str | None) -> None:
    _filled(store)
    head = journal.verify(store).last_hash
    _sql(store, tamper)
    result = journal.verify(store)
    if "serial = 3" in tamper:  # the newest entry removed: the chain shortens but stays valid;
        # the head hash recorded earlier is what exposes it
        assert result.ok and result.entries == 2
        assert not journal.verify(store, known_head=head).ok
        return
    assert not result.ok
    if expected:
        assert result.problems[0] == expected


def test_swapped_entries_are_detected(store: Store) -> None:
    _filled(store)
    _sql(store, "UPDATE journal SET serial = 100 WHERE serial = 2")
    _sql(store, "UPDATE journal SET serial = 2 WHERE serial = 3")
    _sql(store, "UPDATE journal SET serial = 3 WHERE serial = 100")
    result = journal.verify(store)
    assert not result.ok
    assert "does not link to the entry before it" in result.problems[0]


def test_export_verifies_on_its_own_and_catches_edits(store: Store, tmp_path: Path) -> None:
    _filled(store)
    out = tmp_path / "journal.ndjson"
    with out.open("w") as handle:
        assert journal.export(store, handle) == 3
    checked = journal.verify_file(out)
    assert checked.ok and checked.last_hash == journal.verify(store).last_hash
    lines = out.read_text().splitlines()
    entry = json.loads(lines[1])
    entry["payload"]["records"] = 99
    lines[1] = json.dumps(entry)
    out.write_text("\n".join(lines) + "\n")
    assert journal.verify_file(out).problems == [
        "serial 2: content does not match its hash (edited)"
    ]


def test_a_malformed_export_names_the_line(tmp_path: Path) -> None:
    out = tmp_path / "bad.ndjson"
    out.write_text('{"serial": 1}\n')
    with pytest.raises(ParseError, match=r"bad\.ndjson:1: not a journal entry"):
        journal.verify_file(out)
