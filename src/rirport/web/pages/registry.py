"""``/registry/<rir>``: what a registry holds (by type and status), its space by type and
status over time (the versions' series), its files' record counts over every stored
snapshot, its inflow from and outflow to each other registry per month (the moves seen
between files), its top countries and holders, its transfer rules in and out under each
regime, and a link to its profile."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from rirport.domain.enums import Registry, ResourceType
from rirport.errors import NotFoundError
from rirport.policy.loader import load_builtin
from rirport.query.countries import country_name
from rirport.query.flows import of_registry
from rirport.query.registries import UNITS, snapshot_counts, wide
from rirport.web.context import Page
from rirport.web.links import country_path, holder_path, registry_path
from rirport.web.pages.shared import TOP, facts, regimes
from rirport.web.tables import table

router = APIRouter()
LABELS = {ResourceType.IPV4: "IPv4", ResourceType.IPV6: "IPv6", ResourceType.ASN: "AS numbers"}


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
    shared = facts(page)
    stats = [r for r in await shared.off_loop(shared.stats()) if r.registry == registry.value]
    counts = await run_in_threadpool(snapshot_counts, page.live.store, registry)
    space = await shared.off_loop(shared.space())
    mine = [r for r in space if r.registry == registry.value]
    versions = await shared.off_loop(shared.versions())
    over_time = await shared.off_loop(shared.space_over_time(versions, registry, page.as_of))
    flows = of_registry(await shared.off_loop(shared.flows(page.as_of)), registry.value)
    holders = await shared.off_loop(shared.top_holders(registry))
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
    statuses, space_rows = wide(over_time)
    t_over_time = table(
        "space",
        "Space by type and status over time (IPv4 in addresses, IPv6 in prefixes, AS numbers)",
        ("date", "type", *statuses, "unit"),
        space_rows,
        numeric=statuses,
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
        "Inflow from and outflow to each other registry, per month (moves seen between files)",
        ("month", "direction", "registry", "moves", "addresses", "IPv6 prefixes", "AS numbers"),
        [
            (
                f.period.isoformat()[:7],
                f.direction,
                f.other,
                f.moves,
                f.addresses,
                f.ipv6_prefixes,
                f.asns,
            )
            for f in flows
        ],
        numeric=("moves", "addresses", "IPv6 prefixes", "AS numbers"),
        links={"registry": registry_path},
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
            "space_over_time": [p.to_json() for p in over_time],
            "flows": [f.to_json() for f in flows],
            "profile": f"/profiles/registry:{registry.value}",
        },
        tables=[t_stats, t_over_time, t_counts, t_flows, t_countries, t_holders, t_rules],
        directions={d: any(f.direction == d for f in flows) for d in ("in", "out")},
        statuses=statuses,
        space_charts=[
            (t.value, f"{label}: {UNITS[t]} by status")
            for t, label in LABELS.items()
            if any(p.type is t for p in over_time)
        ],
    )
