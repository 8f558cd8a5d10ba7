"""``rirport lookup``: one query, or many from a file or stdin."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from rirport import present
from rirport.cli.context import AppContext, pass_app
from rirport.cli.output import FORMATS, emit
from rirport.cli.parsing import option_date

if TYPE_CHECKING:
    from rirport.query.view import CurrentView

COLUMNS = ["registry", "cc", "type", "start", "value", "date", "status", "opaque_id", "relation"]

TABLE_COLUMNS = ["registry", "resource", "cc", "date", "status", "opaque_id", "relation", "source"]


def _for_people(match: dict[str, Any]) -> dict[str, Any]:
    """A match as the table shows it: the resource as a prefix or range, the country named."""
    return {
        **match,
        "resource": present.resource(match["type"], match["start"], match["value"]),
        "cc": present.country(match.get("cc")),
        "source": f"{match['source']['file']}:{match['source']['line']}",
    }


@click.command("lookup")
@click.argument("query", required=False)
@click.option(
    "--file",
    "-f",
    "file",
    type=click.File("r"),
    help="Read one query per line from this file ('-' for stdin).",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option(
    "--as-of",
    "as_of",
    metavar="YYYY-MM-DD",
    default=None,
    help="The registries as they stood on this date (YYYY-MM-DD): each one's newest "
    "snapshot on or before it.",
)
@pass_app
def command(app: AppContext, query: str | None, file: Any, fmt: str, as_of: str | None) -> None:
    """Find the delegations of an address, prefix, range, AS number or holder.

    QUERY is 193.0.0.1, 193.0.0.0/21, 193.0.0.0-193.0.7.255, 2001:db8::/32, AS3333,
    AS3333-AS3340, holder:ID or <registry>:ID (an opaque-id). Matches come most specific
    first, from every registry, each with its relation to the query (exact, covering,
    covered, overlaps) and the file and line it was read from.
    """
    if (query is None) == (file is None):
        raise click.UsageError("give a QUERY or --file (one of them)")
    found = app.cached_point_matches(query) if query is not None and as_of is None else None
    if found is None:
        from rirport.query.lookup import Lookup  # numpy: only when the cache cannot answer

        lookup = Lookup(view_for(app, as_of))
        if file is not None:
            from rirport.cli.lookup_file import lookup_file

            if lookup_file(lookup, file, fmt, sys.stdout):
                raise click.exceptions.Exit(1)
            return
        assert query is not None
        found = lookup.find(query)
    matches = [m.to_json() for m in found]
    shown = [_for_people(m) for m in matches] if fmt == "table" else matches
    columns = TABLE_COLUMNS if fmt == "table" else COLUMNS
    emit(shown, fmt, columns, title=f"{query}: {len(matches)} match(es)")
    if not matches and fmt == "table":
        click.echo(f"no delegation matches {query}", err=True)


def view_for(app: AppContext, as_of: str | None) -> CurrentView:
    """The current view, or the view as of a date (``--as-of``)."""
    if as_of is None:
        return app.current_view()
    from rirport.query.view import load_as_of

    return load_as_of(app.store, option_date(as_of, "--as-of"), app.where.cache_dir)
