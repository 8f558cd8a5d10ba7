"""Ingest that does not grow with history: versions in the newest file get an open end, and
each registry's newest file is kept as columns.

A version still in its registry's newest file ended on that file's date, so every ingest
rewrote ``valid_to`` on every unchanged row (about 512,000 a day for the five registries).
Those rows now end on ``9999-12-31`` (:data:`rirport.store.schema.OPEN_END`) until a newer
file lacks them. ``head_state`` holds each registry's newest file as sorted arrays
(:mod:`rirport.store.head`); it starts empty and the next ingest of each registry builds it.

Revision ID: 0009_histin
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_histin"
down_revision = "0008_log"
branch_labels = None
depends_on = None

_NEWEST = "(SELECT max(s.snapshot_date) FROM snapshot s WHERE s.registry = delegation.registry)"


def upgrade() -> None:
    op.create_table(
        "head_state",
        sa.Column("registry", sa.String(16), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("ids", sa.LargeBinary(), nullable=False),
        sa.Column("origins", sa.LargeBinary(), nullable=False),
        sa.Column("prints", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("registry", name="pk_head_state"),
    )
    op.execute(
        "UPDATE delegation SET valid_to = '9999-12-31' WHERE added_serial IS NULL "
        f"AND retired_serial IS NULL AND valid_to = {_NEWEST}"
    )


def downgrade() -> None:
    op.execute(f"UPDATE delegation SET valid_to = {_NEWEST} WHERE valid_to = '9999-12-31'")
    op.drop_table("head_state")
