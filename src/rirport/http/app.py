"""The application factory: one FastAPI app over one store.

``create_app`` takes everything it needs (store, cache folder, :class:`HttpConfig`);
:class:`rirport.http.worker.WorkerApp` carries the same to ``uvicorn`` worker processes as one
picklable object (never through the environment).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.telemetry import TelemetryConfig
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp

from rirport.errors import RirportError
from rirport.http import hosts
from rirport.http.api.accounts import router as accounts_router
from rirport.http.api.admin import router as admin_router
from rirport.http.api.history import router as api_history_router
from rirport.http.api.profiles import router as profiles_router
from rirport.http.api.routes import router as api_router
from rirport.http.auth.errors import install_handlers as install_auth_handlers
from rirport.http.auth.errors import unauthorized
from rirport.http.auth.principal import check_presented
from rirport.http.auth.state import build_state as build_auth_state
from rirport.http.config import HttpConfig
from rirport.http.docs import router as docs_router
from rirport.http.errors import error_response_for
from rirport.http.log import router as log_router
from rirport.http.middleware import Gate, Screen
from rirport.http.ratelimit import buckets_for
from rirport.http.rdap.fast import FastLane, Rendered
from rirport.http.rdap.history import router as rdap_history_router
from rirport.http.rdap.routes import router as rdap_router
from rirport.http.responses import JSON, RDAP_JSON, HttpError, error_response
from rirport.query.live import LiveIndex
from rirport.services.store import Store
from rirport.services.transparency.log import flush as log_flush
from rirport.services.transparency.reader import LogReader
from rirport.services.transparency.timer import CheckpointTimer
from rirport.web.mount import install as install_pages

log = logging.getLogger("rirport.http")
NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}
"""rirport configures no OpenTelemetry provider; left on, FastAPI asks OpenTelemetry for its
three global providers (reading the environment each time) on every request: a third of the
Python time of an ``ip/`` lookup (measured in process, bench/http_load.py)."""


def create_app(
    store: Store,
    cache_dir: Path | None = None,
    config: HttpConfig | None = None,
    fast_path: bool = True,
) -> FastAPI:
    """The server over ``store``; loads the current view now (a second or two).

    ``fast_path`` answers plain ip/ and autnum/ lookups in front of the whole stack
    (:mod:`rirport.http.rdap.fast`); tests turn it off to compare.
    """
    cfg = config or HttpConfig()
    live = LiveIndex(store, cache_dir, cfg.as_of_views)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        live.follow(cfg.refresh_seconds, lambda exc: log.warning("refresh failed: %s", exc))
        timer = CheckpointTimer(store).start()  # what the checkpoint interval left, signed
        warmer = app.state.warmer if cfg.warm_pages else None
        if warmer is not None:
            warmer.start()  # the pages' facts, off the request path (rirport.web.warm)
        try:
            yield
        finally:
            if warmer is not None:
                warmer.stop()
            live.stop()
            timer.stop()
            log_flush(store)  # sign what the checkpoint interval left for later

    app = App(
        title="rirport",
        version="1",
        lifespan=lifespan,
        description="RDAP for the five RIRs' number resources, and a JSON API.",
        responses={},
        telemetry=NO_TELEMETRY,
        docs_url=None,  # served from local assets by rirport.http.docs
        redoc_url=None,
    )
    app.state.live = live
    app.state.log_reader = LogReader(store)
    app.state.config = cfg
    app.state.buckets = buckets_for(cfg.rate, cfg.burst, cfg.redis_url, cfg.redis_prefix)
    presented = [Depends(check_presented)]  # a bad credential is a 401 on open routes too
    for router, media in (
        (rdap_router, RDAP_JSON),
        (rdap_history_router, RDAP_JSON),
        (api_router, JSON),
        (api_history_router, JSON),
        (log_router, JSON),
    ):
        app.include_router(router, dependencies=presented, responses=unauthorized(media))
    app.state.auth = build_auth_state(cfg, store)  # accounts and tiers (docs/accounts.md)
    for router in (accounts_router, admin_router, profiles_router, docs_router):
        app.include_router(router)
    _handlers(app)
    install_auth_handlers(app)
    install_pages(app)  # the HTML pages at / (rirport.web), after the handlers it wraps
    screen = Screen(app.state.buckets, hosts.normalised(cfg.allowed_hosts))
    app.add_middleware(Gate, screen=screen)
    if fast_path:
        app.state.rendered = Rendered()
        app.lane = lambda stack: FastLane(stack, screen, app.state, app.state.rendered)
    return app


class App(FastAPI):
    """FastAPI with, when ``lane`` is set, a layer in front of its whole middleware stack
    (the RDAP fast lane, :mod:`rirport.http.rdap.fast`)."""

    lane: Callable[[ASGIApp], ASGIApp] | None = None

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        return stack if self.lane is None else self.lane(stack)


def _handlers(app: FastAPI) -> None:
    def rdap(request: Request) -> bool:
        return request.url.path.startswith("/rdap")

    @app.exception_handler(HttpError)
    async def problem(request: Request, exc: HttpError) -> Response:
        return error_response_for(exc, rdap(request))

    @app.exception_handler(HTTPException)
    async def http(request: Request, exc: HTTPException) -> Response:
        text = "no such path" if exc.status_code == 404 else str(exc.detail)
        return error_response(
            exc.status_code, text, rdap(request), dict(exc.headers) if exc.headers else None
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        lines = [
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
            for e in exc.errors()
        ][:10]
        return error_response(400, lines or ["malformed request"], rdap(request))

    @app.exception_handler(RirportError)
    async def domain(request: Request, exc: RirportError) -> Response:
        return error_response_for(exc, rdap(request), request.url.path)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        return error_response_for(exc, rdap(request), request.url.path)
