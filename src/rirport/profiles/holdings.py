"""What every holder, registry and country holds, and where it could move, in one pass.

There are about 100,000 holders in the five current files, so nothing here asks the policy
engine one holder at a time: the delegated rows arrive grouped by registry and type (as the
portability matrix uses them, :class:`~rirport.policy.portability.Group`), the vectorised
engine decides every row for every target registry and regime once
(:func:`~rirport.policy.portability.row_outcomes`), and ``numpy.bincount`` sums the outcomes
per holder, registry and country. Building every profile is then string formatting.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rirport.domain.enums import REGISTRIES, RESOURCE_TYPES, Registry
from rirport.domain.table import DelegationTable
from rirport.policy.model import Regime
from rirport.policy.portability import Group, row_outcomes

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
NTYPES = len(RESOURCE_TYPES)
NREG = len(REGISTRIES)


@dataclass
class Moves:
    """For one regime: per holder, type and target registry, the amount that could move
    freely (``allowed``) and on conditions (``conditional``); shape (holders, types, targets).
    ``anywhere`` is per holder and type the amount with at least one registry to go to."""

    allowed: F64
    conditional: F64
    anywhere: F64


@dataclass
class Holdings:
    """Per-holder columns (holder ``h``, type ``t``): ``records[h, t]``, ``amount[h, t]``
    (addresses for IPv4, prefixes for IPv6, AS numbers), first and last delegation date
    (YYYYMMDD), the first table row (for its file and line), and its countries."""

    registry: npt.NDArray[np.int8]
    opaque: list[str]
    records: I64
    amount: F64
    first_date: npt.NDArray[np.int32]
    last_date: npt.NDArray[np.int32]
    first_row: I64
    countries: list[list[str]]
    moves: dict[str, Moves]
    rank: I64
    """Per holder and type, its place by amount among its registry's holders (1 = most)."""
    registry_amount: F64
    """(registries, types): delegated amount per registry, holders with an id or not."""
    registry_holders: I64
    """(registries,): distinct holders with an opaque-id."""
    registry_movable: dict[str, F64]
    """Per regime, (registries, types): amount with at least one registry to go to."""
    country_amount: dict[str, F64]
    """Per country code, (registries, types): delegated amount."""
    country_holders: dict[str, int]
    country_movable: dict[str, dict[str, F64]]
    """Per regime, per country, (types,): amount with at least one registry to go to."""

    def __len__(self) -> int:
        return len(self.opaque)

    def index(self) -> dict[tuple[Registry, str], int]:
        return {
            (REGISTRIES[int(r)], o): i
            for i, (r, o) in enumerate(zip(self.registry.tolist(), self.opaque, strict=True))
        }


def build(
    table: DelegationTable, groups: Sequence[Group], regimes: Sequence[Regime], as_of: dt.date
) -> Holdings:
    """Aggregate the grouped delegated rows (see module doc)."""
    rows = np.concatenate([g.rows for g in groups]) if groups else np.zeros(0, np.int64)
    codes = np.concatenate([g.holder for g in groups]) if groups else np.zeros(0, np.int64)
    amount = (
        np.concatenate([g.amount for g in groups]).astype(np.float64) if groups else np.zeros(0)
    )
    named = table.has_opaque[rows] & (table.opaque_id[rows] != b"")
    uniq, first, holder = np.unique(codes, return_index=True, return_inverse=True)
    holder = holder.reshape(-1)
    is_named = np.zeros(len(uniq), dtype=bool)
    is_named[holder[named]] = True
    dense = np.cumsum(is_named) - 1
    h = np.where(named, dense[holder], -1)
    count = int(is_named.sum())
    keep = h >= 0
    head_rows = rows[first[is_named]]
    types = table.type[rows].astype(np.int64)
    regs = table.registry[rows].astype(np.int64)
    flat = h[keep] * NTYPES + types[keep]
    size = count * NTYPES
    records = np.bincount(flat, minlength=size).reshape(count, NTYPES)
    summed = np.bincount(flat, weights=amount[keep], minlength=size).reshape(count, NTYPES)
    dates = table.date[rows[keep]]
    first_date = np.full(size, 99999999, dtype=np.int32)
    last_date = np.zeros(size, dtype=np.int32)
    np.minimum.at(first_date, flat, dates)
    np.maximum.at(last_date, flat, dates)
    first_row = np.full(count, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_row, h[keep], rows[keep])
    outcomes = {r.name: _outcomes(groups, r, as_of) for r in regimes}
    ccs = table.cc[rows].astype("U2")
    result = Holdings(
        registry=table.registry[head_rows].astype(np.int8),
        opaque=[o.decode("utf-8", "replace") for o in table.opaque_id[head_rows].tolist()],
        records=records,
        amount=summed.astype(np.float64),
        first_date=first_date.reshape(count, NTYPES),
        last_date=last_date.reshape(count, NTYPES),
        first_row=first_row,
        countries=_countries(h[keep], ccs[keep], count),
        moves={name: _moves(o, h, keep, types, amount, count) for name, o in outcomes.items()},
        rank=np.zeros((count, NTYPES), dtype=np.int64),
        registry_amount=_sum2(regs, types, amount, NREG),
        registry_holders=np.bincount(regs[keep][_firsts(h[keep])], minlength=NREG),
        registry_movable={},
        country_amount={},
        country_holders={},
        country_movable={},
    )
    result.rank = _ranks(result)
    for name, o in outcomes.items():
        movable = (o <= 1).any(axis=1)
        result.registry_movable[name] = _sum2(regs[movable], types[movable], amount[movable], NREG)
    _by_country(result, ccs, regs, types, amount, h, keep, outcomes)
    return result


