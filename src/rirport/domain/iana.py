"""IANA's registries of number resources: which blocks it gave to which RIR, as values.

IANA publishes the top level of the number-resource tree: the IPv4 /8s
(``ipv4-address-space``), the IPv6 unicast blocks (``ipv6-unicast-address-assignments``), and,
through the RDAP bootstrap files (RFC 9224), which RIR answers for each AS-number or address
block. The cross-registry check compares every RIR record with these blocks, so a block keeps
the RIR it belongs to as a :class:`~rirport.domain.enums.Registry` (or None for IANA's own,
reserved and special-purpose space) next to the text IANA wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rirport.domain.enums import Registry, ResourceType
from rirport.domain.resources import ResourceRange

#: Source names: the IANA registry (or RDAP bootstrap file) a block was read from.
IPV4_SPACE = "ipv4-address-space"
IPV6_UNICAST = "ipv6-unicast-address-assignments"
ASN_BOOTSTRAP = "asn-bootstrap"
IPV4_BOOTSTRAP = "ipv4-bootstrap"
IPV6_BOOTSTRAP = "ipv6-bootstrap"

#: Per resource type, the sources that can describe it, the richest first: the registries
#: carry LEGACY and RESERVED status, the bootstrap files only which RIR serves a block.
SOURCES_BY_TYPE: dict[ResourceType, tuple[str, ...]] = {
    ResourceType.IPV4: (IPV4_SPACE, IPV4_BOOTSTRAP),
    ResourceType.IPV6: (IPV6_UNICAST, IPV6_BOOTSTRAP),
    ResourceType.ASN: (ASN_BOOTSTRAP,),
}

#: Status words of IANA's registries (footnote 1 of ``ipv4-address-space``). The RDAP
#: bootstrap files have no status; their blocks are read as ALLOCATED.
ALLOCATED = "ALLOCATED"
LEGACY = "LEGACY"
RESERVED = "RESERVED"
UNALLOCATED = "UNALLOCATED"
IANA_STATUSES: tuple[str, ...] = (ALLOCATED, LEGACY, RESERVED, UNALLOCATED)


@dataclass(frozen=True, slots=True)
class IanaBlock:
    """One row of an IANA registry: a block, who IANA gave it to, and in what status.

    ``registry`` is the RIR IANA allocated the block to or that administers it (LEGACY space
    held by an organisation is administered by the RIR whose WHOIS serves it); None for IANA's
    own, reserved, multicast and special-purpose space.
    """

    source: str
    resource: ResourceRange
    prefix: str
    """The block as IANA wrote it (``003/8``, ``2001:0200::/23``, ``1-1876``)."""
    designation: str
    registry: Registry | None
    status: str
    date: str | None = None
    """``YYYY-MM`` or ``YYYY-MM-DD`` as written; None when IANA gives none."""
    note: str | None = None

    @property
    def rir_space(self) -> bool:
        """True when the block belongs to an RIR (allocated to it, or legacy it administers)."""
        return self.registry is not None and self.status in (ALLOCATED, LEGACY)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "prefix": self.prefix,
            "resource": str(self.resource),
            "designation": self.designation,
            "registry": self.registry.value if self.registry else None,
            "status": self.status,
            "date": self.date,
            "note": self.note,
        }
