"""The transparency log: the Merkle tree's complete subtrees, signed checkpoints, the state
root's part digests, and the checkpoints of other logs a mirror or witness verified.

A store from before this revision has journal entries and no tree: the first write after it
(or ``rirport log checkpoint``) builds the tree from the journal.

Revision ID: 0008_log
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_log"
down_revision = "0007"
branch_labels = None
depends_on = None

BIG = sa.BigInteger()


def upgrade() -> None:
    op.create_table(
        "log_node",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("idx", BIG, autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name="pk_log_node"),
    )
    op.create_table(
        "log_checkpoint",
        sa.Column("size", BIG, autoincrement=False, nullable=False),
        sa.Column("origin", sa.String(255), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("state_root", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("size", name="pk_log_checkpoint"),
    )
    op.create_table(
        "log_state",
        sa.Column("part", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("part", name="pk_log_state"),
    )
    op.create_table(
        "log_peer",
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("origin", sa.String(255), nullable=False),
        sa.Column("size", BIG, nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("verified_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("role", "origin", name="pk_log_peer"),
    )


def downgrade() -> None:
    for table in ("log_peer", "log_state", "log_checkpoint", "log_node"):
        op.drop_table(table)
