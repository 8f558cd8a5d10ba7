"""The JSON API under ``/api/``: what RDAP does not cover.

* ``POST /api/lookup`` — bulk lookup: ``{"queries": [...]}`` (at most
  :data:`~rirport.http.config.BULK_MAX_QUERIES` queries and
  :data:`~rirport.http.config.BULK_MAX_BYTES` bytes, else 413), answers in input order in the
  shape of ``rirport lookup --file --format json``;
* ``GET /api/lookup?q=[&as-of=]`` — one query, the same shape (as of a date: the view of
  each registry's newest file on or before it);
* ``GET /api/stats``, ``/api/integrity``, ``/api/portability``, ``/api/transfer/evaluate``,
  ``/api/journal``, ``/api/status`` and ``/api/health`` (a trivial endpoint: the load
  benchmark's yardstick).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from rirport.errors import InputError
from rirport.http.api.bulk import bulk_json
from rirport.http.auth.bodies import parse_json, read_limited
from rirport.http.config import HttpConfig
from rirport.http.responses import JSON, HttpError, documented, json_response
from rirport.policy.loader import load_builtin
from rirport.query.integrity import check
from rirport.query.live import LiveIndex, Served
from rirport.query.parse import parse_as_of, parse_registry
from rirport.query.stats import compute_stats
from rirport.services.audit import journal
from rirport.services.transfers.evaluate import evaluate_transfer
from rirport.services.transfers.portability import run_portability

router = APIRouter(prefix="/api", tags=["api"])

ERRORS = documented((JSON,), (400, 404, 406, 413, 422, 429))


def ok(schema: dict[str, Any], *codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses: 200 with ``schema`` and the listed error codes."""
    out: dict[int | str, dict[str, Any]] = {
        200: {"description": "OK", "content": {JSON: {"schema": schema}}}
    }
    out.update({c: ERRORS[c] for c in (400, 406, 429, *codes)})
    return out


OBJECT = {"type": "object"}
ARRAY = {"type": "array", "items": {"type": "object"}}
BULK_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["queries"],
                "additionalProperties": False,
                "properties": {
                    "queries": {"type": "array", "items": {"type": "string"}, "maxItems": 100_000}
                },
            }
        }
    },
}


def live(request: Request) -> LiveIndex:
    result: LiveIndex = request.app.state.live
    return result


def served(request: Request) -> Served:
    return live(request).served


def _config(request: Request) -> HttpConfig:
    result: HttpConfig = request.app.state.config
    return result


@router.get("/health", responses=ok(OBJECT), summary='Always {"status": "ok"}')
async def health() -> Response:
    return json_response({"status": "ok"})


@router.get("/status", responses=ok(OBJECT), summary="Generation and files being served")
async def status(request: Request) -> Response:
    s = served(request)
    return json_response(
        {
            "generation": s.generation,
            "records": len(s.view.table),
            "snapshots": [
                {
                    "id": snap.id,
                    "registry": snap.registry,
                    "date": snap.snapshot_date.isoformat(),
                    "file": snap.file_name,
                }
                for snap in s.view.snapshots
            ],
        }
    )


@router.get(
    "/lookup",
    responses=ok(ARRAY, 400, 404),
    summary="One lookup, most specific first (as of a date with as-of)",
)
async def lookup_one(
    request: Request,
    q: str = Query(..., min_length=1, max_length=200),
    as_of: str | None = Query(
        None,
        alias="as-of",
        max_length=40,
        description="YYYY-MM-DD: the registries as each one's newest file on or before it",
    ),
) -> Response:
    day = parse_as_of(as_of)
    s = served(request) if day is None else await run_in_threadpool(live(request).as_of, day)
    return json_response([m.to_json() for m in s.lookup.find(q)])


@router.post(
    "/lookup",
    responses=ok(ARRAY, 400, 413),
    summary="Bulk lookup, answers in order",
    openapi_extra={"requestBody": BULK_BODY},
)
async def lookup_bulk(request: Request) -> Response:
    queries = _queries(await _body(request), _config(request).bulk_max_queries)
    return Response(bulk_json(served(request).lookup, queries), media_type=JSON)


@router.get("/stats", responses=ok(ARRAY), summary="Counts per registry, type and status")
async def stats(request: Request) -> Response:
    s = served(request)
    rows = await s.derived_off_loop(
        "stats", lambda: [r.to_json() for r in compute_stats(s.view.table)]
    )
    return json_response(rows)


@router.get("/integrity", responses=ok(OBJECT, 400), summary="Cross-registry findings")
def integrity(
    request: Request,
    kind: str | None = Query(None, max_length=40),
    limit: int = Query(1000, ge=0, le=100_000),
) -> Response:
    s = served(request)
    report = s.derived("integrity", lambda: check(s.view, s.iana))
    findings = [f for f in report.findings if kind is None or f.kind == kind]
    return json_response(
        {
            "counts": [c.to_json() for c in report.counts()],
            "total": len(findings),
            "findings": [f.to_json() for f in findings[:limit]],
        }
    )


@router.get("/portability", responses=ok(ARRAY, 400), summary="Who could move where")
def portability(request: Request, regime: str = Query("current", max_length=60)) -> Response:
    loaded = load_builtin(regime)
    s = served(request)
    day = dt.date.today()

    def compute() -> list[dict[str, Any]]:
        report = run_portability(s.view, s.iana, [loaded], day, live(request).store)
        return [c.to_json() for c in report.cells]

    return json_response(s.derived(f"portability:{regime}:{day}", compute))


@router.get(
    "/transfer/evaluate",
    responses=ok(OBJECT, 400, 404),
    summary="Would moving a resource to another registry be allowed today?",
)
def transfer_evaluate(
    request: Request,
    resource: str = Query(..., min_length=1, max_length=100),
    to: str = Query(..., min_length=1, max_length=20),
    regime: str = Query("current", max_length=60),
) -> Response:
    recipient = parse_registry(to, "to")
    loaded = load_builtin(regime)
    s = served(request)
    evaluation = evaluate_transfer(
        live(request).store, s.view, s.iana, resource, recipient, loaded, dt.date.today()
    )
    return json_response(evaluation.to_json())


@router.get("/journal", responses=ok(ARRAY), summary="The newest journal entries")
def journal_entries(
    request: Request,
    limit: int = Query(100, ge=1, le=10_000),
    action: str | None = Query(None, max_length=40),
) -> Response:
    rows = journal.entries(live(request).store, action)[-limit:]
    return json_response(
        [
            {
                "serial": r.serial,
                "created_at": r.created_at,
                "actor": r.actor,
                "action": r.action,
                "payload": json.loads(r.payload),
                "hash": r.hash,
            }
            for r in reversed(rows)
        ]
    )


# -- helpers --------------------------------------------------------------------------------
async def _body(request: Request) -> bytes:
    """The body, refused with 413 past the bulk limit (before reading it when the length says)."""
    return await read_limited(request, _config(request).bulk_max_bytes)


def _queries(body: bytes, limit: int) -> list[str]:
    parsed = parse_json(body, ': send {"queries": ["...", ...]}')
    queries = parsed.get("queries") if isinstance(parsed, dict) else None
    if (
        not isinstance(queries, list)
        or not all(isinstance(q, str) for q in queries)
        or (set(parsed) != {"queries"})
    ):
        raise InputError('send {"queries": ["...", ...]}: a list of strings')
    if len(queries) > limit:
        raise HttpError(413, f"{len(queries)} queries; the limit is {limit} a request")
    return queries
