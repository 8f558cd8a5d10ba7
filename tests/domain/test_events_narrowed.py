"""The narrowed events diff (only the rows that changed and what they touch) gives the same
events, in the same order, as the diff of the whole files: on simulated days of the real
files (holder, status and country changes, new records, returns, moves), on a renumbering
day, and on files with overlapping, repeated and off-/64 records."""

from __future__ import annotations

import functools
import json
from collections import Counter

import numpy as np
import pytest

from rirport.domain.enums import Status
from rirport.domain.events import Event, diff
from rirport.domain.narrowed import Narrowed, Previous, diff_narrowed, narrow
from rirport.domain.table import STATUS_CODE, DelegationTable
from rirport.formats.statsfile import read_stats
from rirport.simulation import ChurnRates, DailyHistory, SimulatedFile
from rirport.store.head import line_prints, match
from tests.excerpts import excerpt, real_file

REGISTRIES = ("afrinic", "apnic", "arin", "lacnic", "ripencc")
Files = list[tuple[str, DelegationTable]]


def _table(file: SimulatedFile | tuple[str, bytes]) -> DelegationTable:
    name, data = (file.name, file.data) if isinstance(file, SimulatedFile) else file
    return read_stats(data, name).table


def _previous(old: tuple[str, bytes], new: tuple[str, bytes]) -> Previous:
    """The previous file as an ingest rebuilds it: matched on the head state's fingerprints."""
    old_table, new_table = _table(old), _table(new)
    m = match(line_prints(old[1], old_table.line), line_prints(new[1], new_table.line))
    return Previous(new_table, m.new, old_table.take(m.gone))


def _both(
    previous: Previous, names: tuple[str, str], old_others: Files, new_others: Files
) -> tuple[list[Event], list[Event], Narrowed]:
    """The narrowed diff and the whole one, and the narrowing."""
    narrowed = narrow(previous)
    fast = diff_narrowed(narrowed, names, old_others, new_others)
    whole = diff([(names[0], previous.table), *old_others], [(names[1], previous.new), *new_others])
    return fast, whole, narrowed


def _json(events: list[Event]) -> list[str]:
    return [json.dumps(e.to_json(), sort_keys=True) for e in events]


@functools.cache
def _days() -> tuple[tuple[SimulatedFile, ...], tuple[SimulatedFile, ...]]:
    """Days 1 and 2 of every 10th record of the real 2018 files at 1% churn a day."""
    given = [
        (real_file(r).name, excerpt(real_file(r), lambda i, _: i % 10 == 0)) for r in REGISTRIES
    ]
    history = DailyHistory(given, seed=5, rates=ChurnRates(per_record=0.01))
    _, one, two = history.days(3)
    return one.files, two.files


@pytest.mark.parametrize("registry", REGISTRIES)
def test_a_simulated_day_gives_the_whole_diffs_events(registry: str) -> None:
    before, after = _days()
    k = REGISTRIES.index(registry)
    old, new = before[k], after[k]
    others_old = [(f.name, _table(f)) for f in before if f is not old]
    others_new = [(f.name, _table(f)) for f in after if f is not new]
    previous = _previous((old.name, old.data), (new.name, new.data))
    fast, whole, narrowed = _both(previous, (old.name, new.name), others_old, others_new)
    assert _json(fast) == _json(whole)
    assert len(narrowed.new) < len(previous.new) / 5  # the point: most rows are left out
    # the rebuilt previous file is the previous file: the same events as diffing it as read
    as_read = diff([(old.name, _table(old)), *others_old], [(new.name, previous.new), *others_new])
    assert sorted(_json(fast)) == sorted(_json(as_read))


