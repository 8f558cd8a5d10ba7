"""Searches over one view: the RFC 9910 relation searches and exact matches by handle or name.

The relation searches, over the delegations sharing numbers with the query:

* ``up``: the smallest delegation strictly larger than the one covering the query and
  covering it;
* ``top``: the largest delegation covering the query;
* ``down``: delegations strictly inside the query not inside another one that is;
* ``bottom``: delegations inside the query (or equal to it) containing no other such
  delegation; when none lies inside, the smallest one covering it.

With ``active_only`` (RFC 9910's ``status=active``) the hierarchy is that of the active
delegations (allocated or assigned) alone.

The registries' statistics files rarely nest (one record per block), so ``up`` is usually
empty and ``down``/``bottom`` usually list the records inside a prefix — every record of a
registry for ``0.0.0.0/0``. So a search answers at most ``limit`` matches and says whether
there were more: ``down`` and ``bottom`` walk the index's starts in order and stop there, so
their cost follows what they answer, not the size of the table.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from rirport.domain.enums import Registry, ResourceType
from rirport.domain.resources import ResourceRange
from rirport.domain.table import STATUS_CODE, DelegationTable
from rirport.errors import NotFoundError, QueryError
from rirport.index.registry import Hit
from rirport.query.lookup import Lookup, Match

RELATIONS = ("up", "down", "top", "bottom")
SEARCH_LIMIT = 1000
"""Matches a search answers at most (RDAP says the rest were cut, RFC 9083 §4.8)."""
ACTIVE = frozenset(STATUS_CODE[s] for s in STATUS_CODE if s.delegated)
"""Status codes RDAP calls ``active`` (allocated, assigned)."""
_CHUNK = 512
Hits = list[Hit]
"""Index hits of a search, most specific (or first) first."""


@dataclass(frozen=True)
class Found:
    """The first matches of a search, and whether there were more."""

    matches: list[Match]
    truncated: bool


def relation_search(
    lookup: Lookup,
    relation: str,
    resource: ResourceRange,
    limit: int = SEARCH_LIMIT,
    active_only: bool = False,
) -> Found:
    """The relation search (see the module's docstring), at most ``limit`` matches.

    Raises:
        QueryError: ``relation`` is not one of :data:`RELATIONS`.
        NotFoundError: nothing stands in that relation.
    """
    hits, more = relation_hits(lookup, relation, resource, limit, active_only)
    return Found([lookup.match(h) for h in hits], more)


def relation_hits(
    lookup: Lookup,
    relation: str,
    resource: ResourceRange,
    limit: int = SEARCH_LIMIT,
    active_only: bool = False,
) -> tuple[Hits, bool]:
    """:func:`relation_search` as index hits (``lookup.match`` makes each a :class:`Match`),
    so a caller can build the matches a few at a time; and whether there were more.

    Raises:
        QueryError: ``relation`` is not one of :data:`RELATIONS`.
        NotFoundError: nothing stands in that relation.
    """
    if relation not in RELATIONS:
        raise QueryError(
            f"unknown relation {relation[:40]!r} (expected one of {', '.join(RELATIONS)})"
        )
    index = lookup.index
    more = False
    if relation in ("up", "top"):
        hits = _active(lookup, index.covering(resource), active_only)
        if relation == "top":
            hits = hits[-1:]
        else:
            hits = [h for h in hits[1:] if _size(lookup, h) > _size(lookup, hits[0])][:1]
    else:
        rows, more = _inside(lookup, resource, relation == "down", limit, active_only)
        t = lookup.view.table
        hits = [
            Hit(row, "exact" if _span(t, row) == (resource.first, resource.last) else "covered")
            for row in rows
        ]
        if relation == "bottom" and not hits:
            hits = _active(lookup, index.covering(resource), active_only)[:1]
    if not hits:
        raise NotFoundError(f"no {relation} delegation for {resource}")
    return hits[:limit], more or len(hits) > limit


def networks_by_handle(lookup: Lookup, start: str, value: int, registry: Registry) -> list[Match]:
    """The network a registry lists exactly as ``start`` and ``value`` (its handle's parts)."""
    try:
        rtype = ResourceType.IPV6 if ":" in start else ResourceType.IPV4
        resource = ResourceRange.from_start_value(rtype, start, value)
    except ValueError:
        return []
    return [m for m in lookup.covering(resource) if m.relation == "exact" and _of(m, registry)]


def networks_by_first_cidr(lookup: Lookup, registry: Registry, cidr: str) -> list[Match]:
    """The networks of ``registry`` whose first CIDR block is ``cidr`` — the name rirport
    gives a network (``RIPENCC-31.41.240.0-23``) names its first block, and a record of
    several blocks (``31.41.240.0`` + 768 addresses) starts with that one and goes on."""
    try:
        block = ResourceRange.from_network(cidr)
    except ValueError:
        return []
    t = lookup.view.table
    point = ResourceRange(block.type, block.first, block.first)
    out = []
    for row in lookup.index.starting_in(point).tolist():
        first, last = _span(t, row)
        match = lookup.match_row(
            row, "exact" if (first, last) == (block.first, block.last) else "covering"
        )
        if _of(match, registry) and first_block(first, last) == (block.first, block.last):
            out.append(match)
    return out


def autnums_exactly(
    lookup: Lookup, resource: ResourceRange, registry: Registry | None = None
) -> list[Match]:
    """The AS-number records that are exactly ``resource`` (in ``registry``, or any)."""
    return [
        m
        for m in lookup.covering(resource)
        if m.relation == "exact" and (registry is None or _of(m, registry))
    ]


def first_block(first: int, last: int) -> tuple[int, int]:
    """The first and last number of the largest aligned block starting at ``first`` within
    ``first..last`` (the first CIDR of a range)."""
    align = (first & -first).bit_length() - 1 if first else 128
    size = min(align, (last - first + 1).bit_length() - 1)
    return first, first + (1 << size) - 1


def _of(match: Match, registry: Registry) -> bool:
    return match.delegation.registry is registry


def _size(lookup: Lookup, hit: Hit) -> int:
    t = lookup.view.table
    return t.last_int(hit.row) - t.first_int(hit.row)


def _span(t: DelegationTable, row: int) -> tuple[int, int]:
    return t.first_int(row), t.last_int(row)


def _active(lookup: Lookup, hits: list[Hit], active_only: bool) -> list[Hit]:
    if not active_only:
        return hits
    status = lookup.view.table.status
    return [h for h in hits if int(status[h.row]) in ACTIVE]


def _groups(
    lookup: Lookup, resource: ResourceRange, active_only: bool
) -> Iterator[list[tuple[int, int, int]]]:
    """(start, end, row) of the rows inside ``resource``, grouped by start, in start order;
    read from the index's sorted starts a chunk at a time (a caller that stops early reads
    no further)."""
    t = lookup.view.table
    rows = lookup.index.starting_in(resource)
    group: list[tuple[int, int, int]] = []
    for at in range(0, len(rows), _CHUNK):
        chunk = rows[at : at + _CHUNK]
        if active_only:
            chunk = chunk[np.isin(t.status[chunk], list(ACTIVE))]
        for row in chunk.tolist():
            first, last = _span(t, row)
            if last > resource.last:  # starts inside, ends outside: not inside
                continue
            if group and group[0][0] != first:
                yield group
                group = []
            group.append((first, last, row))
    if group:
        yield group


def _inside(
    lookup: Lookup, resource: ResourceRange, strictly: bool, limit: int, active_only: bool
) -> tuple[list[int], bool]:
    """Rows within ``resource``: the outermost, not equal to it (``strictly``: ``down``), or
    the innermost, equal allowed (``bottom``); by start, registries listing the same span kept
    together; at most ``limit``, and whether there were more."""
    spans = _outermost if strictly else _innermost
    out: list[tuple[int, int, int]] = []
    for span in spans(_groups(lookup, resource, active_only), (resource.first, resource.last)):
        out += span
        if len(out) > limit:
            break
    t = lookup.view.table
    out.sort(key=lambda item: (item[0], int(t.registry[item[2]])))
    return [row for _, _, row in out[:limit]], len(out) > limit


def _by_span(group: list[tuple[int, int, int]], reverse: bool) -> list[list[tuple[int, int, int]]]:
    """A start group split into its distinct spans (rows of one span together)."""
    spans: dict[int, list[tuple[int, int, int]]] = {}
    for item in group:
        spans.setdefault(item[1], []).append(item)
    return [spans[end] for end in sorted(spans, reverse=reverse)]


def _outermost(
    groups: Iterator[list[tuple[int, int, int]]], query: tuple[int, int]
) -> Iterator[list[tuple[int, int, int]]]:
    """Spans not inside another kept span (the span equal to the query is left out)."""
    bound: int | None = None
    for group in groups:
        for span in _by_span(group, reverse=True):
            first, last = span[0][0], span[0][1]
            if (first, last) == query:
                continue
            if bound is None or last > bound:
                yield span
                bound = last


def _innermost(
    groups: Iterator[list[tuple[int, int, int]]], query: tuple[int, int]
) -> Iterator[list[tuple[int, int, int]]]:
    """Spans containing no other span. Candidates wait until no later span can lie inside
    them (the next start is past their end); candidates never nest, so they leave in start
    order."""
    del query
    pending: list[list[tuple[int, int, int]]] = []
    for group in groups:
        start = group[0][0]
        while pending and pending[0][0][1] < start:
            yield pending.pop(0)
        smallest = _by_span(group, reverse=False)[0]
        end = smallest[0][1]
        pending = [p for p in pending if p[0][1] < end]  # the rest contain this span
        pending.append(smallest)
    yield from pending


__all__ = [
    "RELATIONS",
    "SEARCH_LIMIT",
    "Found",
    "Hits",
    "autnums_exactly",
    "first_block",
    "networks_by_first_cidr",
    "networks_by_handle",
    "relation_hits",
    "relation_search",
]
