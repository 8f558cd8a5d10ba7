"""What a server is told at start: limits, refresh interval, redirect targets."""

from __future__ import annotations

from dataclasses import dataclass, field

from rirport.config import ServeSettings, Settings
from rirport.domain.enums import Registry

#: Queries one bulk POST may carry, and the body size that goes with them; more is a 413.
BULK_MAX_QUERIES = 100_000
BULK_MAX_BYTES = 8 * 1024 * 1024
#: Longer request targets are refused (414) before routing.
MAX_PATH = 2048


@dataclass(frozen=True)
class HttpConfig:
    """Settings of one server process (passed in, never read from globals).

    ``rate`` and ``burst`` describe the per-client token bucket: a client (by address) may
    send ``burst`` requests at once and ``rate`` a second after that; 0 turns it off.
    ``refresh_seconds`` is how often the process asks the store whether its generation
    moved (0: never in the background; :meth:`LiveIndex.refresh` still works).
    ``redirects`` turns lookups into 302s to each registry's own RDAP base URL.
    ``public_url`` is the base of self links (default: from the request's ``Host``, when it
    is a well-formed host and, if ``allowed_hosts`` names any, one of them; others are 400).
    """

    rate: float = 20.0
    burst: int = 200
    refresh_seconds: float = 2.0
    redirects: dict[Registry, str] = field(default_factory=dict)
    public_url: str | None = None
    allowed_hosts: tuple[str, ...] = ()
    bulk_max_queries: int = BULK_MAX_QUERIES
    bulk_max_bytes: int = BULK_MAX_BYTES
    # accounts (docs/accounts.md): the secret signing session cookies (None: a random one
    # per process, so sessions end at restart and several workers need it set), session
    # lifetime, the login throttle, and ``cookie_secure`` (None: when the request is https)
    session_secret: str | None = None
    session_hours: float = 12.0
    login_per_account: int = 5
    login_per_client: int = 20
    login_window_seconds: float = 900.0
    cookie_secure: bool | None = None
    # scale-out (docs/deploy.md): with ``redis_url`` every process on it shares one request
    # limit and one login throttle (keys under ``redis_prefix``); ``as_of_views`` bounds the
    # as-of views a process keeps in memory (least recently used dropped first)
    redis_url: str | None = None
    redis_prefix: str = "rirport"
    as_of_views: int = 2
    # the pages' shared facts made at start and for each new generation, in a background
    # thread (rirport.web.warm); a server started by ``rirport serve`` always does
    warm_pages: bool = False
    # witnesses the serving process feeds each new checkpoint to ('URL VKEY' pairs,
    # rirport.services.transparency.feeder), every ``witness_interval`` seconds
    witnesses: str | None = None
    witness_interval: float = 1.0

    @classmethod
    def from_settings(
        cls,
        serve: ServeSettings,
        redirects: dict[Registry, str],
        secret: str | None,
        allowed_hosts: tuple[str, ...] = (),
        scale: Settings | None = None,
    ) -> HttpConfig:
        """The configuration of a server started with these settings (the one place the
        declared serve settings become the http layer's names)."""
        return cls(
            rate=serve.rate,
            burst=serve.burst,
            refresh_seconds=serve.refresh,
            redirects=dict(redirects),
            public_url=serve.public_url,
            allowed_hosts=tuple(allowed_hosts),
            session_secret=secret,
            redis_url=None if scale is None else scale.redis_url,
            redis_prefix="rirport" if scale is None else scale.redis_prefix,
            as_of_views=2 if scale is None else scale.as_of_views,
            warm_pages=True,
            witnesses=serve.witnesses,
            witness_interval=serve.witness_interval,
        )
