"""Click options derived from the setting declarations in :mod:`rirport.config`, and the
``rirport settings`` command that lists them (``--format markdown`` writes docs/settings.md).

An option's name, type, range, default, help and environment variable all come from its one
declaration; nothing here restates them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from rirport.config import Declared, ServeSettings, declared, settings_markdown

F = TypeVar("F", bound=Callable[..., Any])


def click_type(decl: Declared) -> click.ParamType[Any] | None:
    """The Click type of a declared setting (ranges from its pydantic bounds)."""
    kind = decl.annotation
    bounds = decl.bounds()
    low = bounds.get("ge", bounds.get("gt"))
    high = bounds.get("le", bounds.get("lt"))
    if kind is int:
        return click.IntRange(low, high) if bounds else click.INT
    if kind is float:
        if bounds:
            return click.FloatRange(low, high, min_open="gt" in bounds)
        return click.FLOAT
    if kind in (Path, Path | None):
        return click.Path(path_type=Path, dir_okay=decl.name == "data_dir")
    return None


class SettingOption(click.Option):
    """An option that names its environment variable when the bad value came from it."""

    def process_value(self, ctx: click.Context, value: Any) -> Any:
        try:
            return super().process_value(ctx, value)
        except click.BadParameter as exc:
            source = ctx.get_parameter_source(self.name or "")
            if source is click.core.ParameterSource.ENVIRONMENT and self.envvar:
                raise click.BadParameter(
                    f"{exc.message} (from the variable {self.envvar})", ctx, self
                ) from None
            raise


def option(decl: Declared, *, envvar: bool = True, default: bool = True) -> Callable[[F], F]:
    """The Click option of a declared setting.

    ``envvar``: let Click read the declared variable (the serve options); the global options
    leave it to :meth:`Settings.from_env`, which validates every ``RIRPORT_`` name at once.
    ``default``: give Click the declared default (off for the global options, whose default
    comes from the environment first).
    """
    assert decl.cli, decl.name
    names = [decl.cli] if "/" in decl.cli else [decl.cli, decl.name]
    help_text = decl.help + (f" [env: {decl.env}]" if decl.env else "")
    kwargs: dict[str, Any] = {"help": help_text, "cls": SettingOption}
    if "/" not in decl.cli:
        kwargs["type"] = click_type(decl)
        kwargs["metavar"] = decl.metavar
    if default:
        kwargs["default"] = decl.default
        kwargs["show_default"] = decl.default is not None
    if envvar and decl.env:
        kwargs["envvar"] = decl.env
    return click.option(*names, **kwargs)


def serve_options(function: F) -> F:
    """Every :class:`ServeSettings` option, in declaration order."""
    for decl in reversed(list(declared(ServeSettings))):
        function = option(decl)(function)
    return function


def global_option(name: str) -> Callable[[F], F]:
    """The global option of one :class:`~rirport.config.Settings` field."""
    (decl,) = [d for d in declared() if d.name == name and d.scope == "global"]
    return option(decl, envvar=False, default=False)


@click.command("settings")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "markdown", "json"]),
    default="table",
    show_default=True,
    help="markdown: the text of docs/settings.md.",
)
def command(fmt: str) -> None:
    """Every setting: its variable, option, default, what it does (and, in the table, whether
    the environment sets it)."""
    if fmt == "markdown":
        click.echo(settings_markdown(), nl=False)
        return
    rows = [
        {
            "variable": d.env,
            "option": d.cli,
            "scope": d.scope,
            "default": d.shown_default,
            "set": "yes" if d.env and d.env in os.environ else "",
            "help": d.help,
        }
        for d in declared()
    ]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    from rirport.cli.output import emit

    emit(rows, "table", ["variable", "option", "scope", "default", "set", "help"])
