"""An index on the range key of ``delegation``, so a completed transfer finds its rows by a
range of the index (bounded below by the widest row of the type, ``meta.widest``) instead of
two scans of the whole table.

Measured by ``bench/transfers.py`` (ingest of the five 2018 files with and without the index,
and completed transfers per second on both engines).

Revision ID: 0010_histsc
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0010_histsc"
down_revision = "0009_histin"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_delegation_lo", "delegation", ["lo"])
    op.create_index("ix_transfer_lo", "transfer", ["lo"])


def downgrade() -> None:
    op.drop_index("ix_transfer_lo", "transfer")
    op.drop_index("ix_delegation_lo", "delegation")
    op.execute("DELETE FROM meta WHERE key = 'widest'")
