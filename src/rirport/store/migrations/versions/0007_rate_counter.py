"""The login throttle counts in fixed-window counters instead of one row per failed login;
the write generation's row exists from the start.

Every journaled write locks the ``generation`` row of ``meta`` (its row lock orders writers
on PostgreSQL); on a fresh store two first writes at once both found no row and both inserted
it, and one failed on the primary key. With the row made here, the first write updates it too.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_counter",
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_rate_counter"),
    )
    op.create_index("ix_rate_counter_expires_at", "rate_counter", ["expires_at"])
    op.drop_table("login_attempt")  # failures within a 15-minute window: nothing to carry over
    op.execute(
        "INSERT INTO meta (key, value) SELECT 'generation', '0' "
        "WHERE NOT EXISTS (SELECT 1 FROM meta WHERE key = 'generation')"
    )


def downgrade() -> None:
    op.create_table(
        "login_attempt",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("account_key", sa.String(128), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_login_attempt"),
    )
    for column in ("account_key", "client"):
        op.create_index(f"ix_login_attempt_{column}", "login_attempt", [column])
    op.drop_table("rate_counter")
