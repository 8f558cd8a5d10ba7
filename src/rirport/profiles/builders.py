"""Profiles of registries, holders, countries, policies and documents, from data and evidence.

Each statement is either a graded evidence item (cited by id with its effective grade) or a
fact derived from the registry files or the policy files, generated here with a link to the
file and line or the rule it was read from; derived facts are graded A (the registry is the
source) with credibility 1 (the record itself), aged like any other item. Nothing is written as
boilerplate: "Why it matters" shows the figures it is computed from, "What to watch" lists only
dated pending items, recent evidence and rirport's own transfers and holds, and says plainly
when there is none.

Operational criticality (documented rule): the share of the five files' delegated IPv4
addresses, or of their holders, that depends on the entity, whichever is larger — High from
20 %, Medium from 2 %, Low above 0, None at 0.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from rirport.domain.enums import REGISTRIES, RESOURCE_TYPES, Registry
from rirport.profiles.evidence import (
    CONFIDENCE_RULE,
    TAG_CREDIBILITY,
    Evidence,
    Grade,
    Source,
    SourceKind,
    contradictions,
    effective,
)
from rirport.profiles.holdings import Holdings
from rirport.profiles.loader import CatalogueEntry
from rirport.profiles.model import Cited, Profile, Refs, Section, drop_repeats, section

REGIONS = {
    Registry.AFRINIC: "Africa",
    Registry.APNIC: "Asia Pacific",
    Registry.ARIN: "North America and parts of the Caribbean",
    Registry.LACNIC: "Latin America and parts of the Caribbean",
    Registry.RIPENCC: "Europe, the Middle East and parts of Central Asia",
}
UNITS = {"asn": "AS numbers", "ipv4": "addresses", "ipv6": "prefixes"}
TYPE_NAMES = {"asn": "ASN", "ipv4": "IPv4", "ipv6": "IPv6"}
REGIME_NAMES = {"current": "current policy", "mandatory-portability": "mandatory portability"}
IPV4 = RESOURCE_TYPES.index(next(t for t in RESOURCE_TYPES if t.value == "ipv4"))
RECENT_DAYS = 365
ENGINE_CREDIBILITY = 3
"""Decisions computed by the policy engine: the registry data is direct, but the rules behind
them are partly verified (current.toml has P and U rules), so "possibly true"."""
CONCERNS = {"policy:afpub-2020-gen-006": (Registry.AFRINIC,), "document:": ()}
Line = tuple[str, Refs]
"""An entry of a section and the ids of the cited claims it rests on."""


@dataclass(frozen=True)
class FileRef:
    """The current file of one registry: its name and date (for links and ageing)."""

    name: str
    date: dt.date


@dataclass(frozen=True)
class StoreItem:
    """A transfer or hold rirport recorded, as a dated line for "What to watch"."""

    text: str
    date: dt.date
    registries: tuple[Registry, ...]
    holders: tuple[tuple[Registry, str], ...]
    link: str


@dataclass(frozen=True)
class RuleFact:
    """One rule of a regime file, with the line it is on."""

    regime: str
    path: str
    id: str
    registry: Registry | None
    direction: str
    types: tuple[str, ...]
    effect: str
    reference: str
    confidence: str
    line: int | None


@dataclass
class Context:
    """Everything the builders read: evidence, the aggregated holdings, the files, the store's
    transfers and holds, the regimes' rules, and the date profiles are as of."""

    as_of: dt.date
    evidence: list[Evidence]
    catalogue: list[CatalogueEntry]
    holdings: Holdings
    files: dict[Registry, FileRef]
    lines: dict[int, tuple[Registry, int]]
    """Not used for every row: table row → (registry, line) for each holder's first row."""
    rules: list[RuleFact]
    regimes: dict[str, tuple[str, str, int]]
    """Regime name → (description, version, rule count)."""
    store_items: list[StoreItem] = field(default_factory=list)
    _grades: dict[str, Grade] = field(default_factory=dict)
    _by_entity: dict[str, list[Evidence]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        conflicts = contradictions(self.evidence)
        self._grades = {
            e.id: effective(e, self.as_of, conflicts.get(e.id, ())) for e in self.evidence
        }
        for item in self.evidence:
            for entity in item.entities:
                self._by_entity.setdefault(entity, []).append(item)

    def about(self, entity: str) -> list[Cited]:
        return [Cited(e, self._grades[e.id]) for e in self._by_entity.get(entity, [])]

    def derived(
        self,
        fact_id: str,
        claim: str,
        link: str,
        publisher: str,
        day: dt.date,
        entities: tuple[str, ...],
        credibility: int = 1,
        kind: SourceKind = SourceKind.REGISTRY_RECORD,
    ) -> Cited:
        item = Evidence(
            fact_id,
            claim,
            Source(link, publisher, kind, day),
            "A",
            credibility,
            entities,
            derived=True,
            link=link,
        )
        return Cited(item, effective(item, self.as_of))

    @functools.cached_property
    def total_ipv4(self) -> float:
        return float(self.holdings.registry_amount[:, IPV4].sum())

    @functools.cached_property
    def total_holders(self) -> int:
        return int(self.holdings.registry_holders.sum())


# -- shared pieces -------------------------------------------------------------------------------
def pct(part: float, whole: float) -> str:
    if whole <= 0:
        return "0%"
    share = 100 * part / whole
    return f"{share:.1f}%" if share >= 0.1 or share == 0 else f"{share:.4f}%"


def criticality(share: float) -> str:
    if share >= 0.20:
        return "High"
    if share >= 0.02:
        return "Medium"
    return "Low" if share > 0 else "None"


def _day(value: int) -> str:
    text = str(value)
    return f"{text[:4]}-{text[4:6]}-{text[6:]}" if value and len(text) == 8 else "undated"


def _point(cited: Cited) -> str:
    return f"{cited.item.claim} [{cited.item.id} · {cited.grade.code}]"


def _source_line(cited: Cited, interests_seen: dict[str, str]) -> str:
    item, s = cited.item, cited.item.source
    by = f"{s.publisher}" + (f", by {s.author}" if s.author else "")
    when = f"undated, checked {s.date}" if s.undated else f"dated {s.date}"
    text = (
        f"{item.id} — graded {cited.grade.describe()}; {s.kind.value} from {by}, {when}: "
        f"{s.address}"
    )
    if item.interests:
        if item.interests in interests_seen:
            text += f"; author's interests as noted for {interests_seen[item.interests]}"
        else:
            interests_seen[item.interests] = item.id
            text += f"; author's interests: {item.interests}"
    return text


def _store_facts(ctx: Context, entity: str, store: list[StoreItem]) -> list[Cited]:
    """rirport's own transfers, holds and change events touching the entity, as derived
    claims (aligned with ``store``) so that every line quoting them names its source."""
    return [
        ctx.derived(f"store-{n + 1}", f"{s.text}.", s.link, "rirport store", s.date, (entity,))
        for n, s in enumerate(store)
    ]


def _ids(cited: Sequence[Cited]) -> Refs:
    return tuple(c.item.id for c in cited)


def _watch(
    ctx: Context,
    cited: list[Cited],
    store: list[tuple[StoreItem, Cited]],
    skip: frozenset[str] = frozenset(),
) -> tuple[list[Line], set[str], Line]:
    """Upcoming due items, evidence from the last year, rirport's transfers and holds; the
    ids used (kept out of Key points); and the time horizon sentence. A statement that
    nothing is there rests on every claim it looked through."""
    lines: list[Line] = []
    used: set[str] = set()
    everything = _ids(cited) + _ids([c for _, c in store])
    cited = [c for c in cited if c.item.id not in skip]
    upcoming = sorted(
        (c for c in cited if c.item.due and c.item.due >= ctx.as_of),
        key=lambda c: c.item.due or ctx.as_of,
    )
    for c in upcoming:
        lines.append((f"Due {c.item.due}: {_point(c)}", (c.item.id,)))
        used.add(c.item.id)
    recent = [
        c
        for c in cited
        if c.item.id not in used
        and not c.item.derived
        and not c.item.source.undated
        and 0 <= (ctx.as_of - c.item.source.date).days <= RECENT_DAYS
    ]
    for c in sorted(recent, key=lambda c: c.item.source.date, reverse=True):
        lines.append(
            (
                f"New since {(ctx.as_of - dt.timedelta(days=RECENT_DAYS)).isoformat()} "
                f"({c.item.source.date}): {_point(c)}",
                (c.item.id,),
            )
        )
        used.add(c.item.id)
    lines += [
        (f"{s.date}: {s.text} ({s.link})", (fact.item.id,))
        for s, fact in sorted(store, key=lambda pair: pair[0].date)
    ]
    horizon: Line
    if upcoming:
        first = upcoming[0].item
        horizon = (
            (
                f"Time horizon: {first.due} ({(first.due - ctx.as_of).days} days from "
                f"{ctx.as_of}), when {first.id} falls due."
                if first.due
                else ""
            ),
            (first.id,),
        )
    else:
        horizon = (
            f"Time horizon: none set, as no cited item has a due date after {ctx.as_of}.",
            everything,
        )
    if not lines:
        lines.append(
            (
                f"Nothing is due, no cited evidence is newer than {RECENT_DAYS} days, and "
                "rirport records no transfer or hold for it.",
                everything,
            )
        )
    return lines, used, horizon


def _finish(
    ctx: Context,
    entity: str,
    name: str,
    kind: str,
    head: list[Section],
    cited: list[Cited],
    store: list[tuple[StoreItem, Cited]],
    matters: list[Line],
    guard: bool,
    shown: frozenset[str] = frozenset(),
) -> Profile:
    """Add What to watch, Key points, Sources and Confidence, then assemble the profile
    (claims in ``shown`` are already in the head and stay out of Key points). ``store`` pairs
    rirport's own items with their derived claims (:func:`_store_facts`)."""
    watch, used, horizon = _watch(ctx, cited, store, shown)
    cited = cited + [fact for _, fact in store]
    used |= shown
    points: list[Line] = [
        (_point(c), (c.item.id,)) for c in cited if not c.item.derived and c.item.id not in used
    ]
    if not points:
        points = [
            (
                "No graded evidence beyond the registry data names it; every statement here "
                "is derived from the files and policy rules cited below.",
                _ids(cited),
            )
        ]
    seen: dict[str, str] = {}
    sections = [
        *head,
        section("Why it matters", "strategy-circle", [*matters, horizon]),
        section("What to watch", "strategy-circle", watch),
        section("Key points", "public", points),
        section("Sources", "public", [(_source_line(c, seen), (c.item.id,)) for c in cited]),
    ]
    profile = Profile(entity, name, kind, (), tuple(cited), ctx.as_of)
    score, grade, label = profile.rating
    sections.insert(
        1,
        section(
            "Confidence",
            "public",
            [
                (
                    f"Score {score:.2f}, grade {grade} ({label}), from {len(cited)} cited claims.",
                    _ids(cited),
                ),
                (f"Rule: {CONFIDENCE_RULE}", ()),
            ],
        ),
    )
    final = drop_repeats(sections) if guard else sections
    return Profile(entity, name, kind, tuple(final), tuple(cited), ctx.as_of)


def _glance(name: str, kind: str, region: str, focus: str, basis: Refs = ()) -> Section:
    """Labels, except the region of a holder or country, which the files say (``basis``)."""
    return section(
        "At a glance",
        "public",
        [
            (f"Name: {name}", ()),
            (f"Type: {kind}", ()),
            (f"Region: {region}", basis),
            (f"Focus: {focus}", ()),
        ],
    )


def _holdings_text(amounts: Sequence[float], records: Sequence[int] | None = None) -> str:
    parts = []
    for t, rtype in enumerate(RESOURCE_TYPES):
        if amounts[t] or (records is not None and records[t]):
            count = f"{int(records[t]):,} records, " if records is not None else ""
            parts.append(
                f"{TYPE_NAMES[rtype.value]} {count}{int(amounts[t]):,} {UNITS[rtype.value]}"
            )
    return "; ".join(parts) if parts else "nothing delegated"


# -- registries ----------------------------------------------------------------------------------
def registry_profile(ctx: Context, registry: Registry, guard: bool = True) -> Profile:
    h, r = ctx.holdings, REGISTRIES.index(registry)
    entity = f"registry:{registry.value}"
    ref = ctx.files.get(registry)
    link, day = (ref.name, ref.date) if ref else ("no file loaded", ctx.as_of)
    amounts = h.registry_amount[r]
    holders = int(h.registry_holders[r])
    share_v4 = amounts[IPV4] / ctx.total_ipv4 if ctx.total_ipv4 else 0.0
    share_holders = holders / ctx.total_holders if ctx.total_holders else 0.0
    cited = [
        ctx.derived(
            f"{registry.value}-holdings",
            f"{registry.label}'s file {link} lists delegated {_holdings_text(amounts)}, "
            f"{pct(amounts[IPV4], ctx.total_ipv4)} of the delegated IPv4 in the five files, "
            f"held by {holders:,} holders with an opaque-id "
            f"({pct(holders, ctx.total_holders)} of all such holders).",
            link,
            registry.label,
            day,
            (entity,),
        )
    ]
    basis = (cited[0].item.id,)
    matters: list[Line] = [
        (f"Impact: {cited[0].item.claim}", basis),
        (
            f"Operational criticality: {criticality(max(share_v4, share_holders))}, from "
            f"{pct(amounts[IPV4], ctx.total_ipv4)} of the IPv4 and "
            f"{pct(holders, ctx.total_holders)} of the holders.",
            basis,
        ),
    ]
    for name, movable in h.registry_movable.items():
        fact = ctx.derived(
            f"{registry.value}-movable-{name}",
            f"Under {REGIME_NAMES.get(name, name)}, {int(movable[r, IPV4]):,} of "
            f"{registry.label}'s {int(amounts[IPV4]):,} delegated IPv4 addresses "
            f"({pct(movable[r, IPV4], amounts[IPV4])}) could move to at least one other "
            "registry.",
            f"rirport portability --regime {name} --registry {registry.value}",
            "rirport policy engine",
            ctx.as_of,
            (entity, f"policy:{name}"),
            ENGINE_CREDIBILITY,
        )
        cited.append(fact)
        matters.append((fact.item.claim, (fact.item.id,)))
    rules = [
        _rule_fact(ctx, rule, entity)
        for rule in ctx.rules
        if rule.registry is registry
        and rule.regime == "current"
        and rule.direction in ("out", "in")
    ]
    does: list[Line] = [
        (
            f"{registry.label} is the Regional Internet Registry for {REGIONS[registry]}: it "
            "delegates IPv4, IPv6 and AS numbers to holders there and publishes the "
            "statistics file profiled here.",
            basis,
        ),
        *[(f"Inter-RIR rule {c.item.claim}", (c.item.id,)) for c in rules],
    ]
    cited += rules + ctx.about(entity)
    items = [s for s in ctx.store_items if registry in s.registries]
    store = list(zip(items, _store_facts(ctx, entity, items), strict=True))
    head = [
        _glance(
            registry.label,
            "registry (Regional Internet Registry)",
            REGIONS[registry],
            "Registry: delegations, transfer policy and governance",
        ),
        section("What it does", "strategy-circle", does),
    ]
    return _finish(ctx, entity, registry.label, "registry", head, cited, store, matters, guard)


def _rule_fact(ctx: Context, rule: RuleFact, entity: str) -> Cited:
    reference = rule.reference.replace(". ", "; ")
    where = f"{rule.path}:{rule.line}" if rule.line else rule.path
    return ctx.derived(
        f"rule-{rule.regime}-{rule.id}",
        f"{rule.id} ({rule.direction}, {'/'.join(rule.types) or 'all types'}, {rule.effect}): "
        f"{reference}",
        f"{where} (rule {rule.id})",
        "rirport policy file",
        ctx.as_of,
        (entity, f"policy:{rule.regime}"),
        TAG_CREDIBILITY.get(rule.confidence, 6),
        SourceKind.POLICY_DOCUMENT,
    )


# -- holders -------------------------------------------------------------------------------------
def holder_profiles(ctx: Context, guard: bool = True) -> Iterator[Profile]:
    for index in range(len(ctx.holdings)):
        yield holder_profile(ctx, index, guard)


def holder_profile(ctx: Context, index: int, guard: bool = True) -> Profile:
    h = ctx.holdings
    registry = REGISTRIES[int(h.registry[index])]
    opaque = h.opaque[index]
    entity = f"holder:{registry.value}:{opaque}"
    _, line = ctx.lines.get(int(h.first_row[index]), (registry, 0))
    ref = ctx.files.get(registry)
    link = f"{ref.name}:{line}" if ref else f"line {line}"
    day = ref.date if ref else ctx.as_of
    records, amounts = h.records[index].tolist(), h.amount[index].tolist()
    firsts, lasts = h.first_date[index].tolist(), h.last_date[index].tolist()
    ranks = h.rank[index].tolist()
    countries = ", ".join(h.countries[index])
    held = ctx.derived(
        f"holdings-{registry.value}-{opaque}",
        f"The holder {opaque} has {_holdings_text(amounts, records)} delegated by "
        f"{registry.label}, registered in {countries}.",
        link,
        registry.label,
        day,
        (entity,),
    )
    cited = [held]
    basis = (held.item.id,)
    movements = [
        (name, m.allowed[index].tolist(), m.conditional[index].tolist(), m.anywhere[index].tolist())
        for name, m in h.moves.items()
    ]
    held_types = [t for t in range(len(records)) if records[t]]
    engine = {
        name: ctx.derived(
            f"moves-{registry.value}-{opaque}-{name}",
            f"Under {REGIME_NAMES.get(name, name)}, "
            + ", ".join(
                f"{pct(anywhere[t], amounts[t])} of its {TYPE_NAMES[RESOURCE_TYPES[t].value]}"
                for t in held_types
            )
            + f" could leave {registry.label} for another registry.",
            f"rirport portability --regime {name} --registry {registry.value}",
            "rirport policy engine",
            ctx.as_of,
            (entity, f"policy:{name}"),
            ENGINE_CREDIBILITY,
        )
        for name, _, _, anywhere in movements
    }
    cited += engine.values()
    every_regime = _ids(list(engine.values()))
    portfolio: list[Line] = []
    moves: list[Line] = []
    points: list[Line] = []
    for t in held_types:
        rtype = RESOURCE_TYPES[t]
        tname = TYPE_NAMES[rtype.value]
        portfolio.append(
            (
                f"{tname}: {records[t]:,} records, {int(amounts[t]):,} {UNITS[rtype.value]}, "
                f"first dated {_day(firsts[t])}, latest {_day(lasts[t])}; rank {ranks[t]:,} "
                f"by amount at {registry.label}.",
                basis,
            )
        )
        summary = []
        for name, allowed, conditional, anywhere in movements:
            moves.append(
                (
                    _move_line(name, tname, allowed[t], conditional[t], amounts[t], registry),
                    (engine[name].item.id,),
                )
            )
            summary.append(f"{pct(anywhere[t], amounts[t])} under {REGIME_NAMES.get(name, name)}")
        points.append(
            (
                f"{tname}: could leave {registry.label} at " + " and ".join(summary) + ".",
                every_regime,
            )
        )
    share = amounts[IPV4] / ctx.total_ipv4 if ctx.total_ipv4 else 0.0
    reg_v4 = float(ctx.holdings.registry_amount[int(h.registry[index]), IPV4])
    matters: list[Line] = [
        (
            f"Impact: its {int(amounts[IPV4]):,} IPv4 addresses are "
            f"{pct(amounts[IPV4], reg_v4)} of {registry.label}'s delegated IPv4 and "
            f"{pct(amounts[IPV4], ctx.total_ipv4)} of the five files'.",
            basis,
        ),
        (
            f"Operational criticality: {criticality(share)}, by the share of the five files' "
            "IPv4 above.",
            basis,
        ),
    ]
    items = [s for s in ctx.store_items if (registry, opaque) in s.holders]
    store = list(zip(items, _store_facts(ctx, entity, items), strict=True))
    history: list[Line] = [
        (
            f"First delegation in the current file dated "
            f"{_day(min(firsts[t] for t in held_types))}; latest dated "
            f"{_day(max(lasts[t] for t in held_types))}.",
            basis,
        )
    ]
    history += [
        (f"Transfer recorded by rirport on {s.date}: {s.text}.", (fact.item.id,))
        for s, fact in store
    ]
    cited += ctx.about(entity)
    head = [
        _glance(
            opaque,
            "holder (resource holder of record, by opaque-id)",
            f"{registry.label} service region; registered in {countries}",
            "Holder: portfolio, where it could move, history",
            basis,
        ),
        section("What it does", "strategy-circle", [(held.item.claim, basis)]),
        section("Portfolio", "leadership-alliance", portfolio),
        section("Where it could move", "leadership-alliance", moves),
        section("History", "strategy-circle", history),
    ]
    profile = _finish(
        ctx, entity, f"{opaque} ({registry.label})", "holder", head, cited, store, matters, False
    )
    return _merge_points(profile, points, guard)


def _merge_points(profile: Profile, points: list[Line], guard: bool) -> Profile:
    """Holders' key points are their portability summary (plus any graded evidence)."""
    sections = []
    for s in profile.sections:
        if s.title == "Key points" and isinstance(s.body, list):
            extra = [(p, r) for p, r in s.cites() if not p.startswith("No graded evidence")]
            s = section(s.title, s.tier, points + extra)
        sections.append(s)
    final = drop_repeats(sections) if guard else sections
    return Profile(
        profile.id, profile.name, profile.type, tuple(final), profile.cited, profile.as_of
    )


def _move_line(
    regime: str,
    tname: str,
    allowed: Sequence[float],
    conditional: Sequence[float],
    total: float,
    source: Registry,
) -> str:
    parts = []
    for t, target in enumerate(REGISTRIES):
        if target is source:
            continue
        a, c = allowed[t], conditional[t]
        if a or c:
            how = (
                "freely"
                if a and not c
                else "on conditions"
                if c and not a
                else "partly on conditions"
            )
            parts.append(f"{target.label} {pct(a + c, total)} {how}")
    where = ", ".join(parts) if parts else "no other registry"
    return f"Under {REGIME_NAMES.get(regime, regime)}, its {tname} could go to: {where}."


# -- countries -----------------------------------------------------------------------------------
def country_profile(ctx: Context, cc: str, guard: bool = True) -> Profile:
    h = ctx.holdings
    entity = f"country:{cc}"
    table = h.country_amount[cc]
    total = table.sum(axis=0)
    serving = [(REGISTRIES[r], table[r, IPV4]) for r in range(len(REGISTRIES)) if table[r].any()]
    by = ", ".join(f"{reg.label} ({pct(v4, total[IPV4])} of its IPv4)" for reg, v4 in serving)
    links = "; ".join(ctx.files[reg].name for reg, _ in serving if reg in ctx.files)
    day = min((ctx.files[reg].date for reg, _ in serving if reg in ctx.files), default=ctx.as_of)
    holders = h.country_holders.get(cc, 0)
    held = ctx.derived(
        f"country-{cc}-holdings",
        f"Records registered under {cc} hold {_holdings_text(total)}, "
        f"{pct(total[IPV4], ctx.total_ipv4)} of the delegated IPv4 in the five files, among "
        f"{holders:,} holders.",
        links or "no file",
        "the five RIRs' statistics files",
        day,
        (entity,),
    )
    cited = [held]
    basis = (held.item.id,)
    matters: list[Line] = [
        (f"Impact: {held.item.claim}", basis),
        (
            f"Operational criticality: "
            f"{criticality(total[IPV4] / ctx.total_ipv4 if ctx.total_ipv4 else 0)}, from "
            f"its {pct(total[IPV4], ctx.total_ipv4)} share of the delegated IPv4.",
            basis,
        ),
    ]
    for name, per in h.country_movable.items():
        movable = per.get(cc, np.zeros(len(RESOURCE_TYPES)))[IPV4]
        fact = ctx.derived(
            f"country-{cc}-movable-{name}",
            f"Under {REGIME_NAMES.get(name, name)}, {pct(movable, total[IPV4])} of {cc}'s "
            "IPv4 could move to another registry.",
            f"rirport portability --regime {name}",
            "rirport policy engine",
            ctx.as_of,
            (entity, f"policy:{name}"),
            ENGINE_CREDIBILITY,
        )
        cited.append(fact)
        matters.append((fact.item.claim, (fact.item.id,)))
    cited += ctx.about(entity)
    head = [
        _glance(
            cc,
            "country (ISO 3166 code as registered)",
            ", ".join(REGIONS[reg] for reg, _ in serving) or "none",
            "Country: space and holders registered there",
            basis,
        ),
        section(
            "What it does",
            "strategy-circle",
            [(f"Holders registered in {cc} are served by {by or 'no registry'}.", basis)],
        ),
    ]
    return _finish(ctx, entity, f"Country {cc}", "country", head, cited, [], matters, guard)


# -- policies and documents ---------------------------------------------------------------------
def catalogue_profile(ctx: Context, entry: CatalogueEntry, guard: bool = True) -> Profile:
    cited: list[Cited] = []
    does: list[Line] = []
    matters: list[Line] = []
    name = entry.id.split(":", 1)[1]
    if name in ctx.regimes:
        description, version, count = ctx.regimes[name]
        rules = [r for r in ctx.rules if r.regime == name]
        tags = {tag: sum(r.confidence == tag for r in rules) for tag in ("V", "P", "U")}
        path = rules[0].path if rules else name
        fact = ctx.derived(
            f"regime-{name}",
            f"rirport encodes it as {path} version {version}, {count} rules "
            f"({tags['V']} verified, {tags['P']} partly verified, {tags['U']} unverified): "
            f"{description}",
            path,
            "rirport policy file",
            ctx.as_of,
            (entry.id,),
            kind=SourceKind.POLICY_DOCUMENT,
        )
        cited.append(fact)
        does.append((fact.item.claim, (fact.item.id,)))
        movable = ctx.holdings.registry_movable.get(name)
        if movable is not None:
            share = movable[:, IPV4].sum() / ctx.total_ipv4 if ctx.total_ipv4 else 0.0
            impact = ctx.derived(
                f"regime-{name}-impact",
                f"Under it, {int(movable[:, IPV4].sum()):,} of the five files' "
                f"{int(ctx.total_ipv4):,} delegated IPv4 addresses "
                f"({pct(movable[:, IPV4].sum(), ctx.total_ipv4)}) could move to at least one "
                "other registry.",
                f"rirport portability --regime {name}",
                "rirport policy engine",
                ctx.as_of,
                (entry.id,),
                ENGINE_CREDIBILITY,
            )
            cited.append(impact)
            matters += [
                (f"Impact: {impact.item.claim}", (impact.item.id,)),
                (
                    f"Operational criticality: {criticality(share)}, as "
                    f"{pct(movable[:, IPV4].sum(), ctx.total_ipv4)} of the IPv4 could "
                    "move under it.",
                    (impact.item.id,),
                ),
            ]
    concerned = CONCERNS.get(entry.id, CONCERNS.get(entry.id.split(":")[0] + ":", REGISTRIES))
    if not matters and concerned:
        idx = [REGISTRIES.index(r) for r in concerned]
        v4 = float(ctx.holdings.registry_amount[idx, IPV4].sum())
        holders = int(ctx.holdings.registry_holders[idx].sum())
        names = ", ".join(r.label for r in concerned)
        fact = ctx.derived(
            f"{name}-concerns",
            f"It concerns {names}: {int(v4):,} delegated IPv4 addresses "
            f"({pct(v4, ctx.total_ipv4)} of the five files) and {holders:,} holders.",
            "; ".join(ctx.files[r].name for r in concerned if r in ctx.files) or "no file",
            "the RIRs' statistics files",
            ctx.as_of,
            (entry.id,),
        )
        cited.append(fact)
        share = max(
            v4 / ctx.total_ipv4 if ctx.total_ipv4 else 0.0,
            holders / ctx.total_holders if ctx.total_holders else 0.0,
        )
        matters += [
            (f"Impact: {fact.item.claim}", (fact.item.id,)),
            (
                f"Operational criticality: {criticality(share)}, from "
                f"{pct(share, 1.0)} of the IPv4 or of the holders, whichever is larger.",
                (fact.item.id,),
            ),
        ]
    about = ctx.about(entry.id)
    if not matters:
        matters.append(
            (
                "Impact: a document changes no registry record by itself; its weight is "
                "in the graded claims below and in its author's interests.",
                _ids(about),
            )
        )
    cited += about
    shown: set[str] = set()
    if not does:
        primary = [
            c
            for c in about
            if c.item.source.kind in (SourceKind.POLICY_DOCUMENT, SourceKind.INTERESTED_OPINION)
        ][:2]
        does = [(_point(c), (c.item.id,)) for c in primary] or [
            ("No policy document or text of its own is among the evidence yet.", _ids(cited))
        ]
        shown = {c.item.id for c in primary}
    head = [
        _glance(entry.name, entry.type.value, entry.region, entry.focus),
        section("What it does", "strategy-circle", does),
    ]
    return _finish(
        ctx,
        entry.id,
        entry.name,
        entry.type.value,
        head,
        cited,
        [],
        matters,
        guard,
        frozenset(shown),
    )
