"""``rirport ingest PATH...``: store statistics files (and IANA registry files)."""

from __future__ import annotations

import functools
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from rirport.cli.context import AppContext, pass_app
from rirport.errors import InputError
from rirport.formats.source import read_source
from rirport.services.registry.iana import ingest_iana, is_iana_file
from rirport.services.registry.ingest import (
    IngestOptions,
    IngestResult,
    PendingFile,
    expand_paths,
    ingest_many,
)


@click.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--skip-bad-lines",
    is_flag=True,
    help="Store the good records of a file with "
    "bad lines and report the bad ones (default: refuse the whole file).",
)
@click.option(
    "--no-events",
    is_flag=True,
    help="Do not compute and record change events "
    "(bulk loads of history; `rirport events --record` can add them later).",
)
@click.option(
    "--trust-header",
    is_flag=True,
    help="Store a file whose version line "
    "disagrees with its name or registry folder as the version line says.",
)
@pass_app
def command(
    app: AppContext,
    paths: tuple[Path, ...],
    skip_bad_lines: bool,
    no_events: bool,
    trust_header: bool,
) -> None:
    """Ingest statistics files (and IANA registry files): files, folders (recursively),
    .gz/.xz/.bz2.

    Each file is one transaction, with the change events it brings (and their webhook
    deliveries): a file with errors leaves the store as it was. Files already stored are
    reported and skipped; a file older than the registry's newest slots in as history; a gap
    of more than a month to a neighbouring snapshot is a warning. Exit status 1 if any file
    was refused.
    """
    files = expand_paths(paths)
    iana = [f for f in files if is_iana_file(f)]
    readers = [PendingFile(functools.partial(read_source, f)) for f in files if f not in iana]
    options = IngestOptions(events=not no_events, trust_header=trust_header)
    failed = 0
    with _progress(app) as progress:
        task = progress.add_task("ingesting", total=len(files))
        for path in iana:  # IANA registries first: the integrity check compares with them
            progress.advance(task)
            try:
                _say(progress, ingest_iana(app.store, path, actor=app.actor).message)
            except InputError as exc:
                failed += 1
                _report(progress, exc)
        for outcome in ingest_many(
            app.store, readers, skip_bad_lines=skip_bad_lines, actor=app.actor, options=options
        ):
            progress.advance(task)
            if isinstance(outcome, IngestResult):
                lines = [
                    outcome.message,
                    *(f"  warning: {w}" for w in outcome.warnings),
                    *(f"  skipped {e}" for e in outcome.skipped[:20]),
                ]
                if len(outcome.skipped) > 20:
                    lines.append(f"  ... and {len(outcome.skipped) - 20} more")
                for line in lines:
                    _say(progress, line)
            else:
                failed += 1
                _report(progress, outcome)
    if failed:
        raise click.exceptions.Exit(1)


def _report(progress: Progress, error: Exception) -> None:
    _say(progress, f"error: {error}")


def _say(progress: Progress, text: str) -> None:
    progress.console.print(text, highlight=False, markup=False, soft_wrap=True)


def _progress(app: AppContext) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=app.console,
        transient=True,
    )
