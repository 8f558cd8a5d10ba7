"""The space each country's holders hold per registry and type; the names, codes and
look-ups of countries themselves are :mod:`rirport.present.countries` (re-exported here for
the pages)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rirport.domain.enums import REGISTRIES, RESOURCE_TYPES, STATUSES, ResourceType
from rirport.domain.table import DelegationTable
from rirport.present.countries import (
    country_name,
    find_country,
    known,
    numeric,
    suggest,
)

__all__ = ["country_name", "find_country", "known", "numeric", "suggest"]

DELEGATED = np.array([s.delegated for s in STATUSES])


@dataclass(frozen=True)
class SpaceRow:
    """Delegated space of one country at one registry, of one type."""

    cc: str
    registry: str
    type: ResourceType
    records: int
    amount: int
    """Addresses (IPv4), /48s (IPv6), AS numbers."""

    def to_json(self) -> dict[str, Any]:
        return {
            "cc": self.cc,
            "registry": self.registry,
            "type": self.type.value,
            "records": self.records,
            "amount": self.amount,
        }


def amounts(table: DelegationTable) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Each row's amount: addresses (IPv4), /48s (IPv6; 0 for longer prefixes), AS numbers."""
    value = table.value.astype(np.int64)
    v6 = table.type == RESOURCE_TYPES.index(ResourceType.IPV6)
    out = value.copy()
    lengths = np.clip(value[v6], 0, 48)
    out[v6] = np.where(value[v6] <= 48, np.left_shift(np.int64(1), 48 - lengths), 0)
    return out


def space_by_country(table: DelegationTable) -> list[SpaceRow]:
    """Delegated (allocated or assigned) space per country, registry and type."""
    mask = DELEGATED[table.status]
    cc = table.cc[mask]
    reg = table.registry[mask].astype(np.int64)
    rtype = table.type[mask].astype(np.int64)
    amount = amounts(table)[mask]
    codes, inverse = np.unique(cc, return_inverse=True)
    key = inverse.astype(np.int64) * 64 + reg * 4 + rtype
    uniq, where = np.unique(key, return_inverse=True)
    records = np.bincount(where)
    sums = np.bincount(where, weights=amount.astype(np.float64))
    rows = []
    for k, n, total in zip(uniq.tolist(), records.tolist(), sums.tolist(), strict=True):
        rows.append(
            SpaceRow(
                codes[k // 64].decode()
                if isinstance(codes[k // 64], bytes)
                else str(codes[k // 64]),
                REGISTRIES[k // 4 % 16].value,
                RESOURCE_TYPES[k % 4],
                int(n),
                round(total),
            )
        )
    return rows
