"""RDAP bootstrap files (RFC 9224) generated from the registry as it is now.

IANA's own files map each /8 (or IPv6 block, or AS-number block) to the RIR IANA gave it to,
so a block that moved to another RIR (an inter-RIR transfer), an early registration (ERX) or
legacy space another RIR administers is sent to the wrong server. Here every delegation held
by a registry other than the IANA block's owner is listed as its own, more specific entry
carved out of the IANA block, merged with its neighbours of the same registry: no two
entries overlap, so clients that take the longest match and clients that expect IANA's
disjoint ranges both find the registry that holds the numbers now.

Each registry's URL is its configured base URL in redirect mode, else this server's own
``/rdap/`` (one endpoint answers for all five; the files then tell clients that).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import numpy as np

from rirport.domain.enums import REGISTRIES, Registry, ResourceType, Status
from rirport.domain.iana import SOURCES_BY_TYPE, IanaBlock
from rirport.domain.resources import ResourceRange, merge_ranges
from rirport.domain.table import REGISTRY_CODE, STATUS_CODE, TYPE_CODE
from rirport.query.live import Served

FILES = {
    "ipv4.json": ResourceType.IPV4,
    "ipv6.json": ResourceType.IPV6,
    "asn.json": ResourceType.ASN,
}
DELEGATED = [STATUS_CODE[Status.ALLOCATED], STATUS_CODE[Status.ASSIGNED]]


def bootstrap_file(
    served: Served, rtype: ResourceType, urls: Mapping[Registry, str]
) -> dict[str, Any]:
    """The IANA-format file for one resource type; ``urls`` has every registry's base."""
    return bootstrap_body(served, rtype, registry_entries(served, rtype), urls)


def registry_entries(served: Served, rtype: ResourceType) -> dict[Registry, list[str]]:
    """Per registry, the entries of its service (the costly part: about a second for IPv4
    on the 2018 files). It names no URL, so one computation per generation serves every
    request whatever its ``Host`` (a cache keyed by URL would grow with each new ``Host``)."""
    blocks = iana_blocks(served.iana, rtype)
    return {
        registry: [e for r in ranges for e in _entries(r)]
        for registry, ranges in registry_ranges(served, rtype, blocks).items()
        if ranges
    }


def bootstrap_body(
    served: Served,
    rtype: ResourceType,
    entries: Mapping[Registry, list[str]],
    urls: Mapping[Registry, str],
) -> dict[str, Any]:
    """The file from :func:`registry_entries` and the registries' URLs (cheap)."""
    return {
        "version": "1.0",
        "publication": _now(),
        "description": f"rirport: {rtype.value} as the five registries hold it at store "
        f"generation {served.generation}, transfers included",
        "services": [[list(found), [urls[registry]]] for registry, found in entries.items()],
    }


def dns_file(urls: Mapping[Registry, str]) -> dict[str, Any]:
    """``dns.json``: rirport serves no domains, but clients (whoisit's ``bootstrap()``) fetch
    all five files and refuse one without ``publication`` or services. One service names the
    reserved ``invalid`` TLD (RFC 2606: never a real domain) at this server, whose
    ``domain/`` answers 501: a valid file that sends no real domain here."""
    own = sorted(set(urls.values()))
    return {
        "version": "1.0",
        "publication": _now(),
        "description": "rirport serves no domains: only the reserved TLD invalid is listed",
        "services": [[["invalid"], own[:1]]],
    }


def object_tags(urls: Mapping[Registry, str]) -> dict[str, Any]:
    """``object-tags.json`` (RFC 8521): entity handles end with ``-<REGISTRY>``."""
    return {
        "version": "1.0",
        "publication": _now(),
        "description": "rirport: entity handles are <opaque-id>-<REGISTRY>",
        "services": [[["rirport"], [r.value.upper()], [urls[r]]] for r in REGISTRIES],
    }


def iana_blocks(blocks: list[IanaBlock], rtype: ResourceType) -> list[IanaBlock]:
    """The blocks of the richest IANA source of this type that some RIR holds."""
    for source in SOURCES_BY_TYPE[rtype]:
        chosen = [b for b in blocks if b.source == source and b.resource.type is rtype]
        if chosen:
            return sorted(
                (b for b in chosen if b.registry is not None), key=lambda b: b.resource.first
            )
    return []


def registry_ranges(
    served: Served, rtype: ResourceType, blocks: list[IanaBlock]
) -> dict[Registry, list[ResourceRange]]:
    """Per registry, ranges that never overlap another registry's: its IANA blocks with the
    delegations other registries hold in them carved out, and those delegations.

    Non-overlapping on purpose: RFC 9224 clients should take the longest match, but some
    (20c ``rdap``'s AS-number tree) assume IANA's disjoint ranges.
    """
    exceptions = _exceptions(served, rtype, blocks)
    carved = sorted((r.first, r.last) for ranges in exceptions.values() for r in ranges)
    starts = [first for first, _ in carved]
    out: dict[Registry, list[ResourceRange]] = {r: [] for r in REGISTRIES}
    for block in blocks:
        assert block.registry is not None
        remaining = [block.resource]
        i = max(bisect.bisect_right(starts, block.resource.first) - 1, 0)
        while i < len(carved) and carved[i][0] <= block.resource.last:
            hole = ResourceRange(rtype, *carved[i])
            remaining = [part for r in remaining for part in r.subtract(hole)]
            i += 1
        out[block.registry] += remaining
    for registry, ranges in exceptions.items():
        out[registry] += ranges
    return {r: merge_ranges(v) for r, v in out.items()}


def _exceptions(
    served: Served, rtype: ResourceType, blocks: list[IanaBlock]
) -> dict[Registry, list[ResourceRange]]:
    t = served.view.table
    rows = np.flatnonzero((t.type == TYPE_CODE[rtype]) & np.isin(t.status, DELEGATED))
    keys = t.first_hi[rows] if rtype is ResourceType.IPV6 else t.first_lo[rows]
    shift = 64 if rtype is ResourceType.IPV6 else 0
    starts = np.array([b.resource.first >> shift for b in blocks], np.uint64)
    ends = np.array([b.resource.last >> shift for b in blocks], np.uint64)
    owners = np.array([REGISTRY_CODE[b.registry] for b in blocks if b.registry], np.int64)
    if not blocks:
        block_of = np.full(len(rows), -1, np.int64)
    else:
        idx = np.searchsorted(starts, keys, side="right") - 1
        safe = np.maximum(idx, 0)
        block_of = np.where((idx >= 0) & (keys <= ends[safe]), idx, -1)
    owner = np.where(block_of >= 0, owners[np.maximum(block_of, 0)] if len(blocks) else -1, -1)
    moved = owner != t.registry[rows].astype(np.int64)
    grouped: dict[tuple[int, int], list[ResourceRange]] = defaultdict(list)
    for row, block in zip(rows[moved].tolist(), block_of[moved].tolist(), strict=True):
        grouped[(int(t.registry[row]), block)].append(
            ResourceRange(rtype, t.first_int(row), t.last_int(row))
        )
    out: dict[Registry, list[ResourceRange]] = defaultdict(list)
    for (code, _block), ranges in grouped.items():
        out[REGISTRIES[code]] += merge_ranges(ranges)
    return out


def _entries(r: ResourceRange) -> list[str]:
    if r.type is ResourceType.ASN:
        return [f"{r.first}-{r.last}"]
    return [str(c) for c in r.to_cidrs()]


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
