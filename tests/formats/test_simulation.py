"""The simulated daily history: valid files, the stated churn, right summaries, determinism."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter

import pytest

from rirport.domain.enums import RESOURCE_TYPES
from rirport.formats.statsfile import name_mismatches, read_stats
from rirport.simulation import DEFAULT_MIX, DEFAULT_RATE, ChurnRates, DailyHistory, SimulatedFile
from tests.excerpts import excerpt, real_file

REGISTRIES = ("afrinic", "apnic", "arin", "lacnic", "ripencc")


def excerpts(step: int = 200) -> list[tuple[str, bytes]]:
    """Every ``step``-th record of each real 2018 file, counts fixed (real lines, all kinds
    of record: delegations, available and reserved space of every type)."""
    return [
        (real_file(r).name, excerpt(real_file(r), lambda i, _: i % step == 0)) for r in REGISTRIES
    ]


def records_of(file: SimulatedFile) -> Counter[str]:
    """The record lines of a file (comment, version and summary lines left out)."""
    stats = read_stats(file.data, file.name)
    lines = file.data.decode().split("\n")
    return Counter(lines[i - 1] for i in stats.table.line.tolist())


def assert_valid(file: SimulatedFile) -> None:
    stats = read_stats(file.data, file.name)
    problems = stats.file_errors + stats.errors + name_mismatches(stats, file.name)
    assert problems == [], f"{file.name}: {problems[:3]}"
    assert stats.header.registry == file.registry
    assert stats.header.snapshot_date() == file.date
    counted = Counter(RESOURCE_TYPES[c] for c in stats.table.type.tolist())
    assert {t: n for t, n in stats.summary if n} == dict(counted)
    assert stats.header.records == len(stats.table)


def test_day_zero_is_the_real_files_byte_for_byte() -> None:
    given = excerpts()
    (day,) = DailyHistory(given).days(1)
    assert [f.data for f in day.files] == [data for _, data in given]
    assert day.change_count == 0


def test_every_day_is_a_valid_file_dated_one_day_later() -> None:
    history = DailyHistory(excerpts(), seed=3, rates=ChurnRates(per_record=0.05))
    days = list(history.days(6))
    for day in days:
        for file in day.files:
            assert_valid(file)
    for registry in range(len(REGISTRIES)):
        dates = [d.files[registry].date for d in days]
        assert dates == [dates[0] + dt.timedelta(days=i) for i in range(6)]


def test_version_line_keeps_each_registrys_serial_form() -> None:
    """YYYYMMDD serials move by a day, epoch serials by 86,400 (s) or 86,400,000 (ms)."""
    history = DailyHistory(excerpts(), seed=1)
    first, second = list(history.days(2))
    for before, after in zip(first.files, second.files, strict=True):
        old = read_stats(before.data, before.name).header
        new = read_stats(after.data, after.name).header
        if len(old.serial) == 8:
            assert new.serial == f"{after.date:%Y%m%d}"
        else:
            step = 86_400_000 if len(old.serial) >= 13 else 86_400
            assert int(new.serial) - int(old.serial) == step
        assert (new.version, new.start_date, new.utc_offset) == (
            old.version,
            old.start_date,
            old.utc_offset,
        )


@pytest.mark.parametrize("seed", [0, 7])
def test_changes_match_the_stated_rate_and_mix(seed: int) -> None:
    """Over many changes the kinds come in the stated shares, and each change touches at
    most two record lines of its registry (a split: the delegation and what stays free), plus
    one line of the receiving registry for a move."""
    rate = 0.02
    history = DailyHistory(excerpts(), seed=seed, rates=ChurnRates(per_record=rate))
    days = list(history.days(12))
    kinds: Counter[str] = Counter()
    for before, after in itertools.pairwise(days):
        for registry, (old, new) in enumerate(zip(before.files, after.files, strict=True)):
            made = after.changes[old.registry]
            kinds.update(made)
            records = sum(records_of(old).values())
            assert sum(made.values()) <= records * rate + 1
            changed = sum((records_of(new) - records_of(old)).values())
            moved_in = sum(after.changes[f.registry]["move"] for f in before.files)
            assert changed <= 2 * sum(made.values()) + moved_in, registry
    total = sum(kinds.values())
    assert total > 400
    for kind, share in DEFAULT_MIX.items():
        if kind in ("new", "return"):  # always possible here, so never replaced
            assert abs(kinds[kind] / total - share) < 0.07, (kind, kinds)
    assert kinds["move"] > 0 and kinds["holder"] > 0


def test_default_rate_on_a_whole_real_file() -> None:
    """At the default 0.05% a day, AFRINIC's 9,373 records get 4 or 5 changes a day."""
    path = real_file("afrinic")
    history = DailyHistory([(path.name, path.read_bytes())], seed=2)
    days = list(history.days(9))
    counts = [d.change_count for d in days[1:]]
    expected = 9373 * DEFAULT_RATE
    assert all(int(expected) - 1 <= c <= int(expected) + 2 for c in counts), counts
    assert days[-1].changes["afrinic"]["move"] == 0  # nowhere to move to
    for day in (days[1], days[-1]):
        assert_valid(day.files[0])


def test_moves_carry_a_block_to_another_registry() -> None:
    history = DailyHistory(excerpts(), seed=5, rates=ChurnRates(per_record=0.05, mix={"move": 1.0}))
    before, after = list(history.days(2))
    old = {f.registry: read_stats(f.data, f.name).table for f in before.files}
    new = {f.registry: read_stats(f.data, f.name).table for f in after.files}
    starts = {r: set(t.start.tolist()) for r, t in new.items()}
    moved = 0
    for registry, table in old.items():
        for start in set(table.start.tolist()) - starts[registry]:
            assert any(start in starts[o] for o in starts if o != registry)
            moved += 1
    moves = sum(c["move"] for c in after.changes.values())
    assert moves == after.change_count  # nothing fell back to another kind
    assert 0.8 * moves <= moved <= moves  # a block can move twice in a day, or move back


def test_same_seed_same_bytes_other_seed_other_bytes() -> None:
    given = excerpts(400)
    rates = ChurnRates(per_record=0.05)
    one = [f.data for d in DailyHistory(given, seed=4, rates=rates).days(4) for f in d.files]
    again = [f.data for d in DailyHistory(given, seed=4, rates=rates).days(4) for f in d.files]
    other = [f.data for d in DailyHistory(given, seed=5, rates=rates).days(4) for f in d.files]
    assert one == again
    assert one != other


def test_bad_rates_and_duplicate_registries_are_refused() -> None:
    with pytest.raises(ValueError, match="bad churn rates"):
        ChurnRates(mix={"rename": 1.0})
    given = excerpts(1000)
    with pytest.raises(ValueError, match="one file per registry"):
        DailyHistory([given[0], given[0]])
