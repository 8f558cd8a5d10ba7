"""Entry point: the ``rirport`` group, its global options, and error handling.

A :class:`~rirport.errors.RirportError` from any command becomes a message on stderr and a
non-zero exit status: 2 for bad settings, 1 for everything else (bad input, a failed
download, a store error). Click's own usage errors also exit with 2.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import IO, TYPE_CHECKING, Any

import click

from rirport import __version__
from rirport.errors import ConfigError, RirportError

if TYPE_CHECKING:
    cli: click.Group


class CliError(click.ClickException):
    """A rirport error on its way to the terminal."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click declares it per class

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"rirport: {self.format_message()}", err=True, file=file)


class RirportGroup(click.Group):
    """The ``rirport`` group: commands loaded lazily from :data:`COMMANDS`, and the project's
    errors mapped to messages and exit statuses."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self.add_command(_load(cmd_name), cmd_name)
        return self.commands.get(cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            raise CliError(str(exc), 2) from exc
        except RirportError as exc:
            raise CliError(str(exc), 1) from exc
        except BrokenPipeError:
            # the reader went away (``rirport export ... | head``): not an error of ours
            _quiet_stdout()
            raise click.exceptions.Exit(0) from None
        except OSError as exc:  # a file or folder we could not read or write
            where = f"{exc.filename}: " if exc.filename else ""
            raise CliError(f"{where}{exc.strerror or exc}", 1) from exc


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush of what is still buffered
    does not fail on the closed pipe again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


COMMANDS: dict[str, str] = {
    "ingest": "ingest",
    "lookup": "lookup",
    "stats": "stats",
    "check": "check",
    "export": "export",
    "sync": "sync",
    "journal": "journal",
    "hold": "hold",
    "policy": "policy",
    "portability": "portability",
    "transfer": "transfer",
    "demo": "demo",
    "serve": "serve",
    "events": "events",  # change events and monitoring
    "watch": "watch",
    "transfers-log": "transferlog",
    "history": "history",  # timelines over stored snapshots
    "evidence": "evidence",  # graded evidence and profiles
    "profile": "profile",
    "accounts": "accounts",  # member accounts and tiers
    "settings": "settings",  # every declared setting
    "series": "series",  # time series and flows over the versions
    "flows": "series:flows_command",
    "log": "log",  # the transparency log
    "state-root": "log:state_root_command",
    "mirror": "mirror",
    "witness": "witness",  # cosigns other logs' checkpoints
    "scenario": "scenario",  # what-if runs as real transfers in a scratch copy
}
"""Command name -> module under ``rirport.cli`` holding it as ``command`` (or
``module:attribute``), imported only
when that command runs (or ``--help`` lists them all): a command pays for its own imports
only, and ``--version`` for none."""


def _load(name: str) -> click.Command:
    module_name, _, attribute = COMMANDS[name].partition(":")
    module = importlib.import_module(f"rirport.cli.{module_name}")
    command: click.Command = getattr(module, attribute or "command")
    if name == "transfer":
        from rirport.cli import transfer_steps

        assert isinstance(command, click.Group)
        if "request" not in command.commands:
            transfer_steps.attach(command)
    return command


def __getattr__(name: str) -> Any:
    """``cli``, the group, made on first use (:mod:`rirport.cli.root`)."""
    if name == "cli":
        from rirport.cli.root import cli

        return cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """The ``rirport`` console script. ``rirport --version`` alone is answered here, as
    Click's version option would answer it, before the command tree is built: the tree's
    global options are derived from the settings declarations (pydantic), which cost three
    times the start-up of Click itself."""
    if sys.argv[1:] == ["--version"]:
        click.echo(f"{click.utils._detect_program_name()}, version {__version__}")
        return
    from rirport.cli.root import cli

    cli()
