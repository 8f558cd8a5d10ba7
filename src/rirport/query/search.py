"""Searches over one view: the RFC 9910 relation searches and exact matches by handle or name.

The relation searches, over the delegations sharing numbers with the query:

* ``up``: the smallest delegation strictly larger than the one covering the query and
  covering it;
* ``top``: the largest delegation covering the query;
* ``down``: delegations strictly inside the query not inside another one that is;
* ``bottom``: delegations inside the query (or equal to it) containing no other such
  delegation; when none lies inside, the smallest one covering it.

The registries' statistics files rarely nest (one record per block), so ``up`` is usually
empty and ``down``/``bottom`` usually list the records inside a prefix. Each search answers
every match, most specific first or by start; an edge shows as many as it allows.
"""

from __future__ import annotations

from rirport.domain.enums import Registry, ResourceType
from rirport.domain.resources import ResourceRange
from rirport.errors import NotFoundError, QueryError
from rirport.index.registry import Hit
from rirport.query.lookup import Lookup, Match

RELATIONS = ("up", "down", "top", "bottom")


def relation_search(lookup: Lookup, relation: str, resource: ResourceRange) -> list[Match]:
    """The relation search (see the module's docstring).

    Raises:
        QueryError: ``relation`` is not one of :data:`RELATIONS`.
        NotFoundError: nothing stands in that relation.
    """
    if relation not in RELATIONS:
        raise QueryError(
            f"unknown relation {relation[:40]!r} (expected one of {', '.join(RELATIONS)})"
        )
    index = lookup.index
    if relation in ("up", "top"):
        hits = index.covering(resource)
        if relation == "top":
            hits = hits[-1:]
        else:
            hits = [h for h in hits[1:] if _size(lookup, h) > _size(lookup, hits[0])][:1]
    else:
        hits = _inside(lookup, resource, strictly=relation == "down")
        if relation == "bottom" and not hits:
            hits = index.covering(resource)[:1]
    if not hits:
        raise NotFoundError(f"no {relation} delegation for {resource}")
    return [lookup.match(h) for h in hits]


def networks_by_handle(lookup: Lookup, start: str, value: int, registry: Registry) -> list[Match]:
    """The network a registry lists exactly as ``start`` and ``value`` (its handle's parts)."""
    try:
        rtype = ResourceType.IPV6 if ":" in start else ResourceType.IPV4
        resource = ResourceRange.from_start_value(rtype, start, value)
    except ValueError:
        return []
    return [
        m for m in lookup.overlapping(resource, ("exact",)) if m.delegation.registry is registry
    ]


def networks_by_first_cidr(lookup: Lookup, registry: Registry, cidr: str) -> list[Match]:
    """The networks of ``registry`` whose first CIDR block is ``cidr`` (their name's part)."""
    try:
        resource = ResourceRange.from_network(cidr)
    except ValueError:
        return []
    return [
        m
        for m in lookup.overlapping(resource, ("exact", "covered"))
        if m.delegation.registry is registry and m.delegation.resource.first == resource.first
    ]


def autnums_exactly(lookup: Lookup, resource: ResourceRange) -> list[Match]:
    """The AS-number records that are exactly ``resource`` (in any registry)."""
    return lookup.overlapping(resource, ("exact",))


def _size(lookup: Lookup, hit: Hit) -> int:
    t = lookup.view.table
    return t.last_int(hit.row) - t.first_int(hit.row)


def _inside(lookup: Lookup, resource: ResourceRange, strictly: bool) -> list[Hit]:
    """Delegations within ``resource``: the outermost (``strictly``: not equal to it) for
    ``down``, the innermost (equal allowed) for ``bottom``. One sweep over the spans sorted
    so that a containing span comes before (``down``) or after (``bottom``) what it holds;
    registries listing the same span are kept together."""
    wanted = ("covered",) if strictly else ("covered", "exact")
    t = lookup.view.table
    hits = [h for h in lookup.index.ranges(resource) if h.relation in wanted]
    spans = {h.row: (t.first_int(h.row), t.last_int(h.row)) for h in hits}
    if strictly:
        ordered = sorted(hits, key=lambda h: (spans[h.row][0], -spans[h.row][1]))
    else:
        ordered = sorted(hits, key=lambda h: (-spans[h.row][0], spans[h.row][1]))
    kept: list[Hit] = []
    bound: int | None = None
    i = 0
    while i < len(ordered):
        span = spans[ordered[i].row]
        j = i
        while j < len(ordered) and spans[ordered[j].row] == span:
            j += 1
        if strictly and (bound is None or span[1] > bound):
            kept += ordered[i:j]
            bound = span[1]
        elif not strictly and (bound is None or bound > span[1]):
            kept += ordered[i:j]
        if not strictly:
            bound = span[1] if bound is None else min(bound, span[1])
        i = j
    return sorted(kept, key=lambda h: (spans[h.row][0], int(t.registry[h.row])))


__all__ = [
    "RELATIONS",
    "autnums_exactly",
    "networks_by_first_cidr",
    "networks_by_handle",
    "relation_search",
]
