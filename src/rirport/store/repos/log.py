"""The transparency log's rows: tree nodes, signed checkpoints, state-root part digests,
other logs' verified checkpoints, and the reads the state root needs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, or_, select, update

from rirport.store import schema


@dataclass(frozen=True)
class CheckpointRow:
    size: int
    origin: str
    note: str
    state_root: str
    created_at: str


@dataclass(frozen=True)
class PeerRow:
    role: str
    origin: str
    size: int
    note: str
    source: str
    verified_at: str


class LogRepo:
    """The tree (``log_node``), checkpoints, state parts and peers' checkpoints."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection

    # -- the tree ------------------------------------------------------------------------------
    # The append path runs in every write transaction, so it speaks plain SQL to the driver
    # (SQLAlchemy's expression building cost more than the statements themselves).
    def _mark(self) -> str:
        return "%s" if self._c.dialect.name == "postgresql" else "?"

    def size(self) -> int:
        """The tree's size: one past the last leaf (the primary key answers it)."""
        found = self._c.exec_driver_sql(
            "SELECT MAX(idx) FROM log_node WHERE level = 0"
        ).scalar_one_or_none()
        return 0 if found is None else int(found) + 1

    def nodes(self, wanted: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """The stored hashes of the (level, index) pairs asked for (one query)."""
        if not wanted:
            return {}
        mark = self._mark()
        where = " OR ".join([f"(level = {mark} AND idx = {mark})"] * len(wanted))
        params = tuple(v for pair in wanted for v in pair)
        rows = self._c.exec_driver_sql(
            f"SELECT level, idx, hash FROM log_node WHERE {where}", params
        )
        return {(int(r[0]), int(r[1])): bytes(r[2]) for r in rows}

    def add_nodes(self, nodes: Iterable[tuple[int, int, bytes]]) -> None:
        values = list(nodes)
        if values:
            mark = self._mark()
            self._c.exec_driver_sql(
                f"INSERT INTO log_node (level, idx, hash) VALUES ({mark}, {mark}, {mark})",
                values,
            )

    def level_range(self, level: int, start: int, stop: int) -> list[bytes]:
        """Hashes at ``level`` with start <= index < stop, in order."""
        n = schema.log_node.c
        rows = self._c.execute(
            select(n.hash).where(n.level == level, n.idx >= start, n.idx < stop).order_by(n.idx)
        )
        return [bytes(r[0]) for r in rows]

    def nodes_from(self, counts: Sequence[int]) -> Iterator[tuple[int, int, bytes]]:
        """Every node past the first ``counts[level]`` of each level, by (level, index): what
        an in-memory tree that holds ``counts`` is missing."""
        n = schema.log_node.c
        known = [and_(n.level == lv, n.idx < c) for lv, c in enumerate(counts) if c]
        stmt = select(n.level, n.idx, n.hash).order_by(n.level, n.idx)
        if known:
            stmt = stmt.where(~or_(*known))
        cursor = self._c.execute(stmt).cursor
        assert cursor is not None
        while rows := cursor.fetchmany(50_000):
            for level, index, digest in rows:
                yield int(level), int(index), bytes(digest)

    def journal_after(self, after: int, before: int | None = None) -> Iterator[Any]:
        """See :func:`journal_rows`."""
        return journal_rows(self._c, after, before)

    def drop_tree(self) -> None:
        self._c.execute(delete(schema.log_node))

    # -- checkpoints ---------------------------------------------------------------------------
    def add_checkpoint(self, row: CheckpointRow) -> None:
        mark = self._mark()
        self._c.exec_driver_sql(
            "INSERT INTO log_checkpoint (size, origin, note, state_root, created_at) "
            f"VALUES ({', '.join([mark] * 5)})",
            (row.size, row.origin, row.note, row.state_root, row.created_at),
        )

    def latest_checkpoint(self) -> CheckpointRow | None:
        c = schema.log_checkpoint.c
        row = self._c.execute(
            select(schema.log_checkpoint).order_by(c.size.desc()).limit(1)
        ).first()
        return CheckpointRow(**row._mapping) if row else None

    def latest_checkpoint_time(self) -> str | None:
        """When the newest checkpoint was signed (ISO 8601), read on every write under a
        checkpoint interval: one row by the primary key, plain SQL."""
        found = self._c.exec_driver_sql(
            "SELECT created_at FROM log_checkpoint ORDER BY size DESC LIMIT 1"
        ).scalar_one_or_none()
        return None if found is None else str(found)

    def checkpoint(self, size: int, *, lock: bool = False) -> CheckpointRow | None:
        """The checkpoint at ``size``; ``lock``: held for this transaction (PostgreSQL
        ``FOR UPDATE``, so two writers adding cosignatures keep both; SQLite's writers are
        serialised anyway)."""
        c = schema.log_checkpoint.c
        stmt = select(schema.log_checkpoint).where(c.size == size)
        if lock and self._c.dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        row = self._c.execute(stmt).first()
        return CheckpointRow(**row._mapping) if row else None

    def set_checkpoint_note(self, size: int, note: str) -> bool:
        """Replace the note of the checkpoint at ``size`` (the same checkpoint with more
        signature lines: witnesses' cosignatures); returns whether there was one."""
        c = schema.log_checkpoint.c
        done = self._c.execute(
            update(schema.log_checkpoint).where(c.size == size).values(note=note)
        )
        return bool(done.rowcount)

    def signed_by(
        self, names: Sequence[str], after: int = 0, limit: int = 1000
    ) -> list[CheckpointRow]:
        """The newest checkpoints past size ``after`` (at most ``limit``, newest first) whose
        note has a signature line by any of ``names`` (witnesses' cosignatures: matched by
        name only, the caller verifies them). ``after`` bounds the scan (the primary key)."""
        c = schema.log_checkpoint.c
        marks = [c.note.like("%\n\u2014 " + _like(name) + " %", escape="\\") for name in names]
        rows = self._c.execute(
            select(schema.log_checkpoint)
            .where(c.size > after, or_(*marks))
            .order_by(c.size.desc())
            .limit(limit)
        )
        return [CheckpointRow(**r._mapping) for r in rows]

    def checkpoints(self) -> list[CheckpointRow]:
        c = schema.log_checkpoint.c
        rows = self._c.execute(select(schema.log_checkpoint).order_by(c.size))
        return [CheckpointRow(**r._mapping) for r in rows]

    def checkpoint_count(self) -> int:
        return int(
            self._c.execute(select(func.count()).select_from(schema.log_checkpoint)).scalar_one()
        )

    # -- state parts ---------------------------------------------------------------------------
    def parts(self) -> dict[str, str]:
        rows = self._c.exec_driver_sql("SELECT part, digest FROM log_state")
        return {str(r[0]): str(r[1]) for r in rows}

    def set_parts(self, parts: dict[str, str], before: dict[str, str] | None = None) -> None:
        """Store the part digests ``parts``; with ``before`` (what is stored), only the rows
        that changed are written."""
        s = schema.log_state
        if before is None:
            self._c.execute(delete(s))
            before = {}
        for name in before.keys() - parts.keys():
            self._c.execute(delete(s).where(s.c.part == name))
        for name, digest in parts.items():
            if name not in before:
                self._c.execute(insert(s).values(part=name, digest=digest))
            elif before[name] != digest:
                self._c.execute(update(s).where(s.c.part == name).values(digest=digest))

    def current_records(self, registry: str, date: dt.date) -> list[str]:
        """The statistics lines of the rows of ``registry`` in force in its snapshot dated
        ``date`` (transfers applied), in no particular order."""
        d = schema.delegation.c
        cursor = self._c.execute(
            select(d.record).where(
                d.registry == registry,
                d.valid_from <= date,
                d.valid_to >= date,
                d.retired_serial.is_(None),
            )
        ).cursor
        assert cursor is not None
        return [r[0] for r in cursor.fetchall()]

    # -- other logs ----------------------------------------------------------------------------
    def peer(self, role: str, origin: str) -> PeerRow | None:
        p = schema.log_peer.c
        row = self._c.execute(
            select(schema.log_peer).where(p.role == role, p.origin == origin)
        ).first()
        return PeerRow(**row._mapping) if row else None

    def peers(self, role: str) -> list[PeerRow]:
        p = schema.log_peer.c
        rows = self._c.execute(select(schema.log_peer).where(p.role == role).order_by(p.origin))
        return [PeerRow(**r._mapping) for r in rows]

    def set_peer(self, row: PeerRow, *, expected_size: int | None) -> bool:
        """Record a peer's newest verified checkpoint. ``expected_size``: the size the stored
        one must still have (None: there must be none), so two writers cannot both advance
        from one state; returns whether the row was written."""
        p = schema.log_peer.c
        if expected_size is None:
            if self.peer(row.role, row.origin) is not None:
                return False
            self._c.execute(insert(schema.log_peer).values(**row.__dict__))
            return True
        done = self._c.execute(
            update(schema.log_peer)
            .where(p.role == row.role, p.origin == row.origin, p.size == expected_size)
            .values(size=row.size, note=row.note, source=row.source, verified_at=row.verified_at)
        )
        return bool(done.rowcount)

    def lock_peer(self, role: str, origin: str) -> Any:
        """Hold the peer's row for this transaction (PostgreSQL ``FOR UPDATE``; SQLite's
        writers are serialised anyway)."""
        p = schema.log_peer.c
        stmt = select(p.size).where(p.role == role, p.origin == origin)
        if self._c.dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        return self._c.execute(stmt).scalar_one_or_none()


def _like(text: str) -> str:
    """``text`` as a LIKE pattern matching itself."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def journal_rows(connection: Connection, after: int, before: int | None = None) -> Iterator[Any]:
    """Journal entries with after < serial (< before), in order, as plain tuples in
    :class:`~rirport.store.repos.journal.JournalRow` field order."""
    j = schema.journal.c
    stmt = select(j.serial, j.created_at, j.actor, j.action, j.payload, j.prev_hash, j.hash).where(
        j.serial > after
    )
    if before is not None:
        stmt = stmt.where(j.serial < before)
    cursor = connection.execute(stmt.order_by(j.serial)).cursor
    assert cursor is not None
    while rows := cursor.fetchmany(20_000):
        yield from rows
