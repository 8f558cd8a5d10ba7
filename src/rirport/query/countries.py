"""Countries as the statistics files name them (ISO 3166 alpha-2 codes, plus the RIRs' own
``EU``, ``AP`` and ``ZZ``), their names and numeric codes (from ``pycountry``, the Debian iso-codes
data), and the space each country's holders hold per registry and type.

A name is resolved exactly (code, common, official or ISO name, case-insensitive); a near
miss is left to :func:`suggest` (what the search page offers), never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pycountry

from rirport.domain.enums import REGISTRIES, RESOURCE_TYPES, STATUSES, ResourceType
from rirport.domain.table import DelegationTable

SPECIAL = {
    "EU": "European Union (a RIPE NCC code)",
    "AP": "Asia-Pacific (an APNIC code)",
    "ZZ": "Unknown or unstated",
}
DELEGATED = np.array([s.delegated for s in STATUSES])


@cache
def _names() -> dict[str, str]:
    """Lower-case spellings → alpha-2 code."""
    out: dict[str, str] = {}
    for c in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(c, attr, None)
            if value:
                out.setdefault(value.lower(), c.alpha_2)
    for code, name in SPECIAL.items():
        out.setdefault(name.lower(), code)
    return out


def country_name(cc: str) -> str:
    """The country's common name (the code itself when no name is known)."""
    if cc in SPECIAL:
        return SPECIAL[cc]
    found = pycountry.countries.get(alpha_2=cc) if len(cc) == 2 else None
    if found is None:
        return cc or "none"
    return str(getattr(found, "common_name", None) or found.name)


def numeric(cc: str) -> str | None:
    """ISO 3166-1 numeric code (``ZA`` → ``710``): how world maps name countries."""
    found = pycountry.countries.get(alpha_2=cc) if len(cc) == 2 else None
    return None if found is None else str(found.numeric)


def known(cc: str) -> bool:
    return cc in SPECIAL or (len(cc) == 2 and pycountry.countries.get(alpha_2=cc) is not None)


def find_country(text: str) -> str | None:
    """The alpha-2 code ``text`` names exactly (a code or a name), else None."""
    cleaned = text.strip()
    if len(cleaned) == 2 and cleaned.isalpha() and known(cleaned.upper()):
        return cleaned.upper()
    return _names().get(cleaned.lower())


def suggest(text: str, limit: int = 5) -> list[str]:
    """Codes of countries whose name starts with (then contains) ``text``."""
    needle = text.strip().lower()
    if len(needle) < 2:
        return []
    names = _names()
    starts = [code for name, code in names.items() if name.startswith(needle)]
    inside = [code for name, code in names.items() if needle in name and code not in starts]
    return list(dict.fromkeys(starts + inside))[:limit]


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
