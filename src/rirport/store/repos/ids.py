"""Fresh ids for bulk inserts, shared by the delegation and event repositories."""

from __future__ import annotations

from sqlalchemy import Connection, func, select, text

from rirport.store import schema


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
