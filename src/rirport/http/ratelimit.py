"""A token bucket per client: ``burst`` requests at once, then ``rate`` a second.

Documented in docs/rdap.md and announced in the ``help`` notices, unlike the RIRs' own
limits (LACNIC's "10 queries per minute" surfaced only in a notice, anchors.md §1.3).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBuckets:
    """Buckets keyed by client address; a full bucket is forgotten when memory grows."""

    def __init__(
        self,
        rate: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 100_000,
    ) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.clock = clock
        self.max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def take(self, client: str) -> float:
        """Spend one token: 0.0 if allowed, else the seconds until a token is back."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[client] = (tokens, now)
                return (1.0 - tokens) / self.rate
            self._buckets[client] = (tokens - 1.0, now)
            if len(self._buckets) > self.max_clients:
                self._forget_full(now)
            return 0.0

    def _forget_full(self, now: float) -> None:
        full = [
            c
            for c, (t, last) in self._buckets.items()
            if t + (now - last) * self.rate >= self.burst
        ]
        for client in full:
            del self._buckets[client]


class SharedBuckets(TokenBuckets):
    """One limit for every server process on a Redis (``RIRPORT_REDIS_URL``): ``burst``
    requests per window of ``burst / rate`` seconds per client, counted by the ``limits``
    library's moving window in Redis (atomic there, so two processes never both spend the
    last request). A moving window rather than a token bucket: it is what ``limits`` keeps
    in shared storage, and it allows the same burst and the same long-run rate.

    ``prefix`` names this deployment's keys (tests give each run its own and remove them).
    """

    def __init__(self, rate: float, burst: int, url: str, prefix: str = "rirport") -> None:
        super().__init__(rate, burst)
        from limits import RateLimitItemPerSecond
        from limits.storage import RedisStorage
        from limits.strategies import MovingWindowRateLimiter

        self.storage = RedisStorage(url, key_prefix=prefix)
        self._limiter = MovingWindowRateLimiter(self.storage)
        window = max(1, round(burst / rate)) if rate > 0 else 1
        self._item = RateLimitItemPerSecond(burst, window, namespace="http")

    def take(self, client: str) -> float:
        """0.0 if allowed, else the seconds until the oldest request leaves the window."""
        if self._limiter.hit(self._item, client):
            return 0.0
        stats = self._limiter.get_window_stats(self._item, client)
        return max(stats.reset_time - time.time(), 0.001)


def buckets_for(rate: float, burst: int, redis_url: str | None, prefix: str) -> TokenBuckets:
    """Shared buckets in Redis when a URL is set, else this process's own."""
    if redis_url and rate > 0:
        return SharedBuckets(rate, burst, redis_url, prefix)
    return TokenBuckets(rate, burst)
