"""Rows of the store that the read side keeps beyond a transaction, importable without
SQLAlchemy (a cached view carries its snapshots, and a one-address lookup answered from the
cache never imports the database layer)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SnapshotRow:
    """A stored snapshot: one ingested file and where it came from."""

    id: int
    registry: str
    snapshot_date: dt.date
    file_name: str
    source_url: str | None
    file_sha256: str
    content_sha256: str
    compression: str | None
    extended: bool
    version: str
    serial: str
    start_date: str
    end_date: str
    utc_offset: str
    declared_records: int
    records: int
    summary: list[list[Any]]
    preamble: str
    skipped_lines: int
    skipped: list[str]
    ingested_at: dt.datetime

    def to_json(self) -> dict[str, Any]:
        """Every field as JSON values (dates in ISO form): what a view cache stores."""
        out = dataclasses.asdict(self)
        out["snapshot_date"] = self.snapshot_date.isoformat()
        out["ingested_at"] = self.ingested_at.isoformat()
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SnapshotRow:
        """The row :meth:`to_json` wrote.

        Raises:
            ValueError, KeyError, TypeError: ``data`` is not such a row.
        """
        names = {f.name for f in dataclasses.fields(cls)}
        if set(data) != names:
            raise ValueError("not a snapshot row")
        return cls(
            **{
                **data,
                "snapshot_date": dt.date.fromisoformat(data["snapshot_date"]),
                "ingested_at": dt.datetime.fromisoformat(data["ingested_at"]),
            }
        )
