"""A simulated daily history ingested day by day: cost per day, growth, extrapolation.

No machine here can download the RIRs' archives, so the five real 2018 files are turned into
N consecutive days by :mod:`rirport.simulation` (0.05% of records changed a day by default:
40% new delegations cut from available space, 25% returns, 15% holder changes, 8% status
changes, 8% country changes, 4% moves between registries; see that module). Day 0 is the
real files, stored into an empty store; each later day's five files are ingested in order,
as ``rirport ingest`` stores them (one transaction each, with change events unless
``--no-events``).

Printed per day: the changes made, ingest time of the five files / the time to parse them
(parsed on their own, the same bytes; also as this process's CPU time, which a shared machine
disturbs less), store bytes added (SQLite: database + WAL files;
PostgreSQL: ``pg_database_size`` after a ``VACUUM``, not timed), the same day's changed
record lines compressed with xz (the anchor of the growth goal: at most 3x that), and the
events recorded. Then an extrapolation to 20 years x 5 registries (7,300 days): ingest time
from a straight line fitted to the per-day times (so a cost that grows with the store grows
in the total; a falling fit, noise over a short run, is taken as flat), store size from the
mean bytes a day, and the as-of lookup: a cold ``load_as_of`` at random days measured at
half and at all of the run, extended along that line, beside a lookup on the loaded view
against one on the current view.

    python -m bench.history --days 10 --engines sqlite,postgres

PostgreSQL runs in a scratch database created and dropped here
(``RIRPORT_BENCH_POSTGRES_URL`` names the server; default the machine's 127.0.0.1:5432).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import functools
import lzma
import os
import pstats
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import make_url

from bench.common import files_2018, machine
from rirport.domain.enums import ResourceType
from rirport.domain.table import TYPE_CODE
from rirport.formats.statsfile import read_stats
from rirport.query.lookup import Lookup
from rirport.query.view import load_as_of, load_current
from rirport.services.registry.ingest import IngestOptions, IngestResult, ingest_bytes
from rirport.simulation import ChurnRates, DailyHistory, SimulatedDay
from rirport.store import schema
from rirport.store.unit import Store

YEARS_DAYS = 20 * 365
SizeOf = Callable[[], int]
POSTGRES = os.environ.get(
    "RIRPORT_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@dataclass
class DayFigures:
    index: int
    changes: int
    ingest: float
    parse: float
    added: int
    changed_xz: int
    events: int
    order_bytes: int = 0
    records: int = 0
    cpu_ratio: float = 0.0
    """This process's CPU time ingesting / parsing (the machine is shared: wall time is not
    the work alone; PostgreSQL's server time is not in it)."""


@dataclass
class Run:
    engine: str
    days: list[DayFigures] = field(default_factory=list)
    asof_half: float = 0.0
    asof_end: float = 0.0
    current_load: float = 0.0
    lookup_asof: float = 0.0
    lookup_current: float = 0.0
    size: int = 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=10, help="days after day 0 (default 10)")
    parser.add_argument("--engines", default="sqlite,postgres", help="sqlite,postgres")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rate", type=float, default=0.0005, help="changes per record a day")
    parser.add_argument("--no-events", action="store_true", help="ingest without events")
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="SQLite only: keep the store in DIR/history.sqlite (not removed after); if it "
        "already holds days 0..K of this history (same seed and rate), go on from day K+1",
    )
    parser.add_argument(
        "--profile-days",
        default="",
        metavar="D,D",
        help="cProfile the ingest of these days; stats written to history-day<D>.prof (in "
        "--keep DIR, else the current folder) and the top functions printed",
    )
    parser.add_argument(
        "--sql",
        action="store_true",
        help="count the SQL statements of each day's ingest and their time (two columns)",
    )
    parser.add_argument(
        "--no-views",
        action="store_true",
        help="skip the as-of and current view loads and lookups (only the ingests measured)",
    )
    args = parser.parse_args()
    profile_days = {int(d) for d in args.profile_days.split(",") if d.strip()}
    rates = ChurnRates(per_record=args.rate)
    print(f"machine: {machine()}")
    print(
        f"simulated history: days 1..{args.days} after the real 2018 files (day 0), seed "
        f"{args.seed}, {args.rate:.4%} of records a day, mix {dict(rates.mix)}; events "
        f"{'off' if args.no_events else 'on'}"
    )
    history = DailyHistory.from_paths(files_2018(), seed=args.seed, rates=rates)
    started = time.perf_counter()
    generated = sum(1 for _ in history.days(args.days + 1))
    per_day = (time.perf_counter() - started) / generated
    print(f"generating a day of five files: {per_day * 1000:.0f} ms (not in the timings below)")
    for engine in [e.strip() for e in args.engines.split(",") if e.strip()]:
        with _store(engine, args.keep) as (store, size_of):
            probe = Probe(profile_days, args.keep or Path.cwd(), args.sql, not args.no_views)
            run = simulate(engine, store, size_of, history, args.days, not args.no_events, probe)
        report(run)


