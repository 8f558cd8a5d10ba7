"""rirport's own completed transfers, as the read side dates what they moved.

The statistics files carry the date a block was first registered; a block moved by a transfer
rirport completed carries that transfer's date too (an RDAP ``transfer`` event, the start of a
history version). Both answers come from here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from rirport.domain.delegation import Delegation
from rirport.store.keys import key_of
from rirport.store.repos.transfers import TransferRow
from rirport.store.unit import Store

ADDED = "transfer-added"
RETIRED = "transfer-retired"


class CompletedTransfers:
    """The completed transfers of one store generation."""

    def __init__(self, rows: Sequence[TransferRow] = ()) -> None:
        self.rows = list(rows)

    @classmethod
    def load(cls, store: Store) -> CompletedTransfers:
        with store.read() as uow:
            return cls(uow.transfers.all(("completed",)))

    def __len__(self) -> int:
        return len(self.rows)

    def into(self, d: Delegation) -> list[dt.date]:
        """Dates of the transfers into ``d``'s registry that moved numbers of ``d``, oldest
        first."""
        lo, hi = _keys(d)
        registry = d.registry.value
        return sorted(
            t.transfer_date
            for t in self.rows
            if t.recipient_registry == registry and t.lo <= hi and lo <= t.hi
        )

    def made(self, d: Delegation, change: str | None) -> dt.date | None:
        """The date of the transfer that added (``change`` :data:`ADDED`) or retired
        (:data:`RETIRED`) this version of ``d``; None for a version as the files have it."""
        if change not in (ADDED, RETIRED):
            return None
        lo, hi = _keys(d)
        registry = d.registry.value
        dates = [
            t.transfer_date
            for t in self.rows
            if t.lo <= hi
            and lo <= t.hi
            and (t.recipient_registry if change == ADDED else t.source_registry) == registry
        ]
        return max(dates) if dates else None


def all_transfers(store: Store, states: Sequence[str] = ()) -> list[TransferRow]:
    """Every transfer rirport holds (requested, approved, completed …), oldest first."""
    with store.read() as uow:
        return uow.transfers.all(tuple(states))


def monthly_flows(rows: Sequence[TransferRow]) -> list[tuple[str, str, str, int]]:
    """(month, from, to, transfers) of the completed inter-registry transfers, oldest first."""
    counts: dict[tuple[str, str, str], int] = {}
    for t in rows:
        if t.state == "completed" and t.source_registry != t.recipient_registry:
            key = (t.transfer_date.isoformat()[:7], t.source_registry, t.recipient_registry)
            counts[key] = counts.get(key, 0) + 1
    return [(*k, n) for k, n in sorted(counts.items())]


def _keys(d: Delegation) -> tuple[str, str]:
    r = d.resource
    return key_of(r.type, r.first), key_of(r.type, r.last)


__all__ = [
    "ADDED",
    "RETIRED",
    "CompletedTransfers",
    "TransferRow",
    "all_transfers",
    "monthly_flows",
]
