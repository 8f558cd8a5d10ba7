"""``rirport events``: typed changes between the snapshots in force on two dates."""

from __future__ import annotations

import json

import click

from rirport.cli.context import AppContext, pass_app
from rirport.cli.parsing import option_day
from rirport.domain.enums import Registry
from rirport.errors import InputError
from rirport.services.monitoring.events import events_window, record_between
from rirport.services.monitoring.watch import summary


@click.command("events")
@click.option(
    "--from",
    "start",
    required=True,
    metavar="YYYY-MM-DD",
    help="First day of the window: each registry's newest snapshot on or before it is the "
    "old side (or, when none is that old, its first snapshot inside the window).",
)
@click.option(
    "--to",
    "end",
    required=True,
    metavar="YYYY-MM-DD",
    help="Last day of the window: each registry's newest snapshot on or before it is the new side.",
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
    """Diff all registries over a calendar window: new, returned, status, country, holder,
    split, merge, date, moved (between registries), renumbered (holder ids re-issued).

    The answer says which span the stored snapshots cover and where the gaps are: in the
    ``json`` object ({"window", "coverage", "events"}), at the top of ``text``, on stderr with
    ``ndjson`` (stdout stays one event a line)."""
    try:
        reg = Registry.parse(registry) if registry else None
    except ValueError as exc:
        raise InputError(str(exc)) from None
    window = events_window(app.store, option_day(start, "--from"), option_day(end, "--to"), reg)
    events = window.events
    if record:
        ids = record_between(app.store, events, app.actor)
        click.echo(f"stored {len(ids)} events", err=True)
    rows = [e.to_json() for e in events]
    if fmt == "json":
        click.echo(json.dumps(window.to_json(), indent=2, ensure_ascii=False))
    elif fmt == "text":
        for line in window.coverage_lines():
            click.echo(line)
        for row in rows:
            snaps = row["snapshots"]
            click.echo(f"{summary(row)}  ({snaps['from']} -> {snaps['to']})")
    else:
        for line in window.coverage_lines():
            click.echo(line, err=True)
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
