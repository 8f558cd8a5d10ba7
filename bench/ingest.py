"""Full ingest of the five 2018 files into SQLite vs pandas.read_csv.

Target: at most 4x the pandas time. The ingest includes reading, validating, building rows,
inserting and committing (one transaction per file), and the write of a new database file.

Two cases: a fresh store (each file is its registry's first snapshot: stored as a bulk insert,
no change events are possible), and a store already holding the five 2017 files (each 2018
file is stored as versions against its predecessor), with and without the change events
recorded in the same transaction. The 2017 store is built once and copied before each run;
the copy is not timed.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from bench.common import DELEGATED, best_time, files_2018, machine, report
from bench.parse import with_pandas
from rirport.formats.source import read_source
from rirport.services.registry.ingest import IngestOptions, IngestResult, PendingFile, ingest_many
from rirport.store.unit import Store


def ingest_all(files: list[Path], url: str, events: bool = True) -> int:
    """Ingest ``files`` (smallest first) into the store at ``url``; returns events recorded."""
    store = Store(url)
    pending = [
        PendingFile(functools.partial(read_source, f))
        for f in sorted(files, key=lambda f: f.stat().st_size)
    ]
    results = list(ingest_many(store, pending, options=IngestOptions(events=events)))
    store.close()
    assert all(isinstance(r, IngestResult) and r.outcome == "ingested" for r in results)
    return sum(r.events or 0 for r in results if isinstance(r, IngestResult))


def files_2017() -> list[Path]:
    files = sorted(DELEGATED.glob("*/delegated-*-extended-2017*"))
    assert len(files) == 5, f"the five 2017 files are missing under {DELEGATED}"
    return files


def on_2017(files: list[Path], folder: Path, base: Path, events: bool, run: list[int]) -> float:
    """Time ingesting ``files`` into a copy of the 2017 store (the copy is not timed)."""
    target = _fresh(folder, run)
    shutil.copy(base, target)
    seconds = best_time(lambda: ingest_all(files, f"sqlite:///{target}", events), repeat=1)
    target.unlink()
    return seconds


def _fresh(folder: Path, run: list[int]) -> Path:
    """A new database file name for each run."""
    run[0] += 1
    return folder / f"run-{run[0]}.sqlite"


def main() -> None:
    files = files_2018()
    print(f"machine: {machine()}; pandas {pd.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        folder, run = Path(tmp), [0]
        with_pandas(files)
        pandas_time = best_time(lambda: with_pandas(files))
        ours = best_time(lambda: ingest_all(files, f"sqlite:///{_fresh(folder, run)}"), repeat=3)
        print(f"store size after ingest: {(folder / 'run-1.sqlite').stat().st_size / 1e6:.1f} MB")
        report(
            "full ingest into a fresh SQLite store",
            ours,
            pandas_time,
            "<= 4.0",
            ours <= 4 * pandas_time,
        )
        base = folder / "base-2017.sqlite"
        ingest_all(files_2017(), f"sqlite:///{base}")
        counted = _fresh(folder, run)
        shutil.copy(base, counted)
        print(f"2018 over 2017: {ingest_all(files, f'sqlite:///{counted}')} change events")
        quiet, loud = [], []
        for _ in range(3):  # interleaved, so both see the same machine load
            quiet.append(on_2017(files, folder, base, False, run))
            loud.append(on_2017(files, folder, base, True, run))
        report(
            "2018 over the 2017 store, no events",
            min(quiet),
            pandas_time,
            "<= 4.0",
            min(quiet) <= 4 * pandas_time,
        )
        report(
            "2018 over the 2017 store, with events",
            min(loud),
            pandas_time,
            "<= 4.0",
            min(loud) <= 4 * pandas_time,
        )
        print(f"events cost {min(loud) / min(quiet):.2f}x the ingest without them")


if __name__ == "__main__":
    main()
