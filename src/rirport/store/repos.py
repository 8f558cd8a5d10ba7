"""Repositories: the only code that writes SQL. Services reach them through a unit of work.

Rows come back as small dataclasses of plain values; turning a stored ``record`` line into a
:class:`~rirport.domain.delegation.Delegation` is the services' job (with the format reader).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from sqlalchemy import (
    Connection,
    Date,
    Integer,
    Text,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from rirport.errors import StorageError
from rirport.store import schema
from rirport.store.bulk import DelegationRows, Version, insert_delegations
from rirport.store.order import LineOrder


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


class SnapshotRepo:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add(self, values: dict[str, Any]) -> int:
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
        a registry with no snapshot that old is left out."""
        newest: dict[str, SnapshotRow] = {}
        for row in self.all():  # ordered by date then id within a registry
            if date is None or row.snapshot_date <= date:
                newest[row.registry] = row
        return sorted(newest.values(), key=lambda r: r.registry)

    def neighbours(
        self, registry: str, date: dt.date
    ) -> tuple[SnapshotRow | None, SnapshotRow | None]:
        """The registry's snapshots just before and just after ``date``."""
        rows = [r for r in self.all() if r.registry == registry]
        before = [r for r in rows if r.snapshot_date < date]
        after = [r for r in rows if r.snapshot_date > date]
        return (before[-1] if before else None), (after[0] if after else None)


