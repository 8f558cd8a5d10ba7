"""Webhook delivery from the outbox: signed payloads, retries with backoff, dead letters.

Deliveries are queued in the ``outbox`` table in the same transaction as their events
(:func:`rirport.services.monitoring.watch.queue_deliveries`); this worker
(``rirport watch deliver``)
posts them. It never holds a transaction open while waiting on a receiver: it reads the due
rows, posts each one outside any transaction, then records the outcome in a short transaction
of its own (with a journal entry). So a slow receiver delays only its own deliveries, never an
ingest, and a receiver that is down loses nothing: a failed post is retried after
``base_delay * 2**(attempts-1)`` (capped at ``max_delay``) until ``max_attempts``, then the row
becomes ``dead`` with a ``dead_letter`` record naming the last error.

Delivery is at least once: a worker that dies between a post and its record posts again, so
receivers deduplicate on ``X-Rirport-Delivery`` (the outbox id, also in the payload).

Each post carries ``X-Rirport-Timestamp`` and ``X-Rirport-Signature: sha256=HEX`` where HEX is
HMAC-SHA256 with the watchlist's secret over ``timestamp + "." + body``; a receiver recomputes
it (:func:`verify`) and rejects old timestamps to stop replays.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rirport.services.audit import journal
from rirport.store.repos.events import OutboxRow
from rirport.store.unit import Store

#: (url, body, headers, timeout) -> HTTP status; raises OSError when nothing answers in time.
Poster = Callable[[str, bytes, dict[str, str], float], int]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry a delivery."""

    max_attempts: int = 6
    base_delay: dt.timedelta = dt.timedelta(seconds=30)
    max_delay: dt.timedelta = dt.timedelta(hours=1)
    timeout: float = 10.0
    """Seconds to wait for a receiver's answer (a slower receiver counts as failed)."""

    def delay(self, attempts: int) -> dt.timedelta:
        """The wait after the ``attempts``-th failure."""
        delay: dt.timedelta = self.base_delay * 2 ** (attempts - 1)
        return min(delay, self.max_delay)


@dataclass
class DeliveryReport:
    """What one run of the worker did."""

    delivered: int = 0
    retried: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "delivered": self.delivered,
            "retried": self.retried,
            "dead": self.dead,
            "errors": self.errors,
        }


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value for a payload."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver checks (constant-time comparison)."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def post_json(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST with the standard library; a non-2xx answer returns its status."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def deliver(
    store: Store,
    *,
    now: dt.datetime | None = None,
    policy: RetryPolicy | None = None,
    limit: int = 100,
    post: Poster = post_json,
    actor: str = "rirport",
) -> DeliveryReport:
    """Post every due delivery once (``now`` defaults to the clock; tests pass their own)."""
    policy = policy or RetryPolicy()
    when = now or dt.datetime.now(dt.UTC)
    report = DeliveryReport()
    with store.transaction() as uow:
        due = uow.outbox.due(when, limit)
        watches = {w: uow.watches.get(w) for w in {row.watch_id for row in due}}
        events = uow.events.get_many([row.event_id for row in due])
    for row in due:
        watch = watches[row.watch_id]
        event = events.get(row.event_id)
        error: str | None
        if watch is None or not watch.url or event is None:
            error = "watchlist or event no longer exists"
        else:
            payload = {
                "delivery": row.id,
                "watch": watch.name,
                "event_id": row.event_id,
                "attempt": row.attempts + 1,
                "event": json.loads(event.body),
            }
            error = _attempt(watch.url, watch.secret or "", payload, row.id, when, policy, post)
        _record(store, row, error, when, policy, report, actor)
    return report


def _attempt(
    url: str,
    secret: str,
    payload: dict[str, Any],
    delivery: int,
    when: dt.datetime,
    policy: RetryPolicy,
    post: Poster,
) -> str | None:
    """One post; the error text, or None when the receiver accepted it."""
    body = json.dumps(payload, sort_keys=True).encode()
    stamp = str(int(when.timestamp()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "rirport-webhook",
        "X-Rirport-Delivery": str(delivery),
        "X-Rirport-Timestamp": stamp,
        "X-Rirport-Signature": sign(secret, stamp, body),
    }
    try:
        status = post(url, body, headers, policy.timeout)
    except (OSError, ValueError) as exc:  # refused, reset, timed out, bad URL
        return f"{type(exc).__name__}: {exc}"
    return None if 200 <= status < 300 else f"HTTP {status}"


def _record(
    store: Store,
    row: OutboxRow,
    error: str | None,
    when: dt.datetime,
    policy: RetryPolicy,
    report: DeliveryReport,
    actor: str,
) -> None:
    attempts = row.attempts + 1
    with store.transaction() as uow:
        if error is None:
            uow.outbox.update(
                row.id, state="delivered", attempts=attempts, delivered_at=when, last_error=None
            )
            outcome = "delivered"
            report.delivered += 1
        elif attempts >= policy.max_attempts:
            uow.outbox.update(row.id, state="dead", attempts=attempts, last_error=error)
            uow.outbox.add_dead_letter(
                {
                    "outbox_id": row.id,
                    "watch_id": row.watch_id,
                    "event_id": row.event_id,
                    "attempts": attempts,
                    "last_error": error,
                    "failed_at": when,
                }
            )
            outcome = "dead"
            report.dead += 1
        else:
            uow.outbox.update(
                row.id,
                attempts=attempts,
                last_error=error,
                next_attempt_at=when + policy.delay(attempts),
            )
            outcome = "retry"
            report.retried += 1
        if error:
            report.errors.append(f"delivery {row.id}: {error}")
        journal.append(
            uow,
            actor,
            "webhook-delivery",
            {
                "delivery": row.id,
                "watch": row.watch_id,
                "event": row.event_id,
                "attempt": attempts,
                "outcome": outcome,
                "error": error,
            },
        )
