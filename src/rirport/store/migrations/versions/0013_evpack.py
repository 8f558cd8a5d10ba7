"""Event bodies packed: ``event.body`` (JSON text) becomes ``event.body_z``, a format byte and
the text as raw deflate with a preset dictionary (:mod:`rirport.store.eventbody`), about a
quarter of the bytes; every existing row is converted, a chunk at a time.

Downgrade unpacks every row back into ``body``.

Revision ID: 0013_evpack
Revises: 0012_logappend
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

from rirport.store.eventbody import pack, unpack

revision = "0013_evpack"
down_revision = "0012_logappend"
branch_labels = None
depends_on = None

CHUNK = 5_000


def upgrade() -> None:
    with op.batch_alter_table("event") as batch:
        batch.add_column(sa.Column("body_z", sa.LargeBinary()))
    _convert("body", "body_z", sa.LargeBinary(), lambda text, _: pack(text))
    with op.batch_alter_table("event") as batch:
        batch.drop_column("body")
        batch.alter_column("body_z", existing_type=sa.LargeBinary(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("event") as batch:
        batch.add_column(sa.Column("body", sa.Text()))
    _convert("body_z", "body", sa.Text(), unpack)
    with op.batch_alter_table("event") as batch:
        batch.drop_column("body_z")
        batch.alter_column("body", existing_type=sa.Text(), nullable=False)


def _convert(
    source: str, target: str, kind: sa.types.TypeEngine[Any], change: Callable[[Any, int], Any]
) -> None:
    """Fill ``target`` from ``source`` in id order, CHUNK rows a statement."""
    conn = op.get_bind()
    read = sa.text(f"SELECT id, {source} FROM event WHERE id > :after ORDER BY id LIMIT {CHUNK}")
    write = sa.text(f"UPDATE event SET {target} = :value WHERE id = :id").bindparams(
        sa.bindparam("value", type_=kind)
    )
    after = 0
    while rows := conn.execute(read, {"after": after}).all():
        conn.execute(write, [{"id": i, "value": change(v, i)} for i, v in rows])
        after = rows[-1][0]
