"""Record fingerprints and the head match (:mod:`rirport.store.head`): the values are those
old stores hold in their head states (pinned, and checked against a plain-Python reading of
the definition), the same for a line wherever it sits in a file, distinct for the distinct
record lines of the real files; the match pairs equal records by count, as a dictionary
does; the head state an append saves equals the one rebuilt from the stored rows."""

from __future__ import annotations

import zlib
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rirport.formats.source import read_source
from rirport.formats.statsfile import read_stats
from rirport.services.registry import versioning
from rirport.services.registry.export import export_snapshot
from rirport.services.registry.ingest import ingest_bytes, record_texts
from rirport.services.registry.versioning import _rebuild_head
from rirport.store.head import FileLines, HeadState, bytes_prints, fingerprints, line_prints, match
from rirport.store.unit import Store
from tests.excerpts import excerpt, real_file
from tests.paths import DELEGATED

_M64 = (1 << 64) - 1


def _reference(line: bytes) -> int:
    """The fingerprint as defined, one word at a time: little-endian 8-byte words of the
    zero-padded line, each all-zero word skipped, each other step ``mix((h ^ w) * K)``."""

    def mix(h: int) -> int:
        h ^= h >> 30
        h = (h * 0xBF58476D1CE4E5B9) & _M64
        h ^= h >> 27
        h = (h * 0x94D049BB133111EB) & _M64
        return h ^ (h >> 31)

    h = 0x9E3779B97F4A7C15
    padded = line + b"\0" * (-len(line) % 8)
    for at in range(0, len(padded), 8):
        word = int.from_bytes(padded[at : at + 8], "little")
        if word:
            h = mix(((h ^ word) * 0x9E3779B97F4A7C15) & _M64)
    return h


PINNED = {  # as stores written before hold them in head_state.prints
    "": 0x9E3779B97F4A7C15,
    "x": 0xD92EAB72DF208C51,
    "12345678": 0xB8B67B88A35F4D25,
    "123456781": 0xECE415E7FDA29EE3,
    "apnic|AU|ipv4|1.0.0.0|256|20110811|assigned|A91872ED|e-stats": 0x57502A662D54E9AA,
    "ripencc|NL|ipv6|2001:610::|32|19990819|allocated|5a5d8ab7-2d8b-4f2e-8b7a-1e4c1b5e0e54": (
        0x8E18437CB072EB02
    ),
}


def _real_lines(limit: int | None = None) -> list[bytes]:
    """Record lines (with at least six '|') of every real delegated file, in file order."""
    found: list[bytes] = []
    for path in sorted(DELEGATED.glob("*/delegated-*")):
        found += [
            line
            for line in path.read_bytes().split(b"\n")
            if line.count(b"|") >= 6 and not line.startswith(b"#")
        ]
    return found[:limit]


def test_fingerprints_are_the_values_stores_hold() -> None:
    texts = list(PINNED)
    assert [int(p) for p in fingerprints(texts)] == list(PINNED.values())
    assert [_reference(t.encode()) for t in texts] == list(PINNED.values())
    raw = np.array([t.encode() for t in texts[1:]], dtype=np.bytes_)
    assert [int(p) for p in bytes_prints(raw)] == list(PINNED.values())[1:]


def test_a_line_has_one_fingerprint_wherever_it_sits() -> None:
    """Every offset in a word, LF or CRLF, last line without newline, lines with NUL."""
    lines = [*_real_lines()[::997][:120], b"a", b"12345678", b"1234567812345678", b"x\0y"]
    expected = np.array([_reference(line) for line in lines], dtype=np.uint64)
    for shift in range(8):
        for newline in (b"\n", b"\r\n"):
            data = b"#" * shift + newline + newline.join(lines)  # no newline at the end
            numbers = np.arange(2, len(lines) + 2)
            np.testing.assert_array_equal(line_prints(data, numbers), expected)
            picked = numbers[::-3]  # any order, any subset
            np.testing.assert_array_equal(FileLines.of(data, picked).prints(), expected[picked - 2])
    np.testing.assert_array_equal(fingerprints([v.decode() for v in lines]), expected)


