"""Number resources as values: inclusive integer ranges of IPv4, IPv6 or AS numbers.

The statistics files give IPv4 as start + count (often not a power of two), IPv6 as a prefix
and ASNs as start + count. All three become a :class:`ResourceRange` of ``first..last``
inclusive, which makes containment, overlap, splitting and CIDR conversion one piece of
arithmetic instead of three.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from rirport.domain.enums import ResourceType

#: Number of bits of each resource type's number space.
BITS = {ResourceType.IPV4: 32, ResourceType.IPV6: 128, ResourceType.ASN: 32}

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True, order=True)
class ResourceRange:
    """An inclusive range ``first..last`` of one resource type.

    Ordered by (type, first, last), so sorting a list of ranges sorts them by address.

    Raises:
        ValueError: on construction, when the range is empty or leaves the number space.
    """

    type: ResourceType
    first: int
    last: int

    def __post_init__(self) -> None:
        top = (1 << BITS[self.type]) - 1
        if not 0 <= self.first <= self.last <= top:
            raise ValueError(
                f"invalid {self.type.value} range {self.first}..{self.last} (space 0..{top})"
            )

    # -- construction -------------------------------------------------------------------
    @classmethod
    def from_start_value(cls, rtype: ResourceType, start: str, value: int) -> ResourceRange:
        """Build from a statistics record's ``start`` and ``value`` fields.

        ``value`` is a count for IPv4 and ASNs and a prefix length for IPv6.

        Raises:
            ValueError: bad address, zero count, bad prefix length or misaligned prefix.
        """
        if rtype is ResourceType.IPV6:
            _refuse_scope(start)
            net = ipaddress.IPv6Network(f"{start}/{value}", strict=True)
            return cls(rtype, int(net.network_address), int(net.broadcast_address))
        if value < 1:
            raise ValueError(f"count must be at least 1, not {value}")
        first = int(ipaddress.IPv4Address(start)) if rtype is ResourceType.IPV4 else int(start)
        return cls(rtype, first, first + value - 1)

    @classmethod
    def from_network(cls, network: str | IPNetwork) -> ResourceRange:
        """Build from a CIDR prefix such as ``193.0.0.0/21`` (host bits must be zero).

        Raises:
            ValueError: not a valid prefix (a scoped IPv6 prefix such as ``fe80::%eth0/64``
                included: a scope names an interface, not numbers).
        """
        if isinstance(network, str):
            _refuse_scope(network)
        net = ipaddress.ip_network(network, strict=True)
        if isinstance(net, ipaddress.IPv6Network) and net.network_address.scope_id:
            raise ValueError(f"{network!r}: scoped IPv6 prefixes are not number resources")
        rtype = ResourceType.IPV4 if net.version == 4 else ResourceType.IPV6
        return cls(rtype, int(net.network_address), int(net.broadcast_address))

    @classmethod
    def from_address(cls, address: str) -> ResourceRange:
        """The one-address range of an IPv4 or IPv6 address.

        Raises:
            ValueError: not an address (scoped IPv6 addresses such as ``fe80::1%eth0`` included).
        """
        number = _dotted_quad(address)
        if number is not None:
            return cls(ResourceType.IPV4, number, number)
        _refuse_scope(address)
        addr = ipaddress.ip_address(address)
        rtype = ResourceType.IPV4 if addr.version == 4 else ResourceType.IPV6
        return cls(rtype, int(addr), int(addr))

    @classmethod
    def asn(cls, first: int, last: int | None = None) -> ResourceRange:
        """An AS number or AS-number range."""
        return cls(ResourceType.ASN, first, first if last is None else last)

    # -- measures -----------------------------------------------------------------------
    @property
    def size(self) -> int:
        """Number of addresses or AS numbers in the range."""
        return self.last - self.first + 1

    @property
    def is_ip(self) -> bool:
        return self.type is not ResourceType.ASN

    @property
    def prefix_length(self) -> int | None:
        """The prefix length if the range is exactly one CIDR block, else None."""
        if not self.is_ip:
            return None
        size = self.size
        if size & (size - 1) or self.first % size:
            return None
        return BITS[self.type] - (size.bit_length() - 1)

    # -- text ---------------------------------------------------------------------------
    def start_text(self) -> str:
        """The first number as the statistics files write it."""
        return _number_text(self.type, self.first)

    def end_text(self) -> str:
        return _number_text(self.type, self.last)

    def __str__(self) -> str:
        plen = self.prefix_length
        if plen is not None:
            return f"{self.start_text()}/{plen}"
        if self.type is ResourceType.ASN:
            return f"AS{self.first}" if self.size == 1 else f"AS{self.first}-AS{self.last}"
        return f"{self.start_text()}-{self.end_text()}"

    # -- relations ----------------------------------------------------------------------
    def contains(self, other: ResourceRange) -> bool:
        """True when ``other`` lies wholly inside this range (same type)."""
        return self.type == other.type and self.first <= other.first and other.last <= self.last

    def overlaps(self, other: ResourceRange) -> bool:
        """True when the two ranges share at least one number (same type)."""
        return self.type == other.type and self.first <= other.last and other.first <= self.last

    def intersection(self, other: ResourceRange) -> ResourceRange | None:
        if not self.overlaps(other):
            return None
        return ResourceRange(self.type, max(self.first, other.first), min(self.last, other.last))

    def subtract(self, other: ResourceRange) -> list[ResourceRange]:
        """What remains of this range once ``other`` is taken out (0, 1 or 2 ranges)."""
        if not self.overlaps(other):
            return [self]
        parts = []
        if self.first < other.first:
            parts.append(ResourceRange(self.type, self.first, other.first - 1))
        if other.last < self.last:
            parts.append(ResourceRange(self.type, other.last + 1, self.last))
        return parts

    # -- CIDR ---------------------------------------------------------------------------
    def to_cidrs(self) -> list[IPNetwork]:
        """The shortest list of CIDR prefixes that covers exactly this range, in order.

        Raises:
            ValueError: AS numbers have no prefixes.
        """
        if not self.is_ip:
            raise ValueError("AS-number ranges have no CIDR form")
        bits = BITS[self.type]
        make = ipaddress.IPv4Network if self.type is ResourceType.IPV4 else ipaddress.IPv6Network
        return [make((start, bits - block)) for start, block in _cidr_blocks(self.first, self.last)]

    def to_stats_records(self) -> list[tuple[str, int]]:
        """(start, value) pairs as statistics records would list this range.

        IPv4 and ASN ranges are one record each; an IPv6 range becomes one record per prefix.
        """
        if self.type is ResourceType.IPV6:
            return [(str(n.network_address), n.prefixlen) for n in self.to_cidrs()]
        return [(self.start_text(), self.size)]


def relation(found: ResourceRange, query: ResourceRange) -> str:
    """How a found range relates to a queried one.

    ``exact`` (the same numbers), ``covering`` (found contains the query), ``covered`` (found
    lies inside the query) or ``overlaps`` (they share some numbers only).

    Raises:
        ValueError: the ranges are of different types or share no numbers (none of the four
            names would be true).
    """
    if found.type != query.type:
        raise ValueError(f"cannot relate {found} and {query}: different types")
    if not found.overlaps(query):
        raise ValueError(f"cannot relate {found} and {query}: they share no numbers")
    if found.first == query.first and found.last == query.last:
        return "exact"
    if found.contains(query):
        return "covering"
    if query.contains(found):
        return "covered"
    return "overlaps"


def _cidr_blocks(first: int, last: int) -> Iterator[tuple[int, int]]:
    """Yield (start, log2 size) of the largest aligned blocks covering first..last."""
    while first <= last:
        align = (first & -first).bit_length() - 1 if first else 128
        fit = (last - first + 1).bit_length() - 1
        block = min(align, fit)
        yield first, block
        first += 1 << block


def merge_ranges(ranges: Iterable[ResourceRange]) -> list[ResourceRange]:
    """Join overlapping or adjacent ranges of the same type; result sorted."""
    merged: list[ResourceRange] = []
    for rng in sorted(ranges):
        if merged and merged[-1].type == rng.type and rng.first <= merged[-1].last + 1:
            if rng.last > merged[-1].last:
                merged[-1] = ResourceRange(rng.type, merged[-1].first, rng.last)
        else:
            merged.append(rng)
    return merged


_OCTET = r"(0|[1-9][0-9]{0,2})"
_DOTTED_QUAD = re.compile(rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}")


def _dotted_quad(text: str) -> int | None:
    """The number of a plain IPv4 address as ``ipaddress`` reads it (four decimal octets, no
    leading zeros), or None for anything else, which ``ipaddress`` then reads or refuses.
    Several times faster: an RDAP ``ip/`` lookup spent a fifth of its time in ``ipaddress``
    (one compiled pattern: a loop over the octets cost as much again)."""
    found = _DOTTED_QUAD.fullmatch(text)
    if found is None:
        return None
    a, b, c, d = map(int, found.groups())
    if a > 255 or b > 255 or c > 255 or d > 255:
        return None
    return a << 24 | b << 16 | c << 8 | d


def _refuse_scope(text: str) -> None:
    """``ipaddress`` accepts ``%scope`` suffixes on IPv6 text and drops them from the number."""
    if "%" in text:
        raise ValueError(f"{text!r}: scoped IPv6 addresses are not number resources")


def _number_text(rtype: ResourceType, number: int) -> str:
    if rtype is ResourceType.IPV4:
        return str(ipaddress.IPv4Address(number))
    if rtype is ResourceType.IPV6:
        return str(ipaddress.IPv6Address(number))
    return str(number)