def test_the_simulated_days_hold_every_kind_the_test_is_about() -> None:
    before, after = _days()
    kinds: Counter[str] = Counter()
    for k, (old, new) in enumerate(zip(before, after, strict=True)):
        others_old = [(f.name, _table(f)) for f in before if f is not old]
        others_new = [(f.name, _table(f)) for f in after if f is not new]
        previous = _previous((old.name, old.data), (new.name, new.data))
        fast, _, _ = _both(previous, (old.name, new.name), others_old, others_new)
        kinds.update(e.kind for e in fast if REGISTRIES[k] in (e.registry, e.to_registry))
    for kind in ("new", "returned", "holder", "status", "country", "moved"):
        assert kinds[kind] > 0, kinds


def _rewrite_ids(data: bytes, every: bool, share: float = 1.0) -> bytes:
    """The file with holder ids replaced by fresh ones (every id, or the first ``share`` of
    the distinct ids in file order)."""
    lines = data.decode().split("\n")
    ids = list(dict.fromkeys(ln.split("|")[7] for ln in lines if ln.count("|") >= 7))
    chosen = set(ids if every else ids[: int(len(ids) * share)])
    out = []
    for line in lines:
        fields = line.split("|")
        if not line.startswith("#") and len(fields) >= 8 and fields[7] in chosen and fields[7]:
            fields[7] = "fresh-" + fields[7]
        out.append("|".join(fields))
    return "\n".join(out).encode()


@pytest.mark.parametrize(("share", "renumbered"), [(1.0, 1), (0.8, 1), (0.45, 0), (0.01, 0)])
def test_renumbering_days_give_the_whole_diffs_events(share: float, renumbered: int) -> None:
    path = real_file("afrinic")
    today = excerpt(path, lambda i, _: i % 3 == 0)
    tomorrow = _rewrite_ids(today, every=share == 1.0, share=share)
    previous = _previous((path.name, today), (path.name + "-next", tomorrow))
    fast, whole, _ = _both(previous, (path.name, path.name + "-next"), [], [])
    assert _json(fast) == _json(whole)
    assert Counter(e.kind for e in fast)["renumbered"] == renumbered


_HEAD = "2|afrinic|20181014|{n}|19830101|20181014|+0000"
_OLD = """\
afrinic|ZA|ipv4|41.0.0.0|1024|20100101|allocated|H1
afrinic|ZA|ipv4|41.0.0.0|256|20100101|assigned|H2
afrinic|ZA|ipv4|41.1.0.0|256|20100101|allocated|H3
afrinic|ZA|ipv4|41.1.0.0|256|20100101|allocated|H3
afrinic|ZA|ipv4|41.2.0.0|512|20100101|allocated|H4
afrinic|ZA|ipv4|41.2.1.0|256|20100101|allocated|H5
afrinic|ZA|ipv4|41.3.0.0|256|20100101|allocated|H6
afrinic|ZA|ipv4|41.4.0.0|512|20100101|allocated|H7
afrinic|ZA|ipv4|41.5.0.0|512|20100101|allocated|H15
afrinic|ZA|ipv4|41.5.0.0|256|20100101|assigned|H16
afrinic|ZA|ipv4|41.8.0.0|256|20100101|allocated|H13
afrinic|ZA|ipv4|41.9.0.0|256|20100101|allocated|H9
afrinic|KE|ipv6|2c0f:f000::|32|20100101|allocated|H8
afrinic|KE|ipv6|2c0f:f100::|128|20100101|assigned|H8
afrinic|KE|ipv6|2c0f:f200::|32|20100101|allocated|H10
afrinic|KE|asn|37000|10|20100101|allocated|H11
afrinic|KE|asn|37005|1|20100101|assigned|H12
"""
#: 41.0.0.0/22 and the /24 inside it stay (overlapping: split and merge on both days), a
#: repeated record stays, 41.2.0.0/23 changes holder over an unchanged /24 (split and merge),
#: 41.8.0.0 changes holder alone, half of 41.4.0.0/23 is returned, 41.5.0.0/23 is returned
#: over a /24 that stays (a merge into it), an IPv6 /32 changes country while a /128 stays (sizes
#: counted in addresses, not /64s), an ASN block inside another stays.
_NEW = """\
afrinic|ZA|ipv4|41.0.0.0|1024|20100101|allocated|H1
afrinic|ZA|ipv4|41.0.0.0|256|20100101|assigned|H2
afrinic|ZA|ipv4|41.1.0.0|256|20100101|allocated|H3
afrinic|ZA|ipv4|41.1.0.0|256|20100101|allocated|H3
afrinic|ZA|ipv4|41.2.0.0|512|20100101|allocated|H44
afrinic|ZA|ipv4|41.2.1.0|256|20100101|allocated|H5
afrinic|ZA|ipv4|41.3.0.0|256|20100101|assigned|H6
afrinic|ZA|ipv4|41.4.0.0|256|20100101|allocated|H7
afrinic|ZA|ipv4|41.5.0.0|256|20100101|assigned|H16
afrinic|ZA|ipv4|41.8.0.0|256|20100101|allocated|H14
afrinic|ZA|ipv4|41.9.0.0|256|20100101|allocated|H9
afrinic|TZ|ipv6|2c0f:f000::|32|20100101|allocated|H8
afrinic|KE|ipv6|2c0f:f100::|128|20100101|assigned|H8
afrinic|KE|ipv6|2c0f:f200::|48|20100101|allocated|H10
afrinic|KE|asn|37000|10|20100101|allocated|H11
afrinic|KE|asn|37005|1|20100101|assigned|H12
"""


