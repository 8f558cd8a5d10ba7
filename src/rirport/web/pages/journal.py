"""``/journal``: the append-only journal of every change (ingests, transfers, holds, accounts
bookkeeping), its hash chain verified, each entry linked to what it changed."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from rirport.services.audit import journal
from rirport.web.context import Page
from rirport.web.links import registry_path, resource_path
from rirport.web.tables import table

router = APIRouter()
SHOWN = 200


def changed(action: str, payload: dict[str, Any]) -> tuple[str, str] | None:
    """The page of what an entry changed (label, path), when it names one."""
    moved = (
        (payload.get("changes") or {}).get("moved")
        if isinstance(payload.get("changes"), dict)
        else None
    )
    resource = moved or payload.get("resource")
    if isinstance(resource, str) and resource:
        return resource, resource_path(resource)
    registry = payload.get("registry")
    if isinstance(registry, str) and registry:
        label = payload.get("file") or registry
        return str(label), registry_path(registry)
    if action.startswith("transfer"):
        return "transfers", "/transfers"
    return None


@router.get("/journal")
async def journal_page(
    page: Page,
    action: str | None = Query(None, max_length=40),
    limit: int = Query(SHOWN, ge=1, le=5000),
) -> Response:
    store = page.live.store
    rows = await run_in_threadpool(journal.entries, store, action or None)
    check = await run_in_threadpool(journal.verify, store)
    actions = sorted({r.action for r in await run_in_threadpool(journal.entries, store)})
    newest = list(reversed(rows))[:limit]
    parsed = [(r, json.loads(r.payload)) for r in newest]
    links = {r.serial: changed(r.action, p) for r, p in parsed}
    label = {k: v[0] for k, v in links.items() if v is not None}
    path = {k: v[1] for k, v in links.items() if v is not None}
    by_label = {v[0]: v[1] for v in links.values() if v is not None}
    t = table(
        "entries",
        "Journal entries, newest first",
        ("serial", "when", "actor", "action", "changed", "hash"),
        [
            (
                r.serial,
                r.created_at,
                r.actor,
                r.action,
                label.get(r.serial),
                r.hash[:16],
            )
            for r, _ in parsed
        ],
        numeric=("serial",),
        links={"changed": by_label.get},
    )
    return page.render(
        "journal.html",
        title="Journal",
        check=check,
        actions=actions,
        action=action or "",
        total=len(rows),
        data={
            "verification": check.to_json(),
            "total": len(rows),
            "entries": [
                {
                    "serial": r.serial,
                    "created_at": r.created_at,
                    "actor": r.actor,
                    "action": r.action,
                    "payload": p,
                    "hash": r.hash,
                    "changed": path.get(r.serial),
                }
                for r, p in parsed
            ],
        },
        tables=[t],
    )
