"""``rirport lookup --file`` on a million queries, whole process, vs a pytricia script.

The baseline (bench/pytricia_csv.py) builds its tree from the same five 2018 files on every
run and prints the same CSV (checked byte for byte). rirport runs against a store holding
those files, its view cache written (as after any earlier command). Each side runs
``--repeat`` times, alternating; the best run counts. Also printed: the share of rirport's
time that is start-up and view loading (the same command on a one-line file), a mixed
IPv4/IPv6/ASN file's time per query against the IPv4 file's, the other formats, and each
process's peak resident memory.

Targets: rirport at most 0.5x the pytricia script's time; mixed input as fast per query
(at most 1.2x, within noise).

    python -m bench.lookup_file [--repeat 3] [--count 1000000]
"""

from __future__ import annotations

import argparse
import ipaddress
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.common import ROOT, files_2018, machine
from rirport.domain.enums import ResourceType
from rirport.domain.table import TYPE_CODE, DelegationTable
from rirport.query.view import load_current
from rirport.services.registry.ingest import ingest_path
from rirport.store.unit import Store


@dataclass
class Run:
    seconds: float
    peak_mb: float


def run(command: list[str], out: Path) -> Run:
    """One whole process, stdout to ``out``: wall time, and peak RSS as GNU time reports it
    (``wait4``'s figure would include this process's memory: the kernel carries a parent's
    peak into a child it forks)."""
    report = out.with_suffix(".time")
    began = time.perf_counter()
    with out.open("wb") as sink:
        done = subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", str(report), *command],
            stdout=sink,
            stderr=subprocess.PIPE,
        )
    seconds = time.perf_counter() - began
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{command[:4]} failed: {done.stderr.decode()[-2000:]}")
    return Run(seconds, int(report.read_text().split()[-1]) / 1024)


def best(runs: list[Run]) -> Run:
    return min(runs, key=lambda r: r.seconds)


def ipv4_queries(table: DelegationTable, count: int, rng: np.random.Generator) -> list[str]:
    """Half inside IPv4 delegations, half uniformly random (as bench/lookup.py)."""
    rows = np.flatnonzero(table.type == TYPE_CODE[ResourceType.IPV4])
    picked = rng.choice(rows, count // 2)
    inside = table.first_lo[picked] + (rng.random(len(picked)) * table.value[picked]).astype(
        np.uint64
    )
    anywhere = rng.integers(0, 2**32, count - len(inside), dtype=np.uint64)
    numbers = np.concatenate([inside, anywhere])
    rng.shuffle(numbers)
    return [str(ipaddress.IPv4Address(n)) for n in numbers.tolist()]


def mixed_queries(table: DelegationTable, count: int, rng: np.random.Generator) -> list[str]:
    """A third each: IPv4 addresses, IPv6 addresses inside delegations, AS numbers."""
    third = count // 3
    texts = ipv4_queries(table, count - 2 * third, rng)
    v6 = rng.choice(np.flatnonzero(table.type == TYPE_CODE[ResourceType.IPV6]), third)
    low = rng.integers(0, 2**63, third, dtype=np.uint64).tolist()
    texts += [
        str(ipaddress.IPv6Address((int(table.first_hi[r]) << 64) | n))
        for r, n in zip(v6.tolist(), low, strict=True)
    ]
    asn = rng.choice(np.flatnonzero(table.type == TYPE_CODE[ResourceType.ASN]), third)
    offsets = (rng.random(third) * table.value[asn]).astype(np.int64)
    texts += [f"AS{int(table.first_lo[r]) + o}" for r, o in zip(asn, offsets.tolist(), strict=True)]
    order = rng.permutation(len(texts))
    return [texts[i] for i in order.tolist()]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--count", type=int, default=1_000_000)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'rirport.sqlite'}"
        store = Store(url)
        for path in files_2018():
            ingest_path(store, path)
        table = load_current(store, folder / "cache").table
        store.close()
        rng = np.random.default_rng(2018)
        inputs = {
            "ipv4": ipv4_queries(table, args.count, rng),
            "mixed": mixed_queries(table, args.count, rng),
            "one": ["8.8.8.8"],
            "table": ipv4_queries(table, args.count // 10, rng),
        }
        for name, texts in inputs.items():
            (folder / f"{name}.txt").write_text("\n".join(texts) + "\n")
        counts = {name: len(texts) for name, texts in inputs.items()}
        del inputs, table  # the children's peaks are their own, but keep the machine free
        rirport = [sys.executable, "-m", "rirport", "--db", url, "--data-dir", str(folder)]

        def ours(name: str, fmt: str) -> list[str]:
            return [*rirport, "lookup", "--file", str(folder / f"{name}.txt"), "--format", fmt]

        trie = [sys.executable, str(ROOT / "bench" / "pytricia_csv.py"), str(folder / "ipv4.txt")]
        trie += [str(f) for f in files_2018()]
        cases = {
            "pytricia": trie,
            "rirport csv": ours("ipv4", "csv"),
            "start-up + view": ours("one", "csv"),
            "mixed csv": ours("mixed", "csv"),
        }
        runs: dict[str, list[Run]] = {name: [] for name in cases}
        for _ in range(args.repeat):
            for name, command in cases.items():
                runs[name].append(run(command, folder / f"{name}.out"))
        same = (folder / "pytricia.out").read_bytes() == (folder / "rirport csv.out").read_bytes()
        lines = (folder / "rirport csv.out").read_bytes().count(b"\n") - 1
        others = {
            f"{fmt} ({counts[name]:,} queries)": run(ours(name, fmt), folder / "fmt.out")
            for name, fmt in (("ipv4", "ndjson"), ("ipv4", "json"), ("table", "table"))
        }
    trie_run, our_run = best(runs["pytricia"]), best(runs["rirport csv"])
    start, mixed = best(runs["start-up + view"]), best(runs["mixed csv"])
    print(
        f"{args.count:,} IPv4 queries (half inside delegations, half random), {lines:,} CSV "
        f"rows; rirport's CSV {'==' if same else '!='} the pytricia script's; "
        f"best of {args.repeat} whole-process runs each, alternating"
    )
    print(f"pytricia script: {trie_run.seconds:.2f}s, peak {trie_run.peak_mb:.0f} MB")
    print(
        f"rirport lookup --file --format csv: {our_run.seconds:.2f}s, peak {our_run.peak_mb:.0f} MB"
    )
    print(
        f"  of which start-up and view loading (a one-line file): {start.seconds:.2f}s "
        f"({start.seconds / our_run.seconds:.0%}), peak {start.peak_mb:.0f} MB"
    )
    ratio = our_run.seconds / trie_run.seconds
    print(
        f"rirport vs pytricia: ratio {ratio:.2f}; target <= 0.5: "
        f"{'met' if ratio <= 0.5 else 'NOT met'}"
    )
    per = (mixed.seconds - start.seconds) / (our_run.seconds - start.seconds)
    print(
        f"mixed IPv4/IPv6/ASN ({args.count:,}): {mixed.seconds:.2f}s, peak {mixed.peak_mb:.0f} MB;"
        f" per query after start-up vs IPv4: ratio {per:.2f}; target <= 1.2: "
        f"{'met' if per <= 1.2 else 'NOT met'}"
    )
    for name, result in others.items():
        print(f"rirport --format {name}: {result.seconds:.2f}s, peak {result.peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
