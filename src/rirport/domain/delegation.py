"""A delegation: one record of an RIR statistics file, as a value."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from rirport.domain.enums import (
    REGISTRIES,
    RESOURCE_TYPES,
    STATUSES,
    Registry,
    ResourceType,
    Status,
)
from rirport.domain.resources import ResourceRange


@dataclass(frozen=True, slots=True)
class Delegation:
    """``registry|cc|type|start|value|date|status[|opaque-id]`` as typed fields.

    ``cc`` is kept as written: two letters (``ZZ``, ``EU`` and ``AP`` included) or empty.
    ``date`` is None when the file left it empty or wrote ``00000000``; ``undated_as``
    remembers which, so a written file is byte-identical to the one read.
    ``opaque_id`` is None when the line had no eighth field (standard files, and the 7-field
    available/reserved lines of LACNIC and RIPE NCC), and ``""`` when the field was empty.
    """

    registry: Registry
    cc: str
    type: ResourceType
    start: str
    value: int
    date: dt.date | None
    status: Status
    opaque_id: str | None = None
    undated_as: str = ""
    numbers: ResourceRange | None = field(default=None, compare=False, repr=False)
    """The numbers as the reader already computed them (a table row carries them), so
    :attr:`resource` does not parse ``start`` again; None: computed on demand."""

    @property
    def resource(self) -> ResourceRange:
        """The numbers this record covers.

        Raises:
            ValueError: the record's start/value are not a valid resource.
        """
        if self.numbers is not None:
            return self.numbers
        return ResourceRange.from_start_value(self.type, self.start, self.value)

    def to_json(self) -> dict[str, Any]:
        """The stable JSON shape scripts rely on (keys fixed by the CLI contract)."""
        return {
            "registry": self.registry.value,
            "cc": self.cc,
            "type": self.type.value,
            "start": self.start,
            "value": self.value,
            "date": self.date.isoformat() if self.date else None,
            "status": self.status.value,
            "opaque_id": self.opaque_id,
        }

    def date_text(self) -> str:
        """The date field as the statistics format writes it."""
        if self.date is None:
            return self.undated_as
        return self.date.isoformat().replace("-", "")  # YYYYMMDD; strftime is slower

    def to_stats_line(self) -> str:
        """The record line, without newline, as it appeared in (or would appear in) a file."""
        fields = [
            self.registry.value,
            self.cc,
            self.type.value,
            self.start,
            str(self.value),
            self.date_text(),
            self.status.value,
        ]
        if self.opaque_id is not None:
            fields.append(self.opaque_id)
        return "|".join(fields)


def from_columns(
    registry: int,
    cc: bytes,
    type_code: int,
    start: bytes,
    value: int,
    date: int,
    undated_zeros: bool,
    status: int,
    opaque_id: bytes | None,
    first: int,
    last: int,
) -> Delegation:
    """A delegation from one row of a table's columns as plain values (codes, bytes, the
    date as YYYYMMDD or 0, ``opaque_id`` None when the line had none): the one conversion
    both the numpy table (:meth:`~rirport.domain.table.DelegationTable.row`) and the
    standard-library cache reader (:mod:`rirport.query.mapped`) make, so their rows agree."""
    rtype = RESOURCE_TYPES[type_code]
    return Delegation(
        REGISTRIES[registry],
        cc.decode(),
        rtype,
        start.decode(),
        value,
        dt.date(date // 10000, date // 100 % 100, date % 100) if date else None,
        STATUSES[status],
        None if opaque_id is None else opaque_id.decode(),
        "00000000" if undated_zeros else "",
        ResourceRange(rtype, first, last),
    )
