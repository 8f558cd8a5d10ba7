"""Transfer requests and the legal holds that stop resources moving."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from rirport.store import schema
from rirport.store.batch import Batch
from rirport.store.driver import Driver
from rirport.store.repos.journal import JournalRepo
from rirport.store.widths import Widths

_COLUMNS = tuple(c.name for c in schema.transfer.columns)
_LISTED = ", ".join(f'"{c}"' for c in _COLUMNS)
_SELECT = f"SELECT {_LISTED} FROM transfer"
_INSERT = insert(schema.transfer)
"""Built once: a step executes it with its values (Core binds the types)."""
_UPDATABLE = frozenset(_COLUMNS) - {"id"}
WIDEST = "transfer_widest"
"""The ``meta`` key of the transfers' widths."""
KNOWN_TRANSFERS = 4096
"""Transfers whose range and date a store remembers (:attr:`TransferRepo.known`)."""


def _date(value: Any) -> dt.date:
    """A date column as the driver hands it back (SQLite: ISO text)."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _json(value: Any) -> Any:
    """A JSON column as the driver hands it back (SQLite: text; psycopg: decoded)."""
    return json.loads(value) if isinstance(value, str | bytes) else value


@dataclass(frozen=True)
class TransferRow:
    id: int
    state: str
    kind: str
    type: str
    resource: str
    lo: str
    hi: str
    source_registry: str
    source_holder: str
    recipient_registry: str
    recipient_holder: str
    transfer_date: dt.date
    regime: str
    decision: dict[str, Any]
    conditions_met: bool
    created_serial: int
    updated_serial: int


class TransferRepo:
    """Transfer rows. A transfer step reads, locks and updates one row and asks for the
    completed transfers into a range, so those paths speak plain SQL to the driver (building
    SQLAlchemy expressions cost more than the statements); the values are decoded here as
    the Core types would (dates, JSON, booleans)."""

    def __init__(self, connection: Connection, journal: JournalRepo | None = None) -> None:
        self._c = connection
        self._journal = journal
        """The unit's journal: ``transfer_widest`` as this process's last write left it,
        while no other write came in between (:meth:`JournalRepo.recall`)."""
        self._d = Driver(connection)
        self._pg = self._d.pg
        self._m = self._d.mark
        self._widest: Widths | None = None
        """The widths as this unit of work last read or wrote them."""
        self._widest_stored = False
        """Whether ``meta`` holds them (an update) or not yet (an insert)."""
        self._widest_current = False
        """Whether ``meta`` holds them as :class:`Widths` (a store from before: saved anew)."""
        self.known: dict[int, tuple[str, str, dt.date]] = {}
        """The range and date of transfers this process read or wrote (never changed by a
        step; shared by the store's units): what a step's facts are about, asked with its
        generation's bump before its row is read (:meth:`facts_read_for`)."""
        self._read: tuple[tuple[str, str, dt.date], Any] | None = None
        """The facts read with the bump (:meth:`facts_read`) and what they were asked of."""

    def add(
        self, values: dict[str, Any], batch: Batch | None = None, transfer_id: int | None = None
    ) -> int:
        """Insert a transfer row; its id. ``transfer_id`` (PostgreSQL: taken from the
        sequence with the generation's bump, :meth:`next_id`) with ``batch``: the insert is
        queued there, sent with the step's journal entry (nothing reads the row before then;
        marked as data, as :meth:`update`'s)."""
        if transfer_id is not None and batch is not None and self._pg:
            names = ("id", *sorted(values))
            params = (transfer_id, *(self._param(n, values[n]) for n in names[1:]))
            batch.insert("transfer", [f'"{n}"' for n in names], [params], data=True)
            new = transfer_id
        else:
            key = self._c.execute(_INSERT, values).inserted_primary_key
            assert key is not None
            new = int(key[0])
        self._widen(str(values["lo"]), str(values["hi"]))
        self._know(new, str(values["lo"]), str(values["hi"]), values["transfer_date"])
        return new

    def next_id(self) -> tuple[str, tuple[Any, ...]] | None:
        """A subquery taking the next transfer id from its sequence, for
        :meth:`JournalRepo.reserve` to ask with the generation's bump (PostgreSQL, else
        None): the id the insert would have been given."""
        if not self._pg:
            return None
        return "SELECT nextval(pg_get_serial_sequence('transfer', 'id'))", ()

    def _know(self, transfer_id: int, lo: str, hi: str, on: dt.date) -> None:
        known = self.known
        if transfer_id not in known and len(known) >= KNOWN_TRANSFERS:
            known.pop(next(iter(known)))
        known[transfer_id] = (lo, hi, on)

    # The widest ordinary request of each type digit and the wide ones apart
    # (``meta.transfer_widest``, :mod:`rirport.store.widths`), so the transfers overlapping a
    # range are a short index range on ``lo`` and a few ``lo`` by key, not a scan of every
    # transfer within the widest: a mass move makes thousands of them. Reading never writes
    # it (reads run in read-only transactions): a store without the key (none made yet, or a
    # store from before) has it computed here and saved by its next transfer.
    def _widths(self) -> Widths:
        if self._widest is not None:
            return self._widest
        m = self._m
        raw = self._journal.recall(WIDEST) if self._journal is not None else None
        if raw is None:
            raw = self._d.value(f'SELECT value FROM meta WHERE "key" = {m}', (WIDEST,))
            if raw is not None and self._journal is not None:
                self._journal.note(WIDEST, raw)
        self._widest_stored = raw is not None
        widths = Widths.parse(raw) if raw is not None else None
        self._widest_current = widths is not None
        if widths is None:
            widths = Widths()
            for lo, hi in self._d.rows("SELECT lo, hi FROM transfer"):
                widths.fold(lo, hi)
        self._widest = widths
        return widths

    def _save_widths(self, widths: Widths) -> None:
        value = json.dumps(widths.encode(), sort_keys=True)
        if self._journal is not None:
            self._journal.note(WIDEST, value)
        m = self._m
        if not self._widest_stored:
            self._d.run(f'INSERT INTO meta ("key", value) VALUES ({m}, {m})', (WIDEST, value))
            self._widest_stored = True
        else:
            self._d.run(f'UPDATE meta SET value = {m} WHERE "key" = {m}', (value, WIDEST))
        self._widest_current = True

    def _widen(self, lo: str, hi: str) -> None:
        widths = self._widths()
        if widths.fold(lo, hi) or not self._widest_current:
            self._save_widths(widths)

    def get(self, transfer_id: int, for_update: bool = False) -> TransferRow | None:
        lock = " FOR UPDATE" if for_update and self._pg else ""
        row = self._d.one(f"{_SELECT} WHERE id = {self._m}{lock}", (transfer_id,))
        return self._row(row) if row else None

    def locked_read(self, transfer_id: int) -> tuple[str, tuple[Any, ...]] | None:
        """A scalar subquery reading and locking the row (PostgreSQL, else None), for
        :meth:`JournalRepo.reserve` to ask with the generation's bump; its answer is read by
        :meth:`from_locked`."""
        if not self._pg:
            return None
        sql = f"SELECT json_build_array({_LISTED}) FROM transfer WHERE id = %s FOR UPDATE"
        return sql, (transfer_id,)

    def from_locked(self, value: Any) -> TransferRow | None:
        """The row :meth:`locked_read` returned (None: it returned none)."""
        if value is None:
            return None
        row = self._row(_json(value))
        self._know(row.id, row.lo, row.hi, row.transfer_date)
        return row

    def update(self, transfer_id: int, batch: Batch | None = None, **values: Any) -> None:
        """Set columns of a transfer row. ``batch`` (PostgreSQL, a step that changes no
        range): the update is queued there, sent with the step's journal entry and log rows
        (nothing reads the row before then; the log sends it before it computes the state
        parts, which read it)."""
        names = sorted(values)
        unknown = set(names) - _UPDATABLE
        if unknown:
            raise TypeError(f"not transfer columns: {', '.join(sorted(unknown))}")
        sets = ", ".join(f'"{n}" = {self._m}' for n in names)
        params = [self._param(n, values[n]) for n in names]
        sql = f"UPDATE transfer SET {sets} WHERE id = {self._m}"
        ranged = "lo" in values or "hi" in values
        if batch is not None and self._pg and not ranged:
            batch.add(sql, (*params, transfer_id), data=True)
            return
        self._d.run(sql, (*params, transfer_id))
        if ranged:  # a range changed (no step does): widen to it
            row = self.get(transfer_id)
            if row is not None:
                self._widen(row.lo, row.hi)

    def _param(self, name: str, value: Any) -> Any:
        """A value as the driver takes it for this column (what Core's types would bind)."""
        if name == "decision":
            return json.dumps(value)
        if name == "conditions_met" and not self._pg:
            return int(bool(value))
        if name == "transfer_date" and not self._pg and isinstance(value, dt.date):
            return value.isoformat()
        return value

    @staticmethod
    def _row(row: Sequence[Any]) -> TransferRow:
        values = dict(zip(_COLUMNS, row, strict=True))
        values["transfer_date"] = _date(values["transfer_date"])
        values["decision"] = _json(values["decision"])
        values["conditions_met"] = bool(values["conditions_met"])
        return TransferRow(**values)

    def all(self, states: Sequence[str] = ()) -> list[TransferRow]:
        t = schema.transfer.c
        stmt = select(schema.transfer).order_by(t.id)
        if states:
            stmt = stmt.where(t.state.in_(states))
        return [TransferRow(**r._mapping) for r in self._c.execute(stmt)]

    def completed_into(self, lo: str, hi: str) -> list[TransferRow]:
        """Completed transfers whose resource overlaps ``lo..hi``, newest last."""
        m = self._m
        condition = self._widths().starts_condition(lo, hi, m)
        if condition is None:
            return []
        starts, params = condition
        # ``state || ''``: the state is filtered, never looked up. Both engines otherwise
        # took ``ix_transfer_state`` for it, reading every completed transfer (SQLite alone;
        # PostgreSQL anded it with the range), so each step's cost grew with the transfers
        # made: 240 µs at 1,300 transfers against 13 µs on the range index (SQLite).
        rows = self._d.rows(
            f"{_SELECT} WHERE (state || '') = 'completed' AND {starts} AND hi >= {m} "
            "ORDER BY updated_serial",
            (*params, lo),
        )
        return [self._row(r) for r in rows]

    def completed_into_and_holds(
        self, lo: str, hi: str, on: dt.date
    ) -> tuple[list[TransferRow], list[HoldRow]]:
        """:meth:`completed_into` and :meth:`HoldRepo.active` (every transfer step asks
        both): on PostgreSQL one round trip, both sets of rows as one JSON array (decoded as
        the columns are), or none when the step's bump read them (:meth:`facts_read`)."""
        holds = HoldRepo(self._c)
        if not self._pg:
            return self.completed_into(lo, hi), holds.active(lo, hi, on)
        read, self._read = self._read, None
        journal = self._journal
        if (
            read is not None
            and read[0] == (lo, hi, on)
            and journal is not None
            and journal.snapshot_current
            and journal.continues()  # the widths it was asked with are the store's
        ):
            found = read[1]
        else:
            sql, params = self._facts_sql(self._widths(), lo, hi, on)
            found = self._d.value(f"SELECT {sql}", params)
        transfers, active = found
        return [self._row(r) for r in transfers or []], [_hold(r) for r in active or []]

    @staticmethod
    def _facts_sql(widths: Widths, lo: str, hi: str, on: dt.date) -> tuple[str, tuple[Any, ...]]:
        """The completed transfers into ``lo..hi`` and the holds in force on ``on`` over it,
        as one JSON array of two (each ``null`` when empty); PostgreSQL."""
        condition = widths.starts_condition(lo, hi, "%s")
        params: list[Any] = []
        transfers = "NULL"
        if condition is not None:
            starts, params = condition
            params = [*params, lo]
            transfers = (
                f"(SELECT json_agg(json_build_array({_LISTED}) ORDER BY updated_serial) "
                f"FROM transfer WHERE (state || '') = 'completed' AND {starts} AND hi >= %s)"
            )
        sql = (
            f"json_build_array({transfers}, (SELECT json_agg(json_build_array({_HOLD_SELECT}) "
            f"ORDER BY id) FROM legal_hold WHERE {_HOLDS_ACTIVE}))"
        )
        return sql, (*params, hi, lo, on, on)

    def facts_read(self, lo: str, hi: str, on: dt.date) -> tuple[str, tuple[Any, ...]] | None:
        """A subquery of :meth:`completed_into_and_holds` for ``lo..hi`` on ``on``, for
        :meth:`JournalRepo.reserve` to ask with the generation's bump (PostgreSQL; built on
        the widths this process's last write left, so None without such a write); its
        answer is :meth:`took_read`'s, used by the step's facts when still valid."""
        journal = self._journal
        if not self._pg or journal is None or journal.tail is None:
            return None
        raw = journal.tail.facts.get(WIDEST)
        widths = Widths.parse(raw) if raw is not None else None
        if widths is None:
            return None
        self._read = ((lo, hi, on), None)
        return self._facts_sql(widths, lo, hi, on)

    def facts_read_for(self, transfer_id: int) -> tuple[str, tuple[Any, ...]] | None:
        """:meth:`facts_read` for a transfer's range and date, when this process knows them
        (None otherwise: the step then asks after reading its row)."""
        known = self.known.get(transfer_id)
        return None if known is None else self.facts_read(*known)

    def took_read(self, value: Any) -> None:
        """What the bump returned for :meth:`facts_read` (None: it was not asked)."""
        if self._read is not None:
            self._read = (self._read[0], value) if value is not None else None


@dataclass(frozen=True)
class HoldRow:
    id: int
    kind: str
    type: str
    resource: str
    lo: str
    hi: str
    reason: str
    reference: str | None
    since: dt.date
    until: dt.date | None
    created_serial: int
    lifted_serial: int | None


_HOLD_COLUMNS = tuple(c.name for c in schema.legal_hold.columns)
_HOLD_SELECT = ", ".join(f'"{c}"' for c in _HOLD_COLUMNS)
_HOLDS_ACTIVE = (
    'lifted_serial IS NULL AND lo <= %s AND hi >= %s AND since <= %s AND ("until" IS NULL '
    'OR "until" >= %s)'
)
"""Holds in force on a day over numbers of a range (``%s``: PostgreSQL's mark)."""


def _hold(row: Sequence[Any]) -> HoldRow:
    """A hold as the driver hands its columns back (dates as text from SQLite or JSON)."""
    values = dict(zip(_HOLD_COLUMNS, row, strict=True))
    values["since"] = _date(values["since"])
    if values["until"] is not None:
        values["until"] = _date(values["until"])
    return HoldRow(**values)


class HoldRepo:
    """Legal holds and disputes on resources (they block transfers under every regime)."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add(self, values: dict[str, Any]) -> int:
        key = self._c.execute(insert(schema.legal_hold).values(**values)).inserted_primary_key
        assert key is not None
        return int(key[0])

    def lift(self, hold_id: int, serial: int) -> bool:
        h = schema.legal_hold.c
        done = self._c.execute(
            update(schema.legal_hold)
            .where(h.id == hold_id, h.lifted_serial.is_(None))
            .values(lifted_serial=serial)
        )
        return bool(done.rowcount)

    def active(self, lo: str, hi: str, on: dt.date) -> list[HoldRow]:
        """Holds in force on ``on`` over numbers of ``lo..hi`` (every transfer step asks:
        plain SQL to the driver)."""
        d = Driver(self._c)
        day: Any = on if d.pg else on.isoformat()
        rows = d.rows(
            f"SELECT {_HOLD_SELECT} FROM legal_hold WHERE "
            f"{_HOLDS_ACTIVE.replace('%s', d.mark)} ORDER BY id",
            (hi, lo, day, day),
        )
        return [_hold(r) for r in rows]

    def get(self, hold_id: int) -> HoldRow | None:
        row = self._c.execute(
            select(schema.legal_hold).where(schema.legal_hold.c.id == hold_id)
        ).first()
        return HoldRow(**row._mapping) if row else None

    def all(self) -> list[HoldRow]:
        return [
            HoldRow(**r._mapping)
            for r in self._c.execute(select(schema.legal_hold).order_by(schema.legal_hold.c.id))
        ]
