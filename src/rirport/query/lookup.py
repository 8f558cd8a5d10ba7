"""Lookups: one query or many, answered from the in-memory index, or from SQL for reference.

Both paths return the same :class:`Match` lists in the same order (a property test holds them
to it): every delegation sharing a number with the query (or held by the holder), most specific
first, each with its relation to the query and the file and line it was read from.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from rirport.domain.delegation import Delegation
from rirport.domain.enums import REGISTRIES, ResourceType
from rirport.domain.query import Query, parse_query
from rirport.domain.resources import ResourceRange, relation
from rirport.errors import QueryError, StorageError
from rirport.formats.records import RecordError, parse_record
from rirport.index.registry import Hit, RegistryIndex, parse_ipv4_strings
from rirport.query.view import CurrentView
from rirport.store.keys import key_of
from rirport.store.repos.delegations import RecordRow
from rirport.store.unit import Store


@dataclass(frozen=True)
class Match:
    """A delegation that answers a query, with where it came from."""

    delegation: Delegation
    relation: str
    snapshot_id: int
    file_name: str
    line: int

    def to_json(self) -> dict[str, Any]:
        """The CLI/API shape: the delegation's fixed keys, then relation and source."""
        return {
            **self.delegation.to_json(),
            "relation": self.relation,
            "source": {"snapshot": self.snapshot_id, "file": self.file_name, "line": self.line},
        }

    def sort_key(self) -> tuple[int, int, str, int, int]:
        """Most specific first, then registry, type, start and line (the index's order)."""
        resource = self.delegation.resource
        return (
            resource.size,
            REGISTRIES.index(self.delegation.registry),
            resource.type.value,
            resource.first,
            self.line,
        )


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


class Lookup:
    """Queries against a current view through its :class:`RegistryIndex`."""

    def __init__(self, view: CurrentView) -> None:
        self.view = view
        self.index = RegistryIndex(view.table)
        self._files = {s.id: s.file_name for s in view.snapshots}

    def find(self, query: str | Query) -> list[Match]:
        """Matches of one query, most specific first.

        Raises:
            QueryError: the text is not a usable query.
        """
        parsed = parse_query(query) if isinstance(query, str) else query
        return [self._match(hit) for hit in self.index.lookup(parsed)]

    def bulk(self, queries: Iterable[str]) -> list[Answer]:
        """Answers in input order; addresses go through the vectorised path together."""
        texts = [q.strip() for q in queries]
        numbers, is_ipv4 = parse_ipv4_strings(texts)
        ipv4 = self.index.by_type[ResourceType.IPV4]
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
                hits = self.index.hits(ipv4.row_ids[local], address)
                answers.append(Answer(text, [self._match(h) for h in hits]))
                continue
            try:
                answers.append(Answer(text, self.find(text)))
            except QueryError as exc:
                answers.append(Answer(text, [], str(exc)))
        return answers

    def _match(self, hit: Hit) -> Match:
        sid = int(self.view.snapshot_ids[hit.row])
        return Match(
            self.view.table.row(hit.row),
            hit.relation,
            sid,
            self._files[sid],
            int(self.view.table.line[hit.row]),
        )


def sql_find(store: Store, query: str | Query) -> list[Match]:
    """The same answer as :meth:`Lookup.find`, computed by the store's SQL.

    Raises:
        QueryError: the text is not a usable query.
    """
    parsed = parse_query(query) if isinstance(query, str) else query
    with store.transaction() as uow:
        current = uow.snapshots.current()
        ids = [s.id for s in current]
        if parsed.holder is not None:
            rows = uow.delegations.holder(ids, parsed.holder)
        else:
            assert parsed.resource is not None
            r = parsed.resource
            rows = uow.delegations.overlapping(ids, key_of(r.type, r.first), key_of(r.type, r.last))
    snapshots = {s.id: s for s in current}
    matches = []
    for row in rows:
        snap = snapshots[row.snapshot_id]
        if parsed.registry is not None and snap.registry != parsed.registry.value:
            continue
        delegation = _parse_stored(row, snap.registry)
        relation_text = (
            "holder"
            if parsed.holder is not None
            else relation(delegation.resource, _resource(parsed))
        )
        matches.append(Match(delegation, relation_text, row.snapshot_id, snap.file_name, row.line))
    if parsed.holder is not None:
        return sorted(matches, key=lambda m: m.sort_key()[1:])
    return sorted(matches, key=Match.sort_key)


def _parse_stored(row: RecordRow, registry: str) -> Delegation:
    try:
        return parse_record(row.record, registry)
    except RecordError as exc:
        raise StorageError(
            f"snapshot {row.snapshot_id} line {row.line}: stored record no longer parses: {exc}"
        ) from exc


def _resource(query: Query) -> ResourceRange:
    assert query.resource is not None
    return query.resource


__all__ = ["Answer", "Lookup", "Match", "sql_find"]
