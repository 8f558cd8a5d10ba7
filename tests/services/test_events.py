"""Change events between the real 2017 and 2018 sets, checked against the files themselves."""

from __future__ import annotations

import functools
from collections import Counter
from pathlib import Path

import pytest

from rirport.domain.enums import ResourceType
from rirport.domain.events import Event, count_by_kind, diff
from rirport.domain.resources import ResourceRange
from rirport.domain.table import DelegationTable
from rirport.formats.source import read_source
from rirport.formats.statsfile import read_stats
from tests.paths import DELEGATED

Files = list[tuple[str, DelegationTable]]


@functools.cache
def _read(year: str, registries: tuple[str, ...] | None = None) -> Files:
    out = []
    for path in sorted(DELEGATED.glob(f"*/delegated-*-extended-{year}*")):
        if registries is None or path.parent.name in registries:
            out.append((path.name, read_stats(read_source(path).data, path.name).table))
    return out


@functools.cache
def _lines(name: str) -> frozenset[str]:
    (path,) = DELEGATED.glob(f"*/{name}")
    return frozenset(path.read_text().splitlines())


@functools.cache
def _by_key(name: str) -> dict[str, list[str]]:
    """The file's record lines by ``|type|start|value|``."""
    out: dict[str, list[str]] = {}
    for line in _lines(name):
        f = line.split("|")
        if len(f) >= 7 and f[-1] != "summary":
            out.setdefault(f"|{f[2]}|{f[3]}|{f[4]}|", []).append(line)
    return out


@functools.cache
def _delegated_keys(name: str) -> frozenset[str]:
    """``|type|start|value|`` of the file's allocated and assigned records."""
    out = set()
    for line in _lines(name):
        f = line.split("|")
        if len(f) >= 7 and f[6] in ("allocated", "assigned"):
            out.add(f"|{f[2]}|{f[3]}|{f[4]}|")
    return frozenset(out)


@pytest.fixture(scope="module")
def sets() -> tuple[Files, Files]:
    return _read("2017"), _read("2018")


@pytest.fixture(scope="module")
def events(sets: tuple[Files, Files]) -> list[Event]:
    return diff(*sets)


@pytest.fixture(scope="module")
def moved(events: list[Event]) -> list[Event]:
    return [e for e in events if e.kind == "moved"]


def test_counts_of_every_kind(events: list[Event]) -> None:
    assert count_by_kind(events) == {
        "new": 30923,
        "returned": 2879,
        "status": 913,
        "country": 2875,
        "holder": 7732,
        "split": 1247,
        "merge": 30,
        "date": 2136,
        "moved": 397,
        "renumbered": 1,
    }


def test_ipv4_moves_by_registry_pair(moved: list[Event]) -> None:
    pairs = Counter((e.type, e.from_registry, e.to_registry) for e in moved)
    assert pairs == {
        ("ipv4", "arin", "apnic"): 148,
        ("ipv4", "arin", "ripencc"): 138,
        ("ipv4", "ripencc", "apnic"): 54,
        ("ipv4", "ripencc", "arin"): 31,
        ("ipv4", "apnic", "arin"): 14,
        ("ipv4", "apnic", "ripencc"): 12,
    }
    # 303 records left a registry and 392 arrived (blocks are split on the way)
    assert len({e.detail["old_record"] for e in moved}) == 303
    assert len({e.detail["new_record"] for e in moved}) == 392


def test_every_move_is_in_the_files(moved: list[Event]) -> None:
    """Each move's old record is a line of the source registry's 2017 file and no longer of its
    2018 file; its new record is a line of the recipient's 2018 file and was not in its 2017
    file; the piece lies inside both."""

    def has(name: str, record: str) -> bool:
        return record in _lines(name)

    files = {e.old_file for e in moved} | {e.new_file for e in moved}
    later = {f.split("-")[1]: f for f in files if f.endswith(("1013", "1014", "1012"))}
    earlier = {f.split("-")[1]: f for f in files if f not in later.values()}
    for e in moved:
        old, new = e.detail["old_record"], e.detail["new_record"]
        assert e.from_registry and e.to_registry and e.type and e.start is not None
        assert has(e.old_file, old), old
        assert has(e.new_file, new), new
        assert not has(later[e.from_registry], old)
        assert not has(earlier[e.to_registry], new)
        piece = ResourceRange.from_start_value(ResourceType(e.type), e.start, e.value)
        for record in (old, new):
            f = record.split("|")
            outer = ResourceRange.from_start_value(ResourceType(f[2]), f[3], int(f[4]))
            assert outer.contains(piece)


def test_a_block_split_while_moving(moved: list[Event]) -> None:
    """8.0.0.0/8 (ARIN, 2017) reappears in APNIC's 2018 file as two pieces of another size."""
    pieces = {
        (e.start, e.value)
        for e in moved
        if e.detail["old_record"].startswith("arin|US|ipv4|8.0.0.0|16777216|")
    }
    assert pieces == {("8.128.0.0", 4194304), ("8.208.0.0", 1048576)}
    assert "apnic|SG|ipv4|8.128.0.0|4194304|19921201|allocated|A91EA198" in _lines(
        "delegated-apnic-extended-20181014"
    )
    arin_2018 = _lines("delegated-arin-extended-20181013")
    assert not any(line.startswith("arin|US|ipv4|8.0.0.0|16777216|") for line in arin_2018)


