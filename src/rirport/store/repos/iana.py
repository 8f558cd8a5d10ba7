"""IANA's allocations to the RIRs and the files they came from."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, and_, delete, insert, or_, select

from rirport.store import schema


@dataclass(frozen=True)
class IanaRow:
    source: str
    lo: str
    hi: str
    prefix: str
    designation: str
    registry: str | None
    status: str
    date: str | None
    note: str | None


class IanaRepo:
    """IANA's allocations to the RIRs, one set of rows per source registry file."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def replace(self, source: str, file_name: str, sha256: str, rows: Sequence[IanaRow]) -> None:
        b, s = schema.iana_block, schema.iana_source
        self._c.execute(delete(b).where(b.c.source == source))
        self._c.execute(delete(s).where(s.c.source == source))
        if rows:
            self._c.execute(insert(b), [r.__dict__ for r in rows])
        self._c.execute(
            insert(s).values(
                source=source,
                file_name=file_name,
                sha256=sha256,
                ingested_at=dt.datetime.now(dt.UTC),
            )
        )

    def sources(self) -> dict[str, str]:
        """Source name → sha256 of the file it was read from."""
        s = schema.iana_source.c
        return {r.source: r.sha256 for r in self._c.execute(select(s.source, s.sha256))}

    def file_names(self) -> dict[str, str]:
        """Source name → name of the file it was read from (for saying which copy is used)."""
        s = schema.iana_source.c
        return {r.source: r.file_name for r in self._c.execute(select(s.source, s.file_name))}

    def blocks(self) -> list[IanaRow]:
        b = schema.iana_block.c
        rows = self._c.execute(
            select(
                b.source, b.lo, b.hi, b.prefix, b.designation, b.registry, b.status, b.date, b.note
            ).order_by(b.lo)
        )
        return [IanaRow(**r._mapping) for r in rows]

    def covering(self, lo: str, hi: str) -> list[IanaRow]:
        b = schema.iana_block.c
        rows = self._c.execute(
            select(
                b.source, b.lo, b.hi, b.prefix, b.designation, b.registry, b.status, b.date, b.note
            )
            .where(or_(and_(b.lo <= lo, b.hi >= lo), and_(b.lo <= hi, b.hi >= hi)))
            .order_by(b.lo)
        )
        return [IanaRow(**r._mapping) for r in rows]
