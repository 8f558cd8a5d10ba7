"""``rirport stats``: records and sizes per registry, type and status."""

from __future__ import annotations

import click

from rirport.cli.context import AppContext, pass_app
from rirport.cli.output import FORMATS, emit
from rirport.domain.enums import Registry
from rirport.services.stats import compute_stats


@click.command("stats")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--registry", "registries", multiple=True, help="Only this registry (repeatable).")
@pass_app
def command(app: AppContext, fmt: str, registries: tuple[str, ...]) -> None:
    """Records and addresses / AS numbers / prefixes per registry, type and status, over the
    current view (the newest snapshot of each registry)."""
    try:
        wanted = {Registry.parse(r).value for r in registries}
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--registry") from None
    view = app.current_view()
    rows = [r.to_json() for r in compute_stats(view.table)
            if not wanted or r.registry in wanted]
    emit(rows, fmt, ["registry", "type", "status", "records", "addresses", "asns", "prefixes"],
         title="current view: " + ", ".join(f"{s.registry} {s.snapshot_date}"
                                            for s in view.snapshots))