def test_a_block_moved_whole_with_a_new_holder_id(moved: list[Event]) -> None:
    (e,) = [e for e in moved if e.start == "23.226.0.0"]
    assert (e.from_registry, e.to_registry, e.value) == ("arin", "apnic", 4096)
    assert e.detail["old_holder"] == "100562435153daad05e2bc4fb3cee1f0"
    assert e.detail["holder"] == "A91CEF3E"
    assert (e.old_file, e.new_file) == (
        "delegated-arin-extended-20170321",
        "delegated-apnic-extended-20181014",
    )


def test_nothing_leaves_afrinic_or_lacnic(moved: list[Event]) -> None:
    assert not {e.from_registry for e in moved} & {"afrinic", "lacnic"}


def test_ripe_ncc_renumbering_is_one_event(events: list[Event]) -> None:
    (e,) = [e for e in events if e.kind == "renumbered"]
    assert e.registry == "ripencc"
    assert e.value == 34449  # old ids of records that stayed but show another id
    assert e.detail["records"] == 105146 and e.detail["renamed"] == 30846
    sample = e.detail["sample"][0]
    old = _lines("delegated-ripencc-extended-20170320")
    new = _lines("delegated-ripencc-extended-20181013")
    assert any(line.endswith("|" + sample["from"]) for line in old)
    assert not any(line.endswith("|" + sample["from"]) for line in new)
    assert any(line.endswith("|" + sample["to"]) for line in new)
    holder = Counter(ev.registry for ev in events if ev.kind == "holder")
    assert holder["ripencc"] == 1249  # regroupings the renumbering does not explain


@pytest.mark.parametrize("kind", ["status", "country", "date", "holder"])
def test_attribute_changes_are_in_the_files(events: list[Event], kind: str) -> None:
    """The record's range is in both files, with the old value in 2017 and the new in 2018."""
    field = {"status": 6, "country": 1, "date": 5, "holder": 7}[kind]
    for e in [ev for ev in events if ev.kind == kind][:25]:
        key = f"|{e.type}|{e.start}|{e.value}|"
        before = _by_key(e.old_file).get(key, [])
        after = _by_key(e.new_file).get(key, [])
        assert [line.split("|")[field] for line in before] == [e.detail["before"]]
        assert [line.split("|")[field] for line in after] == [e.detail["after"]]


def test_each_event_names_both_snapshots(events: list[Event]) -> None:
    names = {n for year in ("2017", "2018") for n, _ in _read(year)}
    for e in events:
        assert e.old_file in names and e.new_file in names
        assert "2017" in e.old_file and "2018" in e.new_file


def test_mixed_dates_are_not_moves(sets: tuple[Files, Files]) -> None:
    """ARIN's 2017 file beside the others' 2018 files lists the blocks it has since handed on
    (the README's 287 double claims): against the 2018 set that is ARIN returning them, not a
    move, because the recipients already list them on the old side."""
    old = [f for f in sets[1] if "arin" not in f[0]] + [f for f in sets[0] if "arin" in f[0]]
    events = diff(old, sets[1])
    assert not [e for e in events if e.kind == "moved"]
    assert count_by_kind(events)["returned"] >= 286


def test_identical_sides_have_no_events(sets: tuple[Files, Files]) -> None:
    assert diff(sets[1], sets[1]) == []


def test_a_registry_alone_sees_no_moves() -> None:
    events = diff(_read("2017", ("arin",)), _read("2018", ("arin",)))
    assert not [e for e in events if e.kind == "moved"]
    assert any(e.kind == "returned" and e.start == "23.226.0.0" for e in events)


def test_files_are_real(shared_data: Path) -> None:
    assert (shared_data / "delegated" / "arin" / "delegated-arin-extended-20170321").exists()


@pytest.mark.parametrize("kind", ["split", "merge"])
def test_splits_and_merges_are_in_the_files(events: list[Event], kind: str) -> None:
    """The whole record is in one file, each part (start/value) a record of the other, of the
    same registry, inside the whole."""
    chosen = [e for e in events if e.kind == kind][:30]
    assert chosen
    for e in chosen:
        whole_file, parts_file = (
            (e.old_file, e.new_file) if kind == "split" else (e.new_file, e.old_file)
        )
        key = f"{e.registry}|{e.detail['cc']}|{e.type}|{e.start}|{e.value}|"
        assert any(line.startswith(key) for line in _lines(whole_file)), key
        whole = ResourceRange.from_start_value(ResourceType(e.type or ""), e.start or "", e.value)
        assert len(e.detail["parts"]) >= 2
        for part in e.detail["parts"]:
            start, value = part.rsplit("/", 1)
            assert any(
                line.startswith(e.registry)
                for line in _by_key(parts_file).get(f"|{e.type}|{start}|{value}|", [])
            ), part
            piece = ResourceRange.from_start_value(ResourceType(e.type or ""), start, int(value))
            assert whole.overlaps(piece)


@pytest.mark.parametrize("kind", ["new", "returned"])
def test_new_and_returned_records_are_on_one_side_only(events: list[Event], kind: str) -> None:
    """A whole new record is not delegated in any 2017 file, a whole returned one in no 2018
    file (looked up by start and value, all registries)."""
    chosen = [e for e in events if e.kind == kind and "part" not in e.detail][:40]
    assert len(chosen) == 40
    for e in chosen:
        present, absent = (e.new_file, "2017") if kind == "new" else (e.old_file, "2018")
        key = f"|{e.type}|{e.start}|{e.value}|"
        assert _by_key(present).get(key)
        for name, _ in _read(absent):
            assert key not in _delegated_keys(name), (e, name)
