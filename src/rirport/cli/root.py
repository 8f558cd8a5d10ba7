"""The ``rirport`` group and its global options (derived from the settings declarations),
imported by :func:`rirport.cli.main.main` once it knows it runs a command."""

from __future__ import annotations

from pathlib import Path

import click

from rirport import __version__
from rirport.cli.main import CliError, RirportGroup
from rirport.cli.settings import global_option
from rirport.errors import ConfigError


@click.group(cls=RirportGroup, context_settings={"help_option_names": ["-h", "--help"]})
@global_option("database_url")
@global_option("data_dir")
@click.option(
    "--actor",
    metavar="NAME",
    help="Who the journal records for the changes this command makes (default: user@host).",
)
@click.version_option(__version__, package_name="rirport")
@click.pass_context
def cli(
    ctx: click.Context, database_url: str | None, data_dir: Path | None, actor: str | None
) -> None:
    """rirport: one registry of the five RIRs' number resources."""
    from rirport.cli.context import make_context

    try:
        app = make_context(database_url, data_dir, actor)
    except ConfigError as exc:
        raise CliError(str(exc), 2) from exc
    ctx.obj = app
    ctx.call_on_close(app.close)
