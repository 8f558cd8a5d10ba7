"""``/country/<CC>``: a country's delegated space by registry and type; its dependency (the
share of its holders' space that could not leave if its registry stopped functioning); and
that scenario under each regime."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from rirport.domain.enums import ResourceType
from rirport.errors import NotFoundError
from rirport.query.countries import country_name, known
from rirport.web.context import Page
from rirport.web.links import registry_path
from rirport.web.pages.shared import facts, portability, regimes
from rirport.web.tables import table

router = APIRouter()


@router.get("/country/{cc}")
async def country_page(page: Page, cc: str) -> Response:
    code = cc.upper()
    if len(code) != 2 or not known(code):
        raise NotFoundError(
            f"{cc[:20]!r} is not a country code the registries use (two letters, as ZA or BR)"
        )
    shared = facts(page)
    space = await shared.off_loop(shared.space())
    mine = [r for r in space if r.cc == code]
    scenario_rows = []
    for name in regimes():
        report = await portability(page, name)
        for row in report.scenarios:
            if row.cc == code:
                total = row.allowed_amount + row.conditional_amount + row.stuck_amount
                scenario_rows.append(
                    (
                        name,
                        row.failing_registry.value,
                        row.type.value,
                        total,
                        row.allowed_amount,
                        row.conditional_amount,
                        row.stuck_amount,
                        round(row.stuck_amount / total, 4) if total else None,
                        row.holders_free,
                        row.holders_stuck,
                    )
                )
    home = {r.registry for r in mine}
    own = [r for r in scenario_rows if r[1] in home]
    t_space = table(
        "space",
        "Delegated space by registry and type",
        ("registry", "type", "records", "amount"),
        [(r.registry, r.type.value, r.records, r.amount) for r in mine],
        numeric=("records", "amount"),
        links={"registry": registry_path},
    )
    t_scenario = table(
        "scenario",
        "If its registry stopped functioning: what could still leave",
        (
            "regime",
            "failing registry",
            "type",
            "amount",
            "allowed",
            "conditional",
            "stuck",
            "stuck share",
            "holders free",
            "holders stuck",
        ),
        own,
        numeric=(
            "amount",
            "allowed",
            "conditional",
            "stuck",
            "stuck share",
            "holders free",
            "holders stuck",
        ),
        links={"failing registry": registry_path},
    )
    v4 = [r for r in own if r[0] == regimes()[0] and r[2] == ResourceType.IPV4.value]
    stuck = sum(r[6] for r in v4)
    total = sum(r[3] for r in v4)
    return page.render(
        "country.html",
        title=f"{country_name(code)} ({code})",
        code=code,
        name=country_name(code),
        dependency=(stuck / total) if total else None,
        data={
            "cc": code,
            "name": country_name(code),
            "space": [r.to_json() for r in mine],
            "dependency_ipv4": (stuck / total) if total else None,
            "regime": regimes()[0],
        },
        tables=[t_space, t_scenario],
    )
