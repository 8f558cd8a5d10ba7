"""A new mirror joining from a signed snapshot, against the publisher ingesting the same files.

Target: the mirror reaches the publisher's state (snapshot written by the publisher, loaded
and verified by the mirror: signature, journal chain, tree root, state root) in at most 1.5x
the time the publisher took to ingest the same files (the 2017 then the 2018 files of the
registries asked for; all five by default). Both on SQLite files in one run, or on
PostgreSQL with ``--postgres URL`` (two databases made and dropped there).

    .venv/bin/python -m bench.mirror [--registries ripencc,arin] [--postgres URL]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.common import DELEGATED, machine, report
from rirport.log.note import Signer
from rirport.services.registry.ingest import ingest_path
from rirport.services.transparency import snapshot, state
from rirport.store.unit import Store

REGISTRIES = ("afrinic", "apnic", "arin", "lacnic", "ripencc")


def files(registries: list[str]) -> list[Path]:
    out = []
    for year in ("2017", "2018"):
        for rir in registries:
            (path,) = sorted(DELEGATED.glob(f"{rir}/delegated-{rir}-extended-{year}*"))
            out.append(path)
    return out


def _postgres(base: str, name: str) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        c.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return base.rsplit("/", 1)[0] + f"/{name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registries", default=",".join(REGISTRIES))
    parser.add_argument(
        "--postgres", metavar="URL", help="e.g. postgresql://postgres@127.0.0.1/postgres"
    )
    args = parser.parse_args()
    paths = files(args.registries.split(","))
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        if args.postgres:
            urls = [_postgres(args.postgres, f"bench_mirror_{n}") for n in ("pub", "mirror")]
        else:
            urls = [f"sqlite:///{tmp}/pub.sqlite", f"sqlite:///{tmp}/mirror.sqlite"]
        publisher, mirror = Store(urls[0]), Store(urls[1])
        signer = Signer.generate("bench.test/log")
        publisher.log_signer = signer
        start = time.perf_counter()
        for path in paths:
            ingest_path(publisher, path)
        ingest = time.perf_counter() - start
        print(f"publisher: ingested {len(paths)} files in {ingest:.2f}s")

        dump = Path(tmp) / "snapshot.ndjson.gz"
        start = time.perf_counter()
        with dump.open("wb") as out:
            info = snapshot.write_snapshot(publisher, out)
        written = time.perf_counter() - start
        with dump.open("rb") as stream:
            snapshot.load_snapshot(mirror, stream, signer.verifier, "bench")
        join = time.perf_counter() - start
        print(
            f"snapshot: {info.text()}, {dump.stat().st_size / 1e6:.1f} MB; written in "
            f"{written:.2f}s, loaded and verified in {join - written:.2f}s"
        )
        with publisher.read() as a, mirror.read() as b:
            same = state.root_of(a) == state.root_of(b)
        print(f"state roots equal: {same}")
        report(
            "mirror join from snapshot vs publisher ingest",
            join,
            ingest,
            "<= 1.5",
            join <= 1.5 * ingest,
        )
        publisher.close()
        mirror.close()


if __name__ == "__main__":
    main()
