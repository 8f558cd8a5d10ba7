"""IANA's allocations to the RIRs as the read side has them: the stored copy of each
source, else the copy bundled with the package (``rirport/data/iana``, see PROVENANCE.md), so
the cross-registry check works on a fresh store. Every answer says which copy it used.
Ingesting a newer IANA file is :mod:`rirport.services.registry.iana`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib.resources import files
from typing import Any, Literal

from rirport.domain.enums import Registry
from rirport.domain.iana import ASN_BOOTSTRAP, IPV4_SPACE, IPV6_UNICAST, IanaBlock
from rirport.domain.resources import ResourceRange
from rirport.formats.iana import read_iana
from rirport.store.keys import number_of
from rirport.store.repos.iana import IanaRow
from rirport.store.unit import Store

Origin = Literal["stored", "bundled"]

#: Source → file name under ``rirport/data/iana``.
BUNDLED_FILES: dict[str, str] = {
    IPV4_SPACE: "ipv4-address-space.csv",
    IPV6_UNICAST: "ipv6-unicast-address-assignments.csv",
    ASN_BOOTSTRAP: "asn.json",
}


@dataclass(frozen=True)
class IanaOrigin:
    """Where the blocks of one source came from."""

    source: str
    origin: Origin
    file_name: str
    sha256: str | None
    """Of the stored file; None for a bundled copy (PROVENANCE.md lists theirs)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "origin": self.origin,
            "file": self.file_name,
            "sha256": self.sha256,
        }


class IanaBlocks(list[IanaBlock]):
    """The blocks of every source, and for each source whether they are stored or bundled.

    A list, so it goes wherever a ``list[IanaBlock]`` does (such as the integrity check).
    """

    def __init__(self, blocks: list[IanaBlock], origins: dict[str, IanaOrigin]) -> None:
        super().__init__(blocks)
        self.origins = origins


def load_iana(store: Store) -> IanaBlocks:
    """Stored blocks of each stored source, bundled blocks of the sources not stored."""
    with store.read() as uow:
        rows = uow.iana.blocks()
        stored = uow.iana.sources()
        names = uow.iana.file_names()
    blocks = [from_row(r) for r in rows]
    origins = {s: IanaOrigin(s, "stored", names.get(s, ""), sha) for s, sha in stored.items()}
    for source, file_name in BUNDLED_FILES.items():
        if source not in stored:
            blocks += bundled_iana(source)
            origins[source] = IanaOrigin(source, "bundled", file_name, None)
    return IanaBlocks(blocks, dict(sorted(origins.items())))


@functools.cache
def bundled_iana(source: str) -> tuple[IanaBlock, ...]:
    """The blocks of the copy of ``source`` shipped with the package (read once).

    Raises:
        KeyError: no copy of that source is bundled.
    """
    file_name = BUNDLED_FILES[source]
    data = files("rirport").joinpath("data").joinpath("iana").joinpath(file_name).read_bytes()
    return tuple(read_iana(data, f"rirport/data/iana/{file_name}"))


def from_row(row: IanaRow) -> IanaBlock:
    rtype, first = number_of(row.lo)
    _, last = number_of(row.hi)
    return IanaBlock(
        source=row.source,
        resource=ResourceRange(rtype, first, last),
        prefix=row.prefix,
        designation=row.designation,
        registry=Registry(row.registry) if row.registry else None,
        status=row.status,
        date=row.date,
        note=row.note,
    )


__all__ = [
    "BUNDLED_FILES",
    "IanaBlocks",
    "IanaOrigin",
    "bundled_iana",
    "from_row",
    "load_iana",
]
