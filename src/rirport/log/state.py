"""The state root: one SHA-256 over the registry's current state, in a documented order.

The state is made of *parts*, each a set of text lines:

- ``delegations <registry>`` (one part per registry that has a snapshot): a first line
  ``snapshot <date> <content sha256>`` naming the registry's current snapshot (newest by
  date), then the statistics line (``record``, as published) of every row of it in force
  now (transfers applied);
- ``iana``: IANA's blocks, one line each, fields ``source|lo|hi|prefix|designation|registry|
  status|date|note`` (empty for none);
- ``holds``: legal holds not lifted, ``resource|kind|reason|reference|since|until``;
- ``transfers``: ``created_serial|state|updated_serial`` of each transfer request.

A part's digest is SHA-256 over its lines sorted by their UTF-8 bytes, each followed by a
newline; the state root is SHA-256 over ``rirport-state/v1\\n`` then ``<part> <digest hex>\\n``
for each part, parts sorted by name. Sorting makes the root depend on what is held, never on
the order things were ingested in or on database ids, so two instances that ingested the same
files (in any order) agree on it byte for byte.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

HEADER = b"rirport-state/v1\n"


def part_digest(lines: Iterable[str]) -> str:
    """SHA-256 hex over the lines sorted bytewise, each newline-terminated. (Python orders
    strings by code point, which is the order of their UTF-8 bytes, so the strings are
    sorted and encoded once.)"""
    ordered = sorted(lines)
    if not ordered:
        return hashlib.sha256(b"").hexdigest()
    return hashlib.sha256(("\n".join(ordered) + "\n").encode()).hexdigest()


def state_root(parts: Mapping[str, str]) -> str:
    """The root over part digests (name → hex digest), lowercase hex."""
    h = hashlib.sha256(HEADER)
    for name in sorted(parts):
        h.update(f"{name} {parts[name]}\n".encode())
    return h.hexdigest()


def field_line(*fields: object) -> str:
    """Fields joined by ``|``, None as empty."""
    return "|".join("" if f is None else str(f) for f in fields)
