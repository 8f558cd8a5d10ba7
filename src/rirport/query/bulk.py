"""Bulk lookups: many queries against one view, answered in input order.

Dotted-quad addresses are parsed together and looked up by segment of the index; every other
query goes through :meth:`~rirport.query.lookup.Lookup.find`. :func:`single_rows` is the part
an edge uses to answer most addresses without building a :class:`Match` per address (the
JSON API's fast path): the registries rarely overlap, so most addresses fall in a segment
with one covering delegation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from rirport.domain.enums import ResourceType
from rirport.domain.query import parse_query
from rirport.domain.resources import ResourceRange
from rirport.domain.table import MASK64
from rirport.errors import QueryError
from rirport.formats import vectorized as vec
from rirport.index.registry import parse_ipv4_strings
from rirport.query.lookup import Lookup, Match


@dataclass(frozen=True)
class Answer:
    """The matches of one query of a bulk lookup, or why the query could not be read."""

    query: str
    matches: list[Match]
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"query": self.query, "matches": [m.to_json() for m in self.matches]}
        if self.error:
            body["error"] = self.error
        return body


def bulk(lookup: Lookup, queries: Iterable[str]) -> list[Answer]:
    """Answers in input order; a query that cannot be read is an answer with its error."""
    texts = [q.strip() for q in queries]
    numbers, is_ipv4 = parse_ipv4_strings(texts)
    ipv4 = lookup.index.by_type[ResourceType.IPV4]
    segments = ipv4.segment_of(numbers)
    answers = []
    for i, text in enumerate(texts):
        if is_ipv4[i]:
            seg = int(segments[i])
            local = (
                ipv4.covering[ipv4.ptr[seg] : ipv4.ptr[seg + 1]]
                if seg >= 0
                else (np.zeros(0, np.int64))
            )
            address = ResourceRange(ResourceType.IPV4, int(numbers[i]), int(numbers[i]))
            hits = lookup.index.hits(ipv4.row_ids[local], address)
            answers.append(Answer(text, [lookup.match(h) for h in hits]))
            continue
        try:
            answers.append(Answer(text, lookup.find(text)))
        except QueryError as exc:
            answers.append(Answer(text, [], str(exc)))
    return answers


@dataclass(frozen=True)
class SingleRows:
    """Which queries of a bulk lookup are one number (an IPv4 or IPv6 address, an AS number)
    with at most one covering row."""

    texts: list[str]
    """The queries, stripped."""
    rows: npt.NDArray[np.int64]
    """Per query: its one covering row, or -1 (no row, or not a simple query)."""
    exact: npt.NDArray[np.bool_]
    """Per query with a row: the row is exactly the number."""
    others: list[int]
    """Positions of the queries that are not simple: answer them with :func:`bulk`."""


_PLAIN = re.compile(r"[0-9A-Za-z:.]+")
"""Characters of a plain address or AS number: a text of only these needs no escaping in
CSV or JSON (a scoped IPv6 address, ``fe80::1%eth0``, is left to the general path)."""


def single_rows(lookup: Lookup, queries: Iterable[str], stripped: bool = False) -> SingleRows:
    """Sort the queries into simple numbers (answered by one row, or none) and the rest.

    Dotted quads are parsed together (numpy); any other query is parsed by
    :func:`~rirport.domain.query.parse_query`, the one parser, and is simple when it names one
    IPv6 address or AS number with no registry. The points of each type are then looked up
    in the index by segment, all at once. ``stripped``: the caller has stripped the queries.
    """
    texts = list(queries) if stripped else [q.strip() for q in queries]
    numbers, is_ipv4 = parse_ipv4_strings(texts)
    rows = np.full(len(texts), -1, np.int64)
    exact = np.zeros(len(texts), bool)
    simple = np.zeros(len(texts), bool)
    out = (rows, exact, simple)
    _points(lookup, ResourceType.IPV4, np.flatnonzero(is_ipv4), numbers[is_ipv4], 0, out)
    rest = np.flatnonzero(~is_ipv4)
    hi, lo, is_ipv6, asn, is_asn = _parse_points([texts[i] for i in rest.tolist()])
    _points(lookup, ResourceType.IPV6, rest[is_ipv6], lo[is_ipv6], hi[is_ipv6], out)
    _points(lookup, ResourceType.ASN, rest[is_asn], asn[is_asn], 0, out)
    by_type: dict[ResourceType, tuple[list[int], list[int]]] = {
        ResourceType.IPV6: ([], []),
        ResourceType.ASN: ([], []),
    }
    for i in rest[~(is_ipv6 | is_asn)].tolist():  # unusual spellings: the one parser decides
        resource = _point_of(texts[i])
        if resource is not None:
            positions, values = by_type[resource.type]
            positions.append(i)
            values.append(resource.first)
    for rtype, (positions, values) in by_type.items():
        if positions:
            his = np.array([v >> 64 for v in values], np.uint64)
            los = np.array([v & MASK64 for v in values], np.uint64)
            _points(lookup, rtype, np.array(positions, np.intp), los, his, out)
    return SingleRows(texts, rows, exact, np.flatnonzero(~simple).tolist())


def _parse_points(
    texts: list[str],
) -> tuple[
    npt.NDArray[np.uint64],
    npt.NDArray[np.uint64],
    npt.NDArray[np.bool_],
    npt.NDArray[np.uint64],
    npt.NDArray[np.bool_],
]:
    """IPv6 addresses in plain hex-and-colon form and AS numbers (``AS3333``, ``3333``, no
    leading zero) among ``texts``, read together: (hi, lo, is_ipv6, asn, is_asn); only the
    texts holding a colon are read as IPv6. The readers are conservative
    (:mod:`rirport.formats.vectorized`): what they refuse goes to
    :func:`~rirport.domain.query.parse_query`."""
    n = len(texts)
    if not n:
        empty, none = np.zeros(0, np.uint64), np.zeros(0, bool)
        return empty, empty, none, empty, none
    data = ("\n".join(texts) + "\n").encode()
    buf = np.frombuffer(data + b"\0" * 48, dtype=np.uint8)
    ends = np.flatnonzero(buf == 10)
    if len(ends) != n:  # a query held a line break: leave them all to the parser
        zeros, none = np.zeros(n, np.uint64), np.zeros(n, bool)
        return zeros, zeros, none, zeros, none
    starts = np.concatenate(([0], ends[:-1] + 1))
    lengths = ends - starts
    hi, lo = np.zeros(n, np.uint64), np.zeros(n, np.uint64)
    is_ipv6 = np.zeros(n, bool)
    colons = [i for i, text in enumerate(texts) if ":" in text]
    if colons:
        hi[colons], lo[colons], is_ipv6[colons] = vec.parse_ipv6_strings([texts[i] for i in colons])
    prefixed = ((buf[starts] | 32) == ord("a")) & ((buf[starts + 1] | 32) == ord("s"))
    skip = np.where(prefixed, 2, 0)
    digits = lengths - skip
    asn, is_asn = vec.parse_uint(vec.gather(buf, starts + skip, digits, 10), digits, 10)
    is_asn &= asn <= np.uint64(2**32 - 1)
    return hi, lo, is_ipv6, asn, is_asn


def _point_of(text: str) -> ResourceRange | None:
    """The one number ``text`` names (an IPv6 address or AS number, no registry), or None
    (anything else, or not a query: :func:`bulk` says why)."""
    if not _PLAIN.fullmatch(text):
        return None
    try:
        query = parse_query(text)
    except QueryError:
        return None
    resource = query.resource
    if resource is None or query.registry is not None or resource.first != resource.last:
        return None
    return resource


def _points(
    lookup: Lookup,
    rtype: ResourceType,
    positions: npt.NDArray[np.intp],
    lo: npt.NDArray[np.uint64],
    hi: npt.NDArray[np.uint64] | int,
    out: tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_], npt.NDArray[np.bool_]],
) -> None:
    """Fill ``out`` (rows, exact, simple) at ``positions`` for the numbers ``hi``:``lo`` of
    type ``rtype``: simple where the number's segment has at most one covering row."""
    rows, exact, simple = out
    his = np.broadcast_to(np.asarray(hi, np.uint64), lo.shape)
    index = lookup.index.by_type[rtype]
    segments = index.segment_of(lookup.index.point_keys(rtype, his, lo))
    safe = np.maximum(segments, 0)
    counts = np.where(segments >= 0, index.ptr[safe + 1] - index.ptr[safe], 0)
    found = np.full(len(positions), -1, np.int64)
    one = counts == 1  # the segment's only covering row
    found[one] = index.row_ids[index.covering[index.ptr[safe[one]]]]
    table = lookup.view.table
    picked = np.maximum(found, 0)
    is_exact = (
        (found >= 0)
        & (table.first_lo[picked] == lo)
        & (table.last_lo[picked] == lo)
        & (table.first_hi[picked] == his)
        & (table.last_hi[picked] == his)
    )
    rows[positions] = found
    exact[positions] = is_exact
    simple[positions] = counts <= 1


__all__ = ["Answer", "SingleRows", "bulk", "single_rows"]
