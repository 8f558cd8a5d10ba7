"""``rirport sync --archive``: the archive run of the sync command, with its progress bar and
closing report (kept apart from the latest-file sync it shares options with)."""

from __future__ import annotations

import datetime as dt
import threading

import click
from rich.filesize import decimal
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from rirport.archive.layouts import day_ranges
from rirport.cli.context import AppContext
from rirport.config import Settings
from rirport.domain.enums import Registry
from rirport.services.registry.archive import ArchiveReport, FileResult, sync_archive


def run_archive(
    app: AppContext,
    settings: Settings,
    registries: tuple[Registry, ...],
    start: dt.date,
    end: dt.date,
    jobs: int,
    record_events: bool,
) -> None:
    """Sync every dated file from ``start`` to ``end``; exit 1 if any file was skipped or a
    folder could not be listed (days with no file in the archive do not count)."""
    if end < start:
        raise click.BadParameter(f"--to {end} is before --from {start}", param_hint="--to")
    with _ArchiveBar(app) as bar:
        report = sync_archive(
            app.store,
            settings,
            registries or None,
            start=start,
            end=end,
            jobs=jobs,
            progress=bar,
            record_events=record_events,
        )
    _summarise(app, report, start, end)
    if not report.ok:
        raise click.exceptions.Exit(1)


class _ArchiveBar:
    """One bar: files done of files to fetch, bytes received, elapsed time and an ETA."""

    def __init__(self, app: AppContext) -> None:
        self.console = app.console
        self.bytes = 0
        self.lock = threading.Lock()
        self.progress = Progress(
            TextColumn("archive"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("files, {task.fields[received]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=app.console,
            transient=True,
            disable=not app.console.is_terminal,
        )
        self.task: TaskID | None = None

    def __enter__(self) -> _ArchiveBar:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(None, None, None)

    def planned(self, files: int) -> None:
        self.task = self.progress.add_task("archive", total=files, received=decimal(0))

    def received(self, nbytes: int) -> None:
        with self.lock:
            self.bytes += nbytes
            total = self.bytes
        if self.task is not None:
            self.progress.update(self.task, received=decimal(total))

    def finished(self, result: FileResult) -> None:
        if self.task is not None:
            self.progress.advance(self.task)
        if result.outcome == "skipped":
            line = Text.assemble(("error", "red"), ": ", result.message)
            self.progress.console.print(line, soft_wrap=True)


def _summarise(app: AppContext, report: ArchiveReport, start: dt.date, end: dt.date) -> None:
    """The closing lines: counts, days the archive has no file for, what was skipped."""
    out = app.console
    size = sum(r.size for r in report.results)
    out.print(
        f"archive {start} .. {end}: {report.count('ingested')} file(s) ingested, "
        f"{report.count('unchanged')} unchanged, {report.count('stored-before')} already "
        f"stored, {len(report.skipped)} skipped ({decimal(size)} downloaded)",
        soft_wrap=True,
    )
    for registry, days in report.plan.missing.items():
        if not report.plan.found(registry):
            folders = report.plan.listed.get(registry, [])
            where = f"{folders[0]} .. {folders[-1]}" if len(folders) > 1 else "".join(folders)
            out.print(f"{registry}: no dated files in the span (listed {where})", soft_wrap=True)
        elif days:
            spans = ", ".join(
                str(a) if a == b else f"{a} .. {b} ({(b - a).days + 1} days)"
                for a, b in day_ranges(days)
            )
            out.print(
                f"{registry}: no file in the archive for {len(days)} day(s): {spans}",
                soft_wrap=True,
            )
    for problem in report.plan.problems:
        out.print(Text.assemble(("error", "red"), ": ", problem), soft_wrap=True)
    if report.skipped:
        out.print("skipped (run the same command again to retry them):")
        for result in report.skipped:
            out.print(f"  {result.message}", soft_wrap=True, highlight=False)
