"""``rirport history``: the timeline of an address, prefix, AS number or holder."""

from __future__ import annotations

import click

from rirport.cli.context import AppContext, pass_app
from rirport.cli.output import FORMATS, emit
from rirport.query.history import timeline

COLUMNS = [
    "first_seen",
    "last_seen",
    "snapshots",
    "registry",
    "type",
    "start",
    "value",
    "status",
    "cc",
    "date",
    "opaque_id",
    "holder",
    "holder_confidence",
    "change",
]


@click.command("history")
@click.argument("query")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@pass_app
def command(app: AppContext, query: str, fmt: str) -> None:
    """What every stored snapshot said about QUERY, oldest first.

    QUERY is an address, prefix, range, AS number (as for lookup) or a holder (holder:ID,
    <registry>:ID). Each line is one version of a record: its registry, status, country,
    date and holder, the first and last snapshot dates it was seen in and how many snapshots
    that is. ``holder`` is the stable holder id (registry:oldest opaque-id of the ids linked
    by holding the same resources) with the confidence of its weakest link.
    """
    periods = [p.to_json() for p in timeline(app.store, query)]
    emit(periods, fmt, COLUMNS, title=f"{query}: {len(periods)} period(s)")
    if not periods and fmt == "table":
        click.echo(f"no stored snapshot mentions {query}", err=True)
