"""The state root: one SHA-256 over the registry's current state, in a documented order.

The state is made of *parts*, each a set of text lines:

- ``delegations <registry>`` (one part per registry that has a snapshot): the line
  ``snapshot <date> <content sha256>`` naming the registry's current snapshot (newest by
  date), and the statistics line (``record``, as published) of every row of it in force
  now (transfers applied);
- ``iana``: IANA's blocks, one line each, fields ``source|lo|hi|prefix|designation|registry|
  status|date|note`` (empty for none);
- ``holds``: legal holds not lifted, ``resource|kind|reason|reference|since|until``;
- ``transfers``: ``created_serial|state|updated_serial`` of each transfer request.

A part's digest is SHA-256 over its lines sorted by their UTF-8 bytes, each followed by a
newline (:func:`part_digest`), except a ``delegations`` part (v2): its records are grouped into
*buckets* by their range key's prefix (:func:`bucket_of`: resource type and the high bits of
the start), each bucket's digest is :func:`part_digest` of its lines, and the part's digest is
SHA-256 over the snapshot line then ``<bucket> <digest hex>`` per non-empty bucket, buckets
sorted bytewise, each line newline-terminated (:func:`bucketed_digest`). So a write that
changed a few records rehashes only their buckets, and the digest still covers every record in
a canonical order. The state root is SHA-256 over ``rirport-state/v2\\n`` then
``<part> <digest hex>\\n`` for each part, parts sorted by name. Sorting makes the root depend on
what is held, never on the order things were ingested in or on database ids, so two instances
that ingested the same files (in any order) agree on it byte for byte.

v1 (checkpoints signed before migration ``0012_logappend``) hashed a delegations part as
one :func:`part_digest` over all its lines, under the header ``rirport-state/v1``;
:func:`state_root` with ``version=1`` computes it, so old checkpoints still verify.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterable, Mapping

HEADER = b"rirport-state/v2\n"
HEADERS = {1: b"rirport-state/v1\n", 2: HEADER}

PREFIX = {"0": 7, "1": 4, "2": 7}
"""Characters of a range key (:mod:`rirport.store.keys`: type digit, then the start in hex,
8 digits for ASNs and IPv4, 32 for IPv6) that name its bucket: ASNs in blocks of 256, IPv4 by
/12, IPv6 by /24. Measured on the 2018 files: RIPE NCC's 189,189 records make 185 + 1,084 +
2,913 buckets (largest 256, 2,546, 7,790 lines); ARIN's largest is an IPv6 /24 of 19,755."""


def key_of_line(line: str) -> str:
    """The range key of a statistics line (``registry|cc|type|start|...``), as
    :func:`rirport.store.keys.key_of` makes it from the parsed record: what a journal entry
    that quotes records (a completed transfer) names their buckets by.

    Raises:
        ValueError: not a statistics line of a number resource.
    """
    fields = line.split("|", 4)
    if len(fields) < 5:
        raise ValueError(f"not a statistics record: {line!r}")
    kind, start = fields[2], fields[3]
    try:
        if kind == "asn":
            return f"0{int(start):08x}"
        if kind == "ipv4":
            return f"1{int(ipaddress.IPv4Address(start)):08x}"
        if kind == "ipv6":
            return f"2{int(ipaddress.IPv6Address(start)):032x}"
    except ValueError:
        pass
    raise ValueError(f"not a number resource's record: {line!r}")


def bucket_of(key: str) -> str:
    """The bucket of a record whose range key (its ``lo``) is ``key``."""
    return key[: PREFIX[key[0]]]


def bucket_bounds(bucket: str) -> tuple[str, str]:
    """Range keys ``lo`` with ``low <= lo < high`` are the bucket's (hex digits sort below
    ``g``)."""
    return bucket, bucket + "g"


def part_digest(lines: Iterable[str]) -> str:
    """SHA-256 hex over the lines sorted bytewise, each newline-terminated. (Python orders
    strings by code point, which is the order of their UTF-8 bytes, so the strings are
    sorted and encoded once.)"""
    ordered = sorted(lines)
    if not ordered:
        return hashlib.sha256(b"").hexdigest()
    return hashlib.sha256(("\n".join(ordered) + "\n").encode()).hexdigest()


def group(keyed: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Record lines by bucket, from (range key, line) pairs."""
    out: dict[str, list[str]] = {}
    for key, line in keyed:
        bucket = key[: PREFIX[key[0]]]
        found = out.get(bucket)
        if found is None:
            out[bucket] = [line]
        else:
            found.append(line)
    return out


def bucket_digests(buckets: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """Each bucket's digest (:func:`part_digest` of its lines)."""
    return {name: part_digest(lines) for name, lines in buckets.items()}


def bucketed_digest(snapshot_line: str, buckets: Mapping[str, str]) -> str:
    """A delegations part's digest (v2) from its snapshot line and bucket digests (empty
    buckets left out)."""
    body = "".join(f"{name} {buckets[name]}\n" for name in sorted(buckets))
    return hashlib.sha256(f"{snapshot_line}\n{body}".encode()).hexdigest()


def state_root(parts: Mapping[str, str], version: int = 2) -> str:
    """The root over part digests (name → hex digest), lowercase hex."""
    h = hashlib.sha256(HEADERS[version])
    for name in sorted(parts):
        h.update(f"{name} {parts[name]}\n".encode())
    return h.hexdigest()


def field_line(*fields: object) -> str:
    """Fields joined by ``|``, None as empty."""
    return "|".join("" if f is None else str(f) for f in fields)
