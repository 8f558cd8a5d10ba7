"""Delegations stored as versions, their line order, holder links and history rows."""

from __future__ import annotations

import datetime as dt
import json
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from sqlalchemy import (
    Connection,
    Date,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from rirport.errors import StorageError
from rirport.store import schema
from rirport.store.batch import Batch
from rirport.store.bulk import DelegationRows, Version, insert_delegations
from rirport.store.driver import Driver
from rirport.store.engine import READ_ONLY
from rirport.store.head import HeadState
from rirport.store.order import MAX_DEPTH, LineOrder
from rirport.store.repos.ids import _draw_ids
from rirport.store.repos.journal import JournalRepo
from rirport.store.repos.snapshots import NEWEST_DATES, SnapshotRow
from rirport.store.schema import OPEN_END
from rirport.store.widths import Widths


@dataclass(frozen=True)
class RecordRow:
    """A stored delegation: its snapshot, source line and statistics line."""

    snapshot_id: int
    line: int
    record: str
    id: int = 0


@dataclass(frozen=True)
class NewDelegation:
    """A row a transfer adds."""

    snapshot_id: int
    line: int
    lo: str
    hi: str
    opaque_id: str | None
    record: str


State = Literal["current", "original"]
_ADDED = (
    "snapshot_id",
    "line",
    "lo",
    "hi",
    "opaque_id",
    "record",
    "added_serial",
    "registry",
    "valid_from",
    "valid_to",
)
"""The columns of a row a transfer adds, in the order :meth:`DelegationRepo.add` gives them."""
_SELECTED = "id, origin_id, line, lo, added_serial, record, registry, valid_from, valid_to"
"""The columns :meth:`DelegationRepo._placed` takes, in its order."""
_LINE_ROW = "SELECT id, origin_id, line, lo, added_serial"
_BEFORE = "SELECT json_build_array(id, origin_id, line, lo, added_serial)"
""":meth:`DelegationRepo.line_before`'s row as one value, asked with the overlapping rows."""
_SAVE_EVERY = 256
HEADS_GONE = "head_states_gone"
"""The fact passed on when a write left no head state (``head_state`` empty)."""
WIDEST = "widest"
"""The ``meta`` key of the rows' widths (also the fact passed on to the next write)."""
"""Rows added since ``meta.widest`` was saved that make it worth saving though no width
changed (a transfer's few parts are read again by the next unit instead: a write saved)."""


class DelegationRepo:
    """Versions of records. A snapshot's rows are those of its registry valid on its date;
    their lines come from the snapshot's :class:`~rirport.store.order.LineOrder`."""

    def __init__(
        self,
        connection: Connection,
        shared: SnapshotCache | None = None,
        journal: JournalRepo | None = None,
    ) -> None:
        self._c = connection
        self._journal = journal
        """The unit's journal: the widths as this process's last write left them, while no
        other write came in between (:meth:`JournalRepo.recall`)."""
        self._d = Driver(connection)
        self._orders: dict[int, LineOrder] = {}
        self._depths: dict[int, int] = {}
        self._asked: set[int] = set()
        """The orders this unit wrote or asked for (not those decoded only as the base of an
        edit): what it hands the shared cache."""
        self._snapshots: dict[int, SnapshotRow] = {}
        self._shared = shared
        self._widest: Widths | None = None
        self._locked: dict[int, tuple[str, dt.date, dt.date]] = {}
        """Current rows this unit read for update, by id: (registry, valid_from, valid_to)
        as read (dropped when this unit moves a row's dates or retires it)."""
        self._heads_gone = False
        """Whether this unit deleted every head state (and saved none since)."""
        self._before_read: tuple[tuple[int, str], Any] | None = None
        """A :meth:`line_before` row read by :meth:`overlapping`, and what it was asked of."""
        self._heads_saved: dict[str, tuple[bytes, bytes, HeadState]] = {}
        """The head states this unit saved, with their stored ids and origins (handed to the
        shared cache once committed)."""

    # -- writing a file's rows ---------------------------------------------------------------
    def add_rows(
        self, snapshot_id: int, rows: DelegationRows, end: dt.date | None = None
    ) -> list[int]:
        """Store rows prepared by :func:`rirport.store.bulk.delegation_rows` as new versions
        valid from the snapshot's date to ``end`` (None: that date only;
        :data:`~rirport.store.schema.OPEN_END`: rows of the registry's newest file); returns
        their ids (in row order)."""
        snap = self._snapshot(snapshot_id)
        widths = self.widest()  # up to date before these rows (a store from before: a scan)
        ids = self.allocate_ids(len(rows))
        insert_delegations(
            self._c, Version(snapshot_id, snap.registry, snap.snapshot_date, end), rows, ids
        )
        # the rows' widths from the columns in hand, so no transfer has to read them back
        widths.fold_table(rows.table)
        if ids:  # one small write per file
            self._save_widest(int(self._d.value("SELECT max(id) FROM delegation")), widths)
        return ids

    # -- the newest file as columns (rirport.store.head) -------------------------------------
    def head(self, registry: str) -> HeadState | None:
        """The registry's head state, if one is kept (none: rebuild it from the rows): the
        one this process saved when the stored one is still it (same snapshot, same ids and
        origins: the fingerprints of those rows are then the same too), else read whole."""
        h = schema.head_state.c
        row = self._c.execute(
            select(h.snapshot_id, h.ids, h.origins).where(h.registry == registry)
        ).first()
        if row is None:
            return None
        snapshot_id, ids, origins = int(row[0]), bytes(row[1]), bytes(row[2])
        mine = self._shared.heads.get(registry) if self._shared is not None else None
        if mine is not None and mine[2].snapshot_id == snapshot_id and mine[:2] == (ids, origins):
            return mine[2]
        prints = self._c.execute(select(h.prints).where(h.registry == registry)).scalar_one()
        return HeadState.decode(snapshot_id, ids, origins, bytes(prints))

    def save_head(self, registry: str, head: HeadState) -> None:
        ids, origins, prints = head.encode()
        self.drop_heads([registry])
        self._heads_saved[registry] = (ids, origins, head)
        self._heads_gone = False
        if self._journal is not None:
            self._journal.forget(HEADS_GONE)
        self._c.execute(
            insert(schema.head_state).values(
                registry=registry,
                snapshot_id=head.snapshot_id,
                ids=ids,
                origins=origins,
                prints=prints,
            )
        )

    def drop_heads(self, registries: Iterable[str] | None = None) -> None:
        """Forget head states (of these registries; None: all): their rows were rewritten
        otherwise than by an append (a late file, a transfer). Once this unit dropped them
        all and saved none since, there is nothing left to drop (a transfer asks twice)."""
        registries = None if registries is None else list(registries)
        for registry in list(self._heads_saved) if registries is None else registries:
            self._heads_saved.pop(registry, None)
        if self._heads_gone:
            return
        if registries is None and self._journal is not None and self._journal.recall(HEADS_GONE):
            self._heads_gone = True  # this process's last write left none, nor did any since
            self._journal.note(HEADS_GONE, True)
            return
        stmt = delete(schema.head_state)
        if registries is not None:
            stmt = stmt.where(schema.head_state.c.registry.in_(list(registries)))
        self._c.execute(stmt)
        self._heads_gone = registries is None
        if self._journal is not None and self._heads_gone:
            self._journal.note(HEADS_GONE, True)

    def versions_by_id(self, ids: Sequence[int]) -> list[tuple[int, str, str, str | None, str]]:
        """(id, lo, hi, opaque_id, record) of these rows (by primary key: few rows read)."""
        d = schema.delegation.c
        found: list[tuple[int, str, str, str | None, str]] = []
        for chunk in _chunks(ids):
            found += [
                (int(r[0]), r[1], r[2], r[3], r[4])
                for r in self._c.execute(
                    select(d.id, d.lo, d.hi, d.opaque_id, d.record).where(d.id.in_(chunk))
                )
            ]
        return found

    def allocate_ids(self, n: int) -> list[int]:
        """``n`` fresh row ids (the writer holds the database lock on SQLite; PostgreSQL
        draws them from the column's sequence)."""
        return _draw_ids(self._c, "delegation", n)

    def save_order(self, snapshot_id: int, order: LineOrder, after: int | None = None) -> None:
        """Store a snapshot's line order; ``after``: the registry's snapshot before, whose
        order this one is stored as an edit of when it can be (format 3), up to
        :data:`~rirport.store.order.MAX_DEPTH` edits in a row."""
        encoded = None
        depth = 0
        if after is not None:
            base = self.order(after)
            depth = self._depths.get(after, 0) + 1
            if depth <= MAX_DEPTH:
                encoded = order.encode_after(base, after, depth)
        if encoded is None:
            encoded, depth = order.encode(), 0
        origins, lines = encoded
        self._c.execute(
            insert(schema.snapshot_order).values(
                snapshot_id=snapshot_id, origins=origins, lines=lines
            )
        )
        self._orders[snapshot_id] = order
        self._depths[snapshot_id] = depth
        self._asked.add(snapshot_id)

    def order(self, snapshot_id: int) -> LineOrder:
        """The snapshot's line order (cached for the unit of work; an edit is applied to the
        order it edits, read the same way)."""
        found = self._order(snapshot_id)
        self._asked.add(snapshot_id)
        return found

    def _order(self, snapshot_id: int) -> LineOrder:
        if snapshot_id not in self._orders and self._shared is not None:
            kept = self._shared.orders.get(snapshot_id)
            if kept is not None:
                self._orders[snapshot_id], self._depths[snapshot_id] = kept
        if snapshot_id not in self._orders:
            o = schema.snapshot_order.c
            row = self._c.execute(
                select(o.origins, o.lines).where(o.snapshot_id == snapshot_id)
            ).first()
            if row is None:
                raise StorageError(f"snapshot {snapshot_id} has no stored line order")
            based = LineOrder.base_of(row.origins)
            base = None if based is None else self._order(based[0])
            self._orders[snapshot_id] = LineOrder.decode(row.origins, row.lines, base)
            self._depths[snapshot_id] = 0 if based is None else based[1]
        return self._orders[snapshot_id]

    def file_versions(
        self, registry: str, date: dt.date, mark: dt.date | None = None
    ) -> list[StoredVersion]:
        """The file rows (not added by a transfer, not retired) valid on ``date``, each
        saying whether it is still valid on ``mark`` and whether it starts there."""
        d = schema.delegation.c
        day = mark or date
        stmt = select(
            d.id,
            func.coalesce(d.origin_id, d.id),
            d.lo,
            d.hi,
            d.opaque_id,
            d.record,
            case((d.valid_to >= day, 1), else_=0),
            case((d.valid_from == day, 1), else_=0),
        ).where(_valid(registry, date), d.added_serial.is_(None), d.retired_serial.is_(None))
        cursor = self._c.execute(stmt).cursor
        assert cursor is not None
        return [StoredVersion(*row) for row in cursor.fetchall()]

    def set_bounds(
        self,
        ids: Sequence[int],
        *,
        valid_from: dt.date | None = None,
        valid_to: dt.date | None = None,
    ) -> None:
        """Move the start or the end of these versions (ids are inlined as integers: binding
        thousands of parameters costs more than the update)."""
        column, day = (
            ("valid_from", valid_from) if valid_from is not None else ("valid_to", valid_to)
        )
        assert day is not None
        value = day if self._d.pg else day.isoformat()  # as Core's Date binds it
        self._locked.clear()
        for chunk in _chunks(ids, 20_000):
            listed = ",".join(str(int(i)) for i in chunk)
            self._d.run(
                f"UPDATE delegation SET {column} = {self._d.mark} WHERE id IN ({listed})", (value,)
            )

    def split(self, ids: Sequence[int], end_first: dt.date, start_second: dt.date) -> None:
        """Cut each version in two around a snapshot it is not in: a copy (same origin) takes
        over from ``start_second``, the row itself now ends at ``end_first``."""
        d = schema.delegation.c
        copied = [
            d.snapshot_id,
            d.line,
            d.lo,
            d.hi,
            d.opaque_id,
            d.record,
            d.added_serial,
            d.retired_serial,
            d.registry,
        ]
        for chunk in _chunks(ids):
            source = select(
                *copied,
                literal(start_second, Date).label("valid_from"),
                d.valid_to,
                func.coalesce(d.origin_id, d.id).label("origin_id"),
            ).where(d.id.in_(chunk))
            self._c.execute(
                insert(schema.delegation).from_select(
                    [*(c.name for c in copied), "valid_from", "valid_to", "origin_id"], source
                )
            )
        self.set_bounds(ids, valid_to=end_first)

    # -- reading snapshots -------------------------------------------------------------------
    def count(self, snapshot_ids: Iterable[int]) -> int:
        """Rows of these snapshots in their current state (transfers applied), summed."""
        d = schema.delegation.c
        total = 0
        for sid in snapshot_ids:
            snap = self._snapshot(sid)
            total += int(
                self._c.execute(
                    select(func.count())
                    .select_from(schema.delegation)
                    .where(_valid(snap.registry, snap.snapshot_date), d.retired_serial.is_(None))
                ).scalar_one()
            )
        return total

    def record_columns(
        self, snapshot_id: int, state: State = "current"
    ) -> tuple[list[int], list[str]]:
        """(line numbers, record lines) of a snapshot in file order, fetched in bulk."""
        lines: list[int] = []
        records: list[str] = []
        for chunk_lines, chunk_records, _ in self.record_chunks(snapshot_id, state=state):
            lines += chunk_lines
            records += chunk_records
        return lines, records

    def record_chunks(
        self,
        snapshot_id: int,
        size: int = 50_000,
        state: State = "current",
        not_yet: Sequence[int] = (),
    ) -> Iterator[tuple[list[int], list[str], list[int]]]:
        """As :meth:`record_columns`, ``size`` rows at a time, with each row's
        ``added_serial`` (0 for a row read from the file, else the journal serial of the
        transfer that made it).

        ``state="current"``: the registry as it stands, transfers applied (rows split off by a
        transfer share their original line), except the transfers completed by the journal
        serials ``not_yet`` (dated after an as-of date: their rows are read as before the
        move); ``"original"``: the file as ingested. The rows
        are fetched with the driver's ``fetchall`` of plain tuples (SQLAlchemy's row objects
        would take seconds for half a million), placed by the snapshot's line order, and
        sorted by line, then range start, then id.
        """
        snap = self._snapshot(snapshot_id)
        d = schema.delegation.c
        wanted: ColumnElement[bool] = (
            d.retired_serial.is_(None) if state == "current" else d.added_serial.is_(None)
        )
        if state == "current" and not_yet:
            wanted = and_(
                or_(wanted, d.retired_serial.in_(not_yet)),
                or_(d.added_serial.is_(None), d.added_serial.not_in(not_yet)),
            )
        stmt = select(d.id, d.origin_id, d.line, d.lo, d.added_serial, d.record).where(
            _valid(snap.registry, snap.snapshot_date), wanted
        )
        cursor = self._c.execute(stmt).cursor
        assert cursor is not None
        rows = cursor.fetchall()
        if not rows:
            return
        lines = self._lines(snapshot_id, rows)
        order = sorted(range(len(rows)), key=lambda i: (lines[i], rows[i][3], rows[i][0]))
        for at in range(0, len(order), size):
            part = order[at : at + size]
            yield (
                [lines[i] for i in part],
                [rows[i][5] for i in part],
                [rows[i][4] or 0 for i in part],
            )

    def _lines(self, snapshot_id: int, rows: Sequence[Any]) -> list[int]:
        """Lines of rows (id, origin_id, line, _, added_serial, ...) in a snapshot: a file
        row's from the snapshot's order, a transfer's row's its own."""
        from_file = [i for i, r in enumerate(rows) if r[4] is None]
        lines = [int(r[2]) for r in rows]
        if from_file:
            origins = [rows[i][1] or rows[i][0] for i in from_file]
            try:
                found = self.order(snapshot_id).lines_of(origins).tolist()
            except KeyError as exc:
                raise StorageError(
                    f"snapshot {snapshot_id}: a row is missing from its line "
                    "order (the store was edited by hand?)"
                ) from exc
            for i, line in zip(from_file, found, strict=True):
                lines[i] = line
        return lines

    def overlapping(
        self,
        snapshot_ids: Sequence[int],
        lo: str,
        hi: str,
        for_update: bool = False,
        line_before: tuple[int, str] | None = None,
    ) -> list[RecordRow]:
        """Current records sharing at least one number with ``lo..hi``.

        ``for_update`` locks the rows until the transaction ends (PostgreSQL; SQLite's
        ``BEGIN IMMEDIATE`` already serialises writers), so two transfers of the same numbers
        cannot both see them current. Plain SQL to the driver (every completed transfer asks).
        ``line_before`` (PostgreSQL): a (snapshot id, key) whose :meth:`line_before` the same
        statement reads too (where a completion's moved record goes), answered from it next.
        """
        snaps = [self._snapshot(sid) for sid in snapshot_ids]
        if not snaps:
            return []
        pg, m = self._driver()
        valid = " OR ".join(
            f"(registry = {m} AND valid_from <= {m} AND valid_to >= {m})" for _ in snaps
        )
        condition = self.widest().starts_condition(lo, hi, m)
        if condition is None:
            return []  # no row of this type
        starts, start_params = condition
        params: list[Any] = [*start_params, lo]
        for snap in snaps:
            day = snap.snapshot_date if pg else snap.snapshot_date.isoformat()
            params += [snap.registry, day, day]
        before = ""
        if line_before is not None and pg:
            sql, before_params = self._line_before_sql(*line_before)
            before = f", ({sql.replace(_LINE_ROW, _BEFORE, 1)})"
            params = [*before_params, *params]
        rows = self._d.rows(
            f"SELECT {_SELECTED}{before} FROM delegation WHERE {starts} AND hi >= {m} "
            f"AND retired_serial IS NULL AND ({valid}) ORDER BY id"
            + (" FOR UPDATE" if for_update and pg else ""),
            params,
        )
        if before and rows:  # the same answer on every row: kept for line_before
            assert line_before is not None
            self._before_read = (line_before, rows[0][9])
        if for_update:  # held to commit: :meth:`retire` need not read their dates again
            self._locked.update({int(r[0]): (str(r[6]), _day(r[7]), _day(r[8])) for r in rows})
        return self._placed(snaps, rows)

    def _driver(self) -> tuple[bool, str]:
        """Whether this is PostgreSQL, and the driver's parameter mark."""
        return self._d.pg, self._d.mark

    def widest(self) -> Widths:
        """The widest ordinary row of each type digit ever stored, and the wide rows apart
        (:mod:`rirport.store.widths`): with them, the rows overlapping a range are a short
        range of the index on ``lo`` (migration 0010) and a few ``lo`` looked up by key.

        Kept in ``meta`` (``widest``: the widths and the row id they cover up to) and brought
        up to date from the rows added since, by primary key, so its cost is that of the new
        rows, not of the table (an ingest records its rows' widths itself). Rows are never
        widened, so widths only change with new rows. A store from before the wide rows were
        kept apart has them computed from every row once. Written only in write transactions
        (a read transaction computes without saving)."""
        if self._widest is not None:  # rows this unit adds are folded in by :meth:`add`
            return self._widest
        kept = self._journal.recall(WIDEST) if self._journal is not None else None
        if kept is not None:  # every row up to this process's last commit, no one else's
            self._widest = kept.copy()
            self._note_widest()
            return self._widest
        _, mark = self._driver()
        raw = self._d.value(f'SELECT value FROM meta WHERE "key" = {mark}', (WIDEST,))
        widths = Widths.parse(raw) if raw else None
        upto = widths.upto if widths else 0
        widths = widths or Widths()
        newest = int(self._d.value("SELECT max(id) FROM delegation") or 0)
        if newest > upto:
            changed = False
            for row_lo, row_hi in self._d.rows(
                f"SELECT lo, hi FROM delegation WHERE id > {mark} AND id <= {mark}",
                (upto, newest),
            ):
                changed |= widths.fold(row_lo, row_hi)
            if changed or newest - upto >= _SAVE_EVERY:  # else the next unit reads them again
                self._save_widest(newest, widths)
        self._widest = widths
        self._note_widest()
        return widths

    def _note_widest(self) -> None:
        """Pass the widths on to this process's next write (as this unit leaves them: the
        rows it adds are folded in; the next unit takes a copy)."""
        if self._journal is not None and not self._read_only():
            self._journal.note(WIDEST, self._widest)

    def _save_widest(self, upto: int, widths: Widths) -> None:
        """Store the widths as covering rows up to id ``upto`` (not in a read transaction)."""
        if self._read_only():
            return
        mark = self._d.mark
        value = json.dumps({"upto": upto, **widths.encode()}, sort_keys=True)
        if not self._d.run(f'UPDATE meta SET value = {mark} WHERE "key" = {mark}', (value, WIDEST)):
            self._d.run(f'INSERT INTO meta ("key", value) VALUES ({mark}, {mark})', (WIDEST, value))

    def _read_only(self) -> bool:
        """True inside :meth:`rirport.store.unit.Store.read` (nothing may be written)."""
        return bool(self._c.get_execution_options().get(READ_ONLY))

    def holder(self, snapshot_ids: Sequence[int], opaque_id: str) -> list[RecordRow]:
        d = schema.delegation.c
        return self._select(snapshot_ids, d.opaque_id == opaque_id)

    def _select(
        self, snapshot_ids: Sequence[int], where: Any, for_update: bool = False
    ) -> list[RecordRow]:
        """Current rows matching ``where`` in any of the snapshots (one scan), each with the
        snapshot it is valid in and its line there."""
        d = schema.delegation.c
        snaps = [self._snapshot(sid) for sid in snapshot_ids]
        if not snaps:
            return []
        stmt = (
            select(
                d.id,
                d.origin_id,
                d.line,
                d.lo,
                d.added_serial,
                d.record,
                d.registry,
                d.valid_from,
                d.valid_to,
            )
            .where(
                where,
                or_(*(_valid(s.registry, s.snapshot_date) for s in snaps)),
                d.retired_serial.is_(None),
            )
            .order_by(d.id)
        )
        if for_update:
            stmt = stmt.with_for_update()
        return self._placed(snaps, [tuple(r) for r in self._c.execute(stmt)])

    def _placed(self, snaps: Sequence[SnapshotRow], rows: Sequence[Any]) -> list[RecordRow]:
        """Rows (in :data:`_SELECTED` order) as records of the snapshots they are valid in,
        each with its line there, by id."""
        found: list[RecordRow] = []
        for snap in snaps:
            mine = [
                r
                for r in rows
                if r[6] == snap.registry and _day(r[7]) <= snap.snapshot_date <= _day(r[8])
            ]
            lines = self._lines(snap.id, mine)
            found += [
                RecordRow(snap.id, line, r[5], r[0]) for r, line in zip(mine, lines, strict=True)
            ]
        return sorted(found, key=lambda r: r.id)

    def line_before(self, snapshot_id: int, lo: str) -> int:
        """The line of the snapshot's record of this type with the greatest start at or
        before ``lo`` (where a record added there sorts in the file, the files being sorted
        by start within a type), or 0. One row is read, not the thousands before it."""
        read, self._before_read = self._before_read, None
        if read is not None and read[0] == (snapshot_id, lo):  # read by :meth:`overlapping`
            rows: list[Any] = [] if read[1] is None else [tuple(read[1])]
        else:
            rows = self._d.rows(*self._line_before_sql(snapshot_id, lo))
        return max(self._lines(snapshot_id, rows), default=0)

    def _line_before_sql(self, snapshot_id: int, lo: str) -> tuple[str, tuple[Any, ...]]:
        snap = self._snapshot(snapshot_id)
        pg, m = self._driver()
        day = snap.snapshot_date if pg else snap.snapshot_date.isoformat()
        valid = f"registry = {m} AND valid_from <= {m} AND valid_to >= {m}"
        # the greatest start first (max() walks the index on lo backwards; ordering by
        # (lo, id) made PostgreSQL sort every row of the type), then the newest row there:
        # one statement, the greatest start its scalar subquery (none: no row)
        return (
            f"{_LINE_ROW} FROM delegation WHERE {valid} "
            f"AND lo = (SELECT max(lo) FROM delegation WHERE {valid} AND lo <= {m} "
            f"AND lo >= {m}) ORDER BY id DESC LIMIT 1",
            (snap.registry, day, day, snap.registry, day, day, lo, lo[0]),
        )

    # -- transfers -----------------------------------------------------------------------
    def retire(self, ids: Sequence[int], serial: int) -> int:
        """Take rows out of the current state (a transfer moved or split them).

        A version valid in older snapshots too is first cut: a copy keeps those, and the row
        retired covers only the current snapshot, so history before the transfer is
        unchanged. Plain SQL to the driver (every completed transfer retires).
        """
        if not ids:
            return 0
        self.drop_heads()  # the registries' newest rows change otherwise than by a file
        pg, m = self._driver()
        listed = ",".join(str(int(i)) for i in ids)
        known = self._locked
        if all(int(i) in known for i in ids):  # read for update by this unit: as they are
            rows: list[tuple[Any, ...]] = [
                (i, *known[i]) for i in sorted({int(i) for i in ids}) if known[i][1] < known[i][2]
            ]
        else:
            rows = self._d.rows(
                f"SELECT id, registry, valid_from, valid_to FROM delegation WHERE id IN "
                f"({listed}) AND retired_serial IS NULL AND valid_from < valid_to"
            )
        self._locked = {}
        newest = self._newest_dates() if rows else {}
        ends: dict[int, dt.date] = {}
        for row_id, registry, valid_from, valid_to in rows:
            end = min(_day(valid_to), newest[registry])  # an open end: the newest file
            if _day(valid_from) >= end:
                ends[int(row_id)] = end  # its end moves with the retiring update below
                continue
            previous = self._d.value(
                f"SELECT max(snapshot_date) FROM snapshot WHERE registry = {m} "
                f"AND snapshot_date < {m}",
                (registry, end if pg else end.isoformat()),
            )
            self._keep_past(row_id, _day(previous), end)
        if not ends:
            return self._d.run(
                f"UPDATE delegation SET retired_serial = {m} WHERE id IN ({listed}) "
                "AND retired_serial IS NULL",
                (serial,),
            )
        # the versions valid in the newest snapshot only end there, retired in one statement
        cases = " ".join(f"WHEN {row_id} THEN {m}" for row_id in ends)
        days = [end if pg else end.isoformat() for end in ends.values()]
        return self._d.run(
            f"UPDATE delegation SET valid_to = CASE id {cases} ELSE valid_to END, "
            f"retired_serial = {m} WHERE id IN ({listed}) AND retired_serial IS NULL",
            (*days, serial),
        )

    def _keep_past(self, row_id: int, until: dt.date, end: dt.date) -> None:
        """Copy a version for its dates up to ``until``; the row itself keeps only its last
        snapshot (dated ``end``)."""
        self._locked.pop(row_id, None)
        d = schema.delegation.c
        copied = [
            d.snapshot_id,
            d.line,
            d.lo,
            d.hi,
            d.opaque_id,
            d.record,
            d.added_serial,
            d.registry,
            d.valid_from,
        ]
        source = select(
            *copied,
            literal(until, Date).label("valid_to"),
            func.coalesce(d.origin_id, d.id).label("origin_id"),
        ).where(d.id == row_id)
        self._c.execute(
            insert(schema.delegation).from_select(
                [*(c.name for c in copied), "valid_to", "origin_id"], source
            )
        )
        self._c.execute(
            update(schema.delegation)
            .where(d.id == row_id)
            .values(valid_from=literal(end, Date), valid_to=literal(end, Date))
        )

    def add(self, rows: Sequence[NewDelegation], serial: int, batch: Batch | None = None) -> None:
        """Rows a transfer creates (the moved part, and remainders of split records), valid
        in their snapshot only (one batched insert through the driver; ``batch``, on
        PostgreSQL: queued there instead, sent with the step's journal entry, the log sending
        it before it computes the state parts that read the rows)."""
        if not rows:
            return
        snaps = {r.snapshot_id: self._snapshot(r.snapshot_id) for r in rows}
        self.drop_heads({s.registry for s in snaps.values()})
        pg, m = self._driver()
        values = []
        for r in rows:
            snap = snaps[r.snapshot_id]
            day = snap.snapshot_date if pg else snap.snapshot_date.isoformat()
            row = (r.snapshot_id, r.line, r.lo, r.hi, r.opaque_id, r.record, serial)
            values.append((*row, snap.registry, day, day))
            if self._widest is not None:  # a part of a wide row may be wide itself
                self._widest.fold(r.lo, r.hi)
        if self._widest is None and self._journal is not None:
            self._journal.forget(WIDEST)  # rows the widths passed on do not cover
        if batch is not None and pg:
            batch.insert("delegation", _ADDED, values, data=True)
            return
        marks = ", ".join([m] * 10)
        self._d.many(
            f"INSERT INTO delegation ({', '.join(_ADDED)}) VALUES ({marks})",
            values,
        )

    # -- records for change events ------------------------------------------------------------
    def file_records(self, snapshot: SnapshotRow) -> list[str]:
        """A snapshot's record lines as its file had them (rows a transfer added left out), in
        no particular order: diffs need the records, not the line order."""
        d = schema.delegation.c
        cursor = self._c.execute(
            select(d.record).where(
                _valid(snapshot.registry, snapshot.snapshot_date), d.added_serial.is_(None)
            )
        ).cursor
        assert cursor is not None
        return [row[0] for row in cursor.fetchall()]

    def file_records_near(
        self, snapshots: Sequence[SnapshotRow], ranges: Sequence[tuple[str, str]]
    ) -> dict[int, list[str]]:
        """Per snapshot, the file's record lines that may share a number with one of
        ``ranges`` (``(lo, hi)`` key pairs), in one scan: every row starting in the same block
        (IPv4 /16, IPv6 /32, 256 ASNs) as a range, rows spanning blocks, rows overlapping a
        range too wide for blocks. A superset, kept small without an index on the keys."""
        d = schema.delegation.c
        near = _near(ranges)
        if not snapshots or near is None:
            return {s.id: [] for s in snapshots}
        stmt = select(d.registry, d.valid_from, d.valid_to, d.record).where(
            or_(*(_valid(s.registry, s.snapshot_date) for s in snapshots)),
            d.added_serial.is_(None),
            near,
        )
        cursor = self._c.execute(stmt).cursor
        assert cursor is not None
        rows = cursor.fetchall()
        return {
            s.id: [
                r[3]
                for r in rows
                if r[0] == s.registry and _day(r[1]) <= s.snapshot_date <= _day(r[2])
            ]
            for s in snapshots
        }

    # -- history -------------------------------------------------------------------------
    def history(self, where: Any) -> list[HistoryRow]:
        """Every version matching ``where`` (see :meth:`history_overlapping`), oldest first."""
        d = schema.delegation.c
        stmt = (
            select(
                d.id,
                d.registry,
                d.valid_from,
                d.valid_to,
                d.record,
                d.added_serial,
                d.retired_serial,
            )
            .where(where)
            .order_by(d.valid_from, d.lo, d.id)
        )
        rows = self._c.execute(stmt).all()
        newest = self._newest_dates() if rows else {}
        return [
            HistoryRow(
                r.id,
                r.registry,
                _day(r.valid_from),
                min(_day(r.valid_to), newest.get(r.registry, OPEN_END)),
                r.record,
                r.added_serial,
                r.retired_serial,
            )
            for r in rows
        ]

    def _newest_dates(self) -> dict[str, dt.date]:
        """Each registry's newest snapshot date: where an open ``valid_to`` ends today."""
        kept = self._journal.recall(NEWEST_DATES) if self._journal is not None else None
        if kept is not None:
            return dict(kept)
        rows = self._d.rows("SELECT registry, max(snapshot_date) FROM snapshot GROUP BY registry")
        found = {str(r): _day(v) for r, v in rows}
        if self._journal is not None and not self._read_only():
            self._journal.note(NEWEST_DATES, dict(found))
        return found

    def history_overlapping(self, lo: str, hi: str) -> list[HistoryRow]:
        """Every version, of any registry and date, sharing a number with ``lo..hi``."""
        d = schema.delegation.c
        return self.history(and_(d.lo <= hi, d.hi >= lo))

    def retired_by(self, serials: Sequence[int]) -> list[RetiredRow]:
        """The rows the transfers of these journal serials took out of their registry, each
        with the snapshot it was retired in and its line there (where a moved block came
        from)."""
        if not serials:
            return []
        d = schema.delegation.c
        s = schema.snapshot.c
        found = self._c.execute(
            select(
                d.id,
                d.origin_id,
                d.line,
                d.lo,
                d.added_serial,
                d.record,
                d.hi,
                d.retired_serial,
                s.id,
            )
            .join(schema.snapshot, and_(s.registry == d.registry, s.snapshot_date == d.valid_to))
            .where(d.retired_serial.in_(list(serials)))
            .order_by(d.id)
        ).all()
        out = []
        for row in found:
            (line,) = self._lines(row[8], [tuple(row[:6])])
            out.append(RetiredRow(row[7], row[8], line, row[3], row[6], row[5]))
        return out

    def history_covering(self, lo: str, hi: str) -> list[HistoryRow]:
        """Every version, of any registry and date, containing all of ``lo..hi`` (what a
        covering query needs: ``0.0.0.0/0`` reads the few versions that big, not the table)."""
        d = schema.delegation.c
        return self.history(and_(d.lo <= lo, d.hi >= hi))

    def history_holder(self, opaque_id: str) -> list[HistoryRow]:
        return self.history(schema.delegation.c.opaque_id == opaque_id)

    def version_columns(self, registry: str) -> list[tuple[Any, ...]]:
        """Every version of ``registry`` as plain tuples ``(valid_from, valid_to,
        added_serial, retired_serial, record)``, in no order: the time series
        (:mod:`rirport.query.series`) count versions over their intervals, so they need no
        snapshot's line order."""
        d = schema.delegation.c
        cursor = self._c.execute(
            select(d.valid_from, d.valid_to, d.added_serial, d.retired_serial, d.record).where(
                d.registry == registry
            )
        ).cursor
        assert cursor is not None
        return list(cursor.fetchall())

    # -- holder links ----------------------------------------------------------------------
    def add_links(self, links: Sequence[LinkRow]) -> None:
        if not links:
            return
        mark = "?" if self._c.dialect.name == "sqlite" else "%s"
        fields = list(LinkRow.__dataclass_fields__)[:-1]  # all but id
        self._c.exec_driver_sql(
            f"INSERT INTO holder_link ({', '.join(fields)}) VALUES "
            f"({', '.join([mark] * len(fields))})",
            [tuple(getattr(link, f) for f in fields) for link in links],
        )

    def drop_links(self, from_snapshot: int, to_snapshot: int) -> None:
        h = schema.holder_link.c
        self._c.execute(
            delete(schema.holder_link).where(
                h.from_snapshot == from_snapshot, h.to_snapshot == to_snapshot
            )
        )

    def links(self, registry: str | None = None) -> list[LinkRow]:
        h = schema.holder_link.c
        stmt = select(schema.holder_link).order_by(h.id)
        if registry is not None:
            stmt = stmt.where(h.registry == registry)
        return [LinkRow(**r._mapping) for r in self._c.execute(stmt)]

    def _snapshot(self, snapshot_id: int) -> SnapshotRow:
        """A snapshot row (kept for the unit of work: a stored snapshot never changes)."""
        if snapshot_id in self._snapshots:
            return self._snapshots[snapshot_id]
        if self._shared is not None and snapshot_id in self._shared.snapshots:
            return self._shared.snapshots[snapshot_id]
        row = self._c.execute(
            select(schema.snapshot).where(schema.snapshot.c.id == snapshot_id)
        ).first()
        if row is None:
            raise StorageError(f"no snapshot with id {snapshot_id}")
        found = self._snapshots[snapshot_id] = SnapshotRow(**row._mapping)
        return found


@dataclass
class SnapshotCache:
    """Snapshot rows and decoded line orders shared by a store's units of work: both never
    change once committed (a snapshot's rows are written once, its order once), so a write
    that needs a snapshot's lines (every completed transfer) does not read and decode the
    order again. Filled from committed transactions only (:meth:`keep`); ``limit`` orders
    are kept, the least recently used dropped. Only the orders a unit wrote or asked for are
    kept, not those it decoded only as the base of an edit: an as-of read decodes up to
    :data:`~rirport.store.order.MAX_DEPTH` of them a registry, which would push out the
    registries' newest orders that the next ingests edit, and each ingest would then decode
    its registry's chain again (and push out the others') until the chains restart."""

    limit: int = 16
    snapshots: dict[int, SnapshotRow] = field(default_factory=dict)
    orders: OrderedDict[int, tuple[LineOrder, int]] = field(default_factory=OrderedDict)
    heads: dict[str, tuple[bytes, bytes, HeadState]] = field(default_factory=dict)
    """The head state each registry's last ingest in this process saved, with its stored
    ids and origins (:meth:`DelegationRepo.head` takes it while the stored one is still it:
    the next ingest neither reads nor decodes its fingerprints)."""

    def keep(self, repo: DelegationRepo) -> None:
        """Take what a committed unit of work read or wrote."""
        self.snapshots.update(repo._snapshots)
        self.heads.update(repo._heads_saved)
        for sid, order in repo._orders.items():
            if sid not in repo._asked:
                continue
            self.orders[sid] = (order, repo._depths.get(sid, 0))
            self.orders.move_to_end(sid)
        while len(self.orders) > self.limit:
            self.orders.popitem(last=False)


class StoredVersion(NamedTuple):
    """A stored version as the ingest diff sees it."""

    id: int
    origin: int
    lo: str
    hi: str
    opaque_id: str | None
    record: str
    reaches_mark: int
    """1 when the version is still valid on the date the query marked."""
    starts_at_mark: int
    """1 when the version starts on that date."""


@dataclass(frozen=True)
class LinkRow:
    """Two opaque-ids of consecutive snapshots of a registry holding ``shared`` of the same
    records (out of ``from_records`` and ``to_records``)."""

    registry: str
    from_snapshot: int
    to_snapshot: int
    from_id: str
    to_id: str
    shared: int
    from_records: int
    to_records: int
    id: int = 0


@dataclass(frozen=True)
class RetiredRow:
    """A row a transfer retired: the transfer's journal serial, the snapshot and line the
    record stood at, its keys and its record."""

    serial: int
    snapshot_id: int
    line: int
    lo: str
    hi: str
    record: str


@dataclass(frozen=True)
class HistoryRow:
    """A version with its interval, for timelines."""

    id: int
    registry: str
    valid_from: dt.date
    valid_to: dt.date
    record: str
    added_serial: int | None
    retired_serial: int | None


def _valid(registry: str, date: dt.date) -> Any:
    """Rows of ``registry`` valid on the snapshot date ``date``."""
    d = schema.delegation.c
    return and_(d.registry == registry, d.valid_from <= date, d.valid_to >= date)


def _day(value: Any) -> dt.date:
    """A date column's value (SQLite hands back text through raw and aggregate queries)."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


#: Per type digit of a key: how many leading characters name its block (16 ASNs, an IPv4 /16,
#: an IPv6 /24: measured on the real files, finer blocks let in more rows spanning blocks).
_BLOCK_CHARS = {"0": 8, "1": 5, "2": 7}


#: A range spanning more blocks is matched by its bounds; past this many such ranges, its
#: whole type is read (SQLite refuses deeper expressions).
_MAX_BLOCKS_PER_RANGE = 64


_MAX_WIDE = 100


def _near(ranges: Sequence[tuple[str, str]]) -> Any:
    """The condition of :meth:`DelegationRepo.file_records_near` (None: no range given)."""
    d = schema.delegation.c
    blocks: dict[str, set[str]] = {}
    wide: dict[str, list[tuple[str, str]]] = {}
    for lo, hi in ranges:
        width = _BLOCK_CHARS[lo[0]]
        first, last = int(lo[1:width], 16), int(hi[1:width], 16)
        if last - first >= _MAX_BLOCKS_PER_RANGE:
            wide.setdefault(lo[0], []).append((lo, hi))
            continue
        blocks.setdefault(lo[0], set()).update(
            f"{lo[0]}{n:0{width - 1}x}" for n in range(first, last + 1)
        )
    clauses: list[Any] = []
    for digit in sorted(set(blocks) | set(wide)):
        of_type = and_(d.lo >= digit, d.lo < chr(ord(digit) + 1))
        if len(wide.get(digit, ())) > _MAX_WIDE:
            clauses.append(of_type)
            continue
        clauses += [and_(d.lo <= hi, d.hi >= lo) for lo, hi in wide.get(digit, ())]
        if digit in blocks:
            start = func.substr(d.lo, 1, _BLOCK_CHARS[digit])
            clauses.append(
                start.in_(
                    bindparam(
                        f"blocks{digit}",
                        sorted(blocks[digit]),
                        expanding=True,
                        literal_execute=True,
                    )
                )
            )
            clauses.append(and_(of_type, start != func.substr(d.hi, 1, _BLOCK_CHARS[digit])))
    return or_(*clauses) if clauses else None


def _chunks(ids: Sequence[int], size: int = 5000) -> Iterator[list[int]]:
    for at in range(0, len(ids), size):
        yield list(ids[at : at + size])
