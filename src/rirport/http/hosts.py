"""Which ``Host`` a request may name, and the base URL its links are built on.

Links in RDAP answers (``self``, ``rdap-up`` …, the bootstrap files' service URLs) must not
echo whatever a client put in ``Host``: ``Host: a b`` would give ``http://a b/rdap/…``, and a
cache keyed by it grows with every new value. So links come from configuration — the
``--public-url`` when set, else the request's ``Host`` only when it is a well-formed host
(RFC 9110 §7.2: a name or an IP literal, with an optional port) and, when ``--allowed-host``
is given, one of those. Anything else is a 400 before routing.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable, Sequence

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_NAME = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*\.?$")
_PORT = re.compile(r"^[0-9]{1,5}$")
MAX_HOST = 255


@functools.lru_cache(maxsize=256)
def split_host(value: str) -> tuple[str, str | None] | None:
    """(host, port) of a ``Host`` value, or None when it is not a well-formed host (cached,
    bounded: clients send few distinct values, and each is checked on every request)."""
    if not value or len(value) > MAX_HOST:
        return None
    if value.startswith("["):
        literal, sep, rest = value[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            return None
        try:
            ipaddress.IPv6Address(literal)
        except ValueError:
            return None
        port = rest[1:] if rest else None
        host = f"[{literal}]"
    else:
        host, sep, port_text = value.partition(":")
        port = port_text if sep else None
        if not _NAME.match(host):
            return None
    if port is not None and (not _PORT.match(port) or int(port) > 65535):
        return None
    return host.lower(), port


def normalised(hosts: Iterable[str]) -> frozenset[str]:
    """Allowed host names (a port in the list is ignored: the name is what is checked)."""
    out = set()
    for value in hosts:
        parsed = split_host(value.strip())
        if parsed is None:
            raise ValueError(f"not a host name: {value!r}")
        out.add(parsed[0])
    return frozenset(out)


def public_base(url: str) -> str:
    """A ``--public-url`` checked (``http(s)://host[:port][/prefix]``), without a trailing
    slash.

    Raises:
        ValueError: not such a URL.
    """
    scheme, sep, rest = url.partition("://")
    host, _, path = rest.partition("/")
    if scheme not in ("http", "https") or not sep or split_host(host) is None:
        raise ValueError(f"not an http(s) base URL: {url!r}")
    if any(c in path for c in " ?#\\") or not path.isprintable():
        raise ValueError(f"the path of {url!r} holds characters a base URL cannot")
    return url.rstrip("/")


def host_headers(headers: Sequence[tuple[bytes, bytes]]) -> list[str]:
    return [v.decode("latin-1") for k, v in headers if k == b"host"]


def refusal(headers: Sequence[tuple[bytes, bytes]], allowed: frozenset[str]) -> str | None:
    """Why the request's ``Host`` is refused, or None when it is acceptable (an HTTP/1.0
    request without one is: its links then name ``localhost``, never a client's text)."""
    return refusal_of(tuple(v for k, v in headers if k == b"host"), allowed)


@functools.lru_cache(maxsize=256)
def refusal_of(values: tuple[bytes, ...], allowed: frozenset[str]) -> str | None:
    """:func:`refusal` of the request's ``Host`` values (cached, bounded: clients send few
    distinct values, and each is checked on every request)."""
    found = [v.decode("latin-1") for v in values]
    if len(found) > 1:
        return "the request carries several Host headers"
    if not found:
        return "the request carries no Host header" if allowed else None
    value = found[0]
    parsed = split_host(value)
    if parsed is None:
        return f"Host {value[:80]!r} is not a host name or IP literal"
    if allowed and parsed[0] not in allowed:
        return f"Host {parsed[0][:80]!r} is not one this server answers for"
    return None


__all__ = ["host_headers", "normalised", "public_base", "refusal", "split_host"]
