"""Flows between registries: what moved from one RIR to another, per period, from the stored
``moved`` change events (the ledger of inter-RIR movement no registry publishes).

A move is dated by the file it was first seen in (the snapshot whose ingest stored the
event) and falls in the period (day, month or year) of that date. Per period and (from, to)
pair: the number of moves, IPv4 addresses, IPv6 prefixes and AS numbers moved.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from rirport.query.series import Step, points
from rirport.store.unit import Store


@dataclass(frozen=True, kw_only=True)
class Moved:
    """How much moved: the number of moves, IPv4 addresses, IPv6 prefixes and AS numbers
    (what a flow of either kind carries)."""

    moves: int
    addresses: int
    ipv6_prefixes: int
    asns: int

    def moved_json(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in AMOUNTS}


AMOUNTS = ("moves", "addresses", "ipv6_prefixes", "asns")


@dataclass(frozen=True)
class Flow(Moved):
    """What moved from one registry to another in one period (from ``period`` to the day
    before the next period starts)."""

    period: dt.date
    from_registry: str
    to_registry: str

    def to_json(self) -> dict[str, Any]:
        return {
            "period": self.period.isoformat(),
            "from_registry": self.from_registry,
            "to_registry": self.to_registry,
            **self.moved_json(),
        }


COLUMNS = ["period", "from_registry", "to_registry", *AMOUNTS]


def flows(store: Store, start: dt.date, end: dt.date, step: Step = "month") -> list[Flow]:
    """Moves seen in files dated ``start``..``end``, summed per period and pair, in period
    then pair order.

    Raises:
        InputError: ``end`` before ``start``, an unknown step, or too many periods.
    """
    periods = points(start, end, step)
    with store.read() as uow:
        moves = uow.events.moves()
    return summed(moves, periods, end)


def summed(
    moves: Sequence[tuple[Any, ...]], periods: Sequence[dt.date], end: dt.date
) -> list[Flow]:
    """``(date, type, from, to, body)`` moves summed into the periods starting on
    ``periods`` (the last one ending on ``end``)."""
    import bisect

    totals: dict[tuple[int, str, str], list[int]] = {}
    for day, rtype, source, target, body in moves:
        day = day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day))
        if not periods or day < periods[0] or day > end:
            continue
        k = bisect.bisect_right(periods, day) - 1
        value = int(json.loads(body).get("value", 0))
        cell = totals.setdefault((k, source or "", target or ""), [0, 0, 0, 0])
        cell[0] += 1
        cell[1 + ("ipv4", "ipv6", "asn").index(rtype)] += 1 if rtype == "ipv6" else value
    return [
        Flow(periods[k], source, target, **dict(zip(AMOUNTS, cell, strict=True)))
        for (k, source, target), cell in sorted(totals.items())
    ]


@dataclass(frozen=True)
class RegistryFlow(Moved):
    """What one registry received from (``in``) or gave to (``out``) another in one period."""

    period: dt.date
    direction: Literal["in", "out"]
    other: str

    def to_json(self) -> dict[str, Any]:
        return {
            "period": self.period.isoformat(),
            "direction": self.direction,
            "registry": self.other,
            **self.moved_json(),
        }


def monthly(store: Store, until: dt.date | None = None) -> list[Flow]:
    """Every stored move by month, from the month of the oldest stored file to the newest
    file, or to ``until`` (what a registry page charts)."""
    with store.read() as uow:
        dates = [s.snapshot_date for s in uow.snapshots.all()]
    if not dates:
        return []
    start, end = min(dates).replace(day=1), max(dates)
    end = min(end, until) if until is not None else end
    return flows(store, start, end, "month") if end >= start else []


def of_registry(
    found: Sequence[Flow], registry: str, until: dt.date | None = None
) -> list[RegistryFlow]:
    """The inflow and outflow of ``registry`` by the other registry, in period order (moves
    with an unknown end left out), periods starting after ``until`` left out."""
    out = []
    for f in found:
        if until is not None and f.period > until:
            continue
        if f.to_registry == registry and f.from_registry not in ("", registry):
            direction: Literal["in", "out"] = "in"
            other = f.from_registry
        elif f.from_registry == registry and f.to_registry not in ("", registry):
            direction, other = "out", f.to_registry
        else:
            continue
        out.append(RegistryFlow(f.period, direction, other, **f.moved_json()))
    out.sort(key=lambda r: (r.period, r.direction, r.other))
    return out
