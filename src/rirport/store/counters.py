"""Fixed-window counters in the store, as a storage of the ``limits`` rate-limit library.

The login throttle (:mod:`rirport.accounts.throttle`) counts with ``limits``' fixed-window
strategy; this storage keeps its counters in the ``rate_counter`` table, so every server
process (and every server behind a load balancer) counts the same attempts, as they share
sessions. Each increment is one atomic upsert (``INSERT … ON CONFLICT DO UPDATE …
RETURNING``) in its own short transaction: concurrent attempts each get a distinct count, and
no read-then-write leaves a gap for a burst to slip through. Another ``limits`` storage (its
``RedisStorage``, say) can take this one's place without changing the throttle.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from limits.storage import Storage
from sqlalchemy import case, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from rirport.errors import StorageError
from rirport.store import schema
from rirport.store.unit import Store

Clock = Callable[[], float]


class StoreCounters(Storage):
    """``limits`` storage over the ``rate_counter`` table (fixed windows only)."""

    STORAGE_SCHEME = None

    def __init__(self, store: Store, clock: Clock = time.time) -> None:
        super().__init__()
        self.store = store
        self.clock = clock

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return StorageError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add ``amount`` (negative gives attempts back) to the key's count in its current
        window, starting a new window of ``expiry`` seconds when the old one has ended."""
        now = self.clock()
        t = schema.rate_counter
        with self.store.transaction() as uow:
            dialect = postgresql if uow.dialect == "postgresql" else sqlite
            ended = t.c.expires_at <= now
            upsert: Any = dialect.insert(t).values(
                key=key, count=max(amount, 0), expires_at=now + expiry
            )
            upsert = upsert.on_conflict_do_update(
                index_elements=[t.c.key],
                set_={
                    "count": case(
                        (ended, max(amount, 0)),
                        (t.c.count + amount < 0, 0),
                        else_=t.c.count + amount,
                    ),
                    "expires_at": case((ended, now + expiry), else_=t.c.expires_at),
                },
            ).returning(t.c.count)
            count = int(uow.connection.execute(upsert).scalar_one())
            self._forget_ended(uow.connection, now)
        return count

    def get(self, key: str) -> int:
        t = schema.rate_counter.c
        with self.store.read() as uow:
            count = uow.connection.execute(
                select(t.count).where(t.key == key, t.expires_at > self.clock())
            ).scalar_one_or_none()
        return int(count or 0)

    def get_expiry(self, key: str) -> float:
        t = schema.rate_counter.c
        now = self.clock()
        with self.store.read() as uow:
            when = uow.connection.execute(
                select(t.expires_at).where(t.key == key, t.expires_at > now)
            ).scalar_one_or_none()
        return float(when) if when is not None else now

    def check(self) -> bool:
        try:
            self.get("")
        except StorageError:
            return False
        return True

    def reset(self) -> int | None:
        with self.store.transaction() as uow:
            return int(uow.connection.execute(delete(schema.rate_counter)).rowcount)

    def clear(self, key: str) -> None:
        t = schema.rate_counter
        with self.store.transaction() as uow:
            uow.connection.execute(delete(t).where(t.c.key == key))

    @staticmethod
    def _forget_ended(connection: Any, now: float) -> None:
        """Drop counters whose window has ended (rows another attempt holds are skipped)."""
        t = schema.rate_counter
        stale = select(t.c.key).where(t.c.expires_at <= now).with_for_update(skip_locked=True)
        connection.execute(delete(t).where(t.c.key.in_(stale)))