def test_distinct_real_records_have_distinct_fingerprints() -> None:
    lines = sorted(set(_real_lines()))
    assert len(lines) > 500_000
    data = b"\n".join(lines)
    prints = line_prints(data, np.arange(1, len(lines) + 1))
    assert len(np.unique(prints)) == len(lines)
    sample = range(0, len(lines), 4999)
    assert [int(prints[i]) for i in sample] == [_reference(lines[i]) for i in sample]


def _pairs_by_count(old: list[str], new: list[str]) -> tuple[Counter[str], int, int]:
    """What a dictionary match gives: pairs per record, old rows left, new rows left."""
    a, b = Counter(old), Counter(new)
    pairs = Counter({r: min(a[r], b[r]) for r in a.keys() & b.keys()})
    return pairs, len(old) - sum(pairs.values()), len(new) - sum(pairs.values())


@pytest.mark.parametrize("repeat", [0, 3])
def test_the_match_pairs_equal_records_by_count(repeat: int) -> None:
    olds = read_source(real_file("afrinic", "2017"))
    news = read_source(real_file("afrinic", "2018"))
    old = record_texts(olds.data, read_stats(olds.data, "old").table)
    new = record_texts(news.data, read_stats(news.data, "new").table)
    old, new = old + old[:repeat] * 2, new + old[:repeat] * 3  # repeated records too
    m = match(fingerprints(old), fingerprints(new))
    assert all(old[i] == new[j] for i, j in zip(m.old.tolist(), m.new.tolist(), strict=True))
    pairs, gone, fresh = _pairs_by_count(old, new)
    assert Counter(old[i] for i in m.old.tolist()) == pairs
    assert (len(m.gone), len(m.fresh)) == (gone, fresh)
    assert sorted([*m.old.tolist(), *m.gone.tolist()]) == list(range(len(old)))
    assert sorted([*m.new.tolist(), *m.fresh.tolist()]) == list(range(len(new)))


def test_a_head_state_in_id_order_is_kept_as_given_and_any_other_sorted() -> None:
    prints = fingerprints(["a", "b", "c", "d"])
    given = HeadState.of(1, [2, 5, 7, 9], [2, 1, 7, 3], prints)
    shuffled = HeadState.of(1, [7, 2, 9, 5], [7, 2, 3, 1], prints[[2, 0, 3, 1]])
    for head in (given, shuffled, HeadState.decode(1, *shuffled.encode())):
        assert head.ids.tolist() == [2, 5, 7, 9] and head.origins.tolist() == [2, 1, 7, 3]
        np.testing.assert_array_equal(head.prints, prints)


def _day(day: int) -> bytes:
    """An APNIC excerpt of 80 records less records 5 .. 4 + day."""
    return excerpt(
        real_file("apnic"),
        lambda i, _fields: i < 80 and not 5 <= i < 5 + day,
        serial=f"201810{14 + day}",
    )


def _delegated_gone(day: int) -> int:
    """Return events from day - 1 to day: record 4 + day goes, if it was delegated."""
    before, after = set(_day(day - 1).split(b"\n")), set(_day(day).split(b"\n"))
    gone = [r.split(b"|") for r in before - after if r.count(b"|") >= 6]
    return sum(1 for f in gone if f[6] in (b"allocated", b"assigned"))


def test_the_head_state_an_append_saves_is_the_one_rebuilt_from_the_rows(store: Store) -> None:
    for day in range(4):
        ingest_bytes(store, _day(day), f"apnic-{day}")
        with store.read() as uow:
            saved = uow.delegations.head("apnic")
            assert saved is not None
            snap = uow.snapshots.get(saved.snapshot_id)
            assert snap is not None
            rebuilt, _ = _rebuild_head(uow, snap)
        np.testing.assert_array_equal(saved.ids, rebuilt.ids)
        np.testing.assert_array_equal(saved.origins, rebuilt.origins)
        np.testing.assert_array_equal(saved.prints, rebuilt.prints)


