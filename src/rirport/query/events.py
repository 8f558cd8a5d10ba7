"""Change events as the pages list them: the events recorded at each ingest (stored with
the files they were seen between), filtered by registry, kind, type, country or resource,
and the net flows of ``moved`` events between registries per month."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rirport.domain.enums import ResourceType
from rirport.domain.resources import ResourceRange
from rirport.store.unit import Store


@dataclass(frozen=True)
class EventEntry:
    id: int
    kind: str
    type: str | None
    registry: str
    from_registry: str | None
    to_registry: str | None
    start: str | None
    value: int
    cc: str | None
    old_file: str
    new_file: str
    recorded: dt.datetime
    body: dict[str, Any]
    seen: dt.date | None = None
    """The date of the newer file the event was seen in."""

    @property
    def resource(self) -> ResourceRange | None:
        if self.type is None or self.start is None:
            return None
        try:
            return ResourceRange.from_start_value(ResourceType(self.type), self.start, self.value)
        except ValueError:
            return None

    @property
    def resource_text(self) -> str:
        found = self.resource
        return str(found) if found is not None else (self.start or "")

    @property
    def month(self) -> str:
        """The month of the newer file's date (``YYYY-MM``), or of recording."""
        return (self.seen or self.recorded.date()).isoformat()[:7]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "recorded": self.recorded.isoformat(), **self.body}


def stored_events(store: Store) -> list[EventEntry]:
    """Every stored event, newest first."""
    out = []
    with store.read() as uow:
        dates = {s.id: s.snapshot_date for s in uow.snapshots.all()}
        for chunk in uow.events.chunks():
            for row in chunk:
                body = json.loads(row.body)
                snaps = body.get("snapshots") or {}
                out.append(
                    EventEntry(
                        row.id,
                        row.kind,
                        row.type,
                        row.registry,
                        row.from_registry,
                        row.to_registry,
                        body.get("start"),
                        int(body.get("value") or 0),
                        _cc(body),
                        str(snaps.get("from", "")),
                        str(snaps.get("to", "")),
                        row.created_at,
                        body,
                        dates.get(row.snapshot_id) if row.snapshot_id is not None else None,
                    )
                )
    out.reverse()
    return out


def filter_events(
    events: Sequence[EventEntry],
    registry: str | None = None,
    kind: str | None = None,
    rtype: str | None = None,
    cc: str | None = None,
    resource: ResourceRange | None = None,
) -> list[EventEntry]:
    def keep(e: EventEntry) -> bool:
        if registry and registry not in (e.registry, e.from_registry, e.to_registry):
            return False
        if kind and e.kind != kind:
            return False
        if rtype and e.type != rtype:
            return False
        if cc and e.cc != cc:
            return False
        if resource is not None:
            found = e.resource
            if found is None or found.type is not resource.type:
                return False
            return found.first <= resource.last and resource.first <= found.last
        return True

    return [e for e in events if keep(e)]


def net_flows(events: Sequence[EventEntry]) -> list[tuple[str, str, str, int, int]]:
    """(month, from, to, moves, amount) of the ``moved`` events, oldest month first."""
    moves: Counter[tuple[str, str, str]] = Counter()
    amount: Counter[tuple[str, str, str]] = Counter()
    for e in events:
        if e.kind == "moved" and e.from_registry and e.to_registry:
            key = (e.month, e.from_registry, e.to_registry)
            moves[key] += 1
            found = e.resource
            amount[key] += (
                found.size if found is not None and found.type is not ResourceType.IPV6 else 1
            )
    return [(*k, moves[k], amount[k]) for k in sorted(moves)]


def kinds(events: Sequence[EventEntry]) -> list[str]:
    return sorted({e.kind for e in events})


def _cc(body: dict[str, Any]) -> str | None:
    for key in ("cc", "new", "after"):
        value = body.get(key)
        if isinstance(value, str) and key == "cc":
            return value
        if isinstance(value, dict) and isinstance(value.get("cc"), str):
            return str(value["cc"])
    return None
