"""``rirport profile``: evidence-graded profiles of registries, holders, countries, policies."""

from __future__ import annotations

import json
import sys

import click
from rich.console import Console

from rirport import present
from rirport.cli.context import AppContext, pass_app
from rirport.cli.parsing import option_day
from rirport.profiles.render import html_page, markdown
from rirport.services.profiles.build import build_profiles

FORMATS = ["markdown", "json", "html", "ndjson"]


@click.command("profile")
@click.argument("name", required=False)
@click.option(
    "--all",
    "every",
    is_flag=True,
    help="Every profile: registries, policies and "
    "documents, countries, then every holder (use --format ndjson).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="Output (default: markdown for one profile, ndjson for --all).",
)
@click.option(
    "--as-of",
    "as_of",
    metavar="YYYY-MM-DD",
    help="Date of the profile: grades "
    "age and portability is decided as of this day (default today).",
)
@pass_app
def command(
    app: AppContext, name: str | None, every: bool, fmt: str | None, as_of: str | None
) -> None:
    """Profile NAME or ID (afrinic, registry:arin, ZA, current, afpub-2020-gen-006,
    ripencc:OPAQUE-ID, holder:ripencc:OPAQUE-ID). NDJSON keys: id, name, type, score, grade,
    label, sections (title → text or list of text), sources."""
    if every == (name is not None):
        raise click.UsageError("give a NAME or --all (not both)")
    if every and fmt not in (None, "ndjson"):
        raise click.UsageError("--all writes one profile a line: --format ndjson")
    profiles = build_profiles(
        app.store, option_day(as_of, "--as-of"), app.settings.cache_dir, app.current_view()
    )
    if every:
        for profile in profiles.all():
            click.echo(json.dumps(profile.to_json(), ensure_ascii=False))
        return
    assert name is not None
    profile = profiles.get(name)
    if fmt == "json":
        click.echo(json.dumps(profile.to_json(tiers=True), indent=2, ensure_ascii=False))
    elif fmt == "ndjson":
        click.echo(json.dumps(profile.to_json(), ensure_ascii=False))
    elif fmt == "html":
        click.echo(html_page(profile))
    elif fmt is None and sys.stdout.isatty():
        show_markdown(markdown(profile))
    else:
        click.echo(markdown(profile))


def show_markdown(text: str, console: Console | None = None) -> None:
    """A profile for the terminal: rendered by Rich, without the ``<!-- tier -->`` markers
    (raw Markdown, comments kept, when the output is a file or a pipe or ``--format
    markdown`` is asked)."""
    from rich.markdown import Markdown

    out = console or Console(emoji=False)
    out.print(Markdown(present.strip_comments(text)))
