"""State root v2: a ``delegations`` part is hashed over bucket digests (``log_bucket``), so a
write rehashes only the buckets of the records it changed.

The stored part digests (v1) are dropped, so the next checkpoint recomputes every part under
v2; ``meta.log_state_v1`` keeps the size of the newest checkpoint signed before (its state
root is v1: ``rirport log verify`` checks such a checkpoint's state root by v1).

Revision ID: 0012_logappend
Revises: 0011_transfers
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_logappend"
down_revision = "0011_transfers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "log_bucket",
        sa.Column("part", sa.String(64), nullable=False),
        sa.Column("bucket", sa.String(16), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("part", "bucket", name="pk_log_bucket"),
    )
    bind = op.get_bind()
    signed = bind.execute(sa.text("SELECT MAX(size) FROM log_checkpoint")).scalar()
    op.execute("DELETE FROM log_state")
    if signed is not None:
        bind.execute(
            sa.text("""INSERT INTO meta ("key", value) VALUES ('log_state_v1', :v)"""),
            {"v": str(signed)},
        )


def downgrade() -> None:
    op.drop_table("log_bucket")
    op.execute("DELETE FROM log_state")
    op.execute("""DELETE FROM meta WHERE "key" = 'log_state_v1'""")
