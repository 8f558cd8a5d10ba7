"""``rirport serve``: RDAP under /rdap/ and the JSON API under /api/ (uvicorn)."""

from __future__ import annotations

from pathlib import Path

import click

from rirport.cli.context import AppContext, pass_app
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
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes, each with its own index following the store.",
)
@click.option(
    "--refresh",
    default=2.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Seconds between checks of the store's generation (0: never).",
)
@click.option(
    "--rate",
    default=20.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Requests a second per client after the burst (0: no limit).",
)
@click.option("--burst", default=200, show_default=True, type=click.IntRange(1))
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
    "--public-url", default=None, help="Base URL for self links (default: the request's)."
)
@click.option(
    "--access-log/--no-access-log",
    default=True,
    show_default=True,
    help="Log every request (uvicorn's access log).",
)
@click.option(
    "--bundled", is_flag=True, help="Load the bundled 2018 files first if the store is empty."
)
@click.option(
    "--session-secret-file",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="RIRPORT_SESSION_SECRET_FILE",
    default=None,
    help="File holding the secret that signs session cookies (set it so sessions "
    "survive restarts and are shared by several servers; default: a random secret "
    "per start, shared by this start's workers).",
)
@pass_app
def command(
    app: AppContext,
    host: str,
    port: int,
    workers: int,
    refresh: float,
    rate: float,
    burst: int,
    redirects: dict[Registry, str],
    public_url: str | None,
    access_log: bool,
    bundled: bool,
    session_secret_file: Path | None,
) -> None:
    """Serve RDAP (/rdap/) and the JSON API (/api/) over the store."""
    from rirport.http.serve import example_urls, serve
    from rirport.services.registry.mainjob import load_bundled_if_empty

    secret = _secret(session_secret_file)
    if bundled:
        load_bundled_if_empty(app.store, lambda text: click.echo(text, err=True))
    with app.store.read() as uow:
        if not uow.snapshots.current():
            raise ConfigError("the store is empty: ingest files first, or use --bundled")
    config = HttpConfig(
        rate=rate,
        burst=burst,
        refresh_seconds=refresh,
        redirects=redirects,
        public_url=public_url,
        session_secret=secret,
        redis_url=app.settings.redis_url,
        redis_prefix=app.settings.redis_prefix,
        as_of_views=app.settings.as_of_views,
    )
    click.echo(f"rirport: serving {app.store.identity} on http://{host}:{port}/ ; try:")
    for url in example_urls(host, port):
        click.echo(f"  {url}")
    serve(app.settings, config, host, port, workers, access_log=access_log)
