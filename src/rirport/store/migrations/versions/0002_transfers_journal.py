"""Transfers, the hash-chained journal, legal holds; delegation rows added/retired by serial.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _key(length: int) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("delegation") as batch:
        batch.add_column(sa.Column("added_serial", sa.BigInteger()))
        batch.add_column(sa.Column("retired_serial", sa.BigInteger()))
    op.create_table(
        "journal",
        sa.Column(
            "serial",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("serial", name="pk_journal"),
    )
    op.create_table(
        "transfer",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("type", sa.String(4), nullable=False),
        sa.Column("resource", sa.String(64), nullable=False),
        sa.Column("lo", _key(33), nullable=False),
        sa.Column("hi", _key(33), nullable=False),
        sa.Column("source_registry", sa.String(16), nullable=False),
        sa.Column("source_holder", sa.String(128), nullable=False),
        sa.Column("recipient_registry", sa.String(16), nullable=False),
        sa.Column("recipient_holder", sa.String(128), nullable=False),
        sa.Column("transfer_date", sa.Date(), nullable=False),
        sa.Column("regime", sa.Text(), nullable=False),
        sa.Column("decision", sa.JSON(), nullable=False),
        sa.Column("conditions_met", sa.Boolean(), nullable=False),
        sa.Column("created_serial", sa.BigInteger(), nullable=False),
        sa.Column("updated_serial", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_transfer"),
    )
    op.create_index("ix_transfer_state", "transfer", ["state"])
    op.create_table(
        "legal_hold",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("type", sa.String(4), nullable=False),
        sa.Column("resource", sa.String(64), nullable=False),
        sa.Column("lo", _key(33), nullable=False),
        sa.Column("hi", _key(33), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reference", sa.Text()),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("until", sa.Date()),
        sa.Column("created_serial", sa.BigInteger(), nullable=False),
        sa.Column("lifted_serial", sa.BigInteger()),
        sa.PrimaryKeyConstraint("id", name="pk_legal_hold"),
    )


def downgrade() -> None:
    op.drop_table("legal_hold")
    op.drop_index("ix_transfer_state", "transfer")
    op.drop_table("transfer")
    op.drop_table("journal")
    with op.batch_alter_table("delegation") as batch:
        batch.drop_column("retired_serial")
        batch.drop_column("added_serial")
