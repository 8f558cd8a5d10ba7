"""The database tables (SQLAlchemy Core), portable between SQLite and PostgreSQL.

``delegation`` keeps each record as published (``record``, the statistics line itself, as IRRd
keeps ``object_text``) plus the columns the store searches on: the range keys ``lo``/``hi``
(:mod:`rirport.store.keys`) and ``opaque_id``. Only ``snapshot_id`` is indexed: rows are
appended in file order, and every extra index would cost a large share of ingest time (measured:
an index on the range key adds about half again). Range and holder searches therefore scan the
rows of the snapshots they ask about; fast lookups are the in-memory index's job
(:mod:`rirport.index`), and the SQL searches are its reference. ``snapshot_id`` has no foreign
key: PostgreSQL checks one per copied row, which tripled ingest time; rows are only ever written
together with their snapshot, in one transaction, by :mod:`rirport.services.ingest`.

Alembic migrations under ``migrations/`` create exactly these tables; a test compares them.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)


def key_type(length: int) -> String:
    """Text compared byte-wise on both engines."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


snapshot = Table(
    "snapshot",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("registry", String(16), nullable=False),
    Column("snapshot_date", Date, nullable=False),
    Column("file_name", Text, nullable=False),
    Column("source_url", Text),
    Column("file_sha256", String(64), nullable=False),
    Column("content_sha256", String(64), nullable=False),
    Column("compression", String(8)),
    Column("extended", Boolean, nullable=False),
    Column("version", String(8), nullable=False),
    Column("serial", String(20), nullable=False),
    Column("start_date", String(8), nullable=False),
    Column("end_date", String(8), nullable=False),
    Column("utc_offset", String(8), nullable=False),
    Column("declared_records", Integer, nullable=False),
    Column("records", Integer, nullable=False),
    Column("summary", JSON, nullable=False),
    Column("preamble", Text, nullable=False),
    Column("skipped_lines", Integer, nullable=False),
    Column("skipped", JSON, nullable=False),
    Column("ingested_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("registry", "content_sha256", name="uq_snapshot_registry_content"),
)

delegation = Table(
    "delegation",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("snapshot_id", Integer, nullable=False, index=True),
    Column("line", Integer, nullable=False),
    Column("lo", key_type(33), nullable=False),
    Column("hi", key_type(33), nullable=False),
    Column("opaque_id", String(128)),
    Column("record", Text, nullable=False),
    Column("added_serial", BigInteger),
    Column("retired_serial", BigInteger),
)
"""``added_serial``: the journal entry of the transfer that created the row (None: read from
the snapshot's file). ``retired_serial``: the journal entry of the transfer that took it out of
the registry (None: current). A snapshot's current state is its rows not retired; its original
file is its rows not added."""

journal = Table(
    "journal",
    metadata,
    Column("serial", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=False),
    Column("created_at", String(32), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(32), nullable=False),
    Column("payload", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)
"""Append-only and hash-chained (:mod:`rirport.services.journal`); ``payload`` is canonical
JSON text and ``created_at`` ISO-8601 UTC text, so the hash covers the stored bytes."""

transfer = Table(
    "transfer",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("state", String(16), nullable=False, index=True),
    Column("kind", String(24), nullable=False),
    Column("type", String(4), nullable=False),
    Column("resource", String(64), nullable=False),
    Column("lo", key_type(33), nullable=False),
    Column("hi", key_type(33), nullable=False),
    Column("source_registry", String(16), nullable=False),
    Column("source_holder", String(128), nullable=False),
    Column("recipient_registry", String(16), nullable=False),
    Column("recipient_holder", String(128), nullable=False),
    Column("transfer_date", Date, nullable=False),
    Column("regime", Text, nullable=False),
    Column("decision", JSON, nullable=False),
    Column("conditions_met", Boolean, nullable=False),
    Column("created_serial", BigInteger, nullable=False),
    Column("updated_serial", BigInteger, nullable=False),
)

legal_hold = Table(
    "legal_hold",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("type", String(4), nullable=False),
    Column("resource", String(64), nullable=False),
    Column("lo", key_type(33), nullable=False),
    Column("hi", key_type(33), nullable=False),
    Column("reason", Text, nullable=False),
    Column("reference", Text),
    Column("since", Date, nullable=False),
    Column("until", Date),
    Column("created_serial", BigInteger, nullable=False),
    Column("lifted_serial", BigInteger),
)

iana_block = Table(
    "iana_block",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(32), nullable=False),
    Column("lo", key_type(33), nullable=False),
    Column("hi", key_type(33), nullable=False),
    Column("prefix", String(64), nullable=False),
    Column("designation", Text, nullable=False),
    Column("registry", String(16)),
    Column("status", String(32), nullable=False),
    Column("date", String(10)),
    Column("note", Text),
)

iana_source = Table(
    "iana_source",
    metadata,
    Column("source", String(32), primary_key=True),
    Column("file_name", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("ingested_at", DateTime(timezone=True), nullable=False),
)

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
