"""Output for people: amounts with their unit, resources as prefixes or ranges, country names.

Machine formats (JSON, NDJSON, CSV) keep the statistics files' numbers; the table and text
output the CLI prints for people goes through these functions, so an IPv6 amount reads as
"583 /32s" rather than a 33-digit integer and an IPv4 block as ``8.128.0.0/10`` rather than
``8.128.0.0/4194304``.
"""

from __future__ import annotations

import ipaddress
import re

_48 = 1 << 80
_32 = 1 << 96


def amount(rtype: str, count: int) -> str:
    """An amount of numbers with its unit: addresses, AS numbers, or IPv6 in /32s (or /48s
    when less than a /32)."""
    if rtype == "ipv6":
        if count >= _32:
            whole, part = divmod(count, _32)
            return f"{whole:,} /32s" if not part else f"{count / _32:,.2f} /32s"
        if count % _48 == 0:
            return f"{count // _48:,} /48s"
        return f"{count:,} addresses"
    if rtype == "asn":
        return f"{count:,} ASNs"
    return f"{count:,} addresses"


def resource(rtype: str, start: str, value: int) -> str:
    """A statistics record's resource as people write it: ``8.128.0.0/10``, a range
    ``1.2.3.0-1.2.3.191`` when the count is not one CIDR block, ``2001:db8::/32``,
    ``AS3333`` or ``AS3333-AS3340``."""
    if rtype == "ipv6":
        return f"{start}/{value}"
    if rtype == "asn":
        asn = int(start)
        return f"AS{asn}" if value == 1 else f"AS{asn}-AS{asn + value - 1}"
    first = ipaddress.IPv4Address(start)
    last = ipaddress.IPv4Address(int(first) + value - 1)
    nets = list(ipaddress.summarize_address_range(first, last))
    return str(nets[0]) if len(nets) == 1 else f"{first}-{last}"


def country(code: str | None) -> str:
    """A country code with its name beside it (``NL (Netherlands)``); unknown codes as they
    are."""
    if not code:
        return ""
    from rirport.present.countries import country_name  # reads the ISO 3166-1 names on first use

    name = country_name(code.upper())
    return f"{code} ({name})" if name != code.upper() else code


_TIER_COMMENT = re.compile(r"[ \t]*<!--.*?-->[ \t]*\n?", re.DOTALL)


def strip_comments(markdown: str) -> str:
    """Markdown without its HTML comments (the ``<!-- tier -->`` markers are for the web
    pages, not for a terminal)."""
    return _TIER_COMMENT.sub("", markdown)
