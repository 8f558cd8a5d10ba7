"""History in the JSON API: timelines and change events, as the CLI prints them.

* ``GET /api/history?q=`` — ``rirport history Q --format json``: one period per stored
  version of what the query covers (or the holder held);
* ``GET /api/events?from=&to=&registry=&kind=`` — ``rirport events --format ndjson`` keys,
  as a JSON array, or NDJSON (``format=ndjson`` or ``Accept: application/x-ndjson``);
* ``GET /api/series?metric=&by=&from=&to=&step=`` — ``rirport series --format json`` (the
  versions held once per generation);
* ``GET /api/flows?from=&to=&step=`` — ``rirport flows --format json``.

Both page: at most ``limit`` items (default :data:`PAGE`, at most :data:`MAX_PAGE`) from
``offset``; ``X-Total-Count`` says how many there are and ``Link: <…>; rel="next"`` where
the next page is. An events diff of two dates reads both sides whole (seconds on the full
files), so the last few are kept per generation for the pages that follow.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from rirport.domain.enums import Registry
from rirport.domain.events import KINDS
from rirport.errors import InputError
from rirport.http.responses import JSON, NDJSON, json_response
from rirport.query.flows import flows as flows_between
from rirport.query.history import timeline
from rirport.query.parse import parse_date, parse_registry
from rirport.query.series import GROUPINGS, METRICS, STEPS, load_versions, points, series
from rirport.services.monitoring.events import events_window
from rirport.services.store import Store

router = APIRouter(prefix="/api", tags=["api"])
PAGE = 1000
MAX_PAGE = 10_000


def _error(text: str, *media: str) -> dict[str, Any]:
    schema = {"type": "object", "required": ["errorCode", "title", "description"]}
    return {"description": text, "content": {m: {"schema": schema} for m in media or (JSON,)}}


def _responses(*media: str, not_found: bool = False) -> dict[int | str, dict[str, Any]]:
    ok = {JSON: {"schema": {"type": "array", "items": {"type": "object"}}}}
    if NDJSON in media:
        ok[NDJSON] = {"schema": {"type": "string"}}
    out: dict[int | str, dict[str, Any]] = {
        200: {"description": "OK (one page; X-Total-Count, Link rel=next)", "content": ok},
        400: _error("Bad Request"),
        406: _error("Not Acceptable"),
        429: _error("Too Many Requests"),
    }
    if not_found:
        out[404] = _error("Not Found")
    return out


@router.get(
    "/history",
    responses=_responses(),
    summary="Timeline of an address, prefix, range, AS number or holder",
)
def history(
    request: Request,
    q: str = Query(..., min_length=1, max_length=200),
    limit: int = Query(PAGE, ge=1, le=MAX_PAGE),
    offset: int = Query(0, ge=0, le=10_000_000),
) -> Response:
    periods = timeline(request.app.state.live.store, q)
    rows = [p.to_json() for p in periods[offset : offset + limit]]
    return json_response(rows, headers=_paging(request, len(periods), offset, len(rows)))


@router.get(
    "/events",
    responses=_responses(NDJSON, not_found=True),
    summary="Typed changes between the snapshots in force on two dates",
)
def events(
    request: Request,
    start: str = Query(..., alias="from", min_length=1, max_length=40),
    end: str = Query(..., alias="to", min_length=1, max_length=40),
    registry: str | None = Query(None, max_length=20),
    kind: str | None = Query(None, max_length=20),
    format: str | None = Query(None, pattern="^(json|ndjson)$"),
    limit: int = Query(PAGE, ge=1, le=MAX_PAGE),
    offset: int = Query(0, ge=0, le=10_000_000),
) -> Response:
    day_from, day_to = parse_date(start, "from"), parse_date(end, "to")
    reg = parse_registry(registry) if registry else None
    if kind is not None and kind not in KINDS:
        raise InputError(f"kind: {kind[:20]!r} is not one of {', '.join(KINDS)}")
    live = request.app.state.live
    key = ("events", live.served.generation, day_from, day_to, reg)
    found, coverage = live.memo.get(key, lambda: _window(live.store, day_from, day_to, reg))
    rows = [e for e in found if kind is None or e["kind"] == kind]
    page = rows[offset : offset + limit]
    headers = {**_paging(request, len(rows), offset, len(page)), COVERAGE_HEADER: coverage}
    if _wants_ndjson(format, request.headers.get("accept")):
        return _ndjson(page, headers)
    return json_response(page, headers=headers)


#: The span of the window the snapshots cover, with the gaps, as compact JSON (the body stays
#: the list of events, as before): ``{"from", "to", "uncovered", "registries", "gaps"}``.
COVERAGE_HEADER = "X-Coverage"


def _window(
    store: Store, start: dt.date, end: dt.date, reg: Registry | None
) -> tuple[list[dict[str, Any]], str]:
    window = events_window(store, start, end, reg)
    coverage = json.dumps(window.coverage_json(), separators=(",", ":"), sort_keys=True)
    return [e.to_json() for e in window.events], coverage


@router.get(
    "/series",
    responses={
        200: {"description": "OK", "content": {JSON: {"schema": {"type": "object"}}}},
        400: _error("Bad Request"),
    },
    summary="Addresses, prefixes, AS numbers or holders per registry, country or status over time",
)
def series_of(
    request: Request,
    metric: str = Query(..., max_length=20, description=", ".join(METRICS)),
    by: str = Query("registry", max_length=20, description=", ".join(GROUPINGS)),
    start: str = Query(..., alias="from", min_length=1, max_length=40),
    end: str = Query(..., alias="to", min_length=1, max_length=40),
    step: str = Query("month", max_length=10, description=", ".join(STEPS)),
) -> Response:
    at = points(parse_date(start, "from"), parse_date(end, "to"), step)  # type: ignore[arg-type]
    live = request.app.state.live
    versions = live.served.derived("versions", lambda: load_versions(live.store, live.cache_dir))
    return json_response(series(versions, metric, by, at, step).to_json())  # type: ignore[arg-type]


@router.get(
    "/flows",
    responses=_responses(),
    summary="Addresses and AS numbers moved between each pair of registries per period",
)
def flows(
    request: Request,
    start: str = Query(..., alias="from", min_length=1, max_length=40),
    end: str = Query(..., alias="to", min_length=1, max_length=40),
    step: str = Query("month", max_length=10, description=", ".join(STEPS)),
) -> Response:
    day_from, day_to = parse_date(start, "from"), parse_date(end, "to")
    found = flows_between(request.app.state.live.store, day_from, day_to, step)  # type: ignore[arg-type]
    return json_response([f.to_json() for f in found])


def _wants_ndjson(format_: str | None, accept: str | None) -> bool:
    """``format`` decides; else the first of NDJSON and JSON that ``Accept`` names."""
    if format_ is not None:
        return format_ == "ndjson"
    for part in (accept or "").split(","):
        media = part.split(";")[0].strip().lower()
        if media in (NDJSON, JSON):
            return media == NDJSON
    return False


def _ndjson(rows: Sequence[dict[str, Any]], headers: dict[str, str]) -> Response:
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    return Response(text.encode(), media_type=NDJSON, headers=headers)


def _paging(request: Request, total: int, offset: int, shown: int) -> dict[str, str]:
    headers = {"X-Total-Count": str(total)}
    if offset + shown < total:
        following = request.url.include_query_params(offset=offset + shown)
        headers["Link"] = f'<{following}>; rel="next"'
    return headers
