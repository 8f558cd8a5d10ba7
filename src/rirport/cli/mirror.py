"""``rirport mirror follow``: keep this store in step with another instance's log."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from rirport.cli.context import AppContext, pass_app
from rirport.log.note import parse_vkey
from rirport.services.transparency.mirror import follow_once

if TYPE_CHECKING:
    from rirport.services.transparency.witness import WitnessPolicy


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
@click.option(
    "--witness",
    "witnesses",
    multiple=True,
    metavar="VKEY",
    help="A witness's verifier key whose cosignature counts; repeatable.",
)
@click.option(
    "--require-witnesses",
    "required",
    type=click.IntRange(min=1),
    help="Apply a checkpoint only when this many --witness keys cosigned it (default: all).",
)
@pass_app
def follow(
    app: AppContext,
    url: str,
    vkey: str,
    once: bool,
    files: tuple[Path, ...],
    interval: float,
    witnesses: tuple[str, ...],
    required: int | None,
) -> None:
    """Follow the log at URL (the publisher's base URL, e.g. http://127.0.0.1:8080); exit
    status 1 on anything that does not verify, with nothing applied."""
    key = parse_vkey(vkey)
    policy = _witness_policy(witnesses, required)
    cache = app.settings.data_dir / "mirror-files"
    while True:
        report = follow_once(app.store, url, key, files, cache, witnesses=policy)
        click.echo(report.text())
        if report.replay is not None and report.replay.notes:
            click.echo(f"  not rebuilt: {len(report.replay.notes)} (see `journal replay`)")
        if once:
            return
        time.sleep(interval)


def _witness_policy(witnesses: tuple[str, ...], required: int | None) -> WitnessPolicy | None:
    """The k-of-n cosignature requirement of ``--witness``/``--require-witnesses``."""
    if not witnesses:
        if required is not None:
            raise click.UsageError("--require-witnesses needs --witness keys")
        return None
    from rirport.services.transparency.witness import WitnessPolicy

    keys = tuple(parse_vkey(w) for w in witnesses)
    return WitnessPolicy(keys, len(keys) if required is None else required)
