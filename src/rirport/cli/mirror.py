"""``rirport mirror follow``: keep this store in step with another instance's log (joining
from a signed snapshot if asked); ``rirport mirror take-over``: continue it as successor."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from rirport.cli.context import AppContext, pass_app
from rirport.errors import NotWitnessedError
from rirport.log.note import Verifier, parse_vkey
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
@click.option(
    "--snapshot",
    "use_snapshot",
    is_flag=True,
    help="Join from the publisher's signed snapshot (/log/snapshot) when this store is "
    "empty, then replay only what follows.",
)
@click.option(
    "--snapshot-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Join from this snapshot file (`rirport log snapshot FILE` at the publisher).",
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
    use_snapshot: bool,
    snapshot_file: Path | None,
) -> None:
    """Follow the log at URL (the publisher's base URL, e.g. http://127.0.0.1:8080); exit
    status 1 on anything that does not verify, with nothing applied."""
    key = parse_vkey(vkey)
    policy = _witness_policy(witnesses, required)
    from rirport.services.transparency.readonly import mark_started

    mark_started(app.store, key.name, url.rstrip("/"))  # writes refused from now on
    _join(app, url, key, use_snapshot, snapshot_file, policy)
    cache = app.settings.data_dir / "mirror-files"
    while True:
        try:
            report = follow_once(app.store, url, key, files, cache, witnesses=policy)
        except NotWitnessedError as exc:
            if once:
                raise
            click.echo(f"waiting for cosignatures: {exc}", err=True)  # nothing applied
            time.sleep(interval)
            continue
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


def _join(
    app: AppContext,
    url: str,
    key: Verifier,
    use_snapshot: bool,
    snapshot_file: Path | None,
    policy: WitnessPolicy | None,
) -> None:
    """Load the snapshot asked for into an empty store (a store already joined goes on);
    with a witness policy, its checkpoint must be witnessed or nothing is loaded."""
    from rirport.services.transparency import join

    if not (use_snapshot or snapshot_file) or not join.is_empty(app.store):
        return
    if snapshot_file is not None:
        info = join.join_file(app.store, snapshot_file, key, url.rstrip("/"), policy)
    else:
        info = join.join(app.store, url, key, witnesses=policy)
    click.echo(f"joined from snapshot: {info.text()}")


@command.command("take-over")
@click.option("--origin", required=True, help="The successor log's name (a new origin).")
@click.option("--key", "vkey", required=True, metavar="VKEY", help="The publisher's verifier key.")
@click.option("--reason", default="", help="Why the log is taken over (kept in the entry).")
@click.option("--yes", is_flag=True, help="Do not ask: the take-over cannot be undone.")
@pass_app
def take_over_command(app: AppContext, origin: str, vkey: str, reason: str, yes: bool) -> None:
    """Continue the log of the publisher this store mirrors, as its successor: make a new
    signing key for ORIGIN, write a signed hand-over entry naming the last checkpoint this
    store verified, and sign every later checkpoint with both keys' history (docs/log.md).
    The store stops following and accepts writes."""
    from rirport.services.transparency import keys
    from rirport.services.transparency.takeover import take_over

    if not yes:
        click.confirm(
            "Take over the log? This store stops mirroring and signs as the successor",
            abort=True,
        )
    result = take_over(
        app.store, app.settings.data_dir, origin, parse_vkey(vkey), reason, app.actor
    )
    click.echo(
        f"took over {result.predecessor} at size {result.size} as {origin}; hand-over entry "
        f"{result.serial}; signing key {keys.key_path(app.settings.data_dir)} (mode 0600)",
        err=True,
    )
    click.echo(result.vkey)
