"""Webhook delivery from the outbox: signed payloads, retries with backoff, dead letters.

Deliveries are queued in the ``outbox`` table in the same transaction as their events
(:func:`rirport.services.monitoring.watch.queue_deliveries`); this worker
(``rirport watch deliver``)
posts them. It never holds a transaction open while waiting on a receiver: it reads the due
rows, posts each one outside any transaction, then records the outcome in a short transaction
of its own (with a journal entry). So a slow receiver delays only its own deliveries, never an
ingest, and a receiver that is down loses nothing: a failed post is retried after an
exponential backoff with jitter (:meth:`RetryPolicy.delay`) until ``max_attempts``, then the
row becomes ``dead`` with a ``dead_letter`` record naming the last error.

Only a 2xx answer to the POST itself counts as delivered: redirects are not followed (a
receiver answering 301/302 would otherwise be "delivered" by a GET that posted nothing), and a
3xx is a failed attempt naming its ``Location``.

Delivery is at least once: a worker that dies between a post and its record posts again, so
receivers deduplicate on ``X-Rirport-Delivery`` (the outbox id, also in the payload).

Each post carries ``X-Rirport-Timestamp`` (the moment it is sent, not the start of the run)
and ``X-Rirport-Signature: sha256=HEX`` where HEX is HMAC-SHA256 with the watchlist's secret
over ``timestamp + "." + body``; a receiver recomputes it (:func:`verify`) and rejects old
timestamps to stop replays.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import tenacity

from rirport.services.audit import journal
from rirport.store.repos.events import OutboxRow
from rirport.store.unit import Store

#: (url, body, headers, timeout) -> the answer; raises httpx.HTTPError (or OSError) when
#: nothing answers in time.
Poster = Callable[[str, bytes, dict[str, str], float], httpx.Response]
Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry a delivery."""

    max_attempts: int = 6
    base_delay: dt.timedelta = dt.timedelta(seconds=30)
    max_delay: dt.timedelta = dt.timedelta(hours=1)
    timeout: float = 10.0
    """Seconds to wait for a receiver's answer (a slower receiver counts as failed)."""

    def delay(self, attempts: int) -> dt.timedelta:
        """The wait after the ``attempts``-th failure: with ``d = min(max_delay, base_delay *
        2**(attempts-1))``, half of ``d`` plus a random share of the other half ("equal
        jitter"), so deliveries that failed together (a receiver down) come back spread out
        yet never sooner than half the backoff. Computed by tenacity's wait strategies."""
        half = tenacity.wait_exponential(
            multiplier=self.base_delay.total_seconds() / 2, max=self.max_delay.total_seconds() / 2
        )
        spread = tenacity.wait_random_exponential(
            multiplier=self.base_delay.total_seconds() / 2, max=self.max_delay.total_seconds() / 2
        )
        state = tenacity.RetryCallState(tenacity.Retrying(), None, (), {})
        state.attempt_number = attempts
        return dt.timedelta(seconds=(half + spread)(state))


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


def post_json(url: str, body: bytes, headers: dict[str, str], timeout: float) -> httpx.Response:
    """POST with httpx, never following a redirect (the answer is the POST's own)."""
    return httpx.post(url, content=body, headers=headers, timeout=timeout, follow_redirects=False)


def deliver(
    store: Store,
    *,
    now: dt.datetime | None = None,
    policy: RetryPolicy | None = None,
    limit: int = 100,
    post: Poster = post_json,
    actor: str = "rirport",
    clock: Clock = utcnow,
) -> DeliveryReport:
    """Post every due delivery once (``now``, the time deliveries fall due and retries are
    counted from, defaults to the clock; tests pass their own). Each post's signature
    timestamp is ``clock()`` as it is sent."""
    policy = policy or RetryPolicy()
    when = now or clock()
    report = DeliveryReport()
    with store.read() as uow:
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
            error = _attempt(watch.url, watch.secret or "", payload, row.id, clock, policy, post)
        _record(store, row, error, when, policy, report, actor)
    return report


def _attempt(
    url: str,
    secret: str,
    payload: dict[str, Any],
    delivery: int,
    clock: Clock,
    policy: RetryPolicy,
    post: Poster,
) -> str | None:
    """One post, signed as it is sent; the error text, or None when the receiver accepted
    it (a 2xx to the POST: a redirect is a failure)."""
    body = json.dumps(payload, sort_keys=True).encode()
    stamp = str(int(clock().timestamp()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "rirport-webhook",
        "X-Rirport-Delivery": str(delivery),
        "X-Rirport-Timestamp": stamp,
        "X-Rirport-Signature": sign(secret, stamp, body),
    }
    try:
        response = post(url, body, headers, policy.timeout)
    except (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"  # refused, reset, timed out, bad URL
    status = response.status_code
    if 200 <= status < 300:
        return None
    if 300 <= status < 400:
        where = response.headers.get("location", "no Location")
        return f"HTTP {status} redirect to {where[:200]} (not followed: POST to that URL)"
    return f"HTTP {status}"


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
