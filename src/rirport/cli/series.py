"""``rirport series`` and ``rirport flows``: address space, records, AS numbers or holders
over time, and what moved between registries, computed from the stored versions."""

from __future__ import annotations

import click

from rirport.cli.context import AppContext, pass_app
from rirport.cli.output import emit
from rirport.cli.parsing import option_date
from rirport.query.flows import COLUMNS as FLOW_COLUMNS
from rirport.query.flows import flows
from rirport.query.series import GROUPINGS, METRICS, STEPS, load_versions, points, series

FORMATS = ["table", "json", "csv"]


def _span(start: str, end: str, step: str) -> list:  # type: ignore[type-arg]
    a, b = option_date(start, "--from"), option_date(end, "--to")
    if b < a:
        raise click.BadParameter(f"--to {b} is before --from {a}")
    return points(a, b, step)  # type: ignore[arg-type]


@click.command("series")
@click.option("--metric", type=click.Choice(METRICS), required=True)
@click.option("--by", type=click.Choice(GROUPINGS), default="registry", show_default=True)
@click.option("--from", "start", metavar="YYYY-MM-DD", required=True)
@click.option("--to", "end", metavar="YYYY-MM-DD", required=True)
@click.option("--step", type=click.Choice(STEPS), default="month", show_default=True)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@pass_app
def command(
    app: AppContext, metric: str, by: str, start: str, end: str, step: str, fmt: str
) -> None:
    """METRIC per registry, country or status on every STEP from --from to --to.

    Each point counts what each registry's newest file on or before that date lists (as
    ``stats --as-of`` does), with completed transfers from their dates. ``addresses``: IPv4
    addresses; ``prefixes``: IPv4 and IPv6 records; ``asns``: AS numbers; ``holders``:
    distinct opaque-ids. By registry or country only delegated space (allocated, assigned)
    counts; by status every status. JSON is wide (the dates once, one array per group), CSV
    and the table long (one row per date and group).
    """
    at = _span(start, end, step)
    made = series(load_versions(app.store, app.settings.cache_dir), metric, by, at, step)  # type: ignore[arg-type]
    if fmt == "json":
        import json

        click.echo(json.dumps(made.to_json(), indent=2))
        return
    emit(made.rows(), fmt, ["date", by, metric], title=f"{metric} by {by}, every {step}")


@click.command("flows")
@click.option("--from", "start", metavar="YYYY-MM-DD", required=True)
@click.option("--to", "end", metavar="YYYY-MM-DD", required=True)
@click.option("--step", type=click.Choice(STEPS), default="month", show_default=True)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@pass_app
def flows_command(app: AppContext, start: str, end: str, step: str, fmt: str) -> None:
    """IPv4 addresses, IPv6 prefixes and AS numbers moved between each pair of registries
    per STEP, from the stored ``moved`` change events (dated by the file a move was first
    seen in)."""
    at = _span(start, end, step)
    rows = [f.to_json() for f in flows(app.store, at[0], option_date(end, "--to"), step)]  # type: ignore[arg-type]
    emit(rows, fmt, FLOW_COLUMNS, title=f"moves between registries, every {step}")
    if not rows and fmt == "table":
        click.echo("no move between registries is stored in that span", err=True)
