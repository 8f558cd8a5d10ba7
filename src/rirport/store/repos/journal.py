"""The hash-chained journal's rows."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select

from rirport.store import schema
from rirport.store.batch import Batch
from rirport.store.driver import Driver
from rirport.store.repos.meta import MetaRepo


@dataclass(frozen=True)
class JournalRow:
    serial: int
    created_at: str
    actor: str
    action: str
    payload: str
    prev_hash: str
    hash: str

    def fields(self) -> tuple[int, str, str, str, str, str, str]:
        """The columns in table order (what the insert, the export line and the chain check
        take, positionally)."""
        return (
            self.serial,
            self.created_at,
            self.actor,
            self.action,
            self.payload,
            self.prev_hash,
            self.hash,
        )


MIRROR_PROBE = ("mirror", "mirror_started")
"""The peer role and ``meta`` key that make a store a mirror (as
:mod:`rirport.services.transparency.readonly` asks them; a test holds the two equal): on
PostgreSQL the generation's bump answers "not a mirror" in the same statement."""


@dataclass(frozen=True)
class JournalTail:
    """What the last write of this process committed: its entry's serial and hash, and
    facts only journaled writes change (``meta`` values such as ``transfer_widest``, as
    committed). Valid for a later transaction only while the journal's newest entry is still
    this one (:meth:`JournalRepo.continues`): then no other write came in between."""

    serial: int
    hash: str
    facts: dict[str, Any] = field(default_factory=dict)


PREFETCHED = ("log_pending", "log_pending_buckets")
"""The ``meta`` keys the log reads after every entry (the state parts and buckets pending
for the next checkpoint: :data:`rirport.services.transparency.state.PENDING` and
``PENDING_BUCKETS``; a test holds them equal): on PostgreSQL the bump reads them too."""

_BUMP_PG = (
    "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) "
    "WHERE \"key\" = 'generation' RETURNING value, "
    "(SELECT g.value FROM meta g WHERE g.\"key\" = 'generation'), "
    "(SELECT serial || ' ' || hash FROM journal ORDER BY serial DESC LIMIT 1), "
    "EXISTS (SELECT 1 FROM log_peer WHERE role = %s) "
    "OR EXISTS (SELECT 1 FROM meta s WHERE s.\"key\" = %s AND s.value <> ''), "
    '(SELECT p.value FROM meta p WHERE p."key" = %s FOR SHARE), '
    '(SELECT b.value FROM meta b WHERE b."key" = %s FOR SHARE)'
)
"""The next serial, and in the same round trip what the entry needs next: the journal's
newest entry, whether the store is a mirror and the log's pending parts (:data:`PREFETCHED`).
The plain subqueries read the statement's snapshot, taken before the row lock was waited
for; they are used only when that snapshot saw the generation this bump counted up from (no
journaled writer committed in between), else they are asked again
(:meth:`JournalRepo.reserve`). The pending parts are also written without a journal entry
(a checkpoint of ``rirport log checkpoint`` clears them under the generation's lock, not
moving it): they are read ``FOR SHARE``, which in READ COMMITTED returns the row's newest
committed version, not the snapshot's (measured: a plain subquery returned the value from
before a commit made while the bump waited), and used only when the row exists (one inserted
since the snapshot is not seen: then read again)."""


_BUMP_SQLITE = (
    "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) "
    "WHERE \"key\" = 'generation' RETURNING value, CAST(value AS INTEGER) - 1, "
    "(SELECT serial || ' ' || hash FROM journal ORDER BY serial DESC LIMIT 1), "
    "EXISTS (SELECT 1 FROM log_peer WHERE role = ?) "
    "OR EXISTS (SELECT 1 FROM meta s WHERE s.\"key\" = ? AND s.value <> ''), "
    '(SELECT p.value FROM meta p WHERE p."key" = ?), '
    '(SELECT b.value FROM meta b WHERE b."key" = ?)'
)
""":data:`_BUMP_PG` on SQLite (3.35 on, which returns the updated row): the same answers
in the same statement, each a statement of its own before (four of a step's dozen). No
snapshot to go stale: ``BEGIN IMMEDIATE`` holds the write lock from the transaction's start,
so every subquery reads the newest committed rows (the second column, the generation before
the bump, says so to the freshness check); an absent pending part is known absent."""


_DATA_GENERATION_PG = (
    "INSERT INTO meta (\"key\", value) VALUES ('data_generation', %s) "
    'ON CONFLICT ("key") DO UPDATE SET value = EXCLUDED.value'
)


