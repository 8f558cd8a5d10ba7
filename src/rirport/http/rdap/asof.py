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
from rirport.errors import InputError
from rirport.query.live import Served
from rirport.query.parse import AS_OF, parse_as_of

PARAM = AS_OF


def requested(request: Request) -> dt.date | None:
    """The ``as-of`` date of the request, or None when it asks for the current view.

    Raises:
        InputError: not a date, or given more than once (which one would count?).
    """
    given = request.query_params.getlist(PARAM)
    if len(given) > 1:
        raise InputError(f"{PARAM}: give it once (got {len(given)} values)")
    return parse_as_of(given[0] if given else None)


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


def renumbered_notice(asked: str, then: str) -> dict[str, Any]:
    return {
        "title": "Holder identity",
        "description": [
            f"On that date the holder {asked} had the opaque-id {then} (the two are linked by "
            "holding the same resources; see docs/history.md)."
        ],
    }
