"""The parts of an ingest that do per changed row what was done per file row: each gives what
the whole-file way gave (record texts decoded only for the rows stored, line-order edits by
flags, holder-link rows by flags on key bits, the widths text remembered past its ``upto``,
the table cache by date per registry)."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from rirport.domain.enums import ResourceType
from rirport.domain.table import TYPE_CODE
from rirport.errors import ParseError
from rirport.formats.source import check_text, read_source, source_from_bytes
from rirport.formats.statsfile import read_stats
from rirport.query.holders import _rows_with
from rirport.services.monitoring.tables import TableCache
from rirport.services.registry.ingest import record_texts, snapshot_values
from rirport.store.bulk import delegation_rows
from rirport.store.head import FileLines, fingerprints
from rirport.store.order import LineOrder, _within
from rirport.store.repos.snapshots import SnapshotRow
from rirport.store.unit import Store
from rirport.store.widths import Widths
from tests.excerpts import excerpt, real_file


@pytest.mark.parametrize("crlf", [False, True])
def test_file_lines_give_the_record_texts_of_any_rows(crlf: bool) -> None:
    data = read_source(real_file("afrinic")).data
    if crlf:
        data = data.replace(b"\n", b"\r\n")
    table = read_stats(data, "afrinic").table
    texts = record_texts(data, table)
    lines = FileLines.of(data, table.line)
    assert lines.texts() == texts
    np.testing.assert_array_equal(lines.prints(), fingerprints(texts))
    rng = np.random.default_rng(3)
    for size in (0, 1, 7, 30_000):  # one by one, and by a split of the file
        at = rng.choice(len(table), min(size, len(table)), replace=False)
        assert lines.take(at).texts() == [texts[i] for i in at.tolist()]
    rows = delegation_rows(table, lines, lines.prints())
    picked = [5, 2, 900, 3]
    subset = rows.subset(picked)
    assert subset.record == [texts[i] for i in picked]
    np.testing.assert_array_equal(subset.prints, fingerprints(subset.record))
    assert len(rows) == len(table) and rows.record == texts


def test_lines_of_a_file_without_a_last_newline() -> None:
    lines = FileLines.of(b"a|b\nccc|d", np.array([1, 2]))
    assert lines.texts() == ["a|b", "ccc|d"]
    assert lines.take(np.array([1, 0])).texts() == ["ccc|d", "a|b"]


def test_not_ascii_is_still_checked_as_utf8() -> None:
    check_text("2|afrinic|Société|\n".encode(), "x")
    with pytest.raises(ParseError, match="not UTF-8"):
        check_text(b"2|afrinic|\xff\n", "x")


def test_membership_by_flags_is_isin() -> None:
    rng = np.random.default_rng(1)
    for top in (10, 1000, 1 << 30):  # the last past the table of flags: searched
        base = np.unique(rng.integers(1, top, 500))
        values = np.sort(rng.integers(0, top, 700))
        np.testing.assert_array_equal(_within(values, base), np.isin(values, base))
    assert not _within(np.array([3]), np.zeros(0, np.int64)).any()


def test_line_order_edit_decodes_to_the_order() -> None:
    rng = np.random.default_rng(2)
    ids = np.arange(1, 5001, dtype=np.int64)
    base = LineOrder.build(ids, np.arange(1, 5001))
    kept = np.delete(ids, rng.choice(5000, 40, replace=False))
    seq = np.insert(kept, np.sort(rng.choice(len(kept), 40)), np.arange(6000, 6040))
    new = LineOrder.build(seq, np.arange(1, len(seq) + 1) * 2)
    encoded = new.encode_after(base, 1, 1)
    assert encoded is not None
    back = LineOrder.decode(*encoded, base=base)
    np.testing.assert_array_equal(back.origins, new.origins)
    np.testing.assert_array_equal(back.lines, new.lines)


def test_rows_with_keys_found_by_flags_are_the_searched_ones() -> None:
    rng = np.random.default_rng(4)
    keys = rng.integers(0, 1 << 62, 20_000, dtype=np.uint64)
    keys[:50] = keys[100:150]  # some keys twice
    near = keys[:10] ^ np.uint64(1)  # same top bits, another key
    wanted = np.unique(np.concatenate([keys[rng.choice(20_000, 60)], near]))
    at = np.minimum(np.searchsorted(wanted, keys), len(wanted) - 1)
    np.testing.assert_array_equal(_rows_with(keys, wanted), np.flatnonzero(wanted[at] == keys))
    assert not len(_rows_with(keys, wanted[:0]))


def test_widths_text_remembered_past_its_upto() -> None:
    widths = Widths({"1": 255}, {"1": [("10a000000", "10affffff")]})
    first = Widths.parse(json.dumps({"upto": 7, **widths.encode()}, sort_keys=True))
    again = Widths.parse(json.dumps({"upto": 9, **widths.encode()}, sort_keys=True))
    assert first is not None and again is not None
    assert (first.upto, again.upto) == (7, 9)
    assert first == again == widths
    assert widths.fold("100000000", "1000fffff")  # a width that changed is read again
    wider = Widths.parse(json.dumps({"upto": 9, **widths.encode()}, sort_keys=True))
    assert wider is not None and wider.ordinary["1"] == (1 << 20) - 1


def _snap(registry: str, day: int) -> SnapshotRow:
    return SnapshotRow(
        day, registry, dt.date(2018, 10, day), f"f{day}", None, "", f"sha{registry}{day}", None,
        True, "2", "", "", "", "", 0, 0, [], "", 0, [], dt.datetime(2018, 10, day, tzinfo=dt.UTC),
    )  # fmt: skip


def test_table_cache_keeps_each_registrys_newest_files() -> None:
    table = read_stats(read_source(real_file("afrinic")).data, "afrinic").table
    cache = TableCache(size=20, per_registry=4)
    for day in range(1, 8):  # one registry's files, and another's, day after day
        cache.put(_snap("apnic", day), table)
        cache.put(_snap("lacnic", day), table)
    assert [d for d in range(1, 8) if cache.get(_snap("apnic", d)) is not None] == [4, 5, 6, 7]
    cache.put(_snap("apnic", 2), table)  # a late file is the oldest: out at once
    assert cache.get(_snap("apnic", 2)) is None
    assert cache.get(_snap("lacnic", 4)) is not None
    small = TableCache(size=3, per_registry=4)
    for day in range(1, 5):
        small.put(_snap("arin", day), table)
    assert small.get(_snap("arin", 1)) is None and small.get(_snap("arin", 4)) is not None


def test_neighbours_asked_again_in_a_unit_see_a_snapshot_it_added(store: Store) -> None:
    path = real_file("apnic")
    source = source_from_bytes(excerpt(path, 10), path.name)
    values = snapshot_values(read_stats(source.data, path.name), source, None)
    day = values["snapshot_date"]
    assert isinstance(day, dt.date)
    later = day + dt.timedelta(days=5)
    with store.transaction() as uow:
        assert uow.snapshots.neighbours("apnic", later) == (None, None)
        assert uow.snapshots.neighbours("apnic", later) == (None, None)  # answered again
        sid = uow.snapshots.add(values)
        before, after = uow.snapshots.neighbours("apnic", later)
        assert before is not None and before.id == sid and after is None


def test_a_table_sorts_its_rows_by_first_number_once_per_type() -> None:
    table = read_stats(excerpt(real_file("ripencc"), 300), "ripencc").table
    for code in range(3):
        rows = table.first_order(code)
        ipv6 = code == TYPE_CODE[ResourceType.IPV6]
        first = (table.first_hi if ipv6 else table.first_lo)[rows]
        assert (table.type[rows] == code).all() and len(rows) == int((table.type == code).sum())
        assert (first[1:] >= first[:-1]).all()
        ties = first[1:] == first[:-1]
        assert (rows[1:][ties] > rows[:-1][ties]).all()  # equal firsts in row order
        assert table.first_order(code) is rows  # kept
