"""Bulk lookups: many queries against one view, answered in input order.

Dotted-quad addresses are parsed together and looked up by segment of the index; every other
query goes through :meth:`~rirport.query.lookup.Lookup.find`. :func:`single_rows` is the part
an edge uses to answer most addresses without building a :class:`Match` per address (the
JSON API's fast path): the registries rarely overlap, so most addresses fall in a segment
with one covering delegation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from rirport.domain.enums import ResourceType
from rirport.domain.resources import ResourceRange
from rirport.errors import QueryError
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
    """Which queries of a bulk lookup are an IPv4 address with at most one covering row."""

    texts: list[str]
    """The queries, stripped."""
    rows: npt.NDArray[np.int64]
    """Per query: its one covering row, or -1 (no row, or not a simple query)."""
    exact: npt.NDArray[np.bool_]
    """Per query with a row: the row is exactly the address."""
    others: list[int]
    """Positions of the queries that are not simple: answer them with :func:`bulk`."""


def single_rows(lookup: Lookup, queries: Iterable[str]) -> SingleRows:
    """Sort the queries into simple addresses (answered by one row, or none) and the rest."""
    texts = [q.strip() for q in queries]
    numbers, is_ipv4 = parse_ipv4_strings(texts)
    index = lookup.index.by_type[ResourceType.IPV4]
    segments = index.segment_of(numbers)
    safe = np.maximum(segments, 0)
    counts = np.where(segments >= 0, index.ptr[safe + 1] - index.ptr[safe], 0)
    simple = is_ipv4 & (counts <= 1)
    rows = np.full(len(texts), -1, np.int64)
    one = simple & (counts == 1)  # the segment's only covering row
    rows[one] = index.row_ids[index.covering[index.ptr[safe[one]]]]
    table = lookup.view.table
    picked = np.maximum(rows, 0)
    exact = (
        (table.first_lo[picked] == numbers)
        & (table.last_lo[picked] == numbers)
        & (table.first_hi[picked] == 0)
        & (table.last_hi[picked] == 0)
    )
    return SingleRows(texts, rows, exact, np.flatnonzero(~simple).tolist())


__all__ = ["Answer", "SingleRows", "bulk", "single_rows"]
