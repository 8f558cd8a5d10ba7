"""``rirport transfers-log reconcile``: published transfer logs against inferred moves."""

from __future__ import annotations

import json
from pathlib import Path

import click

from rirport import present
from rirport.cli.context import AppContext, pass_app
from rirport.cli.parsing import option_day
from rirport.formats.source import read_source
from rirport.formats.transferlog import LoggedTransfer, read_transfer_log
from rirport.services.monitoring.events import events_between
from rirport.services.transfers.reconcile import reconcile


@click.group("transfers-log")
def command() -> None:
    """The RIRs' transfer logs (transfers_latest.json, NRO format)."""


@command.command("reconcile")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--from", "start", required=True, metavar="YYYY-MM-DD")
@click.option("--to", "end", required=True, metavar="YYYY-MM-DD")
@click.option("--format", "fmt", type=click.Choice(["json", "text"]), default="text")
@pass_app
def reconcile_cmd(app: AppContext, files: tuple[Path, ...], start: str, end: str, fmt: str) -> None:
    """Match the inter-RIR transfers of FILES dated in (--from, --to] with the moves between
    the snapshots in force on those dates: matched, only in the log, only in the data."""
    transfers: list[LoggedTransfer] = []
    for path in files:
        source = read_source(path)
        transfers += read_transfer_log(source.data, source.name).transfers
    day_from, day_to = option_day(start, "--from"), option_day(end, "--to")
    result = reconcile(transfers, events_between(app.store, day_from, day_to), day_from, day_to)
    out = result.to_json()
    if fmt == "json":
        click.echo(json.dumps(out, indent=2))
        return
    for t, moves in result.matched:
        click.echo(
            f"matched   {t.source_rir.value}->{t.recipient_rir.value} "
            f"{', '.join(str(r) for r in t.resources)} ({len(moves)} move(s))"
        )
    for t in result.only_log:
        click.echo(
            f"only-log  {t.source_rir.value}->{t.recipient_rir.value} "
            f"{', '.join(str(r) for r in t.resources)} {t.date}"
        )
    for e in result.only_data:
        where = present.resource(e.type or "", e.start or "", e.value)
        click.echo(f"only-data {e.from_registry}->{e.to_registry} {e.type} {where}")
    click.echo(json.dumps(out["counts"]))
