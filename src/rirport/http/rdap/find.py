"""What each RDAP query answers, from the in-memory index.

``ip/{address}`` and ``ip/{prefix}`` answer the *smallest delegation that covers the whole
query* (the prefix itself when a registry lists exactly it), in any registry: OpenRDAP #30
shows why exact-only matching (the RIRs' habit) surprises people. ``autnum/{n}`` likewise
answers the AS-number record (or range) holding ``n``.

The RFC 9910 relation searches, over the delegations sharing numbers with the query:

* ``up``: the smallest delegation strictly larger than the one ``ip/`` answers and covering it;
* ``top``: the largest delegation covering the query;
* ``down``: delegations strictly inside the query not inside another one that is;
* ``bottom``: delegations inside the query (or equal to it) containing no other such
  delegation; when none lies inside, the one ``ip/`` answers.

The registries' statistics files rarely nest (one record per block), so ``up`` is usually
404 and ``down``/``bottom`` usually list the records inside a prefix.
"""

from __future__ import annotations

import numpy as np

from rirport.domain.enums import ResourceType
from rirport.domain.resources import ResourceRange
from rirport.http.responses import HttpError
from rirport.index.ranges import Keys, ipv6_keys
from rirport.index.registry import Hit
from rirport.query.live import Served
from rirport.query.lookup import Match

MAX_ASN = 2**32 - 1
RELATIONS = ("up", "down", "top", "bottom")


def parse_ip(text: str) -> ResourceRange:
    """An address or a prefix from an ``ip/`` path (400 when it is neither)."""
    try:
        if "/" in text:
            return ResourceRange.from_network(text)
        return ResourceRange.from_address(text)
    except ValueError as exc:
        raise HttpError(
            400, f"{text[:100]!r} is not an IP address or prefix ({exc})"[:300]
        ) from None


def parse_asn(text: str) -> ResourceRange:
    """An AS number (``3333`` or ``AS3333``) from an ``autnum/`` path: 400 otherwise."""
    digits = text[2:] if text[:2].lower() == "as" else text
    if not digits.isascii() or not digits.isdigit() or len(digits) > 12:
        raise HttpError(400, f"{text[:100]!r} is not an AS number")
    number = int(digits)
    if number > MAX_ASN:
        raise HttpError(400, f"AS{number} is out of range (AS numbers end at {MAX_ASN})")
    return ResourceRange.asn(number)


def match(served: Served, hit: Hit) -> Match:
    view = served.view
    sid = int(view.snapshot_ids[hit.row])
    return Match(
        view.table.row(hit.row),
        hit.relation,
        sid,
        served.snapshot(sid).file_name,
        int(view.table.line[hit.row]),
    )


def covering(served: Served, resource: ResourceRange) -> list[Hit]:
    """Delegations containing all of ``resource``, most specific first.

    The rows covering the query's first number come from the index's segment (a
    ``searchsorted``); those that also reach its last number cover it all.
    """
    index = served.lookup.index
    by_type = index.by_type[resource.type]
    key: Keys
    if resource.type is ResourceType.IPV6 and index.ipv6_compact:
        key = np.array([resource.first >> 64], np.uint64)
    elif resource.type is ResourceType.IPV6:
        key = ipv6_keys(
            np.array([resource.first >> 64], np.uint64),
            np.array([resource.first & (2**64 - 1)], np.uint64),
        )
    else:
        key = np.array([resource.first], np.uint64)
    t = served.view.table
    found = []
    for row in by_type.row_ids[by_type.containing(key)].tolist():
        first, last = t.first_int(row), t.last_int(row)
        if first <= resource.first and resource.last <= last:
            exact = first == resource.first and last == resource.last
            found.append(
                (
                    last - first,
                    int(t.registry[row]),
                    first,
                    int(t.line[row]),
                    Hit(row, "exact" if exact else "covering"),
                )
            )
    return [entry[-1] for entry in sorted(found, key=lambda e: e[:4])]


def smallest_covering(served: Served, resource: ResourceRange) -> Match:
    hits = covering(served, resource)
    if not hits:
        raise HttpError(404, f"no registry holds {resource}")
    return match(served, hits[0])


def relation_search(served: Served, relation: str, resource: ResourceRange) -> list[Match]:
    """The RFC 9910 relation search (see the module's docstring); 404 when empty."""
    if relation not in RELATIONS:
        raise HttpError(
            400, f"unknown relation {relation[:40]!r} (expected one of {', '.join(RELATIONS)})"
        )
    if relation in ("up", "top"):
        hits = covering(served, resource)
        if relation == "top":
            hits = hits[-1:]
        else:
            hits = [h for h in hits[1:] if _size(served, h) > _size(served, hits[0])][:1]
    else:
        hits = _inside(served, resource, strictly=relation == "down")
        if relation == "bottom" and not hits:
            hits = covering(served, resource)[:1]
    if not hits:
        raise HttpError(404, f"no {relation} delegation for {resource}")
    return [match(served, h) for h in hits]


def _size(served: Served, hit: Hit) -> int:
    t = served.view.table
    return t.last_int(hit.row) - t.first_int(hit.row)


def _inside(served: Served, resource: ResourceRange, strictly: bool) -> list[Hit]:
    """Delegations within ``resource``: the outermost (``strictly``: not equal to it) for
    ``down``, the innermost (equal allowed) for ``bottom``. One sweep over the spans sorted
    so that a containing span comes before (``down``) or after (``bottom``) what it holds;
    registries listing the same span are kept together."""
    wanted = ("covered",) if strictly else ("covered", "exact")
    t = served.view.table
    hits = [h for h in served.lookup.index.ranges(resource) if h.relation in wanted]
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
