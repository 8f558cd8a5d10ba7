"""``rirport log``: the transparency log over the journal (keys, checkpoints, proofs,
verification, static publishing) and ``rirport state-root``."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import click

from rirport.cli.context import AppContext, pass_app
from rirport.services.transparency import keys, reader, state, verify
from rirport.services.transparency import log as tlog


@click.group("log")
def command() -> None:
    """The transparency log: a Merkle tree (RFC 9162) over the journal's entries, with a
    signed checkpoint (C2SP tlog-checkpoint) after every write."""


@command.command("init")
@click.option("--origin", required=True, help="The log's name, e.g. rirport.example.org/log.")
@pass_app
def init(app: AppContext, origin: str) -> None:
    """Make the signing key (in the data folder, mode 0600), sign the first checkpoint and
    print the verifier key mirrors and witnesses need."""
    signer, made = keys.init(app.store, app.settings.data_dir, origin)
    app.store.log_signer = signer
    head = tlog.catch_up(app.store)
    where = keys.key_path(app.settings.data_dir)
    click.echo(
        f"{'made' if made else 'using'} signing key {where} (mode 0600); "
        f"checkpoint at size {head.size} signed",
        err=True,
    )
    click.echo(signer.verifier.vkey())


@command.command("key")
@pass_app
def key(app: AppContext) -> None:
    """Print the verifier key (name+hash+base64key) this store's checkpoints are signed with."""
    verifier = keys.store_vkey(app.store)
    if verifier is None:
        raise click.ClickException(
            "this store has no log key: run `rirport log init --origin NAME`"
        )
    click.echo(verifier.vkey())


@command.command("checkpoint")
@pass_app
def checkpoint(app: AppContext) -> None:
    """Print the newest signed checkpoint (signing one first if the newest entries have
    none, for a store written without its key)."""
    tlog.catch_up(app.store)
    click.echo(tlog.latest_checkpoint(app.store).note, nl=False)


@command.command("prove")
@click.option("--index", type=click.IntRange(min=0), help="Leaf index (journal serial − 1).")
@click.option("--from", "old", type=click.IntRange(min=0), help="Consistency from this size.")
@click.option("--size", type=click.IntRange(min=0), help="Tree size (default: newest checkpoint).")
@pass_app
def prove(app: AppContext, index: int | None, old: int | None, size: int | None) -> None:
    """An inclusion proof (--index) or a consistency proof (--from), as JSON with base64
    hashes, computed as RFC 9162 §2.1.3–2.1.4 say."""
    if (index is None) == (old is None):
        raise click.UsageError("give one of --index (inclusion) or --from (consistency)")
    log = reader.LogReader(app.store)
    size = log.checkpoint().size if size is None else size
    if index is not None:
        proof = log.inclusion(index, size)
        out: dict[str, object] = {
            "index": proof.index,
            "size": proof.size,
            "leaf_hash": _b64(proof.leaf_hash),
            "hashes": [_b64(h) for h in proof.hashes],
            "root": _b64(log.root(size)),
        }
    else:
        assert old is not None
        cons = log.consistency(old, size)
        out = {"from": cons.old, "to": cons.new, "hashes": [_b64(h) for h in cons.hashes]}
    click.echo(json.dumps(out, indent=2))


@command.command("verify")
@click.option(
    "--key",
    "vkey",
    metavar="VKEY",
    help="The verifier key checkpoints must be signed by (default: the store's).",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@pass_app
def verify_command(app: AppContext, vkey: str | None, fmt: str) -> None:
    """Rebuild the tree from the journal, check every stored checkpoint against it and the
    newest state root against the data tables; exit status 1 on any problem."""
    from rirport.log.note import parse_vkey

    result = verify.verify_log(app.store, parse_vkey(vkey) if vkey else None)
    if fmt == "json":
        click.echo(json.dumps(result.to_json(), indent=2))
    elif result.ok:
        click.echo(
            f"log ok: {result.entries} entries, {result.checkpoints} checkpoint(s), "
            f"root {result.root}, state root {result.state_root}"
        )
    else:
        click.echo(f"log BROKEN: {len(result.problems)} problem(s)", err=True)
        for problem in result.problems:
            click.echo(f"  {problem}", err=True)
    if not result.ok:
        raise click.exceptions.Exit(1)


@command.command("publish")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@pass_app
def publish(app: AppContext, folder: Path) -> None:
    """Write the checkpoint, tiles and entry bundles into FOLDER for a static web server."""
    tlog.catch_up(app.store)
    point, written = reader.publish(app.store, folder)
    click.echo(f"published size {point.size} to {folder} ({written} file(s) written)")


@command.command("snapshot")
@click.argument("target", type=click.Path(dir_okay=True, path_type=Path))
@pass_app
def snapshot(app: AppContext, target: Path) -> None:
    """Write the state at the newest checkpoint (gzip NDJSON, docs/log.md) for a new mirror
    (`rirport mirror follow URL --key K --snapshot-file FILE`). TARGET is a file, or a
    folder that gets snapshot-<size>.ndjson.gz."""
    from rirport.services.transparency.snapshot import write_snapshot

    tlog.catch_up(app.store)
    folder = target if target.is_dir() else target.parent
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / ".snapshot.tmp"
    try:
        with tmp.open("wb") as out:
            info = write_snapshot(app.store, out)
        final = folder / f"snapshot-{info.size}.ndjson.gz" if target.is_dir() else target
        tmp.replace(final)
    finally:
        tmp.unlink(missing_ok=True)
    click.echo(f"snapshot of {info.text()} written to {final}")


@click.command("state-root")
@pass_app
def state_root_command(app: AppContext) -> None:
    """Print the state root (SHA-256 over the current state in the documented canonical
    order, docs/log.md), recomputed from the data tables, as lowercase hex."""
    with app.store.read() as uow:
        click.echo(state.root_of(uow))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@command.command("witness-submit")
@click.option(
    "--witness",
    "witnesses",
    type=(str, str),
    multiple=True,
    required=True,
    metavar="URL VKEY",
    help="A witness's submission URL and its verifier key; repeatable.",
)
@pass_app
def witness_submit(app: AppContext, witnesses: tuple[tuple[str, str], ...]) -> None:
    """Have witnesses cosign the newest checkpoint (C2SP tlog-witness add-checkpoint, with a
    consistency proof from the size each last cosigned) and add their cosignatures to it,
    as /log/checkpoint then serves it; exit status 1 when any witness refused."""
    from rirport.errors import RirportError
    from rirport.log.note import parse_vkey
    from rirport.services.transparency.witness import submit

    parsed = [(url, parse_vkey(vkey)) for url, vkey in witnesses]
    tlog.catch_up(app.store)
    failed = 0
    for url, verifier in parsed:
        try:
            done = submit(app.store, url, verifier)
        except RirportError as exc:
            failed += 1
            click.echo(f"{verifier.name} ({url}): {exc}", err=True)
            continue
        click.echo(f"{done.witness}: cosigned size {done.size} (proof from size {done.old})")
    if failed:
        raise click.exceptions.Exit(1)