@dataclass
class Probe:
    """What to measure beyond the timings: cProfile of some days, SQL statements per day."""

    profile_days: set[int] = field(default_factory=set)
    folder: Path = Path()
    sql: bool = False
    views: bool = True
    """Load the as-of views halfway and at the end, and time lookups on them."""
    statements: int = 0
    sql_seconds: float = 0.0
    by_text: dict[str, list[float]] = field(default_factory=dict)

    def attach(self, store: Store) -> None:
        if not self.sql:
            return
        started: list[float] = []

        @event.listens_for(store.engine, "before_cursor_execute")
        def _before(*_: object) -> None:
            started.append(time.perf_counter())

        @event.listens_for(store.engine, "after_cursor_execute")
        def _after(_c: object, _cur: object, statement: str, *_: object) -> None:
            took = time.perf_counter() - started.pop()
            self.statements += 1
            self.sql_seconds += took
            entry = self.by_text.setdefault(" ".join(statement.split())[:110], [0, 0.0])
            entry[0] += 1
            entry[1] += took

    def reset(self) -> None:
        self.statements, self.sql_seconds, self.by_text = 0, 0.0, {}

    @contextmanager
    def day(self, index: int) -> Iterator[None]:
        self.reset()
        if index not in self.profile_days:
            yield
        else:
            profiler = cProfile.Profile()
            profiler.enable()
            try:
                yield
            finally:
                profiler.disable()
                path = self.folder / f"history-day{index}.prof"
                profiler.dump_stats(path)
                print(f"-- profile of day {index} in {path}; top by own time:")
                pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        if index in self.profile_days and self.sql:
            print(f"-- SQL of day {index}, by total time:")
            for text_, (n, took) in sorted(self.by_text.items(), key=lambda kv: -kv[1][1])[:25]:
                print(f"{n:>5} {took * 1000:>9.1f} ms  {text_}")


def simulate(
    engine: str,
    store: Store,
    size_of: SizeOf,
    history: DailyHistory,
    days: int,
    events: bool,
    probe: Probe | None = None,
) -> Run:
    run = Run(engine)
    probe = probe or Probe()
    probe.attach(store)
    done = _days_stored(store)
    if done:
        print(f"(the kept store holds days 0..{done - 1}: going on from day {done})")
    options = IngestOptions(events=events)
    last = dt.date.min
    print(f"\n== {engine}")
    print(
        "day  date        changes  ingest s  parse s  ratio  bytes added  changes xz  events"
        "  order B/rec  cpu ratio" + ("  sql n  sql s" if probe.sql else "")
    )
    previous: SimulatedDay | None = None
    for day in history.days(days + 1):
        if day.index < done:
            previous = day
            continue
        parse_cpu = time.process_time()
        parse = sum(_timed(functools.partial(read_stats, f.data, f.name)) for f in day.files)
        parse_cpu = time.process_time() - parse_cpu
        before = size_of()
        started, ingest_cpu = time.perf_counter(), time.process_time()
        with probe.day(day.index):
            results = [ingest_bytes(store, f.data, f.name, options=options) for f in day.files]
        ingest = time.perf_counter() - started
        ingest_cpu = time.process_time() - ingest_cpu
        assert all(isinstance(r, IngestResult) and r.outcome == "ingested" for r in results)
        added = size_of() - before
        xz = _changed_xz(previous, day) if previous else 0
        figures = DayFigures(
            day.index,
            day.change_count,
            ingest,
            parse,
            added,
            xz,
            sum(r.events or 0 for r in results),
            _order_bytes(store, [r.snapshot_id for r in results]),
            sum(r.records for r in results),
            ingest_cpu / parse_cpu if parse_cpu else 0.0,
        )
        run.days.append(figures)
        last = max(f.date for f in day.files)
        print(
            f"{day.index:>3}  {last}  {figures.changes:>7}  {ingest:>8.2f}  {parse:>7.2f}  "
            f"{ingest / parse:>5.1f}  {added:>11,}  {xz:>10,}  {figures.events:>6}  "
            f"{figures.order_bytes / figures.records:>11.3f}  {figures.cpu_ratio:>9.1f}"
            + (f"  {probe.statements:>5}  {probe.sql_seconds:>5.2f}" if probe.sql else ""),
            flush=True,
        )
        if day.index == days // 2 and days >= 2 and probe.views:
            run.asof_half = _cold_as_of(store, history_dates(day, day.index))
        previous = day
    run.size = size_of()
    if not probe.views:
        return run
    dates = history_dates(previous, days) if previous else []
    run.asof_end = _cold_as_of(store, dates)
    run.current_load, (run.lookup_asof, run.lookup_current) = _lookups(store, dates)
    return run


