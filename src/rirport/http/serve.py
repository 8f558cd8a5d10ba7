"""Running the server: in this process (one worker) or as uvicorn worker processes, and the
main job (set up, load the bundled files into an empty store, print URLs, serve)."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, replace

import uvicorn

from rirport.config import Settings
from rirport.http.app import ENV_CONFIG, create_app
from rirport.http.config import HttpConfig
from rirport.http.guard import uvicorn_limits
from rirport.services.store import open_store

EXAMPLES = (
    "rdap/help",
    "rdap/ip/193.0.6.139",
    "rdap/ip/2001:4860::/32",
    "rdap/autnum/3333",
    "rdap/bootstrap/ipv4.json",
    "api/stats",
    "docs",
)


def serve(
    settings: Settings,
    config: HttpConfig,
    host: str,
    port: int,
    workers: int = 1,
    log_level: str = "info",
    access_log: bool = True,
) -> None:
    """Serve until interrupted. Several workers are separate processes, each with its own
    index following the store (they read their settings from the environment)."""
    if workers > 1:
        if config.session_secret is None:  # one secret for all workers of this start
            config = replace(config, session_secret=secrets.token_urlsafe(32))
        os.environ["RIRPORT_DATABASE_URL"] = settings.resolved_database_url
        os.environ["RIRPORT_DATA_DIR"] = str(settings.data_dir)
        os.environ[ENV_CONFIG] = json.dumps(_config_json(config))
        uvicorn.run(
            "rirport.http.app:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
            access_log=access_log,
            **uvicorn_limits(),
        )
        return
    app = create_app(
        open_store(settings.resolved_database_url, settings.data_dir), settings.cache_dir, config
    )
    uvicorn.run(
        app, host=host, port=port, log_level=log_level, access_log=access_log, **uvicorn_limits()
    )


def example_urls(host: str, port: int) -> list[str]:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    shown = f"[{shown}]" if ":" in shown else shown
    return [f"http://{shown}:{port}/{path}" for path in EXAMPLES]


def _config_json(config: HttpConfig) -> dict[str, object]:
    raw = asdict(config)
    raw["redirects"] = {k.value: v for k, v in config.redirects.items()}
    return raw