class DelegationRepo:
    """Versions of records. A snapshot's rows are those of its registry valid on its date;
    their lines come from the snapshot's :class:`~rirport.store.order.LineOrder`."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection
        self._orders: dict[int, LineOrder] = {}

    # -- writing a file's rows ---------------------------------------------------------------
    def add_rows(self, snapshot_id: int, rows: DelegationRows) -> list[int]:
        """Store rows prepared by :func:`rirport.store.bulk.delegation_rows` as new versions
        valid on the snapshot's date only; returns their ids (in row order)."""
        snap = self._snapshot(snapshot_id)
        ids = self.allocate_ids(len(rows))
        insert_delegations(
            self._c, Version(snapshot_id, snap.registry, snap.snapshot_date), rows, ids
        )
        return ids

    def allocate_ids(self, n: int) -> list[int]:
        """``n`` fresh row ids (the writer holds the database lock on SQLite; PostgreSQL
        draws them from the column's sequence)."""
        return _draw_ids(self._c, "delegation", n)

    def save_order(self, snapshot_id: int, order: LineOrder) -> None:
        origins, lines = order.encode()
        self._c.execute(
            insert(schema.snapshot_order).values(
                snapshot_id=snapshot_id, origins=origins, lines=lines
            )
        )
        self._orders[snapshot_id] = order

    def order(self, snapshot_id: int) -> LineOrder:
        """The snapshot's line order (cached for the unit of work)."""
        if snapshot_id not in self._orders:
            o = schema.snapshot_order.c
            row = self._c.execute(
                select(o.origins, o.lines).where(o.snapshot_id == snapshot_id)
            ).first()
            if row is None:
                raise StorageError(f"snapshot {snapshot_id} has no stored line order")
            self._orders[snapshot_id] = LineOrder.decode(row.origins, row.lines)
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
        for chunk in _chunks(ids, 20_000):
            listed = ",".join(str(int(i)) for i in chunk)
            self._c.execute(
                text(f"UPDATE delegation SET {column} = :day WHERE id IN ({listed})").bindparams(
                    bindparam("day", type_=Date)
                ),
                {"day": day},
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
        for chunk_lines, chunk_records in self.record_chunks(snapshot_id, state=state):
            lines += chunk_lines
            records += chunk_records
        return lines, records

    def record_chunks(
        self,
        snapshot_id: int,
        size: int = 50_000,
        state: State = "current",
        not_yet: Sequence[int] = (),
    ) -> Iterator[tuple[list[int], list[str]]]:
        """As :meth:`record_columns`, ``size`` rows at a time.

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
            yield [lines[i] for i in part], [rows[i][5] for i in part]

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
        self, snapshot_ids: Sequence[int], lo: str, hi: str, for_update: bool = False
    ) -> list[RecordRow]:
        """Current records sharing at least one number with ``lo..hi``.

        ``for_update`` locks the rows until the transaction ends (PostgreSQL; SQLite's
        ``BEGIN IMMEDIATE`` already serialises writers), so two transfers of the same numbers
        cannot both see them current.
        """
        d = schema.delegation.c
        return self._select(snapshot_ids, and_(d.lo <= hi, d.hi >= lo), for_update)

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
        rows = [tuple(r) for r in self._c.execute(stmt)]
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
        d = schema.delegation.c
        snap = self._snapshot(snapshot_id)
        rows = [
            tuple(r)
            for r in self._c.execute(
                select(d.id, d.origin_id, d.line, d.lo, d.added_serial)
                .where(_valid(snap.registry, snap.snapshot_date), d.lo <= lo, d.lo >= lo[0])
                .order_by(d.lo.desc(), d.id.desc())
                .limit(1)
            )
        ]
        return max(self._lines(snapshot_id, rows), default=0)

    # -- transfers -----------------------------------------------------------------------
    def retire(self, ids: Sequence[int], serial: int) -> int:
        """Take rows out of the current state (a transfer moved or split them).

        A version valid in older snapshots too is first cut: a copy keeps those, and the row
        retired covers only the current snapshot, so history before the transfer is
        unchanged.
        """
        d = schema.delegation.c
        for row in self._c.execute(
            select(d.id, d.registry, d.valid_from, d.valid_to).where(
                d.id.in_(ids), d.retired_serial.is_(None), d.valid_from < d.valid_to
            )
        ).all():
            previous = self._c.execute(
                select(func.max(schema.snapshot.c.snapshot_date)).where(
                    schema.snapshot.c.registry == row.registry,
                    schema.snapshot.c.snapshot_date < row.valid_to,
                )
            ).scalar_one()
            self._keep_past(row.id, _day(previous))
        result = self._c.execute(
            update(schema.delegation)
            .where(d.id.in_(ids), d.retired_serial.is_(None))
            .values(retired_serial=serial)
        )
        return int(result.rowcount)

    def _keep_past(self, row_id: int, until: dt.date) -> None:
        """Copy a version for its dates up to ``until``; the row itself keeps only its last
        snapshot."""
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
            update(schema.delegation).where(d.id == row_id).values(valid_from=d.valid_to)
        )

    def add(self, rows: Sequence[NewDelegation], serial: int) -> None:
        """Rows a transfer creates (the moved part, and remainders of split records), valid
        in their snapshot only."""
        if rows:
            snaps = {r.snapshot_id: self._snapshot(r.snapshot_id) for r in rows}
            self._c.execute(
                insert(schema.delegation),
                [
                    {
                        "snapshot_id": r.snapshot_id,
                        "line": r.line,
                        "lo": r.lo,
                        "hi": r.hi,
                        "opaque_id": r.opaque_id,
                        "record": r.record,
                        "added_serial": serial,
                        "registry": snaps[r.snapshot_id].registry,
                        "valid_from": snaps[r.snapshot_id].snapshot_date,
                        "valid_to": snaps[r.snapshot_id].snapshot_date,
                    }
                    for r in rows
                ],
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
        return [
            HistoryRow(
                r.id,
                r.registry,
                _day(r.valid_from),
                _day(r.valid_to),
                r.record,
                r.added_serial,
                r.retired_serial,
            )
            for r in self._c.execute(stmt)
        ]

    def history_overlapping(self, lo: str, hi: str) -> list[HistoryRow]:
        """Every version, of any registry and date, sharing a number with ``lo..hi``."""
        d = schema.delegation.c
        return self.history(and_(d.lo <= hi, d.hi >= lo))

    def history_holder(self, opaque_id: str) -> list[HistoryRow]:
        return self.history(schema.delegation.c.opaque_id == opaque_id)

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
        row = self._c.execute(
            select(schema.snapshot).where(schema.snapshot.c.id == snapshot_id)
        ).first()
        if row is None:
            raise StorageError(f"no snapshot with id {snapshot_id}")
        return SnapshotRow(**row._mapping)


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


def _draw_ids(connection: Connection, table: str, n: int) -> list[int]:
    """``n`` fresh ids of ``table`` (``delegation`` or ``event``), for bulk inserts."""
    if n == 0:
        return []
    if connection.dialect.name == "postgresql":
        rows = connection.execute(
            text(
                f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) "
                "FROM generate_series(1, :n)"
            ),
            {"n": n},
        )
        return [int(r[0]) for r in rows]
    top = connection.execute(
        select(func.max(schema.metadata.tables[table].c.id))
    ).scalar_one_or_none()
    base = int(top or 0)
    return list(range(base + 1, base + n + 1))


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


class MetaRepo:
    """Small key/value facts about the store, chiefly its write generation."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def get(self, key: str) -> str | None:
        return self._c.execute(
            select(schema.meta.c.value).where(schema.meta.c.key == key)
        ).scalar_one_or_none()

    def generation(self) -> int:
        """A counter every write transaction bumps; caches keyed by it are never stale."""
        return int(self.get("generation") or 0)

    def bump_generation(self) -> int:
        m = schema.meta.c
        bumped = cast(cast(m.value, Integer) + 1, Text)
        updated = self._c.execute(
            update(schema.meta).where(m.key == "generation").values(value=bumped)
        )
        if updated.rowcount == 0:
            self._c.execute(insert(schema.meta).values(key="generation", value="1"))
        return self.generation()


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


@dataclass(frozen=True)
class JournalRow:
    serial: int
    created_at: str
    actor: str
    action: str
    payload: str
    prev_hash: str
    hash: str


class JournalRepo:
    """The append-only journal. Serials come from the store's write generation, whose row
    lock (held to commit) orders concurrent writers on PostgreSQL."""

    def __init__(self, connection: Connection, meta: MetaRepo) -> None:
        self._c = connection
        self._meta = meta

    def reserve(self) -> int:
        """The serial of this transaction's entry (written later by :meth:`write`)."""
        return self._meta.bump_generation()

    def last_hash(self, before: int) -> str | None:
        j = schema.journal.c
        return self._c.execute(
            select(j.hash).where(j.serial < before).order_by(j.serial.desc()).limit(1)
        ).scalar_one_or_none()

    def write(self, row: JournalRow) -> None:
        self._c.execute(insert(schema.journal).values(**row.__dict__))

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
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add(self, values: dict[str, Any]) -> int:
        key = self._c.execute(insert(schema.transfer).values(**values)).inserted_primary_key
        assert key is not None
        return int(key[0])

    def get(self, transfer_id: int, for_update: bool = False) -> TransferRow | None:
        stmt = select(schema.transfer).where(schema.transfer.c.id == transfer_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = self._c.execute(stmt).first()
        return TransferRow(**row._mapping) if row else None

    def update(self, transfer_id: int, **values: Any) -> None:
        self._c.execute(
            update(schema.transfer).where(schema.transfer.c.id == transfer_id).values(**values)
        )

    def all(self, states: Sequence[str] = ()) -> list[TransferRow]:
        t = schema.transfer.c
        stmt = select(schema.transfer).order_by(t.id)
        if states:
            stmt = stmt.where(t.state.in_(states))
        return [TransferRow(**r._mapping) for r in self._c.execute(stmt)]

    def completed_into(self, lo: str, hi: str) -> list[TransferRow]:
        """Completed transfers whose resource overlaps ``lo..hi``, newest last."""
        t = schema.transfer.c
        rows = self._c.execute(
            select(schema.transfer)
            .where(t.state == "completed", t.lo <= hi, t.hi >= lo)
            .order_by(t.updated_serial)
        )
        return [TransferRow(**r._mapping) for r in rows]

    def open_overlapping(self, lo: str, hi: str, exclude: int | None = None) -> list[TransferRow]:
        """Transfers not yet finished whose resource overlaps ``lo..hi``."""
        t = schema.transfer.c
        stmt = select(schema.transfer).where(
            t.state.in_(["requested", "approved", "accepted"]), t.lo <= hi, t.hi >= lo
        )
        if exclude is not None:
            stmt = stmt.where(t.id != exclude)
        return [TransferRow(**r._mapping) for r in self._c.execute(stmt)]


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
        """Holds in force on ``on`` over numbers of ``lo..hi``."""
        h = schema.legal_hold.c
        rows = self._c.execute(
            select(schema.legal_hold)
            .where(
                h.lifted_serial.is_(None),
                h.lo <= hi,
                h.hi >= lo,
                h.since <= on,
                or_(h.until.is_(None), h.until >= on),
            )
            .order_by(h.id)
        )
        return [HoldRow(**r._mapping) for r in rows]

    def all(self) -> list[HoldRow]:
        return [
            HoldRow(**r._mapping)
            for r in self._c.execute(select(schema.legal_hold).order_by(schema.legal_hold.c.id))
        ]


# -- change events and monitoring ---------------------------------------------------------------
@dataclass(frozen=True)
class EventRow:
    """A stored change event; ``body`` is its JSON text."""

    id: int
    snapshot_id: int | None
    kind: str
    type: str | None
    registry: str
    from_registry: str | None
    to_registry: str | None
    lo: str | None
    hi: str | None
    body: str
    created_at: dt.datetime


class EventRepo:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add_many(self, rows: Sequence[dict[str, Any]]) -> list[int]:
        """Insert events and return their ids in the order given. The ids are drawn first
        (the writer holds SQLite's lock; PostgreSQL's sequence), so the insert is a plain
        ``executemany``: SQLite's ``RETURNING`` inserts one row a statement."""
        if not rows:
            return []
        ids = _draw_ids(self._c, "event", len(rows))
        self._c.execute(
            insert(schema.event), [{**row, "id": i} for row, i in zip(rows, ids, strict=True)]
        )
        return ids

    def chunks(self, after: int = 0, size: int = 5_000) -> Iterator[list[EventRow]]:
        """All events with id above ``after``, in id order, a chunk at a time."""
        e = schema.event.c
        while True:
            rows = [
                EventRow(**r._mapping)
                for r in self._c.execute(
                    select(schema.event).where(e.id > after).order_by(e.id).limit(size)
                )
            ]
            if not rows:
                return
            yield rows
            after = rows[-1].id

    def of_snapshots(self, snapshot_ids: Sequence[int]) -> list[EventRow]:
        """The events the ingests of these snapshots stored, in id order."""
        e = schema.event.c
        return [
            EventRow(**r._mapping)
            for r in self._c.execute(
                select(schema.event).where(e.snapshot_id.in_(list(snapshot_ids))).order_by(e.id)
            )
        ]

    def get_many(self, ids: Sequence[int]) -> dict[int, EventRow]:
        rows = self._c.execute(select(schema.event).where(schema.event.c.id.in_(list(ids))))
        return {int(r.id): EventRow(**r._mapping) for r in rows}

    def count(self) -> int:
        return int(self._c.execute(select(func.count()).select_from(schema.event)).scalar_one())


@dataclass(frozen=True)
class WatchRow:
    """A watchlist."""

    id: int
    name: str
    criteria: dict[str, list[str]]
    url: str | None
    secret: str | None
    created_at: dt.datetime
    removed_at: dt.datetime | None


class WatchRepo:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add(self, values: dict[str, Any]) -> int:
        key = self._c.execute(insert(schema.watch).values(**values)).inserted_primary_key
        assert key is not None
        return int(key[0])

    def active(self) -> list[WatchRow]:
        w = schema.watch.c
        return [
            WatchRow(**r._mapping)
            for r in self._c.execute(
                select(schema.watch).where(w.removed_at.is_(None)).order_by(w.id)
            )
        ]

    def get(self, watch_id: int) -> WatchRow | None:
        row = self._c.execute(select(schema.watch).where(schema.watch.c.id == watch_id)).first()
        return WatchRow(**row._mapping) if row else None

    def find(self, name: str) -> WatchRow | None:
        w = schema.watch.c
        row = self._c.execute(
            select(schema.watch).where(w.name == name, w.removed_at.is_(None))
        ).first()
        return WatchRow(**row._mapping) if row else None

    def remove(self, watch_id: int, when: dt.datetime) -> bool:
        w = schema.watch.c
        done = self._c.execute(
            update(schema.watch)
            .where(w.id == watch_id, w.removed_at.is_(None))
            .values(removed_at=when)
        )
        return bool(done.rowcount)


@dataclass(frozen=True)
class OutboxRow:
    """One queued webhook delivery."""

    id: int
    watch_id: int
    event_id: int
    state: str
    attempts: int
    next_attempt_at: dt.datetime
    last_error: str | None
    delivered_at: dt.datetime | None


class OutboxRepo:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def enqueue(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self._c.execute(insert(schema.outbox), list(rows))

    def due(self, now: dt.datetime, limit: int = 100, for_update: bool = False) -> list[OutboxRow]:
        """Pending deliveries whose next attempt is due, oldest first (locked on PostgreSQL
        when ``for_update``, skipping rows another worker holds)."""
        o = schema.outbox.c
        query = (
            select(schema.outbox)
            .where(o.state == "pending", o.next_attempt_at <= now)
            .order_by(o.next_attempt_at, o.id)
            .limit(limit)
        )
        if for_update:
            query = query.with_for_update(skip_locked=True)
        return [OutboxRow(**r._mapping) for r in self._c.execute(query)]

    def update(self, outbox_id: int, **values: Any) -> None:
        self._c.execute(
            update(schema.outbox).where(schema.outbox.c.id == outbox_id).values(**values)
        )

    def by_state(self, watch_id: int | None = None) -> dict[str, int]:
        o = schema.outbox.c
        query = select(o.state, func.count()).group_by(o.state)
        if watch_id is not None:
            query = query.where(o.watch_id == watch_id)
        return {str(state): int(n) for state, n in self._c.execute(query)}

    def all(self) -> list[OutboxRow]:
        return [
            OutboxRow(**r._mapping)
            for r in self._c.execute(select(schema.outbox).order_by(schema.outbox.c.id))
        ]

    def add_dead_letter(self, values: dict[str, Any]) -> None:
        self._c.execute(insert(schema.dead_letter).values(**values))

    def dead_letters(self) -> list[dict[str, Any]]:
        return [
            dict(r._mapping)
            for r in self._c.execute(select(schema.dead_letter).order_by(schema.dead_letter.c.id))
        ]


@dataclass(frozen=True)
class EvidenceRow:
    """One stored evidence item: its key (the item's id), version and body (JSON text)."""

    id: int
    key: str
    version: int
    body: str
    created_serial: int
    updated_serial: int


class EvidenceRepo:
    """Evidence items added or corrected through rirport."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def get(self, key: str) -> EvidenceRow | None:
        row = self._c.execute(select(schema.evidence).where(schema.evidence.c.key == key)).first()
        return EvidenceRow(**row._mapping) if row else None

    def add(self, key: str, body: str, serial: int) -> None:
        self._c.execute(
            insert(schema.evidence).values(
                key=key, version=1, body=body, created_serial=serial, updated_serial=serial
            )
        )

    def replace(self, key: str, body: str, version: int, serial: int) -> None:
        self._c.execute(
            update(schema.evidence)
            .where(schema.evidence.c.key == key)
            .values(body=body, version=version, updated_serial=serial)
        )

    def all(self) -> list[EvidenceRow]:
        return [
            EvidenceRow(**r._mapping)
            for r in self._c.execute(select(schema.evidence).order_by(schema.evidence.c.key))
        ]
