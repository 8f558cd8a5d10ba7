"""Snapshots: one row per ingested file and where it came from."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, func, insert, select

from rirport.store import schema
from rirport.store.driver import Driver
from rirport.store.repos.journal import JournalRepo
from rirport.store.rows import SnapshotRow

__all__ = ["SnapshotRepo", "SnapshotRow"]


NEWEST = "newest_snapshots"
"""The fact :meth:`SnapshotRepo.newest_ids` passes on to this process's next write."""
NEWEST_DATES = "newest_snapshot_dates"
"""The fact ``DelegationRepo`` passes on: each registry's newest snapshot date."""


class SnapshotRepo:
    def __init__(self, connection: Connection, journal: JournalRepo | None = None) -> None:
        self._c = connection
        self._journal = journal
        """The unit's journal: the newest snapshots as this process's last write left them,
        while no other write came in between (:meth:`JournalRepo.recall`)."""
        self._neighbours: dict[
            tuple[str, dt.date], tuple[SnapshotRow | None, SnapshotRow | None]
        ] = {}
        """:meth:`neighbours` answered in this unit: they stand until it adds a snapshot
        (snapshots are never changed or removed, and writers run one at a time)."""

    def add(self, values: dict[str, Any]) -> int:
        self._neighbours.clear()
        if self._journal is not None:  # the newest snapshots passed on are no longer so
            self._journal.forget(NEWEST)
            self._journal.forget(NEWEST_DATES)
        result = self._c.execute(insert(schema.snapshot).values(**values))
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def get(self, snapshot_id: int) -> SnapshotRow | None:
        row = self._c.execute(
            select(schema.snapshot).where(schema.snapshot.c.id == snapshot_id)
        ).first()
        return SnapshotRow(**row._mapping) if row else None

    def find_content(self, registry: str, content_sha256: str) -> SnapshotRow | None:
        row = self._c.execute(
            select(schema.snapshot).where(
                schema.snapshot.c.registry == registry,
                schema.snapshot.c.content_sha256 == content_sha256,
            )
        ).first()
        return SnapshotRow(**row._mapping) if row else None

    def find_sha(self, content_sha256: str) -> SnapshotRow | None:
        """A snapshot with this content in any registry (content hashes do not collide)."""
        row = self._c.execute(
            select(schema.snapshot)
            .where(schema.snapshot.c.content_sha256 == content_sha256)
            .limit(1)
        ).first()
        return SnapshotRow(**row._mapping) if row else None

    def find_dated(self, registry: str, date: dt.date) -> list[SnapshotRow]:
        rows = self._c.execute(
            select(schema.snapshot).where(
                schema.snapshot.c.registry == registry, schema.snapshot.c.snapshot_date == date
            )
        )
        return [SnapshotRow(**r._mapping) for r in rows]

    def all(self) -> list[SnapshotRow]:
        """Every snapshot, whole (JSON columns decoded): for listings, not for the ingest
        path (see :meth:`as_of`, :meth:`neighbours`, which read only what they pick)."""
        rows = self._c.execute(
            select(schema.snapshot).order_by(
                schema.snapshot.c.registry, schema.snapshot.c.snapshot_date, schema.snapshot.c.id
            )
        )
        return [SnapshotRow(**r._mapping) for r in rows]

    def current(self) -> list[SnapshotRow]:
        """The newest snapshot of each registry (by snapshot date, then ingest order)."""
        return self.as_of(None)

    def as_of(self, date: dt.date | None) -> list[SnapshotRow]:
        """Each registry's newest snapshot dated on or before ``date`` (None: the newest);
        a registry with no snapshot that old is left out. Picked on the id and date columns,
        so only the rows chosen are read whole."""
        return sorted(self._many(self.newest_ids(date).values()), key=lambda r: r.registry)

    def newest_ids(self, date: dt.date | None = None) -> dict[str, int]:
        """The id of each registry's newest snapshot dated on or before ``date`` (None: the
        newest), by registry: one seek of ``ix_snapshot_registry_date`` per registry (every
        completed transfer and every ingest with events asks), not a read of every snapshot
        (the registries themselves found by :data:`_REGISTRIES`'s skips, not a scan)."""
        if date is None and self._journal is not None:
            kept = self._journal.recall(NEWEST)
            if kept is not None:
                return dict(kept)
        d = Driver(self._c)
        cut = ""
        params: tuple[Any, ...] = ()
        if date is not None:
            cut = f" AND n.snapshot_date <= {d.mark}"
            params = (date if d.pg else date.isoformat(),)
        rows = d.rows(
            f"{_REGISTRIES} SELECT r.registry, (SELECT n.id FROM snapshot n WHERE n.registry ="
            f" r.registry{cut} ORDER BY n.snapshot_date DESC, n.id DESC LIMIT 1) "
            "FROM r WHERE r.registry IS NOT NULL ORDER BY r.registry",
            params,
        )
        found = {str(registry): int(sid) for registry, sid in rows if sid is not None}
        if date is None and self._journal is not None:
            self._journal.note(NEWEST, dict(found))
        return found

    def earliest_before(self, until: dt.date) -> list[SnapshotRow]:
        """Each registry's oldest snapshot dated before ``until`` (by date, then id): one
        seek of ``ix_snapshot_registry_date`` per registry (every ingest with events asks),
        not a read of every older snapshot."""
        d = Driver(self._c)
        rows = d.rows(
            f"{_REGISTRIES} SELECT r.registry, (SELECT n.id FROM snapshot n WHERE n.registry ="
            f" r.registry AND n.snapshot_date < {d.mark} ORDER BY n.snapshot_date, n.id LIMIT 1)"
            " FROM r WHERE r.registry IS NOT NULL ORDER BY r.registry",
            (until if d.pg else until.isoformat(),),
        )
        first = [int(sid) for _, sid in rows if sid is not None]
        return sorted(self._many(first), key=lambda r: r.registry)

    def ids_of(self, registry: str) -> list[int]:
        """The ids of a registry's snapshots, by date then id."""
        s = schema.snapshot.c
        stmt = select(s.id).where(s.registry == registry).order_by(s.snapshot_date, s.id)
        return [int(i) for (i,) in self._c.execute(stmt)]

    def dates_of(self, registry: str) -> list[dt.date]:
        """A registry's snapshot dates, oldest first."""
        s = schema.snapshot.c
        stmt = select(s.snapshot_date).where(s.registry == registry).order_by(s.snapshot_date)
        return [d for (d,) in self._c.execute(stmt)]

    def newest_dates(self) -> dict[str, dt.date]:
        """Each registry's newest snapshot date."""
        s = schema.snapshot.c
        stmt = select(s.registry, func.max(s.snapshot_date)).group_by(s.registry)
        return {r: _day(d) for r, d in self._c.execute(stmt)}

    def neighbours(
        self, registry: str, date: dt.date
    ) -> tuple[SnapshotRow | None, SnapshotRow | None]:
        """The registry's snapshots just before and just after ``date`` (two one-row reads
        over a store of thousands of snapshots, once a unit: an ingest asks three times)."""
        key = (registry, date)
        if key not in self._neighbours:
            self._neighbours[key] = self._read_neighbours(registry, date)
        return self._neighbours[key]

    def _read_neighbours(
        self, registry: str, date: dt.date
    ) -> tuple[SnapshotRow | None, SnapshotRow | None]:
        s = schema.snapshot.c
        mine = s.registry == registry
        before = self._c.execute(
            select(schema.snapshot)
            .where(mine, s.snapshot_date < date)
            .order_by(s.snapshot_date.desc(), s.id.desc())
            .limit(1)
        ).first()
        after = self._c.execute(
            select(schema.snapshot)
            .where(mine, s.snapshot_date > date)
            .order_by(s.snapshot_date, s.id)
            .limit(1)
        ).first()
        return (
            SnapshotRow(**before._mapping) if before else None,
            SnapshotRow(**after._mapping) if after else None,
        )

    def _many(self, ids: Iterable[int]) -> list[SnapshotRow]:
        wanted = list(ids)
        if not wanted:
            return []
        rows = self._c.execute(select(schema.snapshot).where(schema.snapshot.c.id.in_(wanted)))
        return [SnapshotRow(**r._mapping) for r in rows]


#: The distinct registries of the snapshot table as ``r(registry)`` (one NULL row closes it),
#: found by skipping along ``ix_snapshot_registry_date`` (a seek per registry): a plain
#: ``SELECT DISTINCT`` reads the whole index, one entry per snapshot ever stored.
_REGISTRIES = (
    "WITH RECURSIVE r(registry) AS (SELECT min(registry) FROM snapshot UNION ALL "
    "SELECT (SELECT min(s.registry) FROM snapshot s WHERE s.registry > r.registry) FROM r "
    "WHERE r.registry IS NOT NULL)"
)


def _day(value: Any) -> dt.date:
    """A date column's value (SQLite hands back text through aggregate queries)."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
