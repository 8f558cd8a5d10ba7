"""History: delegation rows become versions valid over snapshot dates; snapshot line order;
holder links.

Existing rows (one copy per snapshot) become versions valid in exactly their snapshot, and
each snapshot's order is built from their stored lines, so nothing is lost or merged; files
ingested after this migration are stored as differences.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import zlib

import numpy as np
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("delegation") as batch:
        batch.add_column(sa.Column("registry", sa.String(16)))
        batch.add_column(sa.Column("valid_from", sa.Date()))
        batch.add_column(sa.Column("valid_to", sa.Date()))
        batch.add_column(sa.Column("origin_id", sa.BigInteger()))
    op.create_table(
        "snapshot_order",
        sa.Column("snapshot_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("origins", sa.LargeBinary(), nullable=False),
        sa.Column("lines", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("snapshot_id", name="pk_snapshot_order"),
    )
    op.create_table(
        "holder_link",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("registry", sa.String(16), nullable=False),
        sa.Column("from_snapshot", sa.Integer(), nullable=False),
        sa.Column("to_snapshot", sa.Integer(), nullable=False),
        sa.Column("from_id", sa.String(128), nullable=False),
        sa.Column("to_id", sa.String(128), nullable=False),
        sa.Column("shared", sa.Integer(), nullable=False),
        sa.Column("from_records", sa.Integer(), nullable=False),
        sa.Column("to_records", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_holder_link"),
    )
    _convert_copies()
    with op.batch_alter_table("delegation") as batch:
        batch.alter_column("registry", existing_type=sa.String(16), nullable=False)
        batch.alter_column("valid_from", existing_type=sa.Date(), nullable=False)
        batch.alter_column("valid_to", existing_type=sa.Date(), nullable=False)
        batch.drop_index("ix_delegation_snapshot_id")


def _convert_copies() -> None:
    """Each stored copy becomes a version valid in its own snapshot only."""
    conn = op.get_bind()
    snapshots = conn.execute(sa.text("SELECT id, registry, snapshot_date FROM snapshot")).all()
    for sid, registry, date in snapshots:
        conn.execute(
            sa.text(
                "UPDATE delegation SET registry = :r, valid_from = :d, "
                "valid_to = :d WHERE snapshot_id = :s"
            ),
            {"r": registry, "d": date, "s": sid},
        )
        rows = conn.execute(
            sa.text(
                "SELECT id, line FROM delegation WHERE snapshot_id = :s "
                "AND added_serial IS NULL ORDER BY id"
            ),
            {"s": sid},
        ).all()
        origins = np.array([r[0] for r in rows], dtype="<i8")
        lines = np.array([r[1] for r in rows], dtype="<i4")
        conn.execute(
            sa.text("INSERT INTO snapshot_order (snapshot_id, origins, lines) VALUES (:s, :o, :l)"),
            {"s": sid, "o": zlib.compress(origins.tobytes()), "l": zlib.compress(lines.tobytes())},
        )


def downgrade() -> None:
    with op.batch_alter_table("delegation") as batch:
        batch.create_index("ix_delegation_snapshot_id", ["snapshot_id"])
        batch.drop_column("origin_id")
        batch.drop_column("valid_to")
        batch.drop_column("valid_from")
        batch.drop_column("registry")
    op.drop_table("holder_link")
    op.drop_table("snapshot_order")