@pytest.mark.parametrize("repeat", [0, 3])
def test_a_known_head_order_changes_no_pairing(repeat: int) -> None:
    olds = read_source(real_file("lacnic", "2017"))
    news = read_source(real_file("lacnic", "2018"))
    old = fingerprints(record_texts(olds.data, read_stats(olds.data, "old").table))
    new = fingerprints(record_texts(news.data, read_stats(news.data, "new").table))
    old = np.concatenate([old, old[:repeat], old[:repeat]])  # repeats: ranked as ever
    plain = match(old, new)
    reversed_ties = np.argsort(old, kind="stable")[::-1][np.argsort(np.sort(old)[::-1])]
    np.testing.assert_array_equal(old[reversed_ties], np.sort(old))
    for order in (np.argsort(old), reversed_ties, np.arange(len(old))):  # the last: no sort
        known = match(old, new, order)
        for field in ("old", "new", "gone", "fresh", "new_order"):
            np.testing.assert_array_equal(getattr(known, field), getattr(plain, field))
    np.testing.assert_array_equal(new[plain.new_order], np.sort(new))


def test_head_states_of_both_formats_read_and_a_wrong_order_is_dropped() -> None:
    prints = fingerprints(["c", "a", "d", "b"])
    order = np.argsort(prints)
    head = HeadState.of(3, [4, 1, 9, 2], [4, 1, 9, 2], prints, order)
    np.testing.assert_array_equal(head.prints[head.by_print], np.sort(prints))  # moved too
    ids, origins, blob = head.encode()
    assert len(blob) > 12 * 4
    back = HeadState.decode(3, ids, origins, blob)
    assert back.by_print is not None and head.by_print is not None
    assert back.by_print.tolist() == head.by_print.tolist()
    old_format = head.prints.astype("<u8").tobytes()  # as stores written before hold it
    legacy = HeadState.decode(3, ids, origins, old_format)
    assert legacy.by_print is None and legacy.ids.tolist() == [1, 2, 4, 9]
    np.testing.assert_array_equal(legacy.prints, head.prints)
    assert HeadState.of(3, [1], [1], prints[:1]).encode()[2] == prints[:1].tobytes()
    wrong = blob[: -4 * 4] + np.array([1, 0, 2, 3], dtype="<u4").tobytes()
    assert HeadState.decode(3, ids, origins, wrong).by_print is None
    outside = blob[: -4 * 4] + np.array([0, 1, 2, 7], dtype="<u4").tobytes()
    assert HeadState.decode(3, ids, origins, outside).by_print is None


def test_a_store_with_an_old_format_head_state_ingests_as_ever(store: Store) -> None:
    ingest_bytes(store, _day(0), "apnic-0")
    ingest_bytes(store, _day(1), "apnic-1")
    with store.transaction() as uow:  # the head state as an older version wrote it
        saved = uow.delegations.head("apnic")
        assert saved is not None and saved.by_print is not None
        uow.delegations.save_head(
            "apnic", HeadState.of(saved.snapshot_id, saved.ids, saved.origins, saved.prints)
        )
    with store.read() as uow:
        legacy = uow.delegations.head("apnic")
        assert legacy is not None and legacy.by_print is None
    result = ingest_bytes(store, _day(2), "apnic-2")
    assert result.records == 80 - 2 and result.events == _delegated_gone(2)
    assert export_snapshot(store, result.snapshot_id).encode() == _day(2)
    with store.read() as uow:
        head = uow.delegations.head("apnic")
        assert head is not None and head.by_print is not None
        snap = uow.snapshots.get(head.snapshot_id)
        assert snap is not None
        rebuilt, _ = _rebuild_head(uow, snap)
    np.testing.assert_array_equal(head.ids, rebuilt.ids)
    np.testing.assert_array_equal(head.prints, rebuilt.prints)
    np.testing.assert_array_equal(head.prints[head.by_print], np.sort(rebuilt.prints))


