"""Change-event bodies as the ``event`` table stores them: packed, one row at a time.

A body is the event's JSON text (``EventRow.body``, as feeds print it). It is stored in
``event.body_z`` as one format byte and then the bytes of that format:

* ``0``: the UTF-8 text itself (no compression; a reader takes it as it is);
* ``1``: the text as raw deflate with the preset dictionary :data:`DICTIONARY_1`.

A body of about 300 characters compresses to about 180 bytes with plain zlib, since it is too
short to repeat itself: what it shares with other bodies (the key names, the kinds, the
registries, ``"snapshots": {"from": "delegated-…-extended-``, the statuses and types) is
what the preset dictionary holds, so a row compresses to about 70 bytes and is still read on
its own (random access by id stays one row). A dictionary is never changed once rows use it:
a better one gets the next format byte, and rows written with an older one are still read.
"""

from __future__ import annotations

import zlib

from rirport.errors import StorageError

PLAIN = 0
DICT_1 = 1
CURRENT = DICT_1
"""The format :func:`pack` writes."""

_REGISTRIES = ("afrinic", "apnic", "arin", "lacnic", "ripencc")
# What event bodies share (sorted keys, ``json`` separators), the commonest last: deflate
# reaches the end of the dictionary with the shortest distances.
DICTIONARY_1 = "".join(
    [
        '"kind": "split", "kind": "merge", "kind": "moved", "kind": "renumbered", ',
        '"status": "available", "status": "reserved", "parts": ["", ""], "part": 256, ',
        '"merged": 0, "records": 1, "renamed": 1, "split": 0, "sample": [{"from": "", "to": ""}]',
        ', "start": null, "type": null, ',
        '"gap": {"days": 2, "from": "2018-10-14", "to": "2018-10-16"}, ',
        *(f'"old_record": "{r}|US|ipv4|' for r in _REGISTRIES),
        '"from_registry": "arin", "to_registry": "ripencc", "old_holder": "", "new_record": "',
        "|ipv6|",
        *(
            f'{{"after": "{a}", "before": "{b}", "cc": "", "holder": "", "kind": "{k}", '
            for k, a, b in (
                ("date", "20181014", "19930901"),
                ("country", "US", "CA"),
                ("status", "assigned", "allocated"),
                ("holder", "", ""),
            )
        ),
        '"start": "2001:db8::", "status": "assigned", "type": "ipv6", "value": 32}',
        '"start": "64512", "status": "assigned", "type": "asn", "value": 1}',
        *(
            f'{{"cc": "", "holder": "", "kind": "{k}", "registry": "{r}", "snapshots": '
            f'{{"from": "delegated-{r}-extended-20", "to": "delegated-{r}-extended-20'
            for k in ("returned", "new")
            for r in _REGISTRIES
        ),
        '"}, "start": "", "status": "allocated", "type": "ipv4", "value": 1024}',
    ]
).encode()
"""The preset dictionary of format 1. Never edit it: rows are stored with it (a test pins
its SHA-256); a new dictionary is a new format."""

_DICTIONARIES = {DICT_1: DICTIONARY_1}
_WBITS = -15  # raw deflate: no zlib header or checksum (the format byte says what it is)
_COMPRESSOR = zlib.compressobj(9, zlib.DEFLATED, _WBITS, 5, zlib.Z_DEFAULT_STRATEGY, DICTIONARY_1)
"""Primed once with the dictionary; :func:`pack` copies it (cheaper than priming a new one; a
small hash table, ``memLevel`` 5, copies faster and packs these short texts as small)."""
_DECOMPRESSORS = {v: zlib.decompressobj(_WBITS, zdict=d) for v, d in _DICTIONARIES.items()}


def pack(body: str) -> bytes:
    """``body`` as stored, in the current format."""
    packer = _COMPRESSOR.copy()
    return b"\x01" + packer.compress(body.encode()) + packer.flush()


def unpack(stored: bytes | memoryview, event_id: object) -> str:
    """The JSON text of a stored body, in any format this version knows.

    Raises:
        StorageError: not a body this version can read (unknown format byte, corrupt or cut
            short), naming the event.
    """
    data = bytes(stored)
    if not data:
        raise StorageError(f"event {event_id}: its stored body is empty")
    version = data[0]
    try:
        if version == PLAIN:
            return data[1:].decode()
        base = _DECOMPRESSORS.get(version)
        if base is None:
            raise StorageError(
                f"event {event_id}: its stored body has format {version}, which this version "
                f"of rirport does not know (it reads {sorted([PLAIN, *_DICTIONARIES])}): "
                "written by a newer rirport?"
            )
        reader = base.copy()
        text = reader.decompress(data[1:]) + reader.flush()
        if not reader.eof or reader.unused_data:
            raise StorageError(
                f"event {event_id}: its stored body (format {version}) is cut short or has "
                "bytes after its end: the row is corrupt"
            )
        return text.decode()
    except (zlib.error, UnicodeDecodeError) as exc:
        raise StorageError(
            f"event {event_id}: its stored body (format {version}) cannot be read ({exc}): "
            "the row is corrupt"
        ) from None
