"""The main job on the bundled data: ingest the five 2018 files, then summarise.

What ``rirport demo`` (and the README's first command) runs on a fresh machine, offline: the
bundled files go into the default store (skipped when already there), and the summary shows
what the registry holds, what the integrity check finds and a few lookups, each traceable to
its file and line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rirport.errors import ConflictError, InputError
from rirport.query.iana import load_iana
from rirport.query.integrity import IntegrityReport, check
from rirport.query.lookup import Lookup, Match
from rirport.query.stats import StatsRow, compute_stats
from rirport.query.view import CurrentView, load_current
from rirport.services.registry.bundled import bundled_files
from rirport.services.registry.ingest import IngestResult, PendingFile, ingest_many
from rirport.store.unit import Store

EXAMPLE_QUERIES = (
    "193.0.6.139",
    "8.8.8.8",
    "1.1.1.0/24",
    "2001:4860::/32",
    "AS3333",
    "196.216.2.1",
    "200.160.0.0/20",
)


@dataclass
class MainJobReport:
    ingested: list[IngestResult] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    stats: list[StatsRow] = field(default_factory=list)
    examples: dict[str, list[Match]] = field(default_factory=dict)
    view: CurrentView | None = None
    integrity: IntegrityReport | None = None


def run_main_job(
    store: Store,
    cache_dir: Path | None,
    on_file: Callable[[IngestResult | Exception], None] | None = None,
) -> MainJobReport:
    """Ingest the bundled files and compute the summary.

    Raises:
        RirportError: the store cannot be used.
    """
    report = MainJobReport()
    pending = [PendingFile(f.read, f.url) for f in bundled_files()]
    for outcome in ingest_many(store, pending):
        if on_file is not None:
            on_file(outcome)
        if isinstance(outcome, InputError | ConflictError):
            report.failures.append(str(outcome))
        else:
            report.ingested.append(outcome)
    report.view = load_current(store, cache_dir)
    report.stats = compute_stats(report.view.table)
    report.integrity = check(report.view, load_iana(store))
    lookup = Lookup(report.view)
    report.examples = {q: lookup.find(q) for q in EXAMPLE_QUERIES}
    return report


def load_bundled_if_empty(store: Store, echo: Callable[[str], None]) -> int:
    """Ingest the bundled 2018 files when the store holds no snapshot; files ingested."""
    with store.read() as uow:
        if uow.snapshots.current():
            return 0
    echo("the store is empty: loading the bundled 2018 files of the five RIRs")
    count = 0
    pending = [PendingFile(f.read, f.url) for f in bundled_files()]
    for outcome in ingest_many(store, pending):
        if isinstance(outcome, IngestResult):
            echo(outcome.message)
            count += 1
        elif isinstance(outcome, InputError | ConflictError):
            echo(f"error: {outcome}")
    return count
