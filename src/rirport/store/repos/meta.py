"""The store's key/value facts, chiefly its write generation."""

from __future__ import annotations

from sqlalchemy import Connection, Integer, Text, cast, insert, select, update

from rirport.store import schema


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
