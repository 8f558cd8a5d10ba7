"""``/registry/<rir>``: what a registry holds (by type and status), its files' record counts
over every stored snapshot, moves in and out, its top countries and holders, its transfer
rules in and out under each regime, and a link to its profile."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from rirport.domain.enums import Registry, ResourceType
from rirport.errors import NotFoundError
from rirport.policy.loader import load_builtin
from rirport.query.countries import country_name, space_by_country
from rirport.query.events import net_flows
from rirport.query.registries import registry_stats, snapshot_counts, top_holders
from rirport.web.context import Page
from rirport.web.links import country_path, holder_path
from rirport.web.pages.shared import all_events, regimes
from rirport.web.tables import table

router = APIRouter()
TOP = 15


def registry_of(name: str) -> Registry:
    """Raises: NotFoundError (an unknown registry is a page that does not exist)."""
    try:
        return Registry.parse(name)
    except ValueError:
        raise NotFoundError(
            f"there is no registry {name[:40]!r}: "
            "the five are afrinic, apnic, arin, lacnic, ripencc"
        ) from None


@router.get("/registry/{name}")
async def registry_page(page: Page, name: str) -> Response:
    registry = registry_of(name)
    served = page.served
    stats = registry_stats(served.view.table, registry)
    counts = await run_in_threadpool(snapshot_counts, page.live.store, registry)
    space = served.derived("web:space", lambda: space_by_country(served.view.table))
    mine = [r for r in space if r.registry == registry.value]
    flows = [f for f in net_flows(all_events(page)) if registry.value in (f[1], f[2])]
    holders = top_holders(served.view.table, registry, ResourceType.IPV4, TOP)
    t_stats = table(
        "stats",
        "Delegations now, by type and status",
        ("type", "status", "records", "amount"),
        [
            (
                r.type.value,
                r.status,
                r.records,
                r.amount if r.type is not ResourceType.IPV6 else r.records,
            )
            for r in stats
        ],
        numeric=("records", "amount"),
    )
    t_counts = table(
        "files",
        "Records per type in each stored file",
        ("date", "type", "records", "file"),
        [(c.date.isoformat(), c.type, c.records, c.file) for c in counts],
        numeric=("records",),
    )
    v4 = sorted((r for r in mine if r.type is ResourceType.IPV4), key=lambda r: -r.amount)
    t_countries = table(
        "countries",
        "Top countries by IPv4 addresses",
        ("cc", "country", "addresses", "records"),
        [(r.cc, country_name(r.cc), r.amount, r.records) for r in v4[:TOP]],
        numeric=("addresses", "records"),
        links={"cc": country_path},
    )
    t_holders = table(
        "holders",
        "Top holders by IPv4 addresses",
        ("holder", "cc", "addresses", "records"),
        [(h.opaque_id, h.cc, h.amount, h.records) for h in holders],
        numeric=("addresses", "records"),
        links={"holder": lambda v: holder_path(registry.value, v), "cc": country_path},
    )
    t_flows = table(
        "flows",
        "Moves seen between files, in and out",
        ("month", "from", "to", "moves", "amount"),
        flows,
        numeric=("moves", "amount"),
    )
    rules = []
    for regime_name in regimes():
        regime = load_builtin(regime_name)
        for rule in regime.rules:
            if rule.registry is None or rule.registry is registry:
                rules.append(
                    (
                        regime_name,
                        rule.direction.value,
                        rule.id,
                        ", ".join(sorted(t.value for t in rule.types)) or "all",
                        rule.effect.value,
                        rule.confidence.value,
                        rule.reference,
                    )
                )
    t_rules = table(
        "rules",
        "Its transfer rules in and out, under each regime",
        ("regime", "direction", "rule", "types", "effect", "grade", "reference"),
        rules,
    )
    return page.render(
        "registry.html",
        title=f"{registry.label}",
        registry=registry,
        data={
            "registry": registry.value,
            "label": registry.label,
            "stats": [r.to_json() for r in stats],
            "profile": f"/profiles/registry:{registry.value}",
        },
        tables=[t_stats, t_counts, t_countries, t_holders, t_flows, t_rules],
    )
