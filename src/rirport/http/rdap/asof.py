"""``?as-of=DATE``: answering from the registries as they stood on a date.

The view as of a date is each registry's newest snapshot dated on or before it
(:func:`rirport.query.view.load_as_of`), loaded on demand by the process's
:class:`~rirport.query.live.LiveIndex` and never taken from the current view. Every answer
says, in a notice, which files answered.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from rirport.domain.enums import Registry
from rirport.http.responses import HttpError
from rirport.query.holders import identity
from rirport.query.live import Served
from rirport.store.unit import Store

PARAM = "as-of"


def parse_date(text: str, name: str = PARAM) -> dt.date:
    """A date (``YYYY-MM-DD``, or an RFC 3339 date-time: its date); 400 otherwise."""
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        if 10 < len(text) <= 40 and text[10] in "Tt ":
            return dt.datetime.fromisoformat(text).date()
    except ValueError:
        pass
    raise HttpError(400, f"{name}: {text[:40]!r} is not a date (YYYY-MM-DD)")


def requested(request: Request) -> dt.date | None:
    """The ``as-of`` date of the request, or None when it asks for the current view."""
    text = request.query_params.get(PARAM)
    return None if text is None else parse_date(text)


async def view_for(request: Request) -> tuple[Served, list[dict[str, Any]]]:
    """The generation to answer from, and the notice naming its files when it is as of a
    date (loaded in a worker thread: the first load of a date takes a second or two)."""
    day = requested(request)
    live = request.app.state.live
    if day is None:
        current: Served = live.served
        return current, []
    then: Served = await run_in_threadpool(live.as_of, day)
    return then, [snapshot_notice(then, day)]


def snapshot_notice(served: Served, day: dt.date) -> dict[str, Any]:
    return {
        "title": "Snapshot",
        "description": [
            f"As of {day.isoformat()}: answered from each registry's newest statistics file "
            "dated on or before that day:",
            *(
                f"{Registry(s.registry).label}: {s.file_name} ({s.snapshot_date.isoformat()})"
                for s in served.view.snapshots
            ),
        ],
    }


def linked_id(store: Store, served: Served, opaque_id: str, registry: Registry) -> str | None:
    """The opaque-id the holder ``opaque_id`` had in ``served`` (another file may have
    renumbered it: stable holder identity links its ids), or None."""
    holders = identity(store, registry.value)
    for candidate in dict.fromkeys((opaque_id, opaque_id.lower(), opaque_id.upper())):
        for other in holders.holder(registry.value, candidate).ids:
            if served.lookup.index.holder(other, registry):
                return other
    return None


def renumbered_notice(asked: str, then: str) -> dict[str, Any]:
    return {
        "title": "Holder identity",
        "description": [
            f"On that date the holder {asked} had the opaque-id {then} (the two are linked by "
            "holding the same resources; see docs/history.md)."
        ],
    }
