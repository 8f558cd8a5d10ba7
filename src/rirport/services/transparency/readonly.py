"""A mirror's registry data is written only by following its publisher.

While a store follows a publisher (it holds a ``log_peer`` row of role ``mirror``, or
``mirror follow`` started on it: meta ``mirror_started``), every
journaled write (an ingest, an IANA file, a transfer step, a hold, an account or watchlist
change: each would add an entry the publisher's log does not have, and the next pass would
refuse the diverged journal) is refused by :func:`check_writable`, called by
:func:`rirport.services.audit.journal.append` before the entry is written, so the whole
transaction rolls back and nothing is half-written. The mirror's own replay runs inside
:func:`following` and is let through. Reads are untouched; RDAP answers carry the notice
naming the publisher and checkpoint (:func:`rirport.services.transparency.mirror.notice`).
``rirport mirror take-over`` ends the mirroring (the store becomes the successor log).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from rirport.errors import MirrorReadOnlyError
from rirport.store.unit import Store, UnitOfWork

ROLE = "mirror"
STARTED = "mirror_started"
"""Meta key set when ``mirror follow`` starts on a store (``<origin> <url>``), so writes are
refused from the first pass on, before any checkpoint of the publisher is recorded."""
_following: ContextVar[bool] = ContextVar("rirport_mirror_following", default=False)


@contextmanager
def following() -> Iterator[None]:
    """Within this block (the mirror's replay, in this thread) writes are allowed."""
    token = _following.set(True)
    try:
        yield
    finally:
        _following.reset(token)


def check_writable(uow: UnitOfWork, action: str) -> None:
    """Refuse a journaled write to a store that follows a publisher.

    The answer "not a mirror" is kept for the rest of the transaction
    (``uow.found_writable``: the next entries of a batch of transfer steps are not asked
    again), never across transactions: a pass of ``mirror follow`` that fetched nothing
    records the publisher without writing an entry.

    Raises:
        MirrorReadOnlyError: naming the publisher, its URL and the checkpoint reached.
    """
    if _following.get():
        return
    if uow.found_writable:
        return  # asked by an earlier entry of this transaction
    if not uow.log.mirrored(ROLE, STARTED):
        # the common case (not a mirror), answered by one read of two one-row lookups
        uow.found_writable = True
        return
    peers = uow.log.peers(ROLE)
    if peers:
        named = "; ".join(
            f"{p.origin} from {p.source} (verified to tree size {p.size})" for p in peers
        )
    else:
        started = uow.meta.get(STARTED)
        if not started:
            return
        origin, _, url = started.partition(" ")
        named = f"{origin} from {url} (first pass not finished)"
    raise MirrorReadOnlyError(
        f"refused {action}: this store is a read-only mirror of {named}; changes are made "
        "at the publisher and reach this store by `rirport mirror follow` (if the publisher "
        "is gone for good, `rirport mirror take-over` makes this store its successor); "
        "nothing was changed"
    )


def mark_started(store: Store, origin: str, url: str) -> None:
    """Record that this store follows ``origin`` at ``url`` (before the first pass)."""
    with store.transaction() as uow:
        if uow.meta.get(STARTED) is None and not uow.journal.count():
            uow.meta.put(STARTED, f"{origin} {url}")


def clear_started(uow: UnitOfWork) -> None:
    """The store no longer follows anyone (take-over)."""
    if uow.meta.get(STARTED) is not None:
        uow.meta.put(STARTED, "")
