"""Issue 11 #13: a registry renumbers when MOST of its holder ids change, not half of the few.

Real files: AFRINIC 2017 → 2018 keeps almost every id (its handful of renamings are holder
changes, not a renumbering); RIPE NCC 2017 → 2018 re-issued its ids (one event). Derived daily
files: one holder's records under a fresh id is one holder's change; every id re-issued is a
renumbering.
"""

from __future__ import annotations

import functools
from collections import Counter

from rirport.domain.events import Event, diff
from rirport.domain.table import DelegationTable
from rirport.formats.statsfile import read_stats
from tests.excerpts import real_file

Files = list[tuple[str, DelegationTable]]


@functools.cache
def _text(registry: str, year: str) -> str:
    return real_file(registry, year).read_text()


def _side(name: str, text: str) -> Files:
    return [(name, read_stats(text.encode(), name).table)]


def _rewrite_ids(text: str, rename: dict[str, str] | None = None, every: bool = False) -> str:
    """The file with holder ids replaced (one id, or every id by a fresh one)."""
    out = []
    for line in text.splitlines():
        fields = line.split("|")
        if not line.startswith("#") and len(fields) >= 8 and fields[7]:
            if every:
                fields[7] = "fresh-" + fields[7]
            elif rename and fields[7] in rename:
                fields[7] = rename[fields[7]]
            line = "|".join(fields)
        out.append(line)
    return "\n".join(out) + "\n"


def _events(registry: str, old: str, new: str) -> list[Event]:
    return diff(_side(f"{registry}-old", old), _side(f"{registry}-new", new))


def test_afrinic_2017_to_2018_is_holder_changes_not_a_renumbering() -> None:
    events = _events("afrinic", _text("afrinic", "2017"), _text("afrinic", "2018"))
    kinds = Counter(e.kind for e in events)
    assert kinds["renumbered"] == 0
    # the changed ids are reported one record at a time, as the files show them
    holder = [e for e in events if e.kind == "holder"]
    assert len(holder) >= 22
    old_ids = {
        ln.split("|")[7] for ln in _text("afrinic", "2017").splitlines() if ln.count("|") >= 7
    }
    assert all(e.detail["before"] in old_ids for e in holder)


def test_ripe_ncc_2017_to_2018_stays_one_renumbering() -> None:
    events = _events("ripencc", _text("ripencc", "2017"), _text("ripencc", "2018"))
    (renumbered,) = [e for e in events if e.kind == "renumbered"]
    assert renumbered.registry == "ripencc"
    assert renumbered.value > 30000


def _daily_holder() -> tuple[str, int]:
    """A holder of the 2018 AFRINIC file with several records, and how many."""
    ids = Counter(
        ln.split("|")[7]
        for ln in _text("afrinic", "2018").splitlines()
        if not ln.startswith("#") and ln.count("|") >= 7 and ln.split("|")[7]
    )
    holder, n = next((h, n) for h, n in ids.most_common() if 3 <= n <= 10)
    return holder, n


def test_one_holder_with_a_fresh_id_on_a_daily_file_is_a_holder_event() -> None:
    today = _text("afrinic", "2018")
    holder, records = _daily_holder()
    tomorrow = _rewrite_ids(today, {holder: "F" + holder + "-NEW"})
    events = _events("afrinic", today, tomorrow)
    assert Counter(e.kind for e in events) == {"holder": records}


def test_every_id_reissued_on_a_daily_file_is_one_renumbering() -> None:
    today = _text("afrinic", "2018")
    events = _events("afrinic", today, _rewrite_ids(today, every=True))
    assert [e.kind for e in events] == ["renumbered"]
