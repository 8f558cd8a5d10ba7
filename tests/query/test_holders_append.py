"""Holder links of an appended file, computed from what changed, equal the full rule's."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pytest

from rirport.domain.table import DelegationTable
from rirport.formats.statsfile import read_record_lines
from rirport.query.holders import Held, _fold, _IdCounts, link_appended, link_holders
from rirport.store.bulk import delegation_rows
from rirport.store.repos.snapshots import SnapshotRow
from tests.excerpts import real_file


def _snap(sid: int) -> SnapshotRow:
    day = dt.date(2018, 10, sid)
    return SnapshotRow(
        sid, "ripencc", day, f"f{sid}", None, "", "", None, True, "2", "", "", "", "", 0, 0,
        [], "", 0, [], dt.datetime(2018, 10, sid, tzinfo=dt.UTC),
    )  # fmt: skip


def _records() -> list[str]:
    lines = real_file("ripencc").read_text().split("\n")
    return [
        line
        for line in lines
        if line.count("|") >= 7 and "|summary" not in line and not line.startswith("2")
    ][:3000]


def _table(records: list[str]) -> DelegationTable:
    table, errors = read_record_lines(records, "ripencc", "test")
    assert not errors
    return table


def _held(records: list[str]) -> list[Held]:
    rows = delegation_rows(_table(records), records)
    return list(zip(rows.lo, rows.hi, rows.opaque_id, strict=True))


def _with_holder(record: str, holder: str) -> str:
    fields = record.split("|")
    fields[7] = holder
    return "|".join(fields)


@pytest.mark.parametrize("seed", range(6))
def test_links_from_changes_equal_links_from_whole_files(seed: int) -> None:
    rng = random.Random(seed)
    old = _records()
    ids = sorted({r.split("|")[7] for r in old})
    new = list(old)
    for _ in range(rng.randint(1, 60)):  # holder changes, returns, new records, a renaming
        i = rng.randrange(len(new))
        kind = rng.choice(["holder", "drop", "add", "rename", "duplicate"])
        if kind == "holder":
            new[i] = _with_holder(new[i], rng.choice(ids))
        elif kind == "drop":
            del new[i]
        elif kind == "add":
            record = f"ripencc|NL|ipv4|10.{rng.randrange(256)}.0.0|256|20181015|allocated|x"
            new.insert(i, _with_holder(record, rng.choice(ids)))
        elif kind == "rename":
            was = new[i].split("|")[7]
            new = [_with_holder(r, f"renamed-{i}") if r.split("|")[7] == was else r for r in new]
        else:
            new.insert(i, _with_holder(new[i], rng.choice(ids)))
    remaining = list(old)
    kept: list[int] = []
    for j, record in enumerate(new):  # pair equal records, as the fingerprint match does
        if record in remaining:
            remaining.remove(record)
            kept.append(j)
    older, newer = _snap(1), _snap(2)
    expected = link_holders("ripencc", older, newer, _held(old), _held(new))
    found = link_appended(
        "ripencc", older, newer, _table(new), np.array(kept, np.int64), _table(remaining)
    )
    assert found == expected
    assert expected  # the changes above always move some records to another id


def test_a_range_listed_twice_apart_links_as_the_full_rule() -> None:
    """A range listed twice with two holders, another size of the same start between its
    two lines (so they are not neighbours in the order by first number), both lines kept:
    the full rule gives the range to the later line's holder in the old file, who then
    shares it with the earlier one's in the new, a link only a search for ranges listed
    twice finds (nothing else changed)."""
    base = "ripencc|NL|ipv4|10.9.0.0|{size}|20181015|allocated|{holder}"
    old = [
        base.format(size=256, holder="X1"),
        base.format(size=512, holder="M1"),
        base.format(size=256, holder="Y1"),
        *_records()[:200],
    ]
    older, newer = _snap(1), _snap(2)
    expected = link_holders("ripencc", older, newer, _held(old), _held(old))
    found = link_appended(
        "ripencc", older, newer, _table(old), np.arange(len(old), dtype=np.int64), _table([])
    )
    assert found == expected
    assert [(link.from_id, link.to_id) for link in expected] == [("Y1", "X1")]


def test_id_counts_are_exact_for_ids_whose_folds_are_equal() -> None:
    swapped = ["AAAAAAAABBBBBBBB", "BBBBBBBBAAAAAAAA"]
    records = [
        f"ripencc|NL|ipv4|10.{k}.0.0|256|20181015|allocated|{swapped[k % 2]}" for k in range(7)
    ]
    counts = _IdCounts(_table(records), swapped)
    assert (
        _fold(np.array([s.encode() for s in swapped]))[0]
        == _fold(np.array([swapped[1].encode()]))[0]
    )
    assert (counts.of(swapped[0]), counts.of(swapped[1])) == (4, 3)
    assert counts.of("AAAAAAAA") == 0 and counts.of("longer than any id of the file") == 0
