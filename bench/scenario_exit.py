"""``rirport scenario exit afrinic`` over the five 2018 files: every AFRINIC delegation the
mandatory-portability regime allows moved as a journaled transfer, in a scratch copy.

Goal (issue 14): every AFRINIC delegation of the 2018 files moved in under one minute. The
time of the moves is printed against that goal; the copy, the plan and the read-back are
printed apart (and the total). Usage: ``python -m bench.scenario_exit [--to-policy P]``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from bench.common import files_2018, machine
from rirport.domain.enums import Registry
from rirport.services.registry.ingest import ingest_path
from rirport.services.transfers.scenario import parse_to_policy, run_exit
from rirport.store.unit import Store

GOAL_SECONDS = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--to-policy", default="nearest")
    args = parser.parse_args()
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'user.sqlite'}")
        for f in files_2018():
            ingest_path(store, f)
        policy = parse_to_policy(args.to_policy, Registry.AFRINIC)
        last = [time.perf_counter()]

        def progress(done: int, total: int) -> None:
            if time.perf_counter() - last[0] > 10 or done == total:
                last[0] = time.perf_counter()
                print(f"  {done}/{total} moves", flush=True)

        cpu = time.process_time()
        report = run_exit(
            store, Registry.AFRINIC, "mandatory-portability", policy, "bench", progress=progress
        )
        cpu = time.process_time() - cpu
        store.close()
    s = report.seconds
    print(
        f"afrinic exit (to {args.to_policy}): {report.moved} of {report.delegated} delegated "
        f"records moved as transfers ({report.journal_entries} journal entries), "
        f"{len(report.failed)} failed, {report.unrouted} unrouted"
    )
    print(
        "seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in s.items())
        + f"; {report.transfers_per_second:.1f} transfers/s"
    )  # fmt: skip
    print(
        f"moves took {s['moves']:.1f}s: {s['moves'] / GOAL_SECONDS:.2f}x the {GOAL_SECONDS:.0f} s "
        f"goal ({'met' if s['moves'] < GOAL_SECONDS else 'NOT met'}); whole run "
        f"{s['total']:.1f}s: {s['total'] / GOAL_SECONDS:.2f}x"
    )
    print(
        f"CPU of this process for the whole run {cpu:.1f}s ({cpu / GOAL_SECONDS:.2f}x the goal); "
        f"load average at the end {os.getloadavg()[0]:.1f}"
    )
    for flow in report.flows:
        print(
            f"  to {flow.to.value} {flow.type.value}: {flow.records} records, amount "
            f"{flow.amount}, rpki rejected {flow.rpki_rejected}"
        )


if __name__ == "__main__":
    main()
