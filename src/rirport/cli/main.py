"""Entry point: the ``rirport`` group, its global options, and error handling.

A :class:`~rirport.errors.RirportError` from any command becomes a message on stderr and a
non-zero exit status: 2 for bad settings, 1 for everything else (bad input, a failed
download, a store error). Click's own usage errors also exit with 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

import click

from rirport.cli.context import make_context
from rirport.errors import ConfigError, RirportError


class CliError(click.ClickException):
    """A rirport error on its way to the terminal."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click declares it per class

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"rirport: {self.format_message()}", err=True, file=file)


class RirportGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            raise CliError(str(exc), 2) from exc
        except RirportError as exc:
            raise CliError(str(exc), 1) from exc


@click.group(cls=RirportGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    metavar="URL",
    help="Database URL (default: $RIRPORT_DATABASE_URL, else "
    "SQLite in the data folder). PostgreSQL: postgresql://user@host/db",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    help="Folder for the SQLite "
    "store, caches and downloads (default: $RIRPORT_DATA_DIR or the user data folder).",
)
@click.option(
    "--actor",
    metavar="NAME",
    help="Who the journal records for the changes this command makes (default: user@host).",
)
@click.version_option(package_name="rirport")
@click.pass_context
def cli(ctx: click.Context, db: str | None, data_dir: Path | None, actor: str | None) -> None:
    """rirport: one registry of the five RIRs' number resources."""
    try:
        app = make_context(db, data_dir, actor)
    except ConfigError as exc:
        raise CliError(str(exc), 2) from exc
    ctx.obj = app
    ctx.call_on_close(app.close)


def _register() -> None:
    from rirport.cli import (
        accounts,
        check,
        demo,
        events,
        evidence,
        export,
        history,
        hold,
        ingest,
        journal,
        log,
        lookup,
        mirror,
        policy,
        portability,
        profile,
        serve,
        stats,
        sync,
        transfer,
        transfer_steps,
        transferlog,
        watch,
    )

    for module in (
        ingest,
        lookup,
        stats,
        check,
        export,
        sync,
        journal,
        hold,
        policy,
        portability,
        transfer,
        demo,
        serve,
    ):
        cli.add_command(module.command)
    transfer_steps.attach(transfer.command)
    for module in (events, watch, transferlog):  # change events and monitoring
        cli.add_command(module.command)
    cli.add_command(history.command)  # timelines over stored snapshots
    for module in (evidence, profile):  # graded evidence and profiles
        cli.add_command(module.command)
    cli.add_command(accounts.command)  # member accounts and tiers
    cli.add_command(log.command)  # the transparency log
    cli.add_command(log.state_root_command)
    cli.add_command(mirror.command)


_register()


def main() -> None:
    cli()
