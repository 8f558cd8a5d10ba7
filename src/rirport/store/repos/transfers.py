"""Transfer requests and the legal holds that stop resources moving."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, or_, select, update

from rirport.store import schema


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
        self._widest: dict[str, int] | None = None
        """The widths as this unit of work last read or wrote them."""
        self._widest_stored = False
        """Whether ``meta`` holds them (an update) or not yet (an insert)."""

    def add(self, values: dict[str, Any]) -> int:
        key = self._c.execute(insert(schema.transfer).values(**values)).inserted_primary_key
        assert key is not None
        self._widen(str(values["lo"]), str(values["hi"]))
        return int(key[0])

    # The widest request of each type digit (``meta.transfer_widest``), so the transfers
    # overlapping a range are an index range on ``lo`` (``lo >= start - widest``), not a scan
    # of every transfer before it: a mass move makes thousands of them. Reading never writes
    # it (reads run in read-only transactions): a store without the key (none made yet, or a
    # store from before) has it computed here and saved by its next transfer.
    def _widths(self) -> dict[str, int]:
        if self._widest is not None:
            return self._widest
        mark = "%s" if self._c.dialect.name == "postgresql" else "?"
        raw = self._c.exec_driver_sql(
            f'SELECT value FROM meta WHERE "key" = {mark}', ("transfer_widest",)
        ).scalar_one_or_none()
        self._widest_stored = raw is not None
        if raw is not None:
            self._widest = {k: int(v) for k, v in json.loads(raw).items()}
            return self._widest
        t = schema.transfer.c
        widths: dict[str, int] = {}
        for lo, hi in self._c.execute(select(t.lo, t.hi)):
            width = int(hi[1:], 16) - int(lo[1:], 16)
            widths[lo[0]] = max(widths.get(lo[0], 0), width)
        self._widest = widths
        return widths

    def _save_widths(self, widths: dict[str, int]) -> None:
        value = json.dumps(widths, sort_keys=True)
        if not self._widest_stored:
            self._c.execute(insert(schema.meta).values(key="transfer_widest", value=value))
            self._widest_stored = True
        else:
            self._c.execute(
                update(schema.meta)
                .where(schema.meta.c.key == "transfer_widest")
                .values(value=value)
            )

    def _widen(self, lo: str, hi: str) -> None:
        widths = self._widths()
        width = int(hi[1:], 16) - int(lo[1:], 16)
        if width > widths.get(lo[0], -1) or not self._widest_stored:
            widths[lo[0]] = max(width, widths.get(lo[0], -1))
            self._save_widths(widths)

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
        width = self._widths().get(lo[0])
        if width is None:
            return []
        start = int(lo[1:], 16) - width
        floor = lo[0] if start < 0 else f"{lo[0]}{start:0{len(lo) - 1}x}"
        rows = self._c.execute(
            select(schema.transfer)
            .where(t.state == "completed", t.lo >= floor, t.lo <= hi, t.hi >= lo)
            .order_by(t.updated_serial)
        )
        return [TransferRow(**r._mapping) for r in rows]


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
