"""Parse and validate the five 2018 files vs pandas.read_csv of the same files as strings.

Target: at most 1.0x the pandas time. Both sides read the files from disk; pandas only
splits fields, rirport also validates every field (and checks the text is UTF-8) and builds
typed columns. Hashing for provenance is part of ingest, not of parsing, and is left out.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

from bench.common import best_time, files_2018, machine, report
from rirport.formats.statsfile import read_stats


def with_pandas(files: list[Path]) -> int:
    rows = 0
    for f in files:
        frame = pd.read_csv(
            f,
            sep="|",
            dtype=str,
            comment="#",
            header=None,
            names=list(range(8)),
            keep_default_na=False,
        )
        rows += len(frame)
    return rows


def with_rirport(files: list[Path]) -> int:
    rows = 0
    for f in files:
        stats = read_stats(f.read_bytes(), str(f))
        assert stats.ok
        rows += len(stats.table)
    return rows


def with_rirport_threads(files: list[Path], pool: ThreadPoolExecutor) -> int:
    ordered = sorted(files, key=lambda f: -f.stat().st_size)
    tables = pool.map(lambda f: read_stats(f.read_bytes(), str(f)).table, ordered)
    return sum(len(t) for t in tables)


def main() -> None:
    files = files_2018()
    print(f"machine: {machine()}")
    print(f"pandas {pd.__version__}; files: {', '.join(f.name for f in files)}")
    with_pandas(files), with_rirport(files)  # warm caches and imports
    pandas_time = best_time(lambda: with_pandas(files))
    ours = best_time(lambda: with_rirport(files))
    with ThreadPoolExecutor(max_workers=2) as pool:
        threaded = best_time(lambda: with_rirport_threads(files, pool))
    print(
        f"records: {with_rirport(files)} (pandas rows incl. header/summary lines: "
        f"{with_pandas(files)})"
    )
    report("parse+validate, one thread", ours, pandas_time, "<= 1.0", ours <= pandas_time)
    report("parse+validate, two threads", threaded, pandas_time, "<= 1.0", threaded <= pandas_time)


if __name__ == "__main__":
    main()
