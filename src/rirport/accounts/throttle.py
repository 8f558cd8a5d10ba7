"""The login rate limit: failed logins counted per account name and per client address.

Each login is checked before the password is: when the account name (as typed, known or not,
so the answer says nothing about whether it exists) has :attr:`Limits.per_account` failures in
the last :attr:`Limits.window` seconds, or the client address has :attr:`Limits.per_client`,
the login is refused with the seconds until the oldest of those failures leaves the window.
Failures are rows in the store, so every server process counts the same ones.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    per_account: int = 5
    per_client: int = 20
    window: float = 900.0


def retry_after(
    failures: Sequence[dt.datetime], limit: int, window: float, now: dt.datetime
) -> int:
    """Seconds until a login may be tried again (0: now), given failures in the window,
    oldest first."""
    if limit <= 0 or len(failures) < limit:
        return 0
    oldest = failures[len(failures) - limit]
    free_at = oldest + dt.timedelta(seconds=window)
    return max(1, math.ceil((free_at - now).total_seconds()))
