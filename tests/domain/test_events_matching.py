"""The events diff matches rows of one range by 64-bit hashes, checked column by column: a
hash shared by two different ranges (forced here) must give the answer of whole-key matching,
and so must holder ids found by hash. Record fingerprints read from a file's bytes equal those
of its decoded lines."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from rirport.domain import events
from rirport.domain.table import DelegationTable
from rirport.formats.source import read_source
from rirport.formats.statsfile import read_stats
from rirport.services.registry.ingest import record_texts
from rirport.store.head import fingerprints, line_prints
from tests.excerpts import real_file


def _tables() -> tuple[DelegationTable, DelegationTable]:
    """AFRINIC 2017 and 2018: ranges that stayed, went, came, and holders that changed."""
    old = read_stats(read_source(real_file("afrinic", "2017")).data, "old").table
    new = read_stats(read_source(real_file("afrinic", "2018")).data, "new").table
    return old, new


def _as_json(found: list[events.Event]) -> list[dict[str, Any]]:
    return [{"kind": e.kind, **e.to_json()} for e in found]


def _collide(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every range hashes to one of two values: most groups of equal hashes mix ranges."""
    monkeypatch.setattr(
        events,
        "_hash_columns",
        lambda columns: (columns[3] % np.uint64(2)).astype(np.uint64),
    )


def test_range_matching_survives_hash_collisions(monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = _tables()
    fast = events._RangeMatch(old, new)
    assert (fast.in_b >= 0).sum() > 1000 and (fast.in_b < 0).any()  # both kinds of row
    _collide(monkeypatch)
    slow = events._RangeMatch(old, new)
    np.testing.assert_array_equal(fast.in_b, slow.in_b)
    np.testing.assert_array_equal(fast.in_a, slow.in_a)
    np.testing.assert_array_equal(fast.first_a, slow.first_a)


def test_range_matching_pairs_first_rows_of_repeated_ranges() -> None:
    old, _new = _tables()
    twice = DelegationTable.concat([old.take(np.arange(5)), old.take(np.arange(5))])
    match = events._RangeMatch(twice, old.take(np.arange(3)))
    assert match.in_b.tolist() == [0, 1, 2, -1, -1, 0, 1, 2, -1, -1]
    assert match.first_a.tolist() == [True] * 5 + [False] * 5
    assert match.in_a.tolist() == [0, 1, 2]


def test_diff_is_the_same_with_colliding_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = _tables()
    renamed = dataclasses.replace(  # a third of the holder ids renamed: holder events
        new,
        opaque_id=np.where(
            np.arange(len(new)) % 3 == 0,
            np.char.add(b"X", new.opaque_id),
            new.opaque_id.astype(f"S{new.opaque_id.dtype.itemsize + 1}"),
        ),
    )
    expected = _as_json(events.diff([("old", old)], [("new", renamed)]))
    changed = events.changed_rows(old, renamed)
    assert any(e["kind"] == "holder" for e in expected) and len(changed)
    _collide(monkeypatch)
    assert _as_json(events.diff([("old", old)], [("new", renamed)])) == expected
    again = events.changed_rows(old, renamed)
    assert len(again) == len(changed)
    np.testing.assert_array_equal(again.first_lo, changed.first_lo)


def test_absent_ids_by_hash_are_checked_by_string(monkeypatch: pytest.MonkeyPatch) -> None:
    values = np.array([b"a", b"bb", b"ccc", b"dddddddddd"], dtype="S10")
    among = np.array([b"bb", b"x", b"dddddddddd"], dtype="S12")
    assert events._absent(values, among).tolist() == [True, False, True, False]
    monkeypatch.setattr(events, "_bytes_hash", lambda v: np.zeros(len(v), np.uint64))
    assert events._absent(values, among).tolist() == [True, False, True, False]


def test_line_fingerprints_equal_those_of_the_decoded_lines() -> None:
    data = "a|b\r\nxé|ü\r\n\r\n# comment\r\n" + "long|" * 40 + "\r\nno newline at the end"
    raw = data.encode()
    lines = data.replace("\r\n", "\n").split("\n")
    numbers = np.array([1, 2, 5, 6], dtype=np.int32)
    expected = fingerprints([lines[i - 1] for i in numbers.tolist()])
    np.testing.assert_array_equal(line_prints(raw, numbers), expected)
    words = ["12345678", "x", "1234567812345678", "123456781", "1234567"]  # word boundaries
    raw = ("\n".join(words) + "\n").encode()
    np.testing.assert_array_equal(
        line_prints(raw, np.arange(1, 6, dtype=np.int32)), fingerprints(words)
    )
    path = real_file("apnic")
    source = read_source(path)
    table = read_stats(source.data, source.name).table
    np.testing.assert_array_equal(
        line_prints(source.data, table.line), fingerprints(record_texts(source.data, table))
    )
