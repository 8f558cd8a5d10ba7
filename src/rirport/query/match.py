"""A match of a lookup: a delegation, its relation to the query, and where it was read from.

Its own module (no numpy) so that the standard-library reader of one point lookup
(:mod:`rirport.query.mapped`) answers with the same objects as
:class:`~rirport.query.lookup.Lookup`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rirport.domain.delegation import Delegation
from rirport.domain.enums import REGISTRIES


@dataclass(frozen=True)
class Match:
    """A delegation that answers a query, with where it came from."""

    delegation: Delegation
    relation: str
    snapshot_id: int
    file_name: str
    line: int
    transfer_serial: int = 0
    """The journal serial of the completed transfer that made this row (0: its file did);
    ``file_name`` and ``line`` are then where the row sorts in its registry's file."""

    def to_json(self) -> dict[str, Any]:
        """The CLI/API shape: the delegation's fixed keys, then relation and source."""
        source: dict[str, Any] = {
            "snapshot": self.snapshot_id,
            "file": self.file_name,
            "line": self.line,
        }
        if self.transfer_serial:
            source["transfer_serial"] = self.transfer_serial
        return {**self.delegation.to_json(), "relation": self.relation, "source": source}

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
