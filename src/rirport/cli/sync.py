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

from rirport.cli.context import AppContext, pass_app
from rirport.domain.enums import Registry
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
@pass_app
def command(
    app: AppContext, registries: tuple[Registry, ...], base_url: str | None, no_events: bool
) -> None:
    """Download the latest extended statistics file of each RIR, check it against its
    published .md5, and ingest it.

    Each registry is one transaction, with the change events its new file brings: one that
    fails (download, checksum, refused file) leaves its data as it was and the others go on.
    A file already stored is reported unchanged; gaps between snapshots are warned of.
    Exit status 1 if any registry failed.
    """
    settings = app.settings
    if base_url:
        settings = settings.with_overrides(sync_urls=urls_under(base_url))
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
