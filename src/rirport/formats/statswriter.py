"""Writing the RIR statistics exchange format.

Record lines are regenerated from their fields (the quirks that matter — empty vs ``00000000``
dates, 7- vs 8-field lines — are fields of the record), so a file read and written again is
byte-identical; the version and summary lines are recomputed from the records written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from rirport.domain.enums import REGISTRIES, RESOURCE_TYPES, STATUSES, ResourceType
from rirport.domain.table import DelegationTable
from rirport.formats.records import Header

DEFAULT_SUMMARY_ORDER = (ResourceType.ASN, ResourceType.IPV4, ResourceType.IPV6)


def render_stats(
    header: Header,
    table: DelegationTable,
    summary_order: Sequence[ResourceType] = DEFAULT_SUMMARY_ORDER,
    preamble: str = "",
) -> str:
    """The whole file as text: preamble, version line, summaries, records in table order."""
    return "".join(iter_stats_lines(header, table, summary_order, preamble))


def iter_stats_lines(
    header: Header,
    table: DelegationTable,
    summary_order: Sequence[ResourceType] = DEFAULT_SUMMARY_ORDER,
    preamble: str = "",
) -> Iterator[str]:
    """The file as chunks of text, for streaming large exports."""
    if preamble:
        yield preamble
    yield header.line(len(table)) + "\n"
    counts = Counter(RESOURCE_TYPES[c] for c in table.type.tolist())
    order = list(summary_order) + [t for t in DEFAULT_SUMMARY_ORDER if t not in summary_order]
    for rtype in order:
        if rtype in summary_order or counts[rtype]:
            yield f"{header.registry}|*|{rtype.value}|*|{counts[rtype]}|summary\n"
    for start in range(0, len(table), 50_000):
        yield from render_records(table.take(np.arange(start, min(start + 50_000, len(table)))))


def render_records(table: DelegationTable) -> list[str]:
    """One record line (with newline) per row."""
    registries = [r.value for r in _names(table.registry, "registry")]
    types = [t.value for t in _names(table.type, "type")]
    statuses = [s.value for s in _names(table.status, "status")]
    lines = []
    columns = zip(
        registries,
        table.cc.tolist(),
        types,
        table.start.tolist(),
        table.value.tolist(),
        table.date.tolist(),
        table.undated_zeros.tolist(),
        statuses,
        table.opaque_id.tolist(),
        table.has_opaque.tolist(),
        strict=True,
    )
    for reg, cc, rtype, start, value, date, zeros, status, opaque, has_opaque in columns:
        date_text = f"{date:08d}" if date else ("00000000" if zeros else "")
        line = f"{reg}|{cc.decode()}|{rtype}|{start.decode()}|{value}|{date_text}|{status}"
        if has_opaque:
            line += "|" + opaque.decode()
        lines.append(line + "\n")
    return lines


def _names(codes: npt.NDArray[np.uint8], column: str) -> list[StrEnum]:
    vocab: tuple[StrEnum, ...] = {
        "registry": REGISTRIES,
        "type": RESOURCE_TYPES,
        "status": STATUSES,
    }[column]
    return [vocab[c] for c in codes.tolist()]
