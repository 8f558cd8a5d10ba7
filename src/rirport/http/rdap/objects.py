"""RDAP objects (RFC 9083) built from delegations: IP networks, autnums and entities.

Shape and field names follow the real responses of the five RIRs (``shared/data/rdap``) and
the NRO profile: ``handle``, start/end, ``ipVersion``, ``name``, ``type``, ``country``,
``status``, ``events`` (registration, last changed), ``entities`` with roles, a ``self`` link
on every object (entities too, which RIPE NCC's lack), ``cidr0_cidrs``, ``remarks`` saying
which file and line the record was read from; no ``port43``.

Handles are stable and derived from the data, so a handle found today still names the same
thing tomorrow (unless the registry changes):

* IP network: ``<start>-<value>-<REGISTRY>`` (the statistics record: ``193.0.0.0-4096-RIPENCC``,
  ``2001:4860::-32-ARIN``);
* autnum: ``AS<first>`` or ``AS<first>-AS<last>``;
* entity: ``<opaque-id>-<REGISTRY>`` (the holder's opaque-id in that registry's files).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from rirport.domain.delegation import Delegation
from rirport.domain.enums import Registry, ResourceType, Status
from rirport.domain.resources import ResourceRange
from rirport.errors import NotFoundError
from rirport.http.responses import RDAP_JSON
from rirport.query.lookup import Match

STATUS = {
    Status.ALLOCATED: "active",
    Status.ASSIGNED: "active",
    Status.AVAILABLE: "inactive",
    Status.RESERVED: "reserved",
}
TYPE = {
    Status.ALLOCATED: "ALLOCATED",
    Status.ASSIGNED: "ASSIGNED",
    Status.AVAILABLE: "AVAILABLE",
    Status.RESERVED: "RESERVED",
}


@dataclass(frozen=True)
class Where:
    """Where the objects live: the RDAP base URL (``https://host/rdap``), no trailing slash."""

    base: str

    def link(self, path: str, rel: str = "self", context: str | None = None) -> dict[str, str]:
        href = f"{self.base}/{path}"
        return {"value": context or href, "rel": rel, "href": href, "type": RDAP_JSON}

    def relation_links(
        self, search: str, targets: dict[str, str], path: str
    ) -> list[dict[str, str]]:
        """RFC 9910 links from an object (its ``self`` URL as ``value``) to its relation
        searches: ``targets`` maps a relation (``rdap-up`` …) to the query it is asked of."""
        here = f"{self.base}/{path}"
        prefix = f"{self.base}/{search}/rirSearch1/"
        return [
            {"value": here, "rel": rel, "href": f"{prefix}{rel}/{query}", "type": RDAP_JSON}
            for rel, query in targets.items()
        ]


@dataclass(frozen=True)
class Dates:
    """What the store knows of an object's changes besides its registration date.

    ``file_date``: the date of the statistics file the record was read from (the registry
    stated it as it is on that day); ``transfers``: completed transfers that brought it to
    its registry. ``last changed`` is the latest of them.
    """

    file_date: str
    transfers: list[str]


# -- handles -----------------------------------------------------------------------------
def network_handle(d: Delegation) -> str:
    return f"{d.start}-{d.value}-{d.registry.value.upper()}"


def autnum_handle(resource: ResourceRange) -> str:
    return str(resource)


def entity_handle(registry: Registry, opaque_id: str) -> str:
    return f"{opaque_id}-{registry.value.upper()}"


def parse_entity_handle(handle: str) -> tuple[str, Registry] | None:
    """(opaque-id, registry) of an entity handle, or None when it cannot be one."""
    opaque_id, sep, suffix = handle.rpartition("-")
    if not sep or not opaque_id:
        return None
    try:
        return opaque_id, Registry.parse(suffix)
    except ValueError:
        return None


def entity_of_handle(handle: str) -> tuple[str, Registry]:
    """(opaque-id, registry) of an entity handle.

    Raises:
        NotFoundError: it cannot name an entity (no entity has that handle).
    """
    parsed = parse_entity_handle(handle)
    if parsed is None:
        raise NotFoundError(f"no entity {handle[:100]!r}: handles are <opaque-id>-<REGISTRY>")
    return parsed


def parse_network_name(name: str) -> tuple[Registry, str] | None:
    """(registry, first CIDR) of a network name (``<REGISTRY>-<first CIDR with - for />``),
    or None when it cannot be one."""
    registry_text, _, rest = name.partition("-")
    try:
        registry = Registry.parse(registry_text)
    except ValueError:
        return None
    return registry, rest[::-1].replace("-", "/", 1)[::-1]


def parse_autnum_name(name: str) -> tuple[Registry | None, str]:
    """(registry, ``AS<n>`` or ``AS<n>-AS<m>``) of an autnum name (``ARIN-AS3333``): the
    registry part counts; a name without one (``AS3333``) is read as the handle, any
    registry."""
    registry_text, sep, rest = name.partition("-")
    if sep and not registry_text.upper().startswith("AS"):
        try:
            return Registry.parse(registry_text), rest
        except ValueError:
            pass
    return None, name


def parse_network_handle(handle: str) -> tuple[str, int, Registry] | None:
    """(start, value, registry) of a network handle, or None."""
    parts = handle.rsplit("-", 2)
    if len(parts) != 3 or not parts[1].isdigit() or not parts[1].isascii():
        return None
    try:
        return parts[0], int(parts[1]), Registry.parse(parts[2])
    except ValueError:
        return None


# -- objects -----------------------------------------------------------------------------
def network(match: Match, where: Where, dates: Dates) -> dict[str, Any]:
    """An ``ip network`` object for one matched delegation."""
    return network_of(match.delegation, where, dates, source_remark(match))


def network_of(
    d: Delegation, where: Where, dates: Dates, source: list[str], context: str | None = None
) -> dict[str, Any]:
    """An ``ip network`` object for a delegation read from ``source`` (remark lines);
    ``context`` is the ``value`` of its self link (the query it answers, as in history).

    Written for speed (every ``ip/`` answer builds one): one pass, no helper dicts."""
    v4 = d.type is ResourceType.IPV4
    bits = 32 if v4 else 128
    r = d.resource  # a view's row carries its numbers: nothing is parsed again
    first, last = r.first, r.last
    key = "v4prefix" if v4 else "v6prefix"
    blocks = _blocks(first, last)
    start = _address(first, v4)
    length = bits - blocks[0][1]
    if len(blocks) == 1:
        prefix = f"{start}/{length}"
        cidrs = [{key: start, "length": length}]
        path = f"ip/{prefix}"
        # up and top from the object's first address (the object covers it); down and
        # bottom ask for what lies inside it, which a search can name only when it is one
        # prefix
        targets = {"rdap-up": prefix, "rdap-top": prefix, "rdap-down": prefix}
        targets["rdap-bottom"] = prefix
    else:
        cidrs = [{key: _address(b, v4), "length": bits - size} for b, size in blocks]
        path = f"ip/{start}"
        targets = {"rdap-up": start, "rdap-top": start}
    registry = d.registry.value.upper()
    status = d.status
    body: dict[str, Any] = {
        "objectClassName": "ip network",
        "handle": f"{d.start}-{d.value}-{registry}",
        "startAddress": start,
        "endAddress": _address(last, v4),
        "ipVersion": "v4" if v4 else "v6",
        "name": f"{registry}-{start}-{length}",
        "type": TYPE[status],
    }
    cc = d.cc
    if len(cc) == 2 and cc != "ZZ":
        body["country"] = cc
    body["status"] = [STATUS[status]]
    body["cidr0_cidrs"] = cidrs
    _common(body, d, where, path, dates, source, context)
    body["links"] += where.relation_links("ips", targets, path)
    return body


def autnum(match: Match, where: Where, dates: Dates) -> dict[str, Any]:
    """An ``autnum`` object for one matched AS-number delegation."""
    return autnum_of(match.delegation, where, dates, source_remark(match))


def autnum_of(
    d: Delegation,
    where: Where,
    dates: Dates,
    source: list[str],
    context: str | None = None,
    only: int | None = None,
) -> dict[str, Any]:
    """An ``autnum`` object for a delegation read from ``source`` (see :func:`network_of`).

    ``only``: the one AS number of a multi-ASN record a lookup asked for. The object is
    then that number alone (``startAutnum`` = ``endAutnum``, handle ``AS<n>``), its record's
    range named in the remarks — the flat model the answers declare
    (``nro_rdap_profile_asn_flat_0``), which clients read as "allocated" (20c ``rdap``
    takes any range for an unallocated block)."""
    r = d.resource
    whole = r
    if only is not None and r.first != r.last:
        r = ResourceRange.asn(only)
        source = [*source, f"AS{only} is one of the record {autnum_handle(whole)}"]
    body: dict[str, Any] = {
        "objectClassName": "autnum",
        "handle": autnum_handle(r),
        "startAutnum": r.first,
        "endAutnum": r.last,
        "name": f"{d.registry.value.upper()}-{autnum_handle(r)}",
        "type": TYPE[d.status],
        **_country(d),
        "status": [STATUS[d.status]],
    }
    path = f"autnum/{r.first}"
    _common(body, d, where, path, dates, source, context)
    # RFC 9910's autnum searches take one AS number: up and top from the object's first
    body["links"] += where.relation_links(
        "autnums", {"rdap-up": str(r.first), "rdap-top": str(r.first)}, path
    )
    return body


def entity(
    registry: Registry,
    opaque_id: str,
    where: Where,
    dates: list[str] | None = None,
    roles: list[str] | None = None,
    remarks: bool = True,
) -> dict[str, Any]:
    """An ``entity`` for a holder: all the statistics files say of one is its opaque-id."""
    handle = entity_handle(registry, opaque_id)
    body: dict[str, Any] = {
        "objectClassName": "entity",
        "handle": handle,
        "vcardArray": [
            "vcard",
            [
                ["version", {}, "text", "4.0"],
                ["fn", {}, "text", handle],
                ["kind", {}, "text", "org"],
            ],
        ],
    }
    if roles:
        body["roles"] = roles
    body["links"] = [where.link(f"entity/{handle}")]
    registered = sorted(d for d in dates or [] if d)
    if registered:
        body["events"] = [{"eventAction": "registration", "eventDate": stamp(registered[0])}]
    if not remarks:  # nested in a network or autnum: the lookup of its handle says more
        return body
    body["remarks"] = [
        {
            "title": "Holder",
            "description": [
                f"The holder with opaque-id {opaque_id} in {registry.label}'s statistics files "
                "(the files name no holder; the id is stable across a registry's files)."
            ],
        }
    ]
    return body


def _address(number: int, v4: bool) -> str:
    """Address text; IPv4 by hand (``ipaddress`` costs microseconds a call on this path)."""
    if v4:
        return f"{number >> 24}.{(number >> 16) & 255}.{(number >> 8) & 255}.{number & 255}"
    return str(ipaddress.IPv6Address(number))


def _blocks(first: int, last: int) -> list[tuple[int, int]]:
    """(start, log2 size) of the fewest aligned blocks covering ``first..last``."""
    out = []
    while first <= last:
        align = (first & -first).bit_length() - 1 if first else 128
        size = min(align, (last - first + 1).bit_length() - 1)
        out.append((first, size))
        first += 1 << size
    return out


def stamp(day: str) -> str:
    """An RFC 3339 date-time for a day (the statistics files give dates only)."""
    return f"{day}T00:00:00Z"


def _country(d: Delegation) -> dict[str, str]:
    return {"country": d.cc} if len(d.cc) == 2 and d.cc != "ZZ" else {}


def source_remark(match: Match) -> list[str]:
    d = match.delegation
    return [f"{d.registry.label} statistics file {match.file_name}, line {match.line}"]


def _common(
    body: dict[str, Any],
    d: Delegation,
    where: Where,
    path: str,
    dates: Dates,
    source: list[str],
    context: str | None = None,
) -> dict[str, Any]:
    date = d.date.isoformat() if d.date else None
    events = [{"eventAction": "registration", "eventDate": f"{date}T00:00:00Z"}] if date else []
    if dates.transfers:
        events += [{"eventAction": "transfer", "eventDate": stamp(t)} for t in dates.transfers]
        changed = max([dates.file_date, *dates.transfers])
    else:
        changed = dates.file_date
    events.append({"eventAction": "last changed", "eventDate": f"{changed}T00:00:00Z"})
    body["events"] = events
    if d.opaque_id:
        body["entities"] = [_holder(d.registry, d.opaque_id, where, date)]
    body["links"] = [where.link(path, context=context)]
    body["remarks"] = [{"title": "Source", "description": [*source, d.to_stats_line()]}]
    return body


def _holder(registry: Registry, opaque_id: str, where: Where, date: str | None) -> dict[str, Any]:
    """The registrant nested in a network or autnum: :func:`entity` with the role and no
    remarks, built directly (every lookup answer carries one)."""
    handle = f"{opaque_id}-{registry.value.upper()}"
    href = f"{where.base}/entity/{handle}"
    body: dict[str, Any] = {
        "objectClassName": "entity",
        "handle": handle,
        "vcardArray": [
            "vcard",
            [
                ["version", {}, "text", "4.0"],
                ["fn", {}, "text", handle],
                ["kind", {}, "text", "org"],
            ],
        ],
        "roles": ["registrant"],
        "links": [{"value": href, "rel": "self", "href": href, "type": RDAP_JSON}],
    }
    if date:
        body["events"] = [{"eventAction": "registration", "eventDate": f"{date}T00:00:00Z"}]
    return body
