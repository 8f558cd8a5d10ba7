"""Initial schema: snapshots, delegations, IANA blocks, meta.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _key(length: int) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "snapshot",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("registry", sa.String(16), nullable=False),
        sa.Column("snapshot_date", sa.Date(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("source_url", sa.Text()),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("compression", sa.String(8)),
        sa.Column("extended", sa.Boolean(), nullable=False),
        sa.Column("version", sa.String(8), nullable=False),
        sa.Column("serial", sa.String(20), nullable=False),
        sa.Column("start_date", sa.String(8), nullable=False),
        sa.Column("end_date", sa.String(8), nullable=False),
        sa.Column("utc_offset", sa.String(8), nullable=False),
        sa.Column("declared_records", sa.Integer(), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("preamble", sa.Text(), nullable=False),
        sa.Column("skipped_lines", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.JSON(), nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_snapshot"),
        sa.UniqueConstraint("registry", "content_sha256", name="uq_snapshot_registry_content"),
    )
    op.create_table(
        "delegation",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("lo", _key(33), nullable=False),
        sa.Column("hi", _key(33), nullable=False),
        sa.Column("opaque_id", sa.String(128)),
        sa.Column("record", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_delegation"),
    )
    op.create_index("ix_delegation_snapshot_id", "delegation", ["snapshot_id"])
    op.create_table(
        "iana_block",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("lo", _key(33), nullable=False),
        sa.Column("hi", _key(33), nullable=False),
        sa.Column("prefix", sa.String(64), nullable=False),
        sa.Column("designation", sa.Text(), nullable=False),
        sa.Column("registry", sa.String(16)),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("date", sa.String(10)),
        sa.Column("note", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_iana_block"),
    )
    op.create_table(
        "iana_source",
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", name="pk_iana_source"),
    )
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_meta"),
    )


def downgrade() -> None:
    for table in ("meta", "iana_source", "iana_block", "delegation", "snapshot"):
        op.drop_table(table)
