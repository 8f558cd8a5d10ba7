"""``rirport stats``: records and sizes per registry, type and status."""

from __future__ import annotations

import click

from rirport import present
from rirport.cli.context import AppContext, pass_app
from rirport.cli.lookup import view_for
from rirport.cli.output import FORMATS, emit
from rirport.domain.enums import Registry
from rirport.query.stats import compute_stats


@click.command("stats")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--registry", "registries", multiple=True, help="Only this registry (repeatable).")
@click.option(
    "--as-of",
    "as_of",
    metavar="YYYY-MM-DD",
    default=None,
    help="Count the registries as they stood on this date (YYYY-MM-DD).",
)
@pass_app
def command(app: AppContext, fmt: str, registries: tuple[str, ...], as_of: str | None) -> None:
    """Records and addresses / AS numbers / prefixes per registry, type and status, over the
    current view (the newest snapshot of each registry), or as of a date (each registry's
    newest snapshot on or before it)."""
    try:
        wanted = {Registry.parse(r).value for r in registries}
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--registry") from None
    view = view_for(app, as_of)
    stats = [r for r in compute_stats(view.table) if not wanted or r.registry in wanted]
    label = "current view" if as_of is None else f"as of {as_of}"
    title = f"{label}: " + ", ".join(f"{s.registry} {s.snapshot_date}" for s in view.snapshots)
    if fmt == "table":  # for people: amounts with their unit (IPv6 in /32s or /48s)
        rows = [
            {
                "registry": r.registry,
                "type": r.type.value,
                "status": r.status,
                "records": f"{r.records:,}",
                "amount": present.amount(r.type.value, r.amount),
            }
            for r in stats
        ]
        emit(rows, fmt, ["registry", "type", "status", "records", "amount"], title=title)
        return
    emit(
        [r.to_json() for r in stats],
        fmt,
        ["registry", "type", "status", "records", "addresses", "asns", "prefixes"],
        title=title,
    )
