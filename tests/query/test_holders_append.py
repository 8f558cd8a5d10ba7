"""Holder links of an appended file, computed from what changed, equal the full rule's."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pytest

from rirport.domain.table import DelegationTable
from rirport.formats.statsfile import read_record_lines
from rirport.query.holders import Held, link_appended, link_holders
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