class JournalRepo:
    """The append-only journal. Serials come from the store's write generation, whose row
    lock (held to commit) orders concurrent writers on PostgreSQL."""

    def __init__(self, connection: Connection, meta: MetaRepo) -> None:
        self._c = connection
        self._d = Driver(connection)
        self._meta = meta
        self._written: tuple[int, str] | None = None
        """The serial and hash of the entry this unit wrote last."""
        self._before: tuple[int, str | None] | None = None
        """The first serial this unit reserved and the hash of the entry before it (None:
        the journal is empty), read with the bump (PostgreSQL)."""
        self.known_writable = False
        """Set when the bump found the store not a mirror (PostgreSQL, a fresh snapshot)."""
        self.tail: JournalTail | None = None
        """The process's last committed write (from the store), for :meth:`continues`."""
        self._facts: dict[str, Any] = {}
        """Facts this unit read or wrote after its first reservation, for the next tail."""
        self.locked_value: Any = None
        """What the last :meth:`reserve` read with its ``locked`` subquery (None: not read)."""
        self.read_value: Any = None
        """What the last :meth:`reserve` read with its ``read`` subquery (None: not read)."""
        self.new_value: Any = None
        """What the last :meth:`reserve` took with its ``new`` subquery (None: not asked)."""
        self.snapshot_current = False
        """Whether the bump's plain subqueries saw the store as this transaction now holds it
        (no journaled writer committed between their snapshot and the generation's lock)."""

    def reserve(
        self,
        locked: tuple[str, Sequence[Any]] | None = None,
        read: tuple[str, Sequence[Any]] | None = None,
        new: tuple[str, Sequence[Any]] | None = None,
    ) -> int:
        """The serial of this transaction's entry (written later by :meth:`write`).

        ``locked`` (PostgreSQL): a scalar subquery that reads one row ``FOR UPDATE`` (the
        transfer a step changes), and its parameters, asked in the statement that takes the
        generation's lock, after it: its value (the row's newest committed version, locked)
        is :attr:`locked_value`; None when it was not asked (SQLite, the first write, a
        second entry of the transaction) or found no row (one committed since the
        statement's snapshot is not seen): then the caller reads it itself.

        ``read`` (PostgreSQL): a scalar subquery of rows only journaled writes change (the
        completed transfers and holds over a range), asked in the same statement: its value
        is :attr:`read_value`, of use only while :attr:`snapshot_current` (else asked
        again).

        ``new`` (PostgreSQL): a scalar subquery that takes a value for this transaction (the
        next id of a sequence), in the same statement: :attr:`new_value`."""
        self.locked_value = self.read_value = self.new_value = None
        self.snapshot_current = False
        pg = self._d.pg
        if self._before is not None or not (pg or self._meta.returning):
            serial = self._meta.bump_generation()
            if self._before is None:
                self._before = (serial, self._hash_before(serial))
            return serial
        sql, params = (_BUMP_PG if pg else _BUMP_SQLITE), (*MIRROR_PROBE, *PREFETCHED)
        extras = [e for e in (locked, read, new) if e is not None]
        for extra in extras:
            sql, params = f"{sql}, ({extra[0]})", (*params, *extra[1])
        found = self._d.one(sql, params)
        if found is None:  # no generation row yet: the first write
            serial = self._meta.bump_generation()
            self._before = (serial, self._hash_before(serial))
            return serial
        serial, seen, newest, mirrored = int(found[0]), found[1], found[2], found[3]
        values = dict(zip([id(e) for e in extras], found[6:], strict=True))
        if locked is not None:
            self.locked_value = values[id(locked)]
        if read is not None:
            self.read_value = values[id(read)]
        if new is not None:
            self.new_value = values[id(new)]
        for key, value in zip(PREFETCHED, found[4:6], strict=True):
            if value is not None:  # read under a row lock: the newest committed value
                self._meta.known(key, str(value))
            elif not pg:  # SQLite: the whole transaction holds the write lock
                self._meta.known(key, None)
        fresh = seen is not None and int(seen) + 1 == serial
        number, _, digest = str(newest or "").partition(" ")
        if fresh and newest is not None and int(number) == serial - 1:
            self._before = (serial, digest)
            self.known_writable = not mirrored
            self.snapshot_current = True
        else:  # a writer committed while this one waited (or a gap): ask again
            self._before = (serial, self._hash_before(serial))
        return serial

    def _hash_before(self, before: int) -> str | None:
        found = self._d.value(
            f"SELECT hash FROM journal WHERE serial < {self._mark()} ORDER BY serial DESC LIMIT 1",
            (before,),
        )
        return None if found is None else str(found)

    def continues(self) -> bool:
        """Whether this transaction's first entry follows the entry this process committed
        last (:attr:`tail`), with nothing in between: what the process remembers of that
        commit (:meth:`recall`) is then still the store's. False before a reservation."""
        tail, before = self.tail, self._before
        return (
            tail is not None
            and before is not None
            and before[0] == tail.serial + 1
            and before[1] == tail.hash
        )

    def recall(self, key: str) -> Any:
        """A fact as this process's last commit left it, if it still holds (else None)."""
        if not self.continues():
            return None
        assert self.tail is not None
        return self.tail.facts.get(key)

    def note(self, key: str, value: Any) -> None:
        """Pass a fact read or written in this transaction on to the next one: only after a
        reservation (PostgreSQL: under the generation's lock, so no other writer changes it
        before this one commits)."""
        if self._before is not None:
            self._facts[key] = value

    def forget(self, key: str) -> None:
        """This transaction changed what ``key`` stands for without noting it: pass on none."""
        self._facts[key] = None

    def tail_after(self) -> JournalTail | None:
        """What the next transaction of this process may take for granted (after commit)."""
        if self._written is None:
            if self.tail is None or not self._facts:
                return self.tail
            kept = {k: v for k, v in self.tail.facts.items() if k not in self._facts}
            return JournalTail(self.tail.serial, self.tail.hash, kept)
        carried = dict(self.tail.facts) if self.tail is not None and self.continues() else {}
        carried.update(self._facts)
        facts = {k: v for k, v in carried.items() if v is not None}
        return JournalTail(self._written[0], self._written[1], facts)

    # the append path (every write transaction) speaks plain SQL to the driver
    def _mark(self) -> str:
        return "%s" if self._c.dialect.name == "postgresql" else "?"

    def last_hash(self, before: int) -> str | None:
        if self._written is not None and self._written[0] == before - 1:
            return self._written[1]  # this unit wrote the entry before (a batch of steps)
        if self._before is not None and self._before[0] == before and self._written is None:
            return self._before[1]  # read with the reservation
        return self._hash_before(before)

    def write(
        self, row: JournalRow, data_changed: bool = False, batch: Batch | None = None
    ) -> None:
        """Insert the entry; ``data_changed``: and record its serial as the data generation
        (:meth:`MetaRepo.mark_data_changed`; one statement on PostgreSQL). ``batch``
        (PostgreSQL): queued there instead, sent with the log's rows of the entry (nothing
        reads the entry back before then)."""
        m = self._mark()
        values = row.fields()
        insert = (
            "INSERT INTO journal (serial, created_at, actor, action, payload, prev_hash, hash) "
            f"VALUES ({', '.join([m] * 7)})"
        )
        if batch is not None and self._d.pg:
            if data_changed:
                batch.add(_DATA_GENERATION_PG, (str(row.serial),))
            batch.add(insert, values)
        elif data_changed and self._d.pg:
            updated = self._d.value(
                "WITH d AS (UPDATE meta SET value = %s WHERE \"key\" = 'data_generation' "
                f"RETURNING 1) {insert} RETURNING (SELECT count(*) FROM d)",
                (str(row.serial), *values),
            )
            if not updated:  # a store without the key yet
                self._meta.mark_data_changed(row.serial)
        else:
            self._d.run(insert, values)
            if data_changed:
                self._meta.mark_data_changed(row.serial)
        self._written = (row.serial, row.hash)

    def chunks(self, size: int = 20_000) -> Iterator[Sequence[Any]]:
        """All entries in serial order as plain tuples (field order of :class:`JournalRow`)."""
        j = schema.journal.c
        cursor = self._c.execute(
            select(
                j.serial, j.created_at, j.actor, j.action, j.payload, j.prev_hash, j.hash
            ).order_by(j.serial)
        ).cursor
        assert cursor is not None
        while rows := cursor.fetchmany(size):
            yield rows

    def get(self, serial: int) -> JournalRow | None:
        row = self._c.execute(
            select(schema.journal).where(schema.journal.c.serial == serial)
        ).first()
        return JournalRow(**row._mapping) if row else None

    def count(self) -> int:
        return int(self._c.execute(select(func.count()).select_from(schema.journal)).scalar_one())
