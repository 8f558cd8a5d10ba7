"""``rirport watch add|list|remove|feed|deliver``: watchlists, their feeds and webhooks."""

from __future__ import annotations

import datetime as dt
import json

import click

from rirport.cli.context import AppContext, pass_app
from rirport.services.monitoring.watch import (
    Criteria,
    add_watch,
    atom_feed,
    list_watches,
    matching_events,
    ndjson_lines,
    remove_watch,
)
from rirport.services.monitoring.webhooks import RetryPolicy, deliver


@click.group("watch")
def command() -> None:
    """Subscribe to changes: resources, holders, countries, registries, event kinds."""


@command.command("add")
@click.argument("name")
@click.option("--resource", "resources", multiple=True, help="Address, prefix or AS number.")
@click.option("--holder", "holders", multiple=True, help="Opaque holder id.")
@click.option("--country", "countries", multiple=True, help="Two-letter country code.")
@click.option("--registry", "registries", multiple=True)
@click.option("--kind", "kinds", multiple=True, help="Event kind (moved, holder, ...).")
@click.option("--url", help="Webhook receiving each matching event (signed with --secret).")
@click.option("--secret", help="Key of the HMAC-SHA256 signature of webhook payloads.")
@pass_app
def add(
    app: AppContext,
    name: str,
    resources: tuple[str, ...],
    holders: tuple[str, ...],
    countries: tuple[str, ...],
    registries: tuple[str, ...],
    kinds: tuple[str, ...],
    url: str | None,
    secret: str | None,
) -> None:
    """Create watchlist NAME (all given categories must match; any entry within one)."""
    criteria = Criteria.parse(
        {
            "resources": resources,
            "holders": holders,
            "countries": countries,
            "registries": registries,
            "kinds": kinds,
        }
    )
    watch_id = add_watch(app.store, name, criteria, url, secret, app.actor)
    click.echo(f"watchlist #{watch_id} {name}: {json.dumps(criteria.to_json())}")


@command.command("list")
@pass_app
def list_all(app: AppContext) -> None:
    """Active watchlists with their delivery counts, as JSON."""
    click.echo(json.dumps(list_watches(app.store), indent=2))


@command.command("remove")
@click.argument("name")
@pass_app
def remove(app: AppContext, name: str) -> None:
    """Stop watchlist NAME (queued deliveries are still made)."""
    remove_watch(app.store, name, app.actor)
    click.echo(f"watchlist {name} removed")


@command.command("feed")
@click.argument("name")
@click.option("--format", "fmt", type=click.Choice(["atom", "ndjson"]), default="atom")
@click.option("--limit", default=100, show_default=True, help="Newest events to include.")
@pass_app
def feed(app: AppContext, name: str, fmt: str, limit: int) -> None:
    """The stored events matching watchlist NAME, as Atom or NDJSON."""
    watch, rows = matching_events(app.store, name, limit)
    if fmt == "atom":
        click.echo(atom_feed(watch, rows))
    else:
        for line in ndjson_lines(rows):
            click.echo(line)


@command.command("deliver")
@click.option("--timeout", default=10.0, show_default=True, help="Seconds per receiver.")
@click.option("--max-attempts", default=6, show_default=True)
@click.option(
    "--base-delay",
    default=30.0,
    show_default=True,
    help="Seconds before the first retry; doubles each time.",
)
@click.option("--limit", default=100, show_default=True, help="Deliveries per run.")
@pass_app
def deliver_due(
    app: AppContext, timeout: float, max_attempts: int, base_delay: float, limit: int
) -> None:
    """Post due webhook deliveries once (run from cron or a loop; never blocks ingest)."""
    policy = RetryPolicy(
        max_attempts=max_attempts, base_delay=dt.timedelta(seconds=base_delay), timeout=timeout
    )
    report = deliver(app.store, policy=policy, limit=limit, actor=app.actor)
    click.echo(json.dumps(report.to_json(), indent=2))
