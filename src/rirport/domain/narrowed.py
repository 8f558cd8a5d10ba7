"""The events diff of an appended file, over only the rows that can take part in an event.

A new file shares nearly all of its records with the previous one (the head state's match
says which, :mod:`rirport.store.head`). An unchanged record whose range overlaps no other row
of either file pairs with itself alone in :func:`~rirport.domain.events.diff`: one to one,
every attribute equal, no event; a cross-registry pair with it is never a move (its own
registry lists the overlap on both sides). Leaving such records out leaves every event as it
was and makes the diff cost what the day changed rather than what the registry holds. Kept:
the changed rows and every unchanged row overlapping another row of the new file or a row of
the old file that the new one lacks (IPv6 compared on the upper 64 bits: a superset).

What the diff reads off the whole files is given back to it: each registry's file (events
name both files), whether every IPv6 range sits on /64 boundaries (the unit a ``part``
counts in), and for the renumbering rule the distinct ids on records that stayed. The rows
left out all stayed with their ids, so they bound that count from below: when the changed ids
are at most half of it the registry does not renumber. Otherwise (a renumbering, when nearly
every row changed anyway) the whole files are diffed.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rirport.domain.enums import RESOURCE_TYPES, ResourceType
from rirport.domain.events import (
    _DELEGATED,
    Event,
    Side,
    _aligned,
    _find_renaming,
    _Renaming,
    diff,
    side_events,
)
from rirport.domain.table import TYPE_CODE, Bools, DelegationTable

I64 = npt.NDArray[np.int64]
Files = Sequence[tuple[str, DelegationTable]]
_IPV6 = TYPE_CODE[ResourceType.IPV6]
#: Left-out ids counted first when bounding the stayed ids (all of them only if too few).
_FIRST_IDS = 4096


@dataclass(frozen=True)
class Previous:
    """A registry's previous file as an append rebuilds it from the new one: the new file's
    rows ``kept`` (its records the previous file had, in that order), then the rows ``gone``
    (the previous file's records the new one lacks)."""

    new: DelegationTable
    kept: I64
    gone: DelegationTable

    @functools.cached_property
    def table(self) -> DelegationTable:
        """The previous file's rows (kept, then gone)."""
        return DelegationTable.concat([self.new.take(self.kept), self.gone])


@dataclass(frozen=True)
class Narrowed:
    """The delegated rows of a previous and a new file that can take part in an event (each
    in its file's order), and the new file's delegated rows left out (unchanged, alone)."""

    previous: Previous
    old: DelegationTable
    new: DelegationTable
    left_out: I64


def narrow(previous: Previous) -> Narrowed:
    """The rows of both files that :func:`diff_narrowed` needs (see the module's note)."""
    new, kept, gone = previous.new, previous.kept, previous.gone
    delegated = np.isin(new.status, _DELEGATED)
    gone = gone.take(np.isin(gone.status, _DELEGATED))
    unchanged = np.zeros(len(new), bool)
    unchanged[kept] = True
    alone = unchanged & delegated & ~_touched(new, delegated, gone)
    wanted = delegated & ~alone
    old = DelegationTable.concat([new.take(kept[wanted[kept]]), gone])
    return Narrowed(previous, old, new.take(np.flatnonzero(wanted)), np.flatnonzero(alone))


def diff_narrowed(
    narrowed: Narrowed, names: tuple[str, str], old_others: Files, new_others: Files
) -> list[Event]:
    """``diff([(names[0], previous.table), *old_others], [(names[1], previous.new),
    *new_others])``, the same events in the same order, from the narrowed rows."""
    full, left = narrowed.previous, narrowed.left_out
    old = [(names[0], narrowed.old), *old_others]
    new = [(names[1], narrowed.new), *new_others]
    left_registries = full.new.registry[left]
    a = Side.of(old, _registry_files(old, left_registries))
    b = Side.of(new, _registry_files(new, left_registries))
    renaming = _find_renaming(a, b)
    if not _settle(renaming, full.new, left):
        return diff([(names[0], full.table), *old_others], [(names[1], full.new), *new_others])
    ipv6 = left[full.new.type[left] == _IPV6]
    return side_events(a, b, renaming, _aligned(full.new, ipv6))


def _touched(new: DelegationTable, delegated: Bools, gone: DelegationTable) -> Bools:
    """Delegated rows of ``new`` overlapping another of them or a row of ``gone`` (the rows
    taken in the table's kept order by first number: the gone ranges, a few, are searched
    in them, not every row in the gone ranges)."""
    hit = np.zeros(len(new), bool)
    for code in range(len(RESOURCE_TYPES)):
        ordered = new.first_order(code)
        rows = ordered[delegated[ordered]]
        first, last = _keys(new, rows, code)
        hit[rows[_overlaps_another(first, last)]] = True
        lost = np.flatnonzero(gone.type == code)
        hit[rows[_reaching(first, last, *_keys(gone, lost, code))]] = True
    return hit


def _reaching(
    first: npt.NDArray[np.uint64],
    last: npt.NDArray[np.uint64],
    lo: npt.NDArray[np.uint64],
    hi: npt.NDArray[np.uint64],
) -> I64:
    """Positions of the ranges ``first..last`` (sorted by first) sharing a number with one
    of ``lo..hi``: for each of those, the run of ranges starting at or before its end and
    not all ending before its start (a running maximum of the ends), checked one by one."""
    if not len(lo) or not len(first):
        return np.zeros(0, np.int64)
    reach = np.maximum.accumulate(last)
    starts = np.searchsorted(reach, lo, side="left").tolist()
    ends = np.searchsorted(first, hi, side="right").tolist()
    found = [
        start + np.flatnonzero(last[start:end] >= low)
        for start, end, low in zip(starts, ends, lo.tolist(), strict=True)
        if start < end
    ]
    return np.concatenate(found).astype(np.int64) if found else np.zeros(0, np.int64)


def _keys(
    table: DelegationTable, rows: I64, code: int
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    """First and last keys, IPv6 by its upper 64 bits (ranges overlapping there may not)."""
    if code == _IPV6:
        return table.first_hi[rows], table.last_hi[rows]
    return table.first_lo[rows], table.last_lo[rows]


def _overlaps_another(first: npt.NDArray[np.uint64], last: npt.NDArray[np.uint64]) -> Bools:
    """Which ranges overlap some other range of the same arrays (sorted by first: one that
    starts before the furthest end so far, or ends at or after the next one's start)."""
    out = np.zeros(len(first), bool)
    if len(first) < 2:
        return out
    order = np.argsort(first, kind="stable")
    starts, ends = first[order], last[order]
    reach = np.maximum.accumulate(ends)
    hit = np.zeros(len(first), bool)
    hit[1:] = starts[1:] <= reach[:-1]
    hit[:-1] |= ends[:-1] >= starts[1:]
    out[order[hit]] = True
    return out


def _registry_files(files: Files, left: npt.NDArray[np.uint8]) -> dict[int, str]:
    """Each registry code's file as the whole files give it (the first with a delegated row
    of it): the first file's rows are narrowed, ``left`` the registries of those left out."""
    out: dict[int, str] = {}
    for k, (name, table) in enumerate(files):
        present = table.registry[np.isin(table.status, _DELEGATED)]
        if k == 0:
            present = np.concatenate([present, left])
        for code in np.flatnonzero(np.bincount(present, minlength=256)).tolist():
            out.setdefault(code, name)
    return out


def _settle(renaming: _Renaming, new: DelegationTable, left: I64) -> bool:
    """Drop from ``renaming`` the registries of the left-out rows (``left`` of ``new``) shown
    not to renumber (see the module's note); False when one may (only the whole files can
    say)."""
    registries = new.registry[left]
    for code in np.flatnonzero(np.bincount(registries, minlength=256)).tolist():
        ids = renaming.registries.get(code)
        if ids is None:
            continue
        mine = new.opaque_id[left[(registries == code) & new.has_opaque[left]]]
        need = 2 * ids.changed_ids
        if not (
            ids.stayed_ids >= need
            or len(set(mine[:_FIRST_IDS].tolist())) >= need
            or len(set(mine.tolist())) >= need
        ):
            return False
        del renaming.registries[code]
    return True
