"""Time series over the stored history: addresses, prefixes, AS numbers or holders per
registry, country or status, on every step (day, month, year) between two dates.

Computed from the versions and their validity intervals, never by re-reading snapshots: a
version is counted on the point ``t`` of a series when it is valid in its registry's newest
snapshot on or before ``t`` (the snapshot an as-of view of ``t`` shows), so a series point
equals ``rirport stats --as-of t`` summed the same way. Rows a transfer added count from the
transfer's date, rows it retired until the day before (as :func:`rirport.query.view.load_as_of`
shows them).

All versions of the store are held as a few numpy columns (:class:`Versions`, loaded once
per data generation, cached beside the views), and one series is a few ``searchsorted``
calls and one ``bincount`` over them, whatever the number of steps: each version's points
form one run of consecutive steps, so a difference array summed once gives every step.
Distinct holders need a union of runs per (group, holder) first (one sort).

What is counted:

* ``addresses``: IPv4 addresses; ``prefixes``: IPv4 and IPv6 records (each line of the
  files, a block or a prefix); ``asns``: AS numbers; ``holders``: distinct opaque-ids;
* by ``registry`` or ``country``: delegated space (allocated and assigned) only; by
  ``status``: every status, so available and reserved space shows too.

Web pages chart it through :func:`series` (with :func:`load_versions`, or
``Served.derived("versions", …)`` on a server) and :meth:`Series.to_json`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import uuid
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from rirport.domain.enums import REGISTRIES, STATUSES, Registry, ResourceType, Status
from rirport.domain.table import REGISTRY_CODE, STATUS_CODE, TYPE_CODE
from rirport.errors import InputError, StorageError
from rirport.formats.statsfile import read_record_lines
from rirport.store.unit import Store, UnitOfWork

Metric = Literal["addresses", "prefixes", "asns", "holders"]
By = Literal["registry", "country", "status"]
Step = Literal["day", "month", "year"]
METRICS: tuple[Metric, ...] = ("addresses", "prefixes", "asns", "holders")
GROUPINGS: tuple[By, ...] = ("registry", "country", "status")
STEPS: tuple[Step, ...] = ("day", "month", "year")
MAX_POINTS = 100_000
"""A series longer than this (about 270 years of days) is refused: the answer would be huge."""
CACHE_FORMAT = 1
_NEVER = np.int32(2**31 - 1)
_DELEGATED = (STATUS_CODE[Status.ALLOCATED], STATUS_CODE[Status.ASSIGNED])
I32 = npt.NDArray[np.int32]


@dataclass(frozen=True, eq=False)
class Versions:
    """Every stored version as columns (one entry per row of ``delegation``).

    Dates are days since 1970-01-01. ``shown_from``/``shown_until`` bound the dates a
    version is shown on for transfers (a row a transfer added is shown from the transfer's
    date, a row it retired until the day before; otherwise 0 and "never")."""

    registry: npt.NDArray[np.uint8]
    type: npt.NDArray[np.uint8]
    status: npt.NDArray[np.uint8]
    cc: npt.NDArray[np.bytes_]
    value: npt.NDArray[np.int64]
    holder: npt.NDArray[np.int32]
    """Index of the opaque-id in ``holders`` (-1: none)."""
    valid_from: I32
    valid_to: I32
    shown_from: I32
    shown_until: I32
    holders: npt.NDArray[np.bytes_]
    snapshot_registry: npt.NDArray[np.uint8]
    snapshot_day: I32
    """Every stored snapshot: its registry and date (where a series point looks)."""

    def __len__(self) -> int:
        return len(self.registry)

    @classmethod
    def concat(cls, parts: Sequence[Versions]) -> Versions:
        """Versions of several registries as one (holder indexes renumbered)."""
        holders, codes = np.unique(
            np.concatenate([p.holders for p in parts] or [np.zeros(0, "S1")]), return_inverse=True
        )
        offsets = np.cumsum([0] + [len(p.holders) for p in parts])
        out: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "holders":
                out[f.name] = holders
            elif f.name == "holder":
                out[f.name] = np.concatenate(
                    [
                        np.where(p.holder >= 0, codes[p.holder + offsets[k]], -1).astype(np.int32)
                        for k, p in enumerate(parts)
                    ]
                    or [np.zeros(0, np.int32)]
                )
            else:
                out[f.name] = np.concatenate([getattr(p, f.name) for p in parts])
        return cls(**out)


@dataclass(frozen=True)
class Series:
    """One value per (group, point): ``values[g][k]`` is group ``groups[g]`` on
    ``points[k]``."""

    metric: Metric
    by: By
    step: Step
    points: list[dt.date]
    groups: list[str]
    values: npt.NDArray[np.int64]

    def rows(self) -> list[dict[str, Any]]:
        """Long form, one row per point and group (what CSV and tables print); groups with
        nothing on a point are left out."""
        out = []
        for k, day in enumerate(self.points):
            for g, name in enumerate(self.groups):
                value = int(self.values[g, k])
                if value:
                    out.append({"date": day.isoformat(), self.by: name, self.metric: value})
        return out

    def to_json(self) -> dict[str, Any]:
        """Wide form for charts: the dates once, one array of values per group."""
        return {
            "metric": self.metric,
            "by": self.by,
            "step": self.step,
            "points": [d.isoformat() for d in self.points],
            "series": {name: self.values[g].tolist() for g, name in enumerate(self.groups)},
        }


# -- the steps --------------------------------------------------------------------------------
def points(start: dt.date, end: dt.date, step: Step) -> list[dt.date]:
    """``start``, then every ``step`` after it up to ``end`` (months keep the day of the
    month, the last day of a shorter month standing in).

    Raises:
        InputError: ``end`` before ``start``, an unknown step, or too many points.
    """
    if step not in STEPS:
        raise InputError(f"step: {step!r} is not one of {', '.join(STEPS)}")
    if end < start:
        raise InputError(f"to: {end} is before from ({start})")
    span = (end - start).days
    count = {"day": span, "month": span // 28, "year": span // 365}[step] + 1
    if count > MAX_POINTS:
        raise InputError(f"{count} points from {start} to {end} by {step}: at most {MAX_POINTS}")
    if step == "day":
        return [start + dt.timedelta(days=k) for k in range(span + 1)]
    out: list[dt.date] = []
    k = 0
    while True:
        months = k if step == "month" else 12 * k
        day = _add_months(start, months)
        if day > end:
            return out
        out.append(day)
        k += 1


def _add_months(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(d, day.day))
        except ValueError:
            continue
    raise AssertionError("unreachable")


# -- the computation ------------------------------------------------------------------------
def series(
    versions: Versions,
    metric: Metric,
    by: By,
    at: Sequence[dt.date],
    step: Step = "day",
    *,
    registry: Registry | None = None,
    types: Sequence[ResourceType] = (),
) -> Series:
    """The ``metric`` per ``by`` group on each date of ``at`` (ascending); only the versions
    of ``registry`` and of ``types`` when given (``prefixes`` of IPv6 alone: IPv6 prefixes).

    Raises:
        InputError: an unknown metric or grouping.
    """
    if metric not in METRICS:
        raise InputError(f"metric: {metric!r} is not one of {', '.join(METRICS)}")
    if by not in GROUPINGS:
        raise InputError(f"by: {by!r} is not one of {', '.join(GROUPINGS)}")
    days = np.array([(d - dt.date(1970, 1, 1)).days for d in at], dtype=np.int32)
    rows, value = _counted(versions, metric, by, registry, types)
    every_first, every_last = _all_runs(versions, days)
    first, last = every_first[rows], every_last[rows]
    keep = first <= last
    rows, first, last, value = rows[keep], first[keep], last[keep], value[keep]
    if metric == "holders":
        wanted = np.zeros(len(versions), bool)
        wanted[rows] = True
        order = _holder_order(versions, days)
        rows = order[wanted[order]]  # by holder, then first point
        names, group = _groups(versions, rows, by)
        regroup = np.argsort(group, kind="stable")  # by group, holder, first point
        rows, group = rows[regroup], group[regroup]
        group, first, last = _holder_runs(
            group, versions.holder[rows], every_first[rows], every_last[rows]
        )
        value = np.ones(len(group), np.int64)
    else:
        names, group = _groups(versions, rows, by)
    values = _sum_runs(group, first, last, value, len(names), len(days))
    return Series(metric, by, step, list(at), names, values)


def _counted(
    versions: Versions,
    metric: Metric,
    by: By,
    registry: Registry | None = None,
    types: Sequence[ResourceType] = (),
) -> tuple[npt.NDArray[np.int64], Any]:
    """The rows the metric counts (of ``registry`` and ``types`` when given) and what each
    adds."""
    v = versions
    if metric == "addresses":
        mask = v.type == TYPE_CODE[ResourceType.IPV4]
    elif metric == "prefixes":
        mask = v.type != TYPE_CODE[ResourceType.ASN]
    elif metric == "asns":
        mask = v.type == TYPE_CODE[ResourceType.ASN]
    else:
        mask = v.holder >= 0
    if by != "status":
        mask &= np.isin(v.status, _DELEGATED)
    if registry is not None:
        mask &= v.registry == REGISTRY_CODE[registry]
    if types:
        mask &= np.isin(v.type, [TYPE_CODE[t] for t in types])
    rows = np.flatnonzero(mask)
    value = v.value[rows] if metric in ("addresses", "asns") else np.ones(len(rows), np.int64)
    return rows, value


_RUNS: weakref.WeakKeyDictionary[Versions, dict[str, Any]] = weakref.WeakKeyDictionary()


def _memo(versions: Versions, days: I32) -> dict[str, Any]:
    """What is worked out once for these versions and points (the last points asked: a
    page charting several metrics over one span computes it once)."""
    key = days.tobytes()
    found = _RUNS.get(versions)
    if found is None or found["key"] != key:
        found = _RUNS[versions] = {"key": key}
    return found


def _all_runs(versions: Versions, days: I32) -> tuple[I32, I32]:
    """:func:`_runs` of every row."""
    memo = _memo(versions, days)
    if "runs" not in memo:
        memo["runs"] = _runs(versions, np.arange(len(versions), dtype=np.int64), days)
    runs: tuple[I32, I32] = memo["runs"]
    return runs


def _holder_order(versions: Versions, days: I32) -> npt.NDArray[np.int64]:
    """The rows with a holder and a run, sorted by holder, then first point (one sort; each
    grouping then only regroups, a stable radix sort of small codes)."""
    memo = _memo(versions, days)
    if "holders" not in memo:
        first, last = _all_runs(versions, days)
        rows = np.flatnonzero((versions.holder >= 0) & (first <= last))
        width = np.int64(len(days) + 1)
        key = versions.holder[rows].astype(np.int64) * width + first[rows]
        memo["holders"] = rows[np.argsort(key, kind="stable")]
    order: npt.NDArray[np.int64] = memo["holders"]
    return order


def _runs(versions: Versions, rows: npt.NDArray[np.int64], days: I32) -> tuple[I32, I32]:
    """Per row, the first and last point it is counted on (first > last: none).

    Per registry, the point's snapshot is its newest one on or before the point's date; a
    version is counted where ``valid_from <= snapshot <= valid_to`` (consecutive points, the
    snapshot dates never going back) and its transfer dates allow."""
    v = versions
    first = np.zeros(len(rows), np.int32)
    last = np.full(len(rows), -1, np.int32)
    reg = v.registry[rows]
    for code in np.unique(reg).tolist():
        mine = np.flatnonzero(reg == code)
        dated = np.sort(v.snapshot_day[v.snapshot_registry == code])
        at = np.searchsorted(dated, days, side="right") - 1
        shown = np.where(at >= 0, dated[np.maximum(at, 0)], -(2**31)).astype(np.int64)
        r = rows[mine]
        lo = np.searchsorted(shown, v.valid_from[r], side="left")
        hi = np.searchsorted(shown, v.valid_to[r], side="right") - 1
        lo = np.maximum(lo, np.searchsorted(days, v.shown_from[r], side="left"))
        hi = np.minimum(hi, np.searchsorted(days, v.shown_until[r], side="right") - 1)
        first[mine], last[mine] = lo, hi
    return first, last


def _groups(
    versions: Versions, rows: npt.NDArray[np.int64], by: By
) -> tuple[list[str], npt.NDArray[np.int64]]:
    """The names of the groups present and each row's group (countries as the two bytes of
    their code read as one number: a bincount, not a sort of strings)."""
    codes: npt.NDArray[Any]
    if by == "country":
        pairs = np.frombuffer(np.ascontiguousarray(versions.cc, "S2").tobytes(), "<u2")
        codes = pairs[rows]
    else:
        codes = (versions.registry if by == "registry" else versions.status)[rows]
    size = 1 << 16 if by == "country" else 256
    used = np.flatnonzero(np.bincount(codes, minlength=size))
    remap = np.zeros(size, np.int64)
    remap[used] = np.arange(len(used))
    return [_name(by, int(c)) for c in used], remap[codes]


def _name(by: By, code: int) -> str:
    if by == "registry":
        return REGISTRIES[code].value
    if by == "status":
        return STATUSES[code].value
    return code.to_bytes(2, "little").rstrip(b"\0").decode("ascii", "replace") or "-"


def _holder_runs(
    group: npt.NDArray[np.int64], holder: I32, first: I32, last: I32
) -> tuple[npt.NDArray[np.int64], I32, I32]:
    """The union of each (group, holder)'s runs: a holder with several records counts once.

    Given sorted by group, holder, then start: a run opens where its start is past every
    earlier end of the pair plus one; the running maximum of ends is taken over
    ``pair * width + end`` so it never carries from one pair into the next."""
    if not len(group):
        return group, first, last
    pair = group * (int(holder.max()) + 1) + holder
    width = np.int64(int(last.max()) + 2)
    ends = np.maximum.accumulate(pair * width + last)
    prev_end = np.empty_like(ends)
    prev_end[0] = -1
    prev_end[1:] = ends[:-1]
    opens = np.ones(len(pair), bool)
    opens[1:] = (pair[1:] != pair[:-1]) | (pair[1:] * width + first[1:] > prev_end[1:] + 1)
    starts = np.flatnonzero(opens)
    closing = np.append(starts[1:] - 1, len(pair) - 1)
    run_last = (ends[closing] - pair[closing] * width).astype(np.int32)
    return group[starts], first[starts], run_last


def _sum_runs(
    group: npt.NDArray[np.int64], first: I32, last: I32, value: Any, groups: int, count: int
) -> npt.NDArray[np.int64]:
    """Values summed over runs: +value where a run starts, -value after it ends, then a
    cumulative sum along the points (integers well below 2**53, exact in float64)."""
    width = count + 1
    weights = np.asarray(value, dtype=np.float64)
    diff = np.bincount(group * width + first, weights, groups * width)
    diff -= np.bincount(group * width + last + 1, weights, groups * width)
    out = np.cumsum(diff.reshape(groups, width)[:, :count], axis=1)
    return np.rint(out).astype(np.int64)


# -- reading the versions -----------------------------------------------------------------------
def load_versions(store: Store, cache_dir: Path | None = None) -> Versions:
    """Every version of the store as columns, from the cache when it matches the store's data
    generation (one file per generation, replaced by the next).

    Raises:
        StorageError: a stored record no longer parses (the store was edited by hand).
    """
    with store.read() as uow:
        generation = uow.meta.data_generation()
        cache = _cache_file(cache_dir, store, generation)
        if cache is not None and cache.exists():
            try:
                return _read_cache(cache)
            except (OSError, ValueError, KeyError):
                cache.unlink(missing_ok=True)
        versions = read_versions(uow)
    if cache is not None:
        _write_cache(cache, versions)
    return versions


def read_versions(uow: UnitOfWork) -> Versions:
    """Every version, read and parsed registry by registry."""
    dates = {t.updated_serial: _day(t.transfer_date) for t in uow.transfers.all(("completed",))}
    snaps = uow.snapshots.all()
    parts = [_registry_versions(uow, r.value, dates) for r in REGISTRIES]
    joined = Versions.concat([p for p in parts if p is not None] or [_empty()])
    return _with_snapshots(
        joined,
        np.array([REGISTRY_CODE[_reg(s.registry)] for s in snaps], np.uint8),
        np.array([_day(s.snapshot_date) for s in snaps], np.int32),
    )


def _registry_versions(uow: UnitOfWork, registry: str, dates: dict[int, int]) -> Versions | None:
    rows = uow.delegations.version_columns(registry)
    if not rows:
        return None
    valid_from, valid_to, added, retired, records = zip(*rows, strict=True)
    table, errors = read_record_lines(list(records), registry, f"{registry} versions")
    if errors:
        raise StorageError(f"stored records no longer parse: {errors[0]}")
    order = table.line - 1  # rows the reader kept, in input order by line
    holders, holder = np.unique(table.opaque_id, return_inverse=True)
    codes = np.where(table.has_opaque & (table.opaque_id != b""), holder, -1).astype(np.int32)
    return Versions(
        registry=table.registry,
        type=table.type,
        status=table.status,
        cc=table.cc,
        value=table.value,
        holder=codes,
        valid_from=_days(valid_from)[order],
        valid_to=_days(valid_to)[order],
        shown_from=np.array([dates.get(s, 0) if s else 0 for s in added], np.int32)[order],
        shown_until=np.array([dates.get(s, 0) - 1 if s else _NEVER for s in retired], np.int32)[
            order
        ],
        holders=holders,
        snapshot_registry=np.zeros(0, np.uint8),
        snapshot_day=np.zeros(0, np.int32),
    )


def _with_snapshots(v: Versions, registry: npt.NDArray[np.uint8], day: I32) -> Versions:
    values = {f.name: getattr(v, f.name) for f in fields(v)}
    return Versions(**{**values, "snapshot_registry": registry, "snapshot_day": day})


def _empty() -> Versions:
    z8, z32 = np.zeros(0, np.uint8), np.zeros(0, np.int32)
    return Versions(
        z8, z8, z8, np.zeros(0, "S2"), np.zeros(0, np.int64), z32, z32, z32, z32, z32,
        np.zeros(0, "S1"), z8, z32,
    )  # fmt: skip


def _reg(name: str) -> Any:
    from rirport.domain.enums import Registry

    return Registry(name)


def _days(values: Sequence[Any]) -> I32:
    """Date column values (dates, or ISO text from SQLite) as days since the epoch."""
    text = np.array([str(v) if v is not None else "9999-12-31" for v in values], "datetime64[D]")
    return np.minimum(text.astype(np.int64), int(_NEVER)).astype(np.int32)


def _day(value: Any) -> int:
    return int(np.datetime64(str(value), "D").astype(np.int64))


def _cache_file(cache_dir: Path | None, store: Store, generation: int) -> Path | None:
    if cache_dir is None:
        return None
    tag = hashlib.sha256(store.identity.encode()).hexdigest()[:16]
    return cache_dir / f"versions-{tag}-g{generation}-v{CACHE_FORMAT}.npz"


def _write_cache(path: Path, versions: Versions) -> None:
    """Through a temporary file of this writer's own, then renamed (as the views are);
    older generations' files are removed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    stem = path.name.split("-g")[0]
    for old in path.parent.glob(stem + "-g*.npz"):
        if old != path:
            old.unlink(missing_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex}.tmp")
    try:
        with tmp.open("wb") as out:
            np.savez(out, **{f.name: getattr(versions, f.name) for f in fields(versions)})
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def _read_cache(path: Path) -> Versions:
    with np.load(path) as data:
        return Versions(**{f.name: data[f.name] for f in fields(Versions)})
