"""Where each kind of thing has its page (the site's URL scheme, in one place)."""

from __future__ import annotations

from urllib.parse import quote

from rirport.domain.resources import ResourceRange
from rirport.query.understand import Understood


def resource_path(resource: ResourceRange | str) -> str:
    text = str(resource)
    if text.upper().startswith("AS"):
        return "/asn/" + quote(text[2:] if "-" not in text else text, safe="-:")
    return "/ip/" + quote(text, safe="/:.-")


def understood_path(found: Understood) -> str:
    if found.kind == "resource":
        return resource_path(found.key)
    if found.kind == "asn":
        return f"/asn/{found.key}"
    if found.kind == "holder":
        registry, _, opaque = found.key.partition(":")
        return f"/holder/{registry}/{quote(opaque, safe='')}"
    if found.kind == "country":
        return f"/country/{found.key}"
    return f"/registry/{found.key}"


def rdap_path(resource: ResourceRange) -> str:
    if resource.type.value == "asn":
        return f"/rdap/autnum/{resource.first}"
    return "/rdap/ip/" + str(resource.to_cidrs()[0])


def rdap_history_path(resource: ResourceRange) -> str:
    return "/rdap/history" + rdap_path(resource).removeprefix("/rdap")


def country_path(cc: str) -> str | None:
    return f"/country/{cc}" if cc and len(cc) == 2 else None


def holder_path(registry: str, opaque_id: str) -> str:
    return f"/holder/{registry}/{quote(opaque_id, safe='')}"


def registry_path(registry: str) -> str:
    return f"/registry/{registry}"
