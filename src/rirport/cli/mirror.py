"""``rirport mirror follow``: keep this store in step with another instance's log."""

from __future__ import annotations

import time
from pathlib import Path

import click

from rirport.cli.context import AppContext, pass_app
from rirport.log.note import parse_vkey
from rirport.services.transparency.mirror import follow_once


@click.group("mirror")
def command() -> None:
    """Mirror another rirport instance: verified checkpoints, entries checked against the
    tree, replayed into this store (docs/log.md)."""


@command.command("follow")
@click.argument("url")
@click.option("--key", "vkey", required=True, metavar="VKEY", help="The publisher's verifier key.")
@click.option("--once", is_flag=True, help="Catch up to the newest checkpoint, then exit 0.")
@click.option(
    "--files",
    "files",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Folders or files with IANA files the publisher's entries name (statistics files "
    "are fetched from the publisher).",
)
@click.option("--interval", type=click.FloatRange(min=0.1), default=30.0, show_default=True)
@pass_app
def follow(
    app: AppContext, url: str, vkey: str, once: bool, files: tuple[Path, ...], interval: float
) -> None:
    """Follow the log at URL (the publisher's base URL, e.g. http://127.0.0.1:8080); exit
    status 1 on anything that does not verify, with nothing applied."""
    key = parse_vkey(vkey)
    cache = app.settings.data_dir / "mirror-files"
    while True:
        report = follow_once(app.store, url, key, files, cache)
        click.echo(report.text())
        if report.replay is not None and report.replay.notes:
            click.echo(f"  not rebuilt: {len(report.replay.notes)} (see `journal replay`)")
        if once:
            return
        time.sleep(interval)
