"""Click options derived from the setting declarations in :mod:`rirport.config`, and the
``rirport settings`` command that lists them (``--format markdown`` writes docs/settings.md).

An option's name, type, range, default, help and environment variable all come from its one
declaration; nothing here restates them.

The global options, which every command builds before it runs, are made from
:mod:`rirport.cli.settings_table`: the same options as data, generated from the declarations
by ``python -m rirport.cli.settings`` (a test checks it is current), so that a command does not
import pydantic to build them. :mod:`rirport.config` is imported only when a declaration is
needed (``rirport settings``, the serve options).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from rirport.config import Declared

F = TypeVar("F", bound=Callable[..., Any])


def type_spec(decl: Declared) -> dict[str, Any] | None:
    """The Click type of a declared setting as plain data (ranges from its pydantic bounds)."""
    kind = decl.annotation
    bounds = decl.bounds()
    low = bounds.get("ge", bounds.get("gt"))
    high = bounds.get("le", bounds.get("lt"))
    if kind is int:
        return {"kind": "int", "low": low, "high": high} if bounds else {"kind": "int"}
    if kind is float:
        if bounds:
            return {"kind": "float", "low": low, "high": high, "min_open": "gt" in bounds}
        return {"kind": "float"}
    if kind in (Path, Path | None):
        return {"kind": "path", "dir_okay": decl.name == "data_dir"}
    return None


def click_type_of(spec: dict[str, Any] | None) -> click.ParamType[Any] | None:
    """The Click type :func:`type_spec` describes."""
    if spec is None:
        return None
    if spec["kind"] == "int":
        return click.IntRange(spec["low"], spec["high"]) if "low" in spec else click.INT
    if spec["kind"] == "float":
        if "low" in spec:
            return click.FloatRange(spec["low"], spec["high"], min_open=spec["min_open"])
        return click.FLOAT
    return click.Path(path_type=Path, dir_okay=spec["dir_okay"])


def click_type(decl: Declared) -> click.ParamType[Any] | None:
    """The Click type of a declared setting (ranges from its pydantic bounds)."""
    return click_type_of(type_spec(decl))


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


def option_spec(decl: Declared) -> dict[str, Any]:
    """The names, help, type and metavar of a declared setting's option, as plain data."""
    assert decl.cli, decl.name
    names = [decl.cli] if "/" in decl.cli else [decl.cli, decl.name]
    help_text = decl.help + (f" [env: {decl.env}]" if decl.env else "")
    spec: dict[str, Any] = {"names": names, "help": help_text}
    if "/" not in decl.cli:
        spec["type"] = type_spec(decl)
        spec["metavar"] = decl.metavar
    return spec


def _option_kwargs(spec: dict[str, Any]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"help": spec["help"], "cls": SettingOption}
    if "type" in spec:
        kwargs["type"] = click_type_of(spec["type"])
        kwargs["metavar"] = spec["metavar"]
    return kwargs


def option(decl: Declared, *, envvar: bool = True, default: bool = True) -> Callable[[F], F]:
    """The Click option of a declared setting.

    ``envvar``: let Click read the declared variable (the serve options); the global options
    leave it to :meth:`Settings.from_env`, which validates every ``RIRPORT_`` name at once.
    ``default``: give Click the declared default (off for the global options, whose default
    comes from the environment first).
    """
    spec = option_spec(decl)
    names = spec["names"]
    kwargs = _option_kwargs(spec)
    if default:
        kwargs["default"] = decl.default
        kwargs["show_default"] = decl.default is not None
    if envvar and decl.env:
        kwargs["envvar"] = decl.env
    return click.option(*names, **kwargs)


def serve_options(function: F) -> F:
    """Every :class:`~rirport.config.ServeSettings` option, in declaration order."""
    from rirport.config import ServeSettings, declared

    for decl in reversed(list(declared(ServeSettings))):
        function = option(decl)(function)
    return function


def global_option(name: str) -> Callable[[F], F]:
    """The global option of one :class:`~rirport.config.Settings` field, from
    :mod:`rirport.cli.settings_table` (no declaration default, no ``envvar``: see
    :func:`option`)."""
    from rirport.cli.settings_table import GLOBAL_OPTIONS

    spec = GLOBAL_OPTIONS[name]
    return click.option(*spec["names"], **_option_kwargs(spec))


def plain_table() -> dict[str, Any]:
    """What :mod:`rirport.cli.settings_table` holds, from the declarations: the global
    options, and the literal defaults of the global settings (those of a ``default_factory``
    are left out)."""
    from rirport.config import Settings, declared

    options = {d.name: option_spec(d) for d in declared(Settings) if d.cli}
    defaults = {
        d.name: d.info.default
        for d in declared(Settings)
        if d.info.default_factory is None
        and isinstance(d.info.default, (str, int, float, type(None)))
    }
    return {"GLOBAL_OPTIONS": options, "DEFAULTS": defaults}


def settings_table_source() -> str:
    """The text of ``src/rirport/cli/settings_table.py``."""
    import pprint

    out = [
        '"""The global options and the literal defaults of the global settings as plain data,',
        "generated from the declarations in src/rirport/config.py by",
        "``python -m rirport.cli.settings > src/rirport/cli/settings_table.py`` (then",
        "``ruff format``): do not edit (tests/test_config.py checks it is current). Every command",
        'builds its global options from it without importing pydantic."""',
        "",
        "from typing import Any",
        "",
    ]
    for name, value in plain_table().items():
        text = pprint.pformat(value, width=88, sort_dicts=False)
        out.append(f"{name}: dict[str, Any] = {text}")
        out.append("")
    return "\n".join(out)


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
    from rirport.config import declared, settings_markdown

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


if __name__ == "__main__":
    print(settings_table_source(), end="")
