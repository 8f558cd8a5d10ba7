"""``/holder/<registry>/<id>``: what one holder (an opaque id) holds now, and its stable
identity across renumberings."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from rirport.errors import NotFoundError
from rirport.web.context import Page
from rirport.web.links import country_path, resource_path
from rirport.web.pages.registry import registry_of
from rirport.web.pages.shared import facts
from rirport.web.tables import table

router = APIRouter()


@router.get("/holder/{registry}/{opaque_id}")
async def holder_page(page: Page, registry: str, opaque_id: str) -> Response:
    reg = registry_of(registry)
    spelled, rows = page.served.lookup.holder(opaque_id, reg)
    if not rows:
        raise NotFoundError(f"{reg.label}'s newest file lists no holder {opaque_id[:80]!r}")
    shared = facts(page)
    holders = await shared.off_loop(shared.holders())
    stable = holders.holder(reg.value, spelled)
    t = table(
        "resources",
        "What it holds now",
        ("resource", "type", "cc", "status", "date", "source"),
        [
            (
                str(m.delegation.resource),
                m.delegation.type.value,
                m.delegation.cc,
                m.delegation.status.value,
                m.delegation.date.isoformat() if m.delegation.date else None,
                f"{m.file_name}:{m.line}",
            )
            for m in rows
        ],
        links={"resource": resource_path, "cc": country_path},
    )
    return page.render(
        "holder.html",
        title=f"Holder {spelled} ({reg.label})",
        registry=reg,
        opaque_id=spelled,
        stable=stable,
        data={
            "registry": reg.value,
            "opaque_id": spelled,
            "identity": stable.to_json(),
            "resources": [m.to_json() for m in rows],
        },
        tables=[t],
    )
