"""``rirport journal``: verify, export, show and replay the hash-chained journal."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from rirport.cli.context import AppContext, pass_app
from rirport.cli.output import emit
from rirport.log.note import parse_vkey
from rirport.services.audit import journal, replay


@click.group("journal")
def command() -> None:
    """The journal of every change (ingests, IANA files, transfer steps, holds, watchlists,
    accounts, evidence), each entry linked to the one before by its hash."""


@command.command("verify")
@click.option(
    "--file",
    "path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Verify an exported journal (NDJSON) instead of the store's.",
)
@click.option(
    "--head",
    metavar="HASH",
    help="A head hash recorded earlier: it must still be "
    "in the chain (detects entries removed from the end).",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@pass_app
def verify(app: AppContext, path: Path | None, head: str | None, fmt: str) -> None:
    """Check every entry's hash and link; exit status 1 if any entry was edited, removed or
    reordered."""
    result = journal.verify_file(path, head) if path else journal.verify(app.store, head)
    if fmt == "json":
        click.echo(json.dumps(result.to_json(), indent=2))
    elif result.ok:
        click.echo(
            f"journal ok: {result.entries} entries, last serial {result.last_serial}, "
            f"head {result.last_hash}"
        )
    else:
        click.echo(
            f"journal BROKEN: {len(result.problems)} problem(s) in {result.entries} entries",
            err=True,
        )
        for problem in result.problems:
            click.echo(f"  {problem}", err=True)
    if not result.ok:
        raise click.exceptions.Exit(1)


@command.command("export")
@click.option(
    "--output", "-o", default="-", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path)
)
@pass_app
def export(app: AppContext, output: Path) -> None:
    """Write the journal as NDJSON (one entry a line), for another instance to verify."""
    if str(output) == "-":
        journal.export(app.store, sys.stdout)
        return
    tmp = output.with_name(f".{output.name}.tmp")
    with tmp.open("w", encoding="utf-8") as out:
        count = journal.export(app.store, out)
    tmp.replace(output)
    click.echo(f"wrote {count} entries to {output}", err=True)


@command.command("show")
@click.option("--action", help="Only entries of this action (ingest, iana, transfer, hold).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "ndjson"]), default="table")
@pass_app
def show(app: AppContext, action: str | None, fmt: str) -> None:
    """List the entries."""
    rows = [
        {
            "serial": r.serial,
            "created_at": r.created_at,
            "actor": r.actor,
            "action": r.action,
            "payload": json.loads(r.payload),
            "hash": r.hash,
        }
        for r in journal.entries(app.store, action)
    ]
    emit(rows, fmt, ["serial", "created_at", "actor", "action", "payload"])


def _regime_files(
    _ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]
) -> dict[str, str]:
    pairs = {}
    for value in values:
        name, sep, path = value.partition("=")
        if not sep or not name or not path:
            raise click.BadParameter(f"{value!r} is not NAME=PATH")
        pairs[name] = path
    return pairs


@command.command("replay")
@click.argument(
    "path", metavar="FILE", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--files",
    "files",
    multiple=True,
    metavar="PATH",
    type=click.Path(exists=True, path_type=Path),
    help="A file or folder holding files the ingest and IANA entries need (found by "
    "sha256); repeat as needed.",
)
@click.option(
    "--regime",
    "regimes",
    multiple=True,
    metavar="NAME=PATH",
    callback=_regime_files,
    help="The file of a regime that is not built in.",
)
@click.option(
    "--checkpoint",
    "checkpoint",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A signed checkpoint (the publisher's /log/checkpoint): only the entries it covers "
    "are accepted, and only if they make its root. Needs --key.",
)
@click.option(
    "--key", "vkey", metavar="VKEY", help="The verifier key the checkpoint must be signed by."
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@pass_app
def replay_command(
    app: AppContext,
    path: Path,
    files: tuple[Path, ...],
    regimes: dict[str, str],
    checkpoint: Path | None,
    vkey: str | None,
    fmt: str,
) -> None:
    """Apply an exported journal (NDJSON) to this store, entry by entry, through the same
    services, and check that it reproduces the file's head hash; exit status 1 on any
    difference. Every kind of entry is applied; what the journal never holds (password
    hashes, token and webhook secrets) is listed as not rebuilt."""
    if (checkpoint is None) != (vkey is None):
        raise click.UsageError("--checkpoint and --key go together")
    signed = None
    if checkpoint is not None and vkey is not None:
        signed = replay.SignedHead(checkpoint.read_text(encoding="utf-8"), parse_vkey(vkey))
    report = replay.replay(app.store, path, files, regimes, signed)
    if fmt == "json":
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        _print_replay(report)
    if not report.ok:
        raise click.exceptions.Exit(1)


def _print_replay(report: replay.ReplayReport) -> None:
    click.echo(
        f"replayed {report.applied} of {report.entries} entries from {report.file} "
        f"({report.already} already in the store)"
    )
    same = "identical" if report.file_head == report.replay_head else "DIFFERENT"
    click.echo(f"head: file {report.file_head}\n      replay {report.replay_head} ({same})")
    if report.checkpoint:
        click.echo(f"checked against checkpoint {report.checkpoint}")
    for finding in report.findings:
        click.echo(f"  {finding}", err=True)
    if report.notes:
        click.echo(f"not rebuilt ({len(report.notes)}; the journal does not hold it):")
        for note in report.notes:
            click.echo(f"  {note}")