def _outcomes(groups: Sequence[Group], regime: Regime, as_of: dt.date) -> npt.NDArray[np.int8]:
    """Outcome code per row (in group order) and target registry; 3 where the target is the
    row's own registry."""
    parts = []
    for group in groups:
        block = np.full((len(group), NREG), 3, dtype=np.int8)
        for t, target in enumerate(REGISTRIES):
            if target is not group.registry:
                block[:, t] = row_outcomes(group, regime, target, as_of)
        parts.append(block)
    return np.concatenate(parts) if parts else np.zeros((0, NREG), np.int8)


def _moves(
    outcomes: npt.NDArray[np.int8],
    h: I64,
    keep: npt.NDArray[np.bool_],
    types: I64,
    amount: F64,
    count: int,
) -> Moves:
    flat = h[keep] * NTYPES + types[keep]
    size = count * NTYPES
    allowed = np.zeros((count, NTYPES, NREG))
    conditional = np.zeros((count, NTYPES, NREG))
    for t in range(NREG):
        col = outcomes[keep, t]
        allowed[:, :, t] = np.bincount(
            flat, weights=amount[keep] * (col == 0), minlength=size
        ).reshape(count, NTYPES)
        conditional[:, :, t] = np.bincount(
            flat, weights=amount[keep] * (col == 1), minlength=size
        ).reshape(count, NTYPES)
    somewhere = (outcomes[keep] <= 1).any(axis=1)
    anywhere = np.bincount(flat, weights=amount[keep] * somewhere, minlength=size).reshape(
        count, NTYPES
    )
    return Moves(allowed, conditional, anywhere.astype(np.float64))


def _sum2(regs: I64, types: I64, amount: F64, nreg: int) -> F64:
    summed = np.bincount(regs * NTYPES + types, weights=amount, minlength=nreg * NTYPES)
    return summed.reshape(nreg, NTYPES).astype(np.float64)


def _firsts(codes: I64) -> I64:
    """Positions of the first occurrence of each distinct code."""
    _, first = np.unique(codes, return_index=True)
    return first


def _countries(h: I64, ccs: npt.NDArray[np.str_], count: int) -> list[list[str]]:
    codes, inverse = np.unique(ccs, return_inverse=True)
    pairs = np.unique(h * len(codes) + inverse.reshape(-1)) if len(codes) else h[:0]
    names = [str(c) or "--" for c in codes.tolist()]
    result: list[list[str]] = [[] for _ in range(count)]
    for pair in pairs.tolist():
        result[pair // len(codes)].append(names[pair % len(codes)])
    return result


def _ranks(holdings: Holdings) -> I64:
    """Rank by amount within each registry and type (1 = the largest holder)."""
    ranks = np.zeros(holdings.amount.shape, dtype=np.int64)
    for t in range(NTYPES):
        order = np.lexsort((-holdings.amount[:, t], holdings.registry))
        reg = holdings.registry[order]
        starts = np.flatnonzero(np.concatenate(([True], reg[1:] != reg[:-1])))
        position = np.arange(len(order)) - np.repeat(
            starts, np.diff(np.concatenate((starts, [len(order)])))
        )
        ranks[order, t] = position + 1
    return ranks


def _by_country(
    result: Holdings,
    ccs: npt.NDArray[np.str_],
    regs: I64,
    types: I64,
    amount: F64,
    h: I64,
    keep: npt.NDArray[np.bool_],
    outcomes: dict[str, npt.NDArray[np.int8]],
) -> None:
    countries, inverse = np.unique(ccs, return_inverse=True)
    inverse = inverse.reshape(-1)
    n = len(countries)
    table = np.bincount(
        (inverse * NREG + regs) * NTYPES + types, weights=amount, minlength=n * NREG * NTYPES
    ).reshape(n, NREG, NTYPES)
    pairs = (
        np.unique(np.stack([inverse[keep], h[keep]]), axis=1)
        if keep.any()
        else np.zeros((2, 0), np.int64)
    )
    holders = np.bincount(pairs[0], minlength=n)
    for name, o in outcomes.items():
        movable = (o <= 1).any(axis=1)
        per = np.bincount(
            inverse * NTYPES + types, weights=amount * movable, minlength=n * NTYPES
        ).reshape(n, NTYPES)
        result.country_movable[name] = {(str(c) or "--"): per[i] for i, c in enumerate(countries)}
    for i, cc in enumerate(countries.tolist()):
        key = cc or "--"
        result.country_amount[key] = table[i]
        result.country_holders[key] = int(holders[i])
