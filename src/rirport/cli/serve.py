"""``rirport serve``: RDAP under /rdap/ and the JSON API under /api/ (uvicorn)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from rirport.cli.context import AppContext, pass_app
from rirport.cli.settings import serve_options
from rirport.config import ServeSettings
from rirport.domain.enums import Registry
from rirport.errors import ConfigError
from rirport.http.config import HttpConfig


def _redirects(
    _ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]
) -> dict[Registry, str]:
    out = {}
    for value in values:
        name, sep, url = value.partition("=")
        if not sep or not url.startswith(("http://", "https://")):
            raise click.BadParameter(f"{value!r}: expected RIR=https://rdap.example/")
        try:
            out[Registry.parse(name)] = url
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
    return out


def _public_url(value: str) -> str:
    """The public URL checked (``RIRPORT_PUBLIC_URL`` or ``--public-url``)."""
    from rirport.http.hosts import public_base

    try:
        return public_base(value)
    except ValueError as exc:
        raise ConfigError(f"--public-url / RIRPORT_PUBLIC_URL: {exc}") from None


def _hosts(
    _ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]
) -> tuple[str, ...]:
    from rirport.http.hosts import normalised

    try:
        normalised(values)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    return values


def _secret(path: Path | None) -> str | None:
    """The session secret from its file (at least 32 characters), or None for a random one."""
    if path is None:
        return None
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the session secret: {exc}") from None
    if len(secret) < 32:
        raise ConfigError(f"{path}: the session secret must be at least 32 characters")
    return secret


@click.command("serve")
@serve_options
@click.option(
    "--redirect",
    "redirects",
    multiple=True,
    callback=_redirects,
    metavar="RIR=URL",
    help="Redirect mode: 302 lookups of this registry's "
    "resources to its RDAP base URL (repeat per registry).",
)
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    callback=_hosts,
    metavar="HOST",
    help="Answer only requests whose Host is this name (repeatable; default: any "
    "well-formed host). Links are built from it when --public-url is not given.",
)
@click.option(
    "--bundled", is_flag=True, help="Load the bundled 2018 files first if the store is empty."
)
@pass_app
def command(
    app: AppContext,
    /,
    redirects: dict[Registry, str],
    allowed_hosts: tuple[str, ...],
    bundled: bool,
    **options: Any,
) -> None:
    """Serve RDAP (/rdap/) and the JSON API (/api/) over the store (every option also has
    its variable: `rirport settings`)."""
    from rirport.http.serve import example_urls, serve
    from rirport.services.registry.mainjob import load_bundled_if_empty

    chosen = ServeSettings(**options)
    if chosen.public_url is not None:
        chosen = chosen.model_copy(update={"public_url": _public_url(chosen.public_url)})
    secret = _secret(chosen.session_secret_file)
    from rirport.services.transparency.feeder import parse_targets

    parse_targets(chosen.witnesses, "--witnesses / RIRPORT_WITNESSES")  # refused before start
    if bundled:
        load_bundled_if_empty(app.store, lambda text: click.echo(text, err=True))
    with app.store.read() as uow:
        if not uow.snapshots.current():
            raise ConfigError("the store is empty: ingest files first, or use --bundled")
    config = HttpConfig.from_settings(chosen, redirects, secret, allowed_hosts, scale=app.settings)
    host, port = chosen.host, chosen.port
    click.echo(f"rirport: serving {app.store.identity} on http://{host}:{port}/ ; try:")
    for url in example_urls(host, port):
        click.echo(f"  {url}")
    serve(app.settings, config, host, port, chosen.workers, access_log=chosen.access_log)
