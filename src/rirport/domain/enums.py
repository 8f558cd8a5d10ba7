"""Closed vocabularies of the statistics exchange format, as str-valued enums."""

from __future__ import annotations

from enum import StrEnum


class Registry(StrEnum):
    """A Regional Internet Registry, spelled as in the statistics files."""

    AFRINIC = "afrinic"
    APNIC = "apnic"
    ARIN = "arin"
    LACNIC = "lacnic"
    RIPENCC = "ripencc"

    @property
    def label(self) -> str:
        """The name people write ("RIPE NCC", not "ripencc")."""
        return _LABELS[self]

    @classmethod
    def parse(cls, text: str) -> Registry:
        """Accept ``ripencc``, ``RIPE NCC``, ``ripe``, ``RIPE_NCC`` and the like.

        Raises:
            ValueError: the text names no RIR.
        """
        key = text.strip().lower().replace(" ", "").replace("_", "").replace("-", "")
        key = _ALIASES.get(key, key)
        try:
            return cls(key)
        except ValueError:
            names = ", ".join(r.value for r in cls)
            raise ValueError(f"unknown registry {text!r} (expected one of {names})") from None


_LABELS = {
    Registry.AFRINIC: "AFRINIC",
    Registry.APNIC: "APNIC",
    Registry.ARIN: "ARIN",
    Registry.LACNIC: "LACNIC",
    Registry.RIPENCC: "RIPE NCC",
}
_ALIASES = {"ripe": "ripencc", "ripencc": "ripencc"}

#: Registries in a fixed order; array codes in the vectorised tables are indexes into this.
REGISTRIES: tuple[Registry, ...] = tuple(Registry)


class ResourceType(StrEnum):
    """The three kinds of Internet number resource."""

    ASN = "asn"
    IPV4 = "ipv4"
    IPV6 = "ipv6"


RESOURCE_TYPES: tuple[ResourceType, ...] = tuple(ResourceType)


class Status(StrEnum):
    """Record status in a statistics file.

    ``available`` and ``reserved`` appear only in extended files.
    """

    ALLOCATED = "allocated"
    ASSIGNED = "assigned"
    AVAILABLE = "available"
    RESERVED = "reserved"

    @property
    def delegated(self) -> bool:
        """True when the resource is in a holder's hands (allocated or assigned)."""
        return self in (Status.ALLOCATED, Status.ASSIGNED)


STATUSES: tuple[Status, ...] = tuple(Status)