def test_head_state_ids_and_origins_of_every_format_read_alike() -> None:
    prints = fingerprints(["a", "b", "c", "d", "e"])
    head = HeadState.of(3, [1, 2, 3, 7, 9], [1, 2, 3, 5, 9], prints, np.argsort(prints))
    ids, origins, blob = head.encode()
    assert ids.startswith(b"rirport-head-3\n") and origins.startswith(b"rirport-head-3\n")
    older = (  # formats 1 and 2: every step and every difference, zlib'd
        zlib.compress(np.diff(head.ids, prepend=np.int64(0)).astype("<i8").tobytes(), 1),
        zlib.compress((head.ids - head.origins).astype("<i8").tobytes(), 1),
    )
    for pair in ((ids, origins), older, (older[0], origins), (ids, older[1])):
        back = HeadState.decode(3, *pair, blob)
        assert back.ids.tolist() == [1, 2, 3, 7, 9] and back.origins.tolist() == [1, 2, 3, 5, 9]
        np.testing.assert_array_equal(back.prints, head.prints)
    n = 200_000  # a registry's rows in runs of ids: a few bytes, not 16 a row through zlib
    big = HeadState.of(4, np.arange(1, n + 1), np.arange(1, n + 1), np.zeros(n, np.uint64))
    assert sum(map(len, big.encode()[:2])) < 200
    empty = HeadState.decode(5, *HeadState.of(5, [], [], np.zeros(0, np.uint64)).encode())
    assert len(empty) == 0


def _new_holder(data: bytes, nth: int = 10) -> bytes:
    """``data`` with the holder of its ``nth`` delegated record renamed on all its records."""
    delegated = [
        line.split(b"|")
        for line in data.split(b"\n")
        if line.count(b"|") >= 7 and line.split(b"|")[6] in (b"allocated", b"assigned")
    ]
    return data.replace(b"|" + delegated[nth][7], b"|ZZZZ0000")


def test_an_append_after_this_process_s_own_takes_its_head_state_and_lacked_records_from_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The next file of a registry this process ingested last reads neither the head
    state's fingerprints nor the previous file's lacked records back (it kept both); a
    process that did not ingest it reads them. Both store the same rows, events and links."""
    calls: Counter[str] = Counter()
    parse, decode = versioning._parse_records, HeadState.decode.__func__  # type: ignore[attr-defined]

    def parse_counted(*args: Any) -> Any:
        calls["parse"] += 1
        return parse(*args)

    def decode_counted(cls: type[HeadState], *args: Any) -> HeadState:
        calls["decode"] += 1
        return decode(cls, *args)

    monkeypatch.setattr(versioning, "_parse_records", parse_counted)
    monkeypatch.setattr(HeadState, "decode", classmethod(decode_counted))
    days = [_day(0), _day(1), _new_holder(_day(2))]
    stores = []
    for name, reopened in (("kept", False), ("read", True)):
        store = Store(f"sqlite:///{tmp_path / name}.sqlite")
        for k, data in enumerate(days[:2]):
            ingest_bytes(store, data, f"apnic-{k}")
        if reopened:
            store.close()
            store = Store(f"sqlite:///{tmp_path / name}.sqlite")
        calls.clear()
        result = ingest_bytes(store, days[2], "apnic-2")
        assert dict(calls) == ({"parse": 1, "decode": 1} if reopened else {})
        with store.read() as uow:
            events = [(e.kind, e.body) for e in uow.events.of_snapshots([result.snapshot_id])]
            links = uow.delegations.links("apnic")
        stores.append((export_snapshot(store, result.snapshot_id), events, links))
        store.close()
    assert stores[0] == stores[1]
    assert stores[0][1] and stores[0][2]  # a holder renamed: its events and its link


@pytest.mark.parametrize("crlf", [False, True])
def test_record_lines_located_from_the_parse_are_the_ones_found_again(crlf: bool) -> None:
    data = _day(3)
    if crlf:
        data = data.replace(b"\n", b"\r\n")
    stats = read_stats(data, "apnic")
    assert stats.spans is not None
    spans = stats.spans
    found = FileLines.of_spans(spans.data, spans.starts, spans.ends, stats.table.line)
    again = FileLines.of(data, stats.table.line)
    assert found.texts() == again.texts() == record_texts(data, stats.table)
    np.testing.assert_array_equal(found.prints(), again.prints())
