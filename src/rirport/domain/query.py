"""What a lookup asks for: an address, a prefix or range, an AS number or range, or a holder.

Accepted spellings (case-insensitive where letters appear)::

    193.0.0.1   2001:db8::1          one address
    193.0.0.0/21   2001:db8::/32     a prefix (host bits must be zero)
    193.0.0.0-193.0.7.255            an address range
    AS3333   as3333   3333           one AS number (a bare number is an AS number)
    AS3333-AS3340   3333-3340        an AS-number range
    holder:ID   ripencc:ID           a holder's opaque-id (in one registry with its name)

Anything else is a :class:`~rirport.errors.QueryError` that lists these forms: a bare word is
never taken for an opaque-id, so ``hello`` or a misspelt ``ripenc:ID`` cannot answer "no
match" as if it had been looked up.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from rirport.domain.enums import Registry
from rirport.domain.resources import ResourceRange
from rirport.errors import QueryError

ACCEPTED = (
    "an address (193.0.0.1, 2001:db8::1), a prefix (193.0.0.0/21), an address range "
    "(193.0.0.0-193.0.7.255), an AS number or range (AS3333, 3333, AS3333-AS3340), or a "
    "holder as holder:ID or <registry>:ID (registry one of "
    + ", ".join(r.value for r in Registry)
    + ")"
)
"""What a query may be, for error messages."""

# ASCII digits only: int() would read other scripts' digits ("١٢٣" or "１２３") as AS numbers
_ASN = re.compile(r"(?ia)(?:as)?(\d+)")
_ASN_RANGE = re.compile(r"(?ia)(?:as)?(\d+)\s*-\s*(?:as)?(\d+)")


@dataclass(frozen=True)
class Query:
    """A parsed lookup query."""

    text: str
    resource: ResourceRange | None = None
    holder: str | None = None
    registry: Registry | None = None

    @property
    def kind(self) -> str:
        if self.holder is not None:
            return "holder"
        assert self.resource is not None
        if self.resource.type.value == "asn":
            return "asn"
        return "address" if self.resource.size == 1 else "range"


def parse_query(text: str) -> Query:
    """Read one query.

    Raises:
        QueryError: empty; shaped like an address/prefix/ASN but invalid (for example
            ``10.0.0.1/24`` with host bits set, or ``AS99999999999``); or none of the
            accepted forms (the message lists them).
    """
    raw = text.strip()
    if not raw:
        raise QueryError("empty query")
    lowered = raw.lower()
    if lowered.startswith("holder:"):
        return _holder(raw, raw[7:], None)
    head, sep, tail = raw.partition(":")
    if sep and not _looks_ipv6(raw):
        try:
            registry = Registry.parse(head)
        except ValueError:
            raise QueryError(f"{raw!r}: {head.strip()!r} is not a registry; {_EXPECTED}") from None
        return _holder(raw, tail, registry)
    try:
        return _numbers(raw)
    except ValueError as exc:
        if _looks_numeric(raw):
            raise QueryError(f"{raw!r}: {exc}") from None
    raise QueryError(f"{raw!r} is not a query; {_EXPECTED}")


def parse_resource(text: str) -> ResourceRange:
    """An address, prefix, range or AS number (not a holder).

    Raises:
        QueryError: anything else.
    """
    query = parse_query(text)
    if query.resource is None:
        raise QueryError(f"{text.strip()!r} is not an address, prefix, range or AS number")
    return query.resource


_EXPECTED = f"expected {ACCEPTED}"


def _numbers(raw: str) -> Query:
    if m := _ASN.fullmatch(raw):
        return Query(raw, ResourceRange.asn(int(m.group(1))))
    if m := _ASN_RANGE.fullmatch(raw):
        first, last = int(m.group(1)), int(m.group(2))
        if last < first:
            raise ValueError("range ends before it starts")
        return Query(raw, ResourceRange.asn(first, last))
    if "/" in raw:
        try:
            return Query(raw, ResourceRange.from_network(raw))
        except ValueError as exc:
            raise ValueError(f"not a prefix ({exc})") from None
    if "-" in raw:
        left, right = (p.strip() for p in raw.split("-", 1))
        a, b = ResourceRange.from_address(left), ResourceRange.from_address(right)
        if a.type != b.type:
            raise ValueError("range mixes IPv4 and IPv6")
        if b.first < a.first:
            raise ValueError("range ends before it starts")
        return Query(raw, ResourceRange(a.type, a.first, b.last))
    return Query(raw, ResourceRange.from_address(raw))


def _holder(raw: str, opaque_id: str, registry: Registry | None) -> Query:
    opaque_id = opaque_id.strip()
    if not opaque_id or "|" in opaque_id:
        raise QueryError(f"{raw!r} is not a usable opaque-id")
    return Query(raw, holder=opaque_id, registry=registry)


def _looks_ipv6(raw: str) -> bool:
    return raw.count(":") >= 2


def _looks_numeric(raw: str) -> bool:
    """Shaped like an address, prefix or ASN, so a failure is an error, not a holder id."""
    if _looks_ipv6(raw) or "/" in raw:
        return True
    if re.fullmatch(r"(?ia)(as)?[\d.\s-]+(as)?[\d.\s]*", raw):
        return True
    try:
        ipaddress.ip_address(raw.split("-")[0].strip())
    except ValueError:
        return False
    return True
