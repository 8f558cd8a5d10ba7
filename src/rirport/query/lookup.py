"""Lookups: one query or many, answered from the in-memory index, or from SQL for reference.

Both paths return the same :class:`Match` lists in the same order (a property test holds them
to it): every delegation sharing a number with the query (or held by the holder), most specific
first, each with its relation to the query and the file and line it was read from.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from rirport.domain.delegation import Delegation
from rirport.domain.enums import Registry
from rirport.domain.query import Query, parse_query
from rirport.domain.resources import ResourceRange, relation
from rirport.errors import NotFoundError, StorageError
from rirport.index.registry import Hit
from rirport.query.match import Match
from rirport.query.view import CurrentView

if TYPE_CHECKING:
    from rirport.store.repos.delegations import RecordRow
    from rirport.store.unit import Store


class Lookup:
    """Queries against a current view through its :class:`RegistryIndex`.

    Every edge asks through here: a lookup, the delegation covering a resource (RDAP's
    ``ip/`` and ``autnum/``), matches by relation, a holder's rows; bulk lookups
    (:mod:`rirport.query.bulk`) and searches (:mod:`rirport.query.search`) build on it.
    """

    def __init__(self, view: CurrentView) -> None:
        self.view = view
        self.index = view.index()
        self._files = {s.id: s.file_name for s in view.snapshots}

    def find(self, query: str | Query) -> list[Match]:
        """Matches of one query, most specific first.

        Raises:
            QueryError: the text is not a usable query.
        """
        parsed = parse_query(query) if isinstance(query, str) else query
        return [self.match(hit) for hit in self.index.lookup(parsed)]

    def covering(self, resource: ResourceRange) -> list[Match]:
        """Delegations containing all of ``resource``, most specific first."""
        return [self.match(hit) for hit in self.index.covering(resource)]

    def smallest_covering(self, resource: ResourceRange) -> Match:
        """The smallest delegation, in any registry, containing all of ``resource``.

        Raises:
            NotFoundError: none does.
        """
        return self.match_row(*self.smallest_covering_row(resource))

    def smallest_covering_row(self, resource: ResourceRange) -> tuple[int, str]:
        """The view's row of :meth:`smallest_covering` and its relation to ``resource``
        (the RDAP fast lane keys its rendered answers by row: no :class:`Match` is built).

        Raises:
            NotFoundError: none does.
        """
        hits = self.index.covering(resource)
        if not hits:
            raise NotFoundError(f"no registry holds {resource}")
        return hits[0].row, hits[0].relation

    def overlapping(self, resource: ResourceRange, relations: Collection[str]) -> list[Match]:
        """Delegations sharing numbers with ``resource`` whose relation to it is one of
        ``relations`` (``exact``, ``covering``, ``covered``, ``overlaps``)."""
        return [self.match(h) for h in self.index.ranges(resource) if h.relation in relations]

    def holder(self, opaque_id: str, registry: Registry | None = None) -> tuple[str, list[Match]]:
        """A holder's rows by its id in any of its :func:`~rirport.query.holders.spellings`,
        with the spelling found (the one given when none is)."""
        from rirport.query.holders import spellings

        for candidate in spellings(opaque_id):
            hits = self.index.holder(candidate, registry)
            if hits:
                return candidate, [self.match(h) for h in hits]
        return opaque_id, []

    def match(self, hit: Hit) -> Match:
        """The :class:`Match` of an index hit."""
        return self.match_row(hit.row, hit.relation)

    def match_row(self, row: int, relation_text: str) -> Match:
        """The :class:`Match` of row ``row`` of the view, as ``relation_text`` to a query."""
        sid = int(self.view.snapshot_ids[row])
        return Match(
            self.view.table.row(row),
            relation_text,
            sid,
            self._files[sid],
            int(self.view.table.line[row]),
            self.view.added_serial(row),
        )


def linked_holder(store: Store, lookup: Lookup, opaque_id: str, registry: Registry) -> str | None:
    """The opaque-id the holder ``opaque_id`` has in ``lookup``'s view (another file may have
    renumbered it: stable holder identity links its ids), or None."""
    from rirport.query.holders import identity, spellings

    holders = identity(store, registry.value)
    for candidate in spellings(opaque_id):
        for other in holders.holder(registry.value, candidate).ids:
            if lookup.index.holder(other, registry):
                return other
    return None


def sql_find(store: Store, query: str | Query) -> list[Match]:
    """The same answer as :meth:`Lookup.find`, computed by the store's SQL.

    Raises:
        QueryError: the text is not a usable query.
    """
    from rirport.store.keys import key_of

    parsed = parse_query(query) if isinstance(query, str) else query
    with store.read() as uow:
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
    from rirport.formats.records import RecordError, parse_record

    try:
        return parse_record(row.record, registry)
    except RecordError as exc:
        raise StorageError(
            f"snapshot {row.snapshot_id} line {row.line}: stored record no longer parses: {exc}"
        ) from exc


def _resource(query: Query) -> ResourceRange:
    assert query.resource is not None
    return query.resource


__all__ = ["Lookup", "Match", "linked_holder", "sql_find"]
