"""What a reader typed in the search box: a resource (address, prefix, range, AS number), a
holder id, a country (code or name) or a registry — or nothing rirport knows, with what was
not understood and the nearest things that are.

The edges turn an :class:`Understood` into a link; this module holds the reading, so the
search page and its suggestions agree on every spelling.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rirport.domain.enums import REGISTRIES, Registry
from rirport.domain.query import ACCEPTED, parse_query
from rirport.errors import QueryError
from rirport.query import countries
from rirport.query.lookup import Lookup

MAX_TEXT = 200


@dataclass(frozen=True)
class Understood:
    """``kind``: ``resource``, ``asn``, ``holder``, ``country``, ``registry``; ``key`` what
    the page of that kind is named by (a resource's text, AS number, holder
    ``registry:id``, country code, registry name)."""

    kind: str
    key: str
    label: str


@dataclass(frozen=True)
class NotUnderstood:
    text: str
    problem: str
    accepted: str = (
        ACCEPTED + "; a country as its two-letter code or name (ZA, South Africa); or a "
        "registry (afrinic, apnic, arin, lacnic, ripencc)"
    )
    suggestions: list[Understood] = field(default_factory=list)


def understand(text: str, lookup: Lookup) -> Understood | NotUnderstood:
    """The one thing ``text`` names, or why it names nothing."""
    raw = text.strip()[:MAX_TEXT]
    if not raw:
        return NotUnderstood(text, "The search box was empty.", suggestions=examples())
    named = _registry(raw) or _country(raw)
    if named is not None:
        return named
    try:
        query = parse_query(raw)
    except QueryError as exc:
        return NotUnderstood(raw, str(exc), suggestions=suggest(raw, lookup) or examples())
    if query.holder is not None:
        found, rows = lookup.holder(query.holder, query.registry)
        if not rows:
            return NotUnderstood(
                raw,
                f"No registry lists a holder with the id {query.holder!r} now.",
                suggestions=examples(),
            )
        registry = rows[0].delegation.registry
        return Understood(
            "holder", f"{registry.value}:{found}", f"holder {found} ({registry.label})"
        )
    assert query.resource is not None
    if query.kind == "asn" and query.resource.size == 1:
        return Understood("asn", str(query.resource.first), f"AS{query.resource.first}")
    key = raw if query.kind == "address" else str(query.resource)
    return Understood("resource", key, str(query.resource))


def suggest(text: str, lookup: Lookup, limit: int = 8) -> list[Understood]:
    """Things ``text`` may be the start of: registries, countries, the resource it parses
    as, and holders whose id it is."""
    raw = text.strip()[:MAX_TEXT]
    if not raw:
        return []
    out: list[Understood] = []
    lowered = raw.lower()
    for registry in REGISTRIES:
        if registry.value.startswith(lowered) or registry.label.lower().startswith(lowered):
            out.append(Understood("registry", registry.value, registry.label))
    exact = _country(raw)
    codes = [exact.key] if exact is not None else []
    codes += [c for c in countries.suggest(raw) if c not in codes]
    out += [Understood("country", c, f"{countries.country_name(c)} ({c})") for c in codes]
    try:
        query = parse_query(raw)
    except QueryError:
        query = None
    if query is not None:
        found = understand(raw, lookup)
        if isinstance(found, Understood):
            out.insert(0, found)
    elif len(raw) >= 4:
        _spelled, rows = lookup.holder(raw)
        if rows:
            registry = rows[0].delegation.registry
            out.append(Understood("holder", f"{registry.value}:{_spelled}", f"holder {_spelled}"))
    return out[:limit]


def examples() -> list[Understood]:
    return [
        Understood("resource", "193.0.6.139", "an address: 193.0.6.139"),
        Understood("resource", "2001:4860::/32", "a prefix: 2001:4860::/32"),
        Understood("asn", "3333", "an AS number: AS3333"),
        Understood("country", "ZA", "a country: South Africa (ZA)"),
        Understood("registry", "afrinic", "a registry: AFRINIC"),
    ]


def _registry(text: str) -> Understood | None:
    try:
        registry = Registry.parse(text)
    except ValueError:
        return None
    return Understood("registry", registry.value, registry.label)


def _country(text: str) -> Understood | None:
    if text[:2].lower() == "as" and text[2:].isdigit():
        return None
    code = countries.find_country(text)
    if code is None:
        return None
    return Understood("country", code, f"{countries.country_name(code)} ({code})")
