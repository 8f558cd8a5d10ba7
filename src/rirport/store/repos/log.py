"""The transparency log's rows: tree nodes, signed checkpoints, state-root part digests,
other logs' verified checkpoints, and the reads the state root needs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, or_, select, update

from rirport.store import schema
from rirport.store.batch import Batch
from rirport.store.driver import Driver


@dataclass(frozen=True)
class CheckpointRow:
    size: int
    origin: str
    note: str
    state_root: str
    created_at: str


@dataclass(frozen=True)
class LogTail:
    """What a committed write left the log as, for the next write of this process: valid
    while the journal's newest entry is still ``last_hash`` at tree ``size`` (entries are
    never rewritten, and the hash chains every earlier one). Any other writer (another
    process, another store object) appends an entry, which moves the head: the next write
    then reads everything here back from the tables."""

    size: int
    last_hash: str
    edge: tuple[tuple[int, int, bytes], ...]
    """The tree's right edge at ``size``: (level, index, hash) of each subtree of
    :func:`rirport.log.tree.right_edge`, largest first."""
    state: Any = None
    """The state digests stored by this write when it signed (nothing left pending; the
    services' ``Computed``), else None."""
    template: Any = None
    """How this process's checkpoints are made (:class:`rirport.log.checkpoint.Template`:
    its signer and the key history read from ``meta.log_predecessors``), once one was
    signed; None: not made yet."""
    checkpoint_at: str | None = None
    """When the newest checkpoint this process knows of was signed (ISO 8601), for the
    checkpoint interval; None: not known (read it). Another process may have signed one
    since without a new entry (``rirport log checkpoint``): then this is older than the
    newest, and a write signs early rather than late."""


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
        self.rewritten = False
        """Set when this transaction dropped the tree or replaced every state digest: what
        the process cached of the log (:class:`LogTail`) is then no longer it."""

    # -- the tree ------------------------------------------------------------------------------
    # The append path runs in every write transaction, so it speaks plain SQL to the driver
    # (SQLAlchemy's expression building cost more than the statements themselves).
    def _mark(self) -> str:
        return "%s" if self._c.dialect.name == "postgresql" else "?"

    def _run(self, sql: str, params: Any = ()) -> list[Any]:
        """Run a statement on this transaction's driver connection (:mod:`rirport.store.
        driver`: the few statements of every signed write, where SQLAlchemy's result set-up
        cost as much as SQLite running them); its rows, if it returns any."""
        return Driver(self._c).rows(sql, params)

    def size(self) -> int:
        """The tree's size: one past the last leaf (the primary key answers it)."""
        found = Driver(self._c).value("SELECT MAX(idx) FROM log_node WHERE level = 0")
        return 0 if found is None else int(found) + 1

    def nodes(self, wanted: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """The stored hashes of the (level, index) pairs asked for (one query)."""
        if not wanted:
            return {}
        mark = self._mark()
        where = " OR ".join([f"(level = {mark} AND idx = {mark})"] * len(wanted))
        params = tuple(v for pair in wanted for v in pair)
        rows = Driver(self._c).rows(f"SELECT level, idx, hash FROM log_node WHERE {where}", params)
        return {(int(r[0]), int(r[1])): bytes(r[2]) for r in rows}

    def add_nodes(
        self, nodes: Iterable[tuple[int, int, bytes]], batch: Batch | None = None
    ) -> None:
        """Store tree nodes (``batch``: queued there, sent with the write's other log rows)."""
        values = list(nodes)
        if values:
            out = Batch(self._c) if batch is None else batch
            out.insert("log_node", ("level", "idx", "hash"), values)
            if batch is None:
                out.send()

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
        self.rewritten = True
        self._c.execute(delete(schema.log_node))

    # -- checkpoints ---------------------------------------------------------------------------
    def add_checkpoint(self, row: CheckpointRow, batch: Batch | None = None) -> None:
        """Store a signed checkpoint (``batch``: queued there, sent with the write's other
        log rows)."""
        out = Batch(self._c) if batch is None else batch
        out.insert(
            "log_checkpoint",
            ("size", "origin", "note", "state_root", "created_at"),
            [(row.size, row.origin, row.note, row.state_root, row.created_at)],
        )
        if batch is None:
            out.send()

    def latest_checkpoint(self) -> CheckpointRow | None:
        c = schema.log_checkpoint.c
        row = self._c.execute(
            select(schema.log_checkpoint).order_by(c.size.desc()).limit(1)
        ).first()
        return CheckpointRow(**row._mapping) if row else None

    def latest_checkpoint_time(self) -> str | None:
        """When the newest checkpoint was signed (ISO 8601), read on every write under a
        checkpoint interval: one row by the primary key, plain SQL."""
        found = Driver(self._c).value(
            "SELECT created_at FROM log_checkpoint ORDER BY size DESC LIMIT 1"
        )
        return None if found is None else str(found)

    def latest_signed(self) -> tuple[int, str] | None:
        """The size of the newest checkpoint and when it was signed (None: none yet)."""
        found = Driver(self._c).one(
            "SELECT size, created_at FROM log_checkpoint ORDER BY size DESC LIMIT 1"
        )
        return None if found is None else (int(found[0]), str(found[1]))

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
        rows = self._run("SELECT part, digest FROM log_state")
        return {str(r[0]): str(r[1]) for r in rows}

    def set_parts(
        self,
        parts: dict[str, str],
        before: dict[str, str] | None = None,
        batch: Batch | None = None,
    ) -> None:
        """Store the part digests ``parts``; with ``before`` (what is stored), only the rows
        that changed are written (``batch``: queued there, sent with the write's other log
        rows; a signed write runs this)."""
        out = Batch(self._c) if batch is None else batch
        mark = out.mark
        if before is None:  # run now: a delete and an insert of one key never share a statement
            self.rewritten = True
            self._run("DELETE FROM log_state")
            before = {}
        for name in sorted(before.keys() - parts.keys()):
            out.add(f"DELETE FROM log_state WHERE part = {mark}", (name,))
        fresh = [(n, d) for n, d in parts.items() if n not in before]
        out.insert("log_state", ("part", "digest"), fresh)
        for n, d in parts.items():
            if n in before and before[n] != d:
                out.add(f"UPDATE log_state SET digest = {mark} WHERE part = {mark}", (d, n))
        if batch is None:
            out.send()

    def buckets(self, part: str) -> dict[str, str]:
        """The stored bucket digests of a ``delegations`` part (bucket → hex)."""
        rows = self._c.exec_driver_sql(
            f"SELECT bucket, digest FROM log_bucket WHERE part = {self._mark()}", (part,)
        )
        return {str(r[0]): str(r[1]) for r in rows}

    def replace_buckets(self, part: str, digests: dict[str, str]) -> None:
        """Store a part's bucket digests, dropping whatever it had."""
        mark = self._mark()
        self._c.exec_driver_sql(f"DELETE FROM log_bucket WHERE part = {mark}", (part,))
        self.add_buckets(part, digests)

    def add_buckets(self, part: str, digests: dict[str, str]) -> None:
        if digests:
            mark = self._mark()
            self._c.exec_driver_sql(
                f"INSERT INTO log_bucket (part, bucket, digest) VALUES ({mark}, {mark}, {mark})",
                [(part, b, d) for b, d in digests.items()],
            )

    def set_buckets(self, part: str, before: dict[str, str], after: dict[str, str]) -> None:
        """Write the changes from ``before`` (stored) to ``after`` of a part's buckets."""
        mark = self._mark()
        gone = [(part, b) for b in before.keys() - after.keys()]
        if gone:
            self._c.exec_driver_sql(
                f"DELETE FROM log_bucket WHERE part = {mark} AND bucket = {mark}", gone
            )
        self.add_buckets(part, {b: d for b, d in after.items() if b not in before})
        changed = [(d, part, b) for b, d in after.items() if b in before and before[b] != d]
        if changed:
            self._c.exec_driver_sql(
                f"UPDATE log_bucket SET digest = {mark} WHERE part = {mark} AND bucket = {mark}",
                changed,
            )

    def drop_buckets(self) -> None:
        self.rewritten = True
        self._c.exec_driver_sql("DELETE FROM log_bucket")

    def keyed_records(
        self, registry: str, date: dt.date, bounds: Sequence[tuple[str, str]] | None = None
    ) -> list[tuple[str, str]]:
        """(range key, statistics line) of the rows of ``registry`` in force in its snapshot
        dated ``date`` (transfers applied), in no particular order; with ``bounds``, only
        those whose key ``lo`` has ``low <= lo < high`` for one of the (low, high) pairs (by
        the index on ``lo``)."""
        mark = self._mark()
        sql = (
            f"SELECT lo, record FROM delegation WHERE registry = {mark} AND valid_from <= {mark} "
            f"AND valid_to >= {mark} AND retired_serial IS NULL"
        )
        day: Any = date if self._c.dialect.name == "postgresql" else date.isoformat()
        params: tuple[Any, ...] = (registry, day, day)
        if bounds is None:
            return [(str(r[0]), str(r[1])) for r in self._c.exec_driver_sql(sql, params)]
        out: list[tuple[str, str]] = []
        for low, high in bounds:
            rows = self._c.exec_driver_sql(
                f"{sql} AND lo >= {mark} AND lo < {mark}", (*params, low, high)
            )
            out.extend((str(r[0]), str(r[1])) for r in rows)
        return out

    def current_snapshots(self) -> dict[str, tuple[dt.date, str]]:
        """Each registry's current snapshot (newest by date, then ingest order): its date
        and content sha256, as the state root names it (plain SQL: every signed write that
        touches a delegations part reads it)."""
        newest: dict[str, int] = {}
        for registry, sid in self._c.exec_driver_sql(
            "SELECT registry, id FROM snapshot ORDER BY registry, snapshot_date, id"
        ):
            newest[str(registry)] = int(sid)
        if not newest:
            return {}
        marks = ", ".join([self._mark()] * len(newest))
        rows = self._c.exec_driver_sql(
            f"SELECT registry, snapshot_date, content_sha256 FROM snapshot WHERE id IN ({marks})",
            tuple(newest.values()),
        )
        return {str(r): (dt.date.fromisoformat(str(d)), str(h)) for r, d, h in rows}

    def iana_lines(self) -> list[tuple[Any, ...]]:
        """IANA's blocks as the state root's ``iana`` part names their fields."""
        return [
            tuple(r)
            for r in self._run(
                "SELECT source, lo, hi, prefix, designation, registry, status, date, note "
                "FROM iana_block"
            )
        ]

    def hold_lines(self) -> list[tuple[Any, ...]]:
        """(id, resource, kind, reason, reference, since, until) of each hold not lifted."""
        return [
            tuple(r)
            for r in self._run(
                "SELECT id, resource, kind, reason, reference, since, until FROM legal_hold "
                "WHERE lifted_serial IS NULL"
            )
        ]

    def transfer_lines(self) -> list[tuple[Any, ...]]:
        """(created_serial, state, updated_serial) of each transfer request."""
        return [
            tuple(r)
            for r in self._run("SELECT created_serial, state, updated_serial FROM transfer")
        ]

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

    def mirrored(self, role: str, started_key: str) -> bool:
        """Whether any peer of ``role`` is recorded or ``meta`` holds a non-empty
        ``started_key`` (every journaled write asks: one statement, plain SQL)."""
        d = Driver(self._c)
        m = d.mark
        found = d.one(
            f"SELECT 1 FROM log_peer WHERE role = {m} UNION ALL SELECT 1 FROM meta "
            f"WHERE \"key\" = {m} AND value <> '' LIMIT 1",
            (role, started_key),
        )
        return found is not None

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
