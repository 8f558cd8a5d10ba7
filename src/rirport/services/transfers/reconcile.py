"""Reconciling published transfer logs with the moves seen in the statistics files.

A logged inter-RIR transfer dated inside the window ``(from, to]`` should show up as a
``moved`` event between the snapshots in force on those dates, with the same source and
recipient registry and an overlapping range. Each side is then:

* **matched**: a logged transfer and the moved pieces that overlap it (same registries);
* **only in the log**: a logged inter-RIR transfer in the window that no move overlaps (the
  files do not show it yet, or the log is wrong);
* **only in the data**: a move no logged transfer in the window explains (a transfer the
  provided logs do not list, e.g. logs of another RIR not supplied, or a registry correction).

Transfers within one RIR, cancelled inter-RIR transfers (``status`` ``sourceCancelled`` or
``recipientCancelled``, format version 5.0), and transfers dated outside the window or undated,
are counted but not expected in the data. Ranges are compared as numbers (logs give start/end
addresses, the files start/count or prefixes, and a block may have been split on the way).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rirport.domain.enums import ResourceType
from rirport.domain.events import Event
from rirport.domain.resources import ResourceRange
from rirport.formats.transferlog import LoggedTransfer

#: Inter-RIR statuses (format version 5.0) of transfers that did not happen.
CANCELLED = ("sourceCancelled", "recipientCancelled")


@dataclass
class Reconciliation:
    """The outcome, with counts of the log entries that were not expected in the data."""

    matched: list[tuple[LoggedTransfer, list[Event]]] = field(default_factory=list)
    only_log: list[LoggedTransfer] = field(default_factory=list)
    only_data: list[Event] = field(default_factory=list)
    intra_rir: int = 0
    outside_window: int = 0
    cancelled: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "matched": [
                {"log": _logged(t), "moves": [e.to_json() for e in moves]}
                for t, moves in self.matched
            ],
            "only_log": [_logged(t) for t in self.only_log],
            "only_data": [e.to_json() for e in self.only_data],
            "counts": {
                "matched": len(self.matched),
                "only_log": len(self.only_log),
                "only_data": len(self.only_data),
                "intra_rir": self.intra_rir,
                "outside_window": self.outside_window,
                "cancelled": self.cancelled,
            },
        }


def reconcile(
    transfers: Sequence[LoggedTransfer], events: Sequence[Event], start: dt.date, end: dt.date
) -> Reconciliation:
    """Match logged inter-RIR transfers dated in ``(start, end]`` with ``moved`` events."""
    result = Reconciliation()
    moves = [(e, _event_range(e)) for e in events if e.kind == "moved"]
    used: set[int] = set()
    for t in transfers:
        if not t.inter_rir:
            result.intra_rir += 1
            continue
        if t.status in CANCELLED:
            result.cancelled += 1
            continue
        if t.date is None or not start < t.date <= end:
            result.outside_window += 1
            continue
        found = [
            k
            for k, (e, rng) in enumerate(moves)
            if e.from_registry == t.source_rir.value
            and e.to_registry == t.recipient_rir.value
            and any(rng.overlaps(r) for r in t.resources)
        ]
        if found:
            result.matched.append((t, [moves[k][0] for k in found]))
            used.update(found)
        else:
            result.only_log.append(t)
    result.only_data = [e for k, (e, _) in enumerate(moves) if k not in used]
    return result


def _event_range(event: Event) -> ResourceRange:
    assert event.type is not None and event.start is not None
    return ResourceRange.from_start_value(ResourceType(event.type), event.start, event.value)


def _logged(t: LoggedTransfer) -> dict[str, Any]:
    return {
        "index": t.index,
        "type": t.type,
        "source_rir": t.source_rir.value,
        "recipient_rir": t.recipient_rir.value,
        "date": t.date.isoformat() if t.date else None,
        "resources": [str(r) for r in t.resources],
        "source_org": t.source_org,
        "recipient_org": t.recipient_org,
        "status": t.status,
    }
