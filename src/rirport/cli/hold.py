"""``rirport hold add|lift|list``: legal holds and disputes that block transfers."""

from __future__ import annotations

import click

from rirport.cli.context import AppContext, pass_app
from rirport.cli.output import emit
from rirport.cli.parsing import parse_day, parse_resource
from rirport.services.transfers.holds import KINDS, add_hold, lift_hold, list_holds


@click.group("hold")
def command() -> None:
    """Legal holds and disputes: no regime lets a held resource move."""


@command.command("add")
@click.argument("resource")
@click.option("--kind", type=click.Choice(KINDS), required=True)
@click.option("--reason", required=True)
@click.option("--reference", help="Court order, case number or other source.")
@click.option("--since", "since_text", metavar="YYYY-MM-DD")
@click.option("--until", "until_text", metavar="YYYY-MM-DD")
@pass_app
def add(
    app: AppContext,
    resource: str,
    kind: str,
    reason: str,
    reference: str | None,
    since_text: str | None,
    until_text: str | None,
) -> None:
    """Put RESOURCE under a hold."""
    hold = add_hold(
        app.store,
        parse_resource(resource),
        kind,
        reason,
        app.actor,
        parse_day(since_text),
        parse_day(until_text) if until_text else None,
        reference,
    )
    click.echo(f"hold #{hold.id}: {hold.kind} on {hold.resource} since {hold.since}")


@command.command("lift")
@click.argument("hold_id", type=int)
@click.option("--reason", default="")
@pass_app
def lift(app: AppContext, hold_id: int, reason: str) -> None:
    """End a hold."""
    lift_hold(app.store, hold_id, app.actor, reason)
    click.echo(f"hold #{hold_id} lifted")


@command.command("list")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "ndjson", "csv"]), default="table"
)
@pass_app
def list_all(app: AppContext, fmt: str) -> None:
    """List holds, lifted ones included."""
    rows = [
        {
            "id": h.id,
            "kind": h.kind,
            "resource": h.resource,
            "reason": h.reason,
            "reference": h.reference,
            "since": h.since.isoformat(),
            "until": h.until.isoformat() if h.until else None,
            "in_force": h.lifted_serial is None,
        }
        for h in list_holds(app.store)
    ]
    emit(rows, fmt, ["id", "kind", "resource", "since", "until", "in_force", "reason"])
