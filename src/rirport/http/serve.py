"""Running the server: in this process (one worker) or as uvicorn worker processes, and the
main job (set up, load the bundled files into an empty store, print URLs, serve)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import uvicorn
from uvicorn.supervisors import Multiprocess

from rirport.config import Settings
from rirport.http.app import create_app
from rirport.http.config import HttpConfig
from rirport.http.guard import uvicorn_limits
from rirport.http.worker import WorkerApp
from rirport.services.store import open_store
from rirport.services.transparency.feeder import Feeder, describe, parse_targets

log = logging.getLogger("rirport.witness")

#: Seconds a worker may take to answer the supervisor's health ping before it is killed and
#: restarted (uvicorn's default, 5, is shorter than a cold start of the app on a busy machine,
#: which re-imports the command line as the spawned process's main module).
WORKER_HEALTHCHECK_SECONDS = 30

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
    index following the store; each gets the settings and configuration as one object
    (:class:`WorkerApp`), so nothing passes through the environment."""
    with witness_feeder(settings, config):
        if workers > 1:
            run_workers(worker_config(settings, config, host, port, workers, log_level, access_log))
            return
        app = create_app(
            open_store(
                settings.resolved_database_url,
                settings.data_dir,
                settings.log_checkpoint_interval,
            ),
            settings.cache_dir,
            config,
        )
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_level=log_level,
            access_log=access_log,
            **uvicorn_limits(),
        )


@contextmanager
def witness_feeder(settings: Settings, config: HttpConfig) -> Iterator[None]:
    """The configured witnesses fed in a thread of this (the serving, or the supervising)
    process, on a store of its own, for as long as the server runs; nothing without any."""
    targets = parse_targets(config.witnesses)
    if not targets:
        yield
        return
    store = open_store(settings.resolved_database_url)
    feeder = Feeder(store, targets, config.witness_interval, report=log.warning).start()
    log.warning("feeding checkpoints to the witnesses %s", describe(targets))
    try:
        yield
    finally:
        feeder.stop()
        store.close()


def worker_config(
    settings: Settings,
    config: HttpConfig,
    host: str,
    port: int,
    workers: int,
    log_level: str = "info",
    access_log: bool = True,
) -> uvicorn.Config:
    """uvicorn's configuration for several workers: the app is a :class:`WorkerApp` factory
    (uvicorn.run insists on an import string for workers, the supervisor does not)."""
    if config.session_secret is None:  # one secret for all workers of this start
        config = replace(config, session_secret=secrets.token_urlsafe(32))
    return uvicorn.Config(
        WorkerApp(settings, config),
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=access_log,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
        **uvicorn_limits(),
    )


def run_workers(config: uvicorn.Config) -> None:
    """Bind once and let uvicorn's supervisor run (and restart) the worker processes."""
    sock = config.bind_socket()
    try:
        Multiprocess(config, sockets=[sock]).run()
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()


def example_urls(host: str, port: int) -> list[str]:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    shown = f"[{shown}]" if ":" in shown else shown
    return [f"http://{shown}:{port}/{path}" for path in EXAMPLES]
