"""Stored and corrected evidence items."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update

from rirport.store import schema


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
