"""One registry's figures for its page: what it holds now (by type and status), its space
by type and status over time (from the versions, :mod:`rirport.query.series`), how its
files' record counts moved across every stored snapshot, its top countries and holders."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np

from rirport.domain.enums import REGISTRIES, RESOURCE_TYPES, STATUSES, Registry, ResourceType
from rirport.domain.table import DelegationTable
from rirport.query.countries import DELEGATED, amounts
from rirport.query.series import Metric, Versions, points, series
from rirport.query.stats import StatsRow, compute_stats
from rirport.store.unit import Store

CHART_POINTS = 60
"""At most this many dates in a registry's series: every date its figures can change on
(its files' dates, its transfers') while they are fewer, else the first of each month (or
year) and the newest date."""
SPACE_METRICS: tuple[tuple[ResourceType, Metric, str], ...] = (
    (ResourceType.IPV4, "addresses", "addresses"),
    (ResourceType.IPV6, "prefixes", "prefixes"),
    (ResourceType.ASN, "asns", "AS numbers"),
)
"""What a type's space is counted in: IPv4 addresses, IPv6 prefixes (records), AS numbers."""
UNITS = {rtype: unit for rtype, _metric, unit in SPACE_METRICS}


@dataclass(frozen=True)
class SnapshotCount:
    """The record count of one type in one stored file (its summary line)."""

    date: dt.date
    file: str
    type: str
    records: int


@dataclass(frozen=True)
class HolderTotal:
    opaque_id: str
    type: ResourceType
    records: int
    amount: int
    cc: str


@dataclass(frozen=True)
class SpacePoint:
    """A registry's space of one type and status on one date (in :data:`UNITS`)."""

    date: dt.date
    type: ResourceType
    status: str
    amount: int

    def to_json(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "type": self.type.value,
            "status": self.status,
            "amount": self.amount,
            "unit": UNITS[self.type],
        }


def chart_dates(
    versions: Versions, registry: Registry, until: dt.date | None = None, limit: int = CHART_POINTS
) -> list[dt.date]:
    """The dates ``registry``'s series is drawn on, up to ``until``: its stored files' dates
    and the dates its transfers took effect (a series only changes on those), or, past
    ``limit`` of them, the first of every month (every year) from the oldest, and the
    newest."""
    code = REGISTRIES.index(registry)
    mine = versions.registry == code
    days = [versions.snapshot_day[versions.snapshot_registry == code]]
    days.append(versions.shown_from[mine & (versions.shown_from > 0)])
    ended = versions.shown_until[mine]
    days.append(ended[ended < np.iinfo(np.int32).max - 1] + 1)
    epoch = dt.date(1970, 1, 1)
    found = sorted({epoch + dt.timedelta(days=int(d)) for d in np.concatenate(days).tolist()})
    if until is not None:
        found = [d for d in found if d <= until]
    if len(found) <= limit:
        return found
    first, last = found[0].replace(day=1), found[-1]
    for step in ("month", "year"):
        chosen = points(first, last, step)
        if len(chosen) < limit or step == "year":
            return chosen if chosen[-1] == last else [*chosen, last]
    raise AssertionError("unreachable")


def space_over_time(versions: Versions, registry: Registry, at: list[dt.date]) -> list[SpacePoint]:
    """``registry``'s space by type and status on each date of ``at`` (every status a type
    has on any date shows on every date, zeros included, so a chart's lines do not skip)."""
    out: list[SpacePoint] = []
    for rtype, metric, _unit in SPACE_METRICS:
        found = series(versions, metric, "status", at, registry=registry, types=(rtype,))
        for g, status in enumerate(found.groups):
            values = found.values[g].tolist()
            if not any(values):
                continue
            out.extend(
                SpacePoint(day, rtype, status, int(v)) for day, v in zip(at, values, strict=True)
            )
    out.sort(key=lambda p: (p.type.value, p.date, p.status))
    return out


def wide(points: list[SpacePoint]) -> tuple[list[str], list[tuple[Any, ...]]]:
    """``points`` one row per (type, date): ``(date, type, amount per status…, unit)``, the
    statuses (in :data:`STATUSES` order) any type has; None where a type never has one."""
    present = {p.status for p in points}
    statuses: list[str] = [s.value for s in STATUSES if s.value in present]
    cells: dict[tuple[ResourceType, dt.date], dict[str, int]] = {}
    for p in points:
        cells.setdefault((p.type, p.date), {})[p.status] = p.amount
    rows = [
        (day.isoformat(), rtype.value, *(got.get(s) for s in statuses), UNITS[rtype])
        for (rtype, day), got in cells.items()
    ]
    return statuses, rows


def registry_stats(table: DelegationTable, registry: Registry) -> list[StatsRow]:
    return [r for r in compute_stats(table) if r.registry == registry.value]


def snapshot_counts(store: Store, registry: Registry) -> list[SnapshotCount]:
    """Records per type in each stored file of ``registry``, oldest first (from the
    files' own summary lines, so no file is parsed again)."""
    with store.read() as uow:
        snaps = [s for s in uow.snapshots.all() if s.registry == registry.value]
    out = []
    for snap in sorted(snaps, key=lambda s: (s.snapshot_date, s.id)):
        for rtype, count in snap.summary:  # [[type, records], ...] from the file's summary
            out.append(SnapshotCount(snap.snapshot_date, snap.file_name, str(rtype), int(count)))
    return out


def top_holders(
    table: DelegationTable, registry: Registry, rtype: ResourceType, limit: int = 10
) -> list[HolderTotal]:
    """The holders (opaque ids) of ``registry`` holding the most of ``rtype``."""
    mask = (
        DELEGATED[table.status]
        & (table.registry == REGISTRIES.index(registry))
        & (table.type == RESOURCE_TYPES.index(rtype))
        & table.has_opaque
    )
    ids = table.opaque_id[mask]
    if not len(ids):
        return []
    amount = amounts(table)[mask]
    cc = table.cc[mask]
    codes, first, where = np.unique(ids, return_index=True, return_inverse=True)
    sums = np.bincount(where, weights=amount.astype(np.float64))
    counts = np.bincount(where)
    best = np.argsort(-sums, kind="stable")[:limit]
    return [
        HolderTotal(_text(codes[k]), rtype, int(counts[k]), round(sums[k]), _text(cc[first[k]]))
        for k in best.tolist()
        if _text(codes[k])
    ]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
