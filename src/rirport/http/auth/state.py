"""The authentication settings of one app, built once from :class:`HttpConfig`."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace

from limits.storage import RedisStorage, Storage
from starlette.requests import Request

from rirport.accounts.service import AuthSettings
from rirport.accounts.throttle import Limits
from rirport.http.config import HttpConfig
from rirport.services.store import Store

log = logging.getLogger("rirport.http")
SESSION_COOKIE = "rirport_session"
LOGIN_CSRF_COOKIE = "rirport_login_csrf"
CSRF_HEADER = "X-CSRF-Token"
FORM_MAX_BYTES = 16 * 1024
"""Login and password forms and JSON account bodies larger than this are a 413."""


@dataclass(frozen=True)
class AuthState:
    key: bytes
    settings: AuthSettings
    cookie_secure: bool | None
    store: Store

    def secure(self, request: Request) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return request.url.scheme == "https"


def build_state(config: HttpConfig, store: Store) -> AuthState:
    secret = config.session_secret
    if not secret:
        log.warning(
            "no session secret configured: using a random one; sessions end when "
            "this process stops and are not shared between worker processes"
        )
        secret = secrets.token_urlsafe(32)
    limits = Limits(config.login_per_account, config.login_per_client, config.login_window_seconds)
    settings = AuthSettings(config.session_hours, limits)
    if config.redis_url:
        settings = replace(
            settings, counters=_redis_counters(config.redis_url, config.redis_prefix)
        )
    return AuthState(secret.encode(), settings, config.cookie_secure, store)


def _redis_counters(url: str, prefix: str) -> Callable[[Store, Callable[[], float]], Storage]:
    """The login throttle's counters in Redis (shared like the request limit)."""

    def make(_store: Store, _clock: Callable[[], float]) -> Storage:
        return RedisStorage(url, key_prefix=f"{prefix}-login")

    return make


def auth_state(request: Request) -> AuthState:
    state: AuthState = request.app.state.auth
    return state
