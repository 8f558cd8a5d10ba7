"""``rirport sync``: fetch, check and ingest each RIR's latest extended statistics file."""

from __future__ import annotations

import click
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.text import Text

from rirport.cli.archive import run_archive
from rirport.cli.context import AppContext, pass_app
from rirport.cli.parsing import option_day
from rirport.domain.enums import Registry
from rirport.services.registry.archive import DEFAULT_JOBS
from rirport.services.registry.sync import SyncResult, iter_sync, urls_under


def _parse_registries(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[Registry, ...]:
    """Accept registry names as people write them (``ripe``, ``RIPE NCC``); refuse others with
    the list of valid names rather than a traceback."""
    try:
        return tuple(Registry.parse(v) for v in values)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


@click.command("sync")
@click.option(
    "--registry",
    "-r",
    "registries",
    multiple=True,
    metavar="RIR",
    callback=_parse_registries,
    help="Only this registry (repeatable; default: all five).",
)
@click.option(
    "--base-url",
    metavar="URL",
    help="Fetch all five from a mirror laid out as "
    "URL/<rir>/delegated-<rir>-extended-latest (default: $RIRPORT_SYNC_BASE, "
    "$RIRPORT_SYNC_URL_<RIR>, else the RIRs' own sites).",
)
@click.option("--no-events", is_flag=True, help="Do not compute and record change events.")
@click.option(
    "--archive",
    is_flag=True,
    help="Fetch every dated file from the RIRs' archives (--from .. --to) instead of the "
    "latest one; resumes where it stopped.",
)
@click.option("--from", "start", metavar="DATE", help="First day of --archive (YYYY-MM-DD).")
@click.option("--to", "end", metavar="DATE", help="Last day of --archive (default: today).")
@click.option(
    "--jobs",
    type=click.IntRange(1, 16),
    default=DEFAULT_JOBS,
    show_default=True,
    help="Downloads at once for --archive.",
)
@pass_app
def command(
    app: AppContext,
    registries: tuple[Registry, ...],
    base_url: str | None,
    no_events: bool,
    archive: bool,
    start: str | None,
    end: str | None,
    jobs: int,
) -> None:
    """Download the latest extended statistics file of each RIR, check it against its
    published .md5, and ingest it.

    Each registry is one transaction, with the change events its new file brings: one that
    fails (download, checksum, refused file) leaves its data as it was and the others go on.
    A file already stored is reported unchanged; gaps between snapshots are warned of.
    Exit status 1 if any registry failed.

    With --archive: every dated file from --from to --to, found in each RIR's archive folders
    (docs/sync.md), checked against its published .md5, ingested in date order; files
    already stored are not fetched again. Exit status 1 if any file was skipped.
    """
    settings = app.settings
    if base_url:
        settings = settings.with_overrides(sync_urls=urls_under(base_url))
    if archive or start or end:
        if not (archive and start):
            raise click.UsageError("--archive needs --from DATE (and takes --to DATE)")
        first, last = option_day(start, "--from"), option_day(end, "--to")
        return run_archive(app, settings, registries, first, last, jobs, not no_events)
    failed = 0
    with _progress(app) as progress:
        tasks: dict[Registry, TaskID] = {}

        def advance(registry: Registry, received: int, total: int | None) -> None:
            if registry not in tasks:
                tasks[registry] = progress.add_task(registry.label, total=total)
            done = total is not None and received >= total  # parsing and storing come next
            progress.update(
                tasks[registry],
                completed=received,
                total=total,
                description=f"{registry.label} (storing)" if done else registry.label,
            )

        for result in iter_sync(
            app.store, settings, registries or None, progress=advance, record_events=not no_events
        ):
            if result.registry in tasks:
                progress.remove_task(tasks[result.registry])
            failed += not result.ok
            _report(progress, result)
    if failed:
        raise click.exceptions.Exit(1)


def _report(progress: Progress, result: SyncResult) -> None:
    """One unwrapped line per registry, failures marked, so a cron mail or a log grep shows
    what needs attention."""
    line = (
        Text(result.message) if result.ok else Text.assemble(("error", "red"), ": ", result.message)
    )
    progress.console.print(line, soft_wrap=True)


def _progress(app: AppContext) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
        console=app.console,
        transient=True,
        disable=not app.console.is_terminal,
    )
