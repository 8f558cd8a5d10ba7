"""Full ingest of the five 2018 files into a fresh SQLite store vs pandas.read_csv.

Target: at most 4x the pandas time. The ingest includes reading, validating, building rows,
inserting and committing (one transaction per file), and the write of a new database file.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import pandas as pd

from bench.common import best_time, files_2018, machine, report
from bench.parse import with_pandas
from rirport.formats.source import read_source
from rirport.services.ingest import IngestResult, PendingFile, ingest_many
from rirport.store.unit import Store


def ingest_all(files: list[Path], folder: Path, run: list[int]) -> None:
    run[0] += 1
    store = Store(f"sqlite:///{folder / f'bench-{run[0]}.sqlite'}")
    pending = [PendingFile(functools.partial(read_source, f))
               for f in sorted(files, key=lambda f: f.stat().st_size)]
    results = list(ingest_many(store, pending))
    store.close()
    assert all(isinstance(r, IngestResult) and r.outcome == "ingested" for r in results)


def main() -> None:
    files = files_2018()
    print(f"machine: {machine()}; pandas {pd.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        run = [0]
        with_pandas(files)
        pandas_time = best_time(lambda: with_pandas(files))
        ours = best_time(lambda: ingest_all(files, Path(tmp), run), repeat=3)
        size = (Path(tmp) / "bench-1.sqlite").stat().st_size
    print(f"store size after ingest: {size / 1e6:.1f} MB")
    report("full ingest into SQLite", ours, pandas_time, "<= 4.0", ours <= 4 * pandas_time)


if __name__ == "__main__":
    main()
