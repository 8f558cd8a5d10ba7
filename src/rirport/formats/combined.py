"""Writing the NRO combined layout: every registry's records in one statistics file.

The NRO publishes ``nro-delegated-stats``, one file joining the five RIRs' extended files and
IANA's pools. Its shape (``fixtures/nro-delegated-stats/combined`` in the shared data)::

    2|iana|20190911|18|19830101|20190612|+0000                version line, 7 fields
    iana|*|asn|*|6|summary                                    summary lines, 6 fields
    arin|US|asn|1|1876|19920101|assigned|AS0000|e-stats       records, 9 fields
    iana|ZZ|ipv4|0.0.0.0|16777216|19830101|ietf|ietf|iana

Each record names its own registry in field 1, so one file can mix them; the 9th field says
where the record came from (``e-stats`` for an RIR's extended file, ``iana`` for IANA's).

What this writer produces, and where it differs from the fixture on purpose:

* Version line ``2.3|nro|<serial>|<records>|<start>|<end>|+0000``: version ``2.3`` (the
  extended format) and registry ``nro`` (the fixture's ``2|iana`` header is an artefact of the
  test sample being cut from IANA's file). ``serial`` is the newest snapshot date as
  ``YYYYMMDD``; ``start`` the earliest record date; ``end`` the latest end date of the files
  joined (empty when none is known). The offset is always ``+0000``: each RIR's dates are kept
  as that RIR wrote them, not converted — one offset cannot describe five, and dates are days.
* No comment preamble (APNIC's conditions of use belong to APNIC's file).
* Summary lines ``nro|*|<type>|*|<count>|summary`` for asn, ipv4 and ipv6 always, in that
  order, counting the records written.
* Records keep every field as the RIR wrote it: status (``allocated`` stays ``allocated``; the
  NRO file's own status rewriting is not reproduced), country code (empty for LACNIC and RIPE
  NCC available/reserved space, ``ZZ`` for AFRINIC's), date (``00000000`` and empty are kept
  apart). Every record has 9 fields: a record read without an opaque-id (standard files, the
  7-field available/reserved lines) gets an empty 8th field, and the 9th is always
  ``e-stats``. IANA's pools are not in the store, so no ``iana`` records are written.
* Records are ordered by type (asn, ipv4, ipv6), then by first number, then by registry and
  source line — the fixture's order, and the order a reader of a combined file expects.
  Overlapping records of different registries (a transfer seen in two files of different
  dates) are all written: the file reports what the registries say, it does not judge.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

import numpy as np
import numpy.typing as npt

from rirport.domain.enums import RESOURCE_TYPES, ResourceType
from rirport.domain.table import DelegationTable
from rirport.formats.records import Header
from rirport.formats.statswriter import render_records

VERSION = "2.3"
REGISTRY = "nro"
UTC_OFFSET = "+0000"
SOURCE_TAG = "e-stats"
SUMMARY_ORDER = (ResourceType.ASN, ResourceType.IPV4, ResourceType.IPV6)
_CHUNK = 50_000


def combined_header(
    snapshot_dates: Iterable[dt.date], end_dates: Iterable[str], table: DelegationTable
) -> Header:
    """The version line of a combined file of ``table``'s rows.

    ``snapshot_dates`` and ``end_dates`` are those of the files joined; the serial is the
    newest snapshot date (a combined file is as new as its newest part) and the start date the
    earliest record date, because the files' own start dates are placeholders (``19700101``,
    ``00000000``, empty) that say nothing about the data.
    """
    dates = list(snapshot_dates)
    serial = max(dates).strftime("%Y%m%d") if dates else ""
    ends = [e for e in end_dates if e.isdigit() and len(e) == 8 and e != "00000000"]
    dated = table.date[table.date > 0]
    start = f"{int(dated.min()):08d}" if len(dated) else ""
    return Header(VERSION, REGISTRY, serial, len(table), start, max(ends, default=""), UTC_OFFSET)


def combined_order(table: DelegationTable) -> npt.NDArray[np.int64]:
    """Row order of the combined file: type, first number, registry, source line."""
    type_rank = np.array([SUMMARY_ORDER.index(t) for t in RESOURCE_TYPES], dtype=np.int8)
    keys = (table.line, table.registry, table.first_lo, table.first_hi, type_rank[table.type])
    return np.lexsort(keys).astype(np.int64)


def iter_combined_lines(header: Header, table: DelegationTable) -> Iterator[str]:
    """The combined file as chunks of text, rows in the order given (see
    :func:`combined_order`); the record count and summaries are counted from ``table``."""
    yield header.line(len(table)) + "\n"
    tally = np.bincount(table.type, minlength=len(RESOURCE_TYPES)).tolist()
    per_type = dict(zip(RESOURCE_TYPES, tally, strict=True))
    for rtype in SUMMARY_ORDER:
        yield f"{REGISTRY}|*|{rtype.value}|*|{per_type[rtype]}|summary\n"
    for start in range(0, len(table), _CHUNK):
        part = table.take(np.arange(start, min(start + _CHUNK, len(table))))
        yield "".join(combined_records(part))


def combined_records(table: DelegationTable) -> list[str]:
    """One 9-field record line (with newline) per row.

    Built on :func:`~rirport.formats.statswriter.render_records`, so the first seven fields are
    byte for byte what the registry's own file says.
    """
    tail = {True: f"|{SOURCE_TAG}\n", False: f"||{SOURCE_TAG}\n"}
    lines = render_records(table)
    return [
        line[:-1] + tail[has] for line, has in zip(lines, table.has_opaque.tolist(), strict=True)
    ]
