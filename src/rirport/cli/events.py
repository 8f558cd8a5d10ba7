"""``rirport events``: typed changes between the snapshots in force on two dates."""

from __future__ import annotations

import json

import click

from rirport.cli.context import AppContext, pass_app
from rirport.cli.parsing import parse_day
from rirport.domain.enums import Registry
from rirport.errors import InputError
from rirport.services.monitoring.events import events_between, record_between
from rirport.services.monitoring.watch import summary


@click.command("events")
@click.option(
    "--from",
    "start",
    required=True,
    metavar="YYYY-MM-DD",
    help="Each registry's newest snapshot on or before this date is the old side.",
)
@click.option(
    "--to",
    "end",
    required=True,
    metavar="YYYY-MM-DD",
    help="Each registry's newest snapshot on or before this date is the new side.",
)
@click.option("--registry", help="Keep events of this registry (moves into or out of it too).")
@click.option("--format", "fmt", type=click.Choice(["ndjson", "json", "text"]), default="ndjson")
@click.option(
    "--record", is_flag=True, help="Also store the events (feeds, webhook deliveries); journalled."
)
@pass_app
def command(
    app: AppContext, start: str, end: str, registry: str | None, fmt: str, record: bool
) -> None:
    """Diff all registries between two dates: new, returned, status, country, holder, split,
    merge, date, moved (between registries), renumbered (holder ids re-issued)."""
    try:
        reg = Registry.parse(registry) if registry else None
    except ValueError as exc:
        raise InputError(str(exc)) from None
    events = events_between(app.store, parse_day(start), parse_day(end), reg)
    if record:
        ids = record_between(app.store, events, app.actor)
        click.echo(f"stored {len(ids)} events", err=True)
    rows = [e.to_json() for e in events]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
    elif fmt == "text":
        for row in rows:
            snaps = row["snapshots"]
            click.echo(f"{summary(row)}  ({snaps['from']} -> {snaps['to']})")
    else:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