def _days_stored(store: Store) -> int:
    """Days of the history a kept store already holds (its snapshots / the registries)."""
    with store.engine.connect() as conn:
        snapshots = conn.execute(select(func.count()).select_from(schema.snapshot)).scalar_one()
        registries = conn.execute(
            select(func.count(schema.snapshot.c.registry.distinct()))
        ).scalar_one()
    return int(snapshots) // int(registries) if registries else 0


def history_dates(day: SimulatedDay, index: int) -> list[dt.date]:
    """Dates of the run so far (by the newest registry's calendar), for as-of lookups."""
    newest = max(f.date for f in day.files)
    return [newest - dt.timedelta(days=i) for i in range(index + 1)]


def _cold_as_of(store: Store, dates: list[dt.date]) -> float:
    """Mean seconds of a cold as-of view load at three random days of the run."""
    rng = random.Random(7)
    picks = [rng.choice(dates) for _ in range(3)]
    return statistics.mean(_timed(functools.partial(load_as_of, store, d)) for d in picks)


def _lookups(store: Store, dates: list[dt.date]) -> tuple[float, tuple[float, float]]:
    """Cold current-view load; seconds per lookup on an as-of view and on the current one."""
    current_load = _timed(lambda: load_current(store))
    now = Lookup(load_current(store))
    then = Lookup(load_as_of(store, random.Random(3).choice(dates)))
    rng = np.random.default_rng(5)
    table = now.view.table
    rows = rng.choice(len(table), 2000, replace=False).tolist()
    texts = [
        str(table.row(r).resource.to_cidrs()[0])
        for r in rows
        if table.type[r] != TYPE_CODE[ResourceType.ASN]
    ]
    best = [float("inf"), float("inf")]
    for _ in range(3):
        for side, lookup in enumerate((then, now)):
            started = time.perf_counter()
            for query in texts:
                lookup.find(query)
            best[side] = min(best[side], (time.perf_counter() - started) / len(texts))
    return current_load, (best[0], best[1])


def _order_bytes(store: Store, snapshot_ids: list[int]) -> int:
    """Bytes of these snapshots' line-order blobs (both arrays)."""
    order = schema.snapshot_order.c
    with store.engine.connect() as conn:
        total = conn.execute(
            select(func.sum(func.length(order.origins) + func.length(order.lines))).where(
                order.snapshot_id.in_(snapshot_ids)
            )
        ).scalar_one()
    return int(total or 0)


def _changed_xz(before: SimulatedDay, after: SimulatedDay) -> int:
    """Bytes of the record lines that differ between two days, compressed with xz (each
    registry's file on its own, as a day's changes would be shipped)."""
    total = 0
    for old, new in zip(before.files, after.files, strict=True):
        lines_old = set(old.data.split(b"\n"))
        lines_new = set(new.data.split(b"\n"))
        changed = sorted(lines_new.symmetric_difference(lines_old))
        total += len(lzma.compress(b"\n".join(changed)))
    return total


