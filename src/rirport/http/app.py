"""The application factory: one FastAPI app over one store.

``create_app`` takes everything it needs (store, cache folder, :class:`HttpConfig`);
``app_from_env`` is the edge where ``uvicorn`` worker processes read the settings ``rirport
serve`` put in their environment.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from rirport.config import Settings
from rirport.domain.enums import Registry
from rirport.errors import RirportError
from rirport.http.api.accounts import router as accounts_router
from rirport.http.api.admin import router as admin_router
from rirport.http.api.history import router as api_history_router
from rirport.http.api.profiles import router as profiles_router
from rirport.http.api.routes import router as api_router
from rirport.http.auth.errors import install_handlers as install_auth_handlers
from rirport.http.auth.errors import unauthorized
from rirport.http.auth.forms import router as forms_router
from rirport.http.auth.principal import check_presented
from rirport.http.auth.state import build_state as build_auth_state
from rirport.http.config import HttpConfig
from rirport.http.errors import error_response_for
from rirport.http.log import router as log_router
from rirport.http.middleware import Gate
from rirport.http.ratelimit import TokenBuckets
from rirport.http.rdap.fast import try_fast
from rirport.http.rdap.history import router as rdap_history_router
from rirport.http.rdap.routes import router as rdap_router
from rirport.http.responses import JSON, RDAP_JSON, HttpError, error_response
from rirport.query.live import LiveIndex
from rirport.services.store import Store, open_store
from rirport.services.transparency.reader import LogReader
from rirport.web.mount import install as install_pages

log = logging.getLogger("rirport.http")
ENV_CONFIG = "RIRPORT_HTTP_CONFIG"


def create_app(
    store: Store,
    cache_dir: Path | None = None,
    config: HttpConfig | None = None,
    fast_path: bool = True,
) -> FastAPI:
    """The server over ``store``; loads the current view now (a second or two).

    ``fast_path`` answers plain ip/ and autnum/ lookups before the router
    (:mod:`rirport.http.rdap.fast`); tests turn it off to compare.
    """
    cfg = config or HttpConfig()
    live = LiveIndex(store, cache_dir)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        live.follow(cfg.refresh_seconds, lambda exc: log.warning("refresh failed: %s", exc))
        try:
            yield
        finally:
            live.stop()

    app = FastAPI(
        title="rirport",
        version="1",
        lifespan=lifespan,
        description="RDAP for the five RIRs' number resources, and a JSON API.",
        responses={},
    )
    app.state.live = live
    app.state.log_reader = LogReader(store)
    app.state.config = cfg
    app.state.buckets = TokenBuckets(cfg.rate, cfg.burst)
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
    for router in (accounts_router, admin_router, profiles_router, forms_router):
        app.include_router(router)
    _handlers(app)
    install_auth_handlers(app)
    install_pages(app)  # the HTML pages at / (rirport.web), after the handlers it wraps
    app.add_middleware(Gate, buckets=app.state.buckets, fast=try_fast if fast_path else None)
    return app


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


def app_from_env() -> FastAPI:
    """For ``uvicorn --factory`` workers: settings from the environment ``serve`` set."""
    settings = Settings.from_env({k: v for k, v in os.environ.items() if k != ENV_CONFIG})
    config = config_from_json(os.environ.get(ENV_CONFIG, "{}"))
    return create_app(
        open_store(settings.resolved_database_url, settings.data_dir), settings.cache_dir, config
    )


def config_from_json(text: str) -> HttpConfig:
    """The :class:`HttpConfig` ``serve`` wrote as JSON for its worker processes."""
    raw = json.loads(text)
    raw["redirects"] = {Registry(k): v for k, v in raw.get("redirects", {}).items()}
    return HttpConfig(**raw)