def _file(body: str) -> bytes:
    return (_HEAD.format(n=body.count("\n")) + "\n" + body).encode()


def test_overlapping_repeated_and_off_64_records_give_the_whole_diffs_events() -> None:
    names = ("delegated-afrinic-extended-20181013", "delegated-afrinic-extended-20181014")
    previous = _previous((names[0], _file(_OLD)), (names[1], _file(_NEW)))
    fast, whole, narrowed = _both(previous, names, [], [])
    assert _json(fast) == _json(whole)
    kinds = Counter(e.kind for e in fast)
    assert all(kinds[k] for k in ("split", "merge", "holder", "status", "country", "returned"))
    parts = [e.detail["part"] for e in fast if e.kind == "returned" and e.type == "ipv6"]
    assert parts == [2**96 - 2**80]  # the /32 lost all but a /48: counted in addresses
    # unchanged and overlapping nothing: all that is left out
    left = narrowed.previous.new.start[narrowed.left_out].tolist()
    assert left == [b"41.9.0.0", b"2c0f:f100::"]


def test_a_day_without_changes_narrows_to_nothing() -> None:
    path = real_file("lacnic")
    today = excerpt(path, lambda i, _: i % 5 == 0)
    previous = _previous((path.name, today), (path.name + "-next", today))
    fast, whole, narrowed = _both(previous, (path.name, path.name + "-next"), [], [])
    assert fast == whole == []
    assert len(narrowed.old) == len(narrowed.new) == 0
    delegated = [STATUS_CODE[Status.ALLOCATED], STATUS_CODE[Status.ASSIGNED]]
    assert np.array_equal(
        narrowed.left_out, np.flatnonzero(np.isin(previous.new.status, delegated))
    )


def test_a_day_that_only_adds_or_only_returns_names_both_files() -> None:
    path = real_file("lacnic")
    names = (path.name, path.name + "-next")
    today = excerpt(path, lambda i, _: i % 5 == 0)
    lines = today.decode().split("\n")
    last = max(i for i, ln in enumerate(lines) if "|allocated|" in ln or "|assigned|" in ln)
    fewer = "\n".join(lines[:last] + lines[last + 1 :]).encode()
    for old, new, kind in ((fewer, today, "new"), (today, fewer, "returned")):
        previous = _previous((names[0], old), (names[1], new))
        fast, whole, _ = _both(previous, names, [], [])
        assert _json(fast) == _json(whole)
        (event,) = fast
        assert (event.kind, event.old_file, event.new_file) == (kind, *names)
