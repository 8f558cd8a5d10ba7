"""Two indexes for completed transfers (every one asks both questions):

- ``ix_snapshot_registry_date``: each registry's newest snapshot is one seek of the index per
  registry instead of a read of every snapshot row (a store of the full history holds
  thousands).
- ``ix_delegation_lo_hi`` replaces ``ix_delegation_lo``: the records over a range are a
  range of the index bounded below by the widest row of the type (an IPv4 /8 reaches back
  thousands of rows); with ``hi`` in the index, the rows ending before the range are passed
  over in the index, not read from the table (half the time of that read, measured on the
  five 2018 files). ``ix_transfer_lo_hi`` replaces ``ix_transfer_lo`` for the same reason:
  a mass move (``rirport scenario exit``) makes thousands of transfers inside the widest.

Measured by ``bench/transfers.py`` (completed transfers per second on both engines).

Revision ID: 0011_transfers
Revises: 0010_histsc
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0011_transfers"
down_revision = "0010_histsc"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_snapshot_registry_date", "snapshot", ["registry", "snapshot_date", "id"])
    op.create_index("ix_delegation_lo_hi", "delegation", ["lo", "hi"])
    op.drop_index("ix_delegation_lo", "delegation")
    op.create_index("ix_transfer_lo_hi", "transfer", ["lo", "hi"])
    op.drop_index("ix_transfer_lo", "transfer")


def downgrade() -> None:
    op.create_index("ix_transfer_lo", "transfer", ["lo"])
    op.drop_index("ix_transfer_lo_hi", "transfer")
    op.create_index("ix_delegation_lo", "delegation", ["lo"])
    op.drop_index("ix_delegation_lo_hi", "delegation")
    op.drop_index("ix_snapshot_registry_date", "snapshot")