def report(run: Run) -> None:
    later = run.days[1:]
    if not later:
        print("no day after day 0: nothing to extrapolate")
        return
    x = np.array([d.index for d in later], dtype=float)
    y = np.array([d.ingest for d in later])
    slope, intercept = np.polyfit(x, y, 1) if len(later) > 1 else (0.0, float(y[0]))
    if slope < 0:  # a falling cost is noise over a short run: extrapolate it flat
        slope, intercept = 0.0, float(y.mean())
    total = YEARS_DAYS * intercept + slope * YEARS_DAYS * (YEARS_DAYS + 1) / 2
    ratios = [d.ingest / d.parse for d in later]
    cpu = [d.cpu_ratio for d in later]
    per_day = statistics.mean(d.added for d in later)
    xz = statistics.mean(d.changed_xz for d in later) or 1
    halfway = len(later) // 2
    asof_slope = max(run.asof_end - run.asof_half, 0.0) / max(len(later) - halfway, 1)
    asof_20y = run.asof_end + asof_slope * (YEARS_DAYS - len(later)) if run.asof_half else 0.0
    print(f"-- {run.engine}: days {later[0].index}..{later[-1].index}")
    print(
        f"ingest / parse: first {ratios[0]:.1f}, last {ratios[-1]:.1f}, mean "
        f"{statistics.mean(ratios):.1f} (goal <= 2, flat); per-day ingest {intercept:.2f}s + "
        f"{slope * 1000:.1f} ms x day"
    )
    print(
        f"ingest / parse in this process's CPU time: first {cpu[0]:.1f}, last {cpu[-1]:.1f}, "
        f"mean {statistics.mean(cpu):.1f}, median {statistics.median(cpu):.1f}"
        + (" (the PostgreSQL server's time not in it)" if run.engine == "postgres" else "")
    )
    print(
        f"store: {run.size / 1e6:.1f} MB after day {len(later)}; {per_day / 1e6:.2f} MB a day = "
        f"{per_day / xz:.0f}x the day's changes as xz text ({xz / 1e3:.1f} kB; goal <= 3x)"
    )
    order = statistics.mean(d.order_bytes / d.records for d in later)
    print(f"line order: {order:.3f} bytes per record per snapshot (mean of days 1..)")
    print(
        f"extrapolated to 20 years x 5 registries ({YEARS_DAYS} days): ingest "
        f"{total / 3600:.0f} h, store {(run.size + per_day * (YEARS_DAYS - len(later))) / 1e9:.1f}"
        f" GB"
    )
    if not run.lookup_current:  # --no-views
        return
    print(
        f"as-of view, cold load at a random day: {run.asof_half:.2f}s at day {halfway}, "
        f"{run.asof_end:.2f}s at day {len(later)} (current view {run.current_load:.2f}s); "
        f"along that line {asof_20y:.1f}s at 20 years"
    )
    print(
        f"lookup on a loaded view: as-of {run.lookup_asof * 1e6:.0f} us, current "
        f"{run.lookup_current * 1e6:.0f} us (ratio {run.lookup_asof / run.lookup_current:.2f}; "
        "goal <= 2)"
    )


@contextmanager
def _store(engine: str, keep: Path | None = None) -> Iterator[tuple[Store, SizeOf]]:
    """A fresh store on ``engine`` and a function giving its size in bytes; removed after
    (``keep``: SQLite in this folder, kept, and reused if already there)."""
    if engine == "sqlite" and keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        store = Store(f"sqlite:///{keep / 'history.sqlite'}")
        try:
            yield store, lambda: sum(p.stat().st_size for p in keep.glob("history.sqlite*"))
        finally:
            store.close()
        return
    if engine == "sqlite":
        with tempfile.TemporaryDirectory(prefix="bench-history-") as tmp:
            path = Path(tmp) / "history.sqlite"
            store = Store(f"sqlite:///{path}")

            def sqlite_size() -> int:
                return sum(p.stat().st_size for p in Path(tmp).glob("history.sqlite*"))

            try:
                yield store, sqlite_size
            finally:
                store.close()
        return
    if engine != "postgres":
        raise SystemExit(f"unknown engine {engine!r} (sqlite, postgres)")
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    name = f"bench_history_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    store = Store(url)

    def postgres_size() -> int:
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM"))  # dead row versions are reused space, not growth
            return int(
                conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
            )

    try:
        yield store, postgres_size
    finally:
        store.close()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
