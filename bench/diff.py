"""Diff the five 2017 files against the five 2018 files vs parsing both sets.

Target (issue 4): the diff takes at most 2x the time of parsing the ten files. The parse side
reads and parses every file (as ``bench/parse.py`` does, one thread); the diff side starts from
the parsed tables and produces every typed event, the inter-registry moves and the
RIPE NCC renumbering included.
"""

from __future__ import annotations

from pathlib import Path

from bench.common import DELEGATED, best_time, machine, report
from rirport.domain.events import count_by_kind, diff
from rirport.domain.table import DelegationTable
from rirport.formats.statsfile import read_stats

Files = list[tuple[str, DelegationTable]]


def files(year: str) -> list[Path]:
    found = sorted(DELEGATED.glob(f"*/delegated-*-extended-{year}*"))
    assert len(found) == 5, f"the five {year} files are missing under {DELEGATED}"
    return found


def parse(paths: list[Path]) -> Files:
    out = []
    for path in paths:
        stats = read_stats(path.read_bytes(), path.name)
        assert stats.ok
        out.append((path.name, stats.table))
    return out


def main() -> None:
    print(machine())
    old_files, new_files = files("2017"), files("2018")
    old, new = parse(old_files), parse(new_files)
    events = diff(old, new)
    print("events:", count_by_kind(events))
    parsing = best_time(lambda: (parse(old_files), parse(new_files)), repeat=3)
    diffing = best_time(lambda: diff(old, new), repeat=3)
    report(
        "diff 2017 -> 2018 vs parsing both sets",
        diffing,
        parsing,
        "<= 2.0",
        diffing <= 2.0 * parsing,
    )


if __name__ == "__main__":
    main()
