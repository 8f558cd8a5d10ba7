"""The home page: the search box, and headline figures of the data (address space by
registry, what could leave each registry under each regime, the newest change events)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from rirport.domain.enums import REGISTRIES, ResourceType
from rirport.query.understand import examples
from rirport.web.context import Page
from rirport.web.links import registry_path, resource_path, understood_path
from rirport.web.pages.shared import facts, portability, regimes
from rirport.web.tables import table

router = APIRouter()
NEWEST = 10


@router.get("/")
async def home(page: Page) -> Response:
    served = page.served
    shared = facts(page)
    stats = await shared.off_loop(shared.stats())
    space = []
    for registry in REGISTRIES:
        mine = [
            s
            for s in stats
            if s.registry == registry.value and s.status in ("allocated", "assigned")
        ]
        space.append(
            (
                registry.value,
                sum(s.amount for s in mine if s.type is ResourceType.IPV4),
                sum(s.records for s in mine if s.type is ResourceType.IPV6),
                sum(s.amount for s in mine if s.type is ResourceType.ASN),
            )
        )
    t_space = table(
        "space",
        "Delegated space by registry",
        ("registry", "IPv4 addresses", "IPv6 prefixes", "AS numbers"),
        space,
        numeric=("IPv4 addresses", "IPv6 prefixes", "AS numbers"),
        links={"registry": registry_path},
    )
    leave = []
    for name in regimes():
        report = await portability(page, name)
        for registry in REGISTRIES:
            cells = [
                c
                for c in report.cells
                if c.from_registry is registry
                and c.type is ResourceType.IPV4
                and c.to_registry is not registry
            ]
            total = sum(c.amount for c in cells)
            allowed = sum(c.amount for c in cells if c.outcome.value == "allowed")
            leave.append(
                (name, registry.value, total, allowed, round(allowed / total, 4) if total else None)
            )
    t_leave = table(
        "leave",
        "IPv4 that could leave each registry, per regime",
        ("regime", "registry", "pairs' space", "allowed", "allowed share"),
        leave,
        numeric=("pairs' space", "allowed", "allowed share"),
        links={"registry": registry_path},
    )
    events = (await shared.off_loop(shared.events()))[:NEWEST]
    t_events = table(
        "events",
        "The newest change events",
        ("seen", "kind", "registry", "resource"),
        [
            (e.seen.isoformat() if e.seen else None, e.kind, e.registry, e.resource_text)
            for e in events
        ],
        links={"resource": resource_path, "registry": registry_path},
    )
    files = [(s.registry, s.snapshot_date.isoformat(), s.file_name) for s in served.view.snapshots]
    t_files = table(
        "files",
        "The statistics files answering",
        ("registry", "date", "file"),
        files,
        links={"registry": registry_path},
    )
    return page.render(
        "home.html",
        title="rirport",
        examples=[(understood_path(e), e.label) for e in examples()],
        data={
            "space": [dict(zip(t_space.columns, r, strict=True)) for r in space],
            "leave": [dict(zip(t_leave.columns, r, strict=True)) for r in leave],
            "files": [dict(zip(t_files.columns, r, strict=True)) for r in files],
        },
        tables=[t_space, t_leave, t_events, t_files],
    )
