"""Counts per registry, type and status over the current view."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rirport.domain.enums import REGISTRIES, RESOURCE_TYPES, STATUSES, ResourceType
from rirport.domain.table import DelegationTable


@dataclass(frozen=True)
class StatsRow:
    registry: str
    type: ResourceType
    status: str
    records: int
    amount: int
    """IPv4 addresses, AS numbers, or IPv6 addresses."""

    def to_json(self) -> dict[str, Any]:
        """``addresses`` for IPv4, ``asns`` for ASNs; IPv6 gives ``prefixes`` (one per
        record) and the exact number of ``addresses``."""
        body: dict[str, Any] = {
            "registry": self.registry,
            "type": self.type.value,
            "status": self.status,
            "records": self.records,
        }
        if self.type is ResourceType.IPV4:
            body["addresses"] = self.amount
        elif self.type is ResourceType.ASN:
            body["asns"] = self.amount
        else:
            body["prefixes"] = self.records
            body["addresses"] = self.amount
        return body


def compute_stats(table: DelegationTable) -> list[StatsRow]:
    """One row per (registry, type, status) present, in that order."""
    rows = []
    group = (
        table.registry.astype(np.int64) * 16
        + table.type.astype(np.int64) * 4
        + table.status.astype(np.int64)
    )
    for key in np.flatnonzero(np.bincount(group)).tolist():
        mask = group == key
        registry, rtype, status = key // 16, key // 4 % 4, key % 4
        rows.append(
            StatsRow(
                REGISTRIES[registry].value,
                RESOURCE_TYPES[rtype],
                STATUSES[status].value,
                int(mask.sum()),
                _amount(table, mask, RESOURCE_TYPES[rtype]),
            )
        )
    return rows


def _amount(table: DelegationTable, mask: np.ndarray[Any, Any], rtype: ResourceType) -> int:
    if rtype is ResourceType.IPV6:
        # exact: sum of 2**(128 - prefix length), grouped by length to stay in Python ints
        counts = np.bincount(table.value[mask], minlength=129)
        return sum(int(c) << (128 - n) for n, c in enumerate(counts.tolist()) if c)
    return int(table.value[mask].sum())
