"""``rirport witness``: a C2SP tlog-witness that cosigns other logs' checkpoints."""

from __future__ import annotations

from pathlib import Path

import click

from rirport.cli.context import AppContext, pass_app


@click.group("witness")
def command() -> None:
    """A witness (C2SP tlog-witness): cosigns a log's checkpoint only when a consistency
    proof joins it to the last one it cosigned for that log (docs/log.md)."""


def _key_file(app: AppContext, key_file: Path | None) -> Path:
    from rirport.services.transparency.witness import KEY_FILE

    return key_file or app.settings.data_dir / KEY_FILE


KEY_FILE_OPTION = click.option(
    "--key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The witness key file (default: witness-signing.key in the data folder).",
)


@command.command("init")
@click.option("--name", required=True, help="The witness's name, e.g. witness.example.org/w1.")
@KEY_FILE_OPTION
@pass_app
def init(app: AppContext, name: str, key_file: Path | None) -> None:
    """Make the witness key (mode 0600) and print its verifier key (name+hash+base64key, type
    0x04), the key mirrors and publishers check cosignatures with."""
    from rirport.services.transparency.witness import init_key

    path = _key_file(app, key_file)
    signer, made = init_key(path, name)
    click.echo(f"{'made' if made else 'using'} witness key {path} (mode 0600)", err=True)
    click.echo(signer.verifier.vkey())


@command.command("key")
@KEY_FILE_OPTION
@pass_app
def key(app: AppContext, key_file: Path | None) -> None:
    """Print the witness's verifier key again."""
    from rirport.services.transparency.witness import read_key

    click.echo(read_key(_key_file(app, key_file)).verifier.vkey())


@command.command("serve")
@KEY_FILE_OPTION
@click.option(
    "--origin-key",
    "origin_keys",
    multiple=True,
    required=True,
    metavar="VKEY",
    help="A log's verifier key (its name is the log's origin); repeatable.",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8090, show_default=True)
@pass_app
def serve(
    app: AppContext, key_file: Path | None, origin_keys: tuple[str, ...], host: str, port: int
) -> None:
    """Serve POST /add-checkpoint; the last checkpoint cosigned per log is kept in this
    instance's store (--db), so a restart keeps it."""
    import uvicorn

    from rirport.errors import InputError
    from rirport.http.guard import uvicorn_limits
    from rirport.http.witness import create_witness_app
    from rirport.log.note import COSIGNATURE, ED25519, parse_vkey
    from rirport.services.transparency.witness import Witness, read_key

    logs = [parse_vkey(v) for v in origin_keys]
    for log_key in logs:
        if log_key.kind != ED25519:
            raise InputError(
                f"--origin-key {log_key.vkey()}: not a log key"
                + (" (this is a witness key)" if log_key.kind == COSIGNATURE else "")
            )
    witness = Witness(app.store, read_key(_key_file(app, key_file)), logs)
    click.echo(
        f"witness {witness.signer.verifier.vkey()} on http://{host}:{port}/add-checkpoint "
        f"for {', '.join(v.name for v in logs)}",
        err=True,
    )
    uvicorn.run(
        create_witness_app(witness),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        **uvicorn_limits(),
    )


@command.command("state")
@pass_app
def state(app: AppContext) -> None:
    """Print the last checkpoint cosigned for each log."""
    from rirport.services.transparency.witness import ROLE

    with app.store.read() as uow:
        peers = uow.log.peers(ROLE)
    if not peers:
        click.echo("no checkpoint cosigned yet")
    for peer in peers:
        click.echo(f"{peer.origin}: size {peer.size}, cosigned {peer.verified_at}")
