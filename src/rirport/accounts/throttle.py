"""The login throttle: attempts counted per account name *and* client address together.

Counting is by the ``limits`` library's fixed-window strategy, with its counters in any
``limits`` storage (the store's, :class:`rirport.store.counters.StoreCounters`, by default;
its ``RedisStorage`` would do the same across servers). :class:`LoginThrottle` is the one
interface the account service uses.

Each login takes an attempt *before* the password is checked, one atomic increment per
counter, so however many logins arrive at once, no more than the limit reach the password
check. A success gives its attempt back and clears the name's count from that client. Two
counters, each within :attr:`Limits.window` seconds:

* ``per_account``: attempts for one account name (as typed, known or not) from one client
  address. A stranger guessing a member's password is stopped without locking the member
  out: the member's own address has its own count.
* ``per_client``: attempts from one client address for any names (password spraying).

Over either, the login is refused (429) with the seconds until that window ends. There is
deliberately no count per name across all addresses: that would let anyone lock a known user
out. What bounds a guesser spread over many addresses is the password rule (12 characters or
more) and argon2id's cost.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from limits import RateLimitItemPerSecond
from limits.storage import Storage
from limits.strategies import FixedWindowRateLimiter

from rirport.errors import LoginThrottledError


@dataclass(frozen=True)
class Limits:
    per_account: int = 5
    """Attempts for one name from one client address per window (0: no limit)."""
    per_client: int = 20
    """Attempts from one client address per window (0: no limit)."""
    window: float = 900.0
    """Seconds."""


class LoginThrottle:
    """Admit a login attempt or say how long to wait; forgive it when it succeeds."""

    def __init__(
        self, storage: Storage, limits: Limits, clock: Callable[[], float] = time.time
    ) -> None:
        self._limiter = FixedWindowRateLimiter(storage)
        seconds = max(1, math.ceil(limits.window))
        self._pair = RateLimitItemPerSecond(limits.per_account, seconds, namespace="login-pair")
        self._client = RateLimitItemPerSecond(limits.per_client, seconds, namespace="login-ip")
        self._limits = limits
        self._clock = clock

    def admit(self, account_key: str, client: str) -> None:
        """Take one attempt for this name from this client.

        Raises:
            LoginThrottledError: over a limit; carries the seconds until it lifts.
        """
        if self._limits.per_account > 0 and not self._limiter.hit(self._pair, account_key, client):
            raise LoginThrottledError(self._wait(self._pair, account_key, client))
        if self._limits.per_client > 0 and not self._limiter.hit(self._client, client):
            self._give_back(self._pair, account_key, client)
            raise LoginThrottledError(self._wait(self._client, client))

    def succeeded(self, account_key: str, client: str) -> None:
        """The password was right: clear the name's count from this client, give the
        client's attempt back."""
        if self._limits.per_account > 0:
            self._limiter.clear(self._pair, account_key, client)
        if self._limits.per_client > 0:
            self._give_back(self._client, client)

    def _give_back(self, item: RateLimitItemPerSecond, *identifiers: str) -> None:
        self._limiter.storage.incr(item.key_for(*identifiers), item.get_expiry(), amount=-1)

    def _wait(self, item: RateLimitItemPerSecond, *identifiers: str) -> int:
        reset = self._limiter.get_window_stats(item, *identifiers).reset_time
        return max(1, math.ceil(reset - self._clock()))
