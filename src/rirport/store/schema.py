"""The database tables (SQLAlchemy Core), portable between SQLite and PostgreSQL.

``delegation`` keeps versions, not copies: a row is one record as published (``record``, the
statistics line itself, as IRRd keeps ``object_text``) over the interval of its registry's
snapshots in which it appeared unchanged (``valid_from``..``valid_to``, snapshot dates,
inclusive), so a record unchanged across twenty files is one row. Rows also carry the columns
the store searches on: the range keys ``lo``/``hi`` (:mod:`rirport.store.keys`) and
``opaque_id``. Line numbers change from file to file, so the order of a snapshot's records
lives with the snapshot (``snapshot_order``), not on the rows. No column is indexed: an index
costs a large share of ingest time (measured: one on the range key adds about half again), and
reading a snapshot back is one scan either way. Range and holder searches scan too; fast
lookups are the in-memory index's job (:mod:`rirport.index`), and the SQL searches are its
reference. There are no foreign keys: PostgreSQL checks one per copied row, which tripled
ingest time; rows are only ever written together with their snapshot, in one transaction, by
:mod:`rirport.services.registry.ingest`.

Alembic migrations under ``migrations/`` create exactly these tables; a test compares them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
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
    Index("ix_snapshot_registry_date", "registry", "snapshot_date", "id"),
)

delegation = Table(
    "delegation",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("snapshot_id", Integer, nullable=False),
    Column("line", Integer, nullable=False),
    Column("lo", key_type(33), nullable=False),
    Column("hi", key_type(33), nullable=False),
    Column("opaque_id", String(128)),
    Column("record", Text, nullable=False),
    Column("added_serial", BigInteger),
    Column("retired_serial", BigInteger),
    Column("registry", String(16), nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=False),
    Column("origin_id", BigInteger),
    Index("ix_delegation_lo_hi", "lo", "hi"),
)
"""One version of a record: valid in every snapshot of ``registry`` dated
``valid_from``..``valid_to``. ``snapshot_id``/``line``: the snapshot the row was first read
from and its line there (for a row a transfer added: its snapshot and the line it sorts at).
``origin_id``: the row this one was split from (None: itself); a snapshot's line order names
rows by origin, so splitting a row's interval never rewrites a snapshot's order.
``added_serial``: the journal entry of the transfer that created the row (None: read from a
file). ``retired_serial``: the journal entry of the transfer that took it out of the registry
(None: current); a retired row covers only the snapshot it was retired in. A snapshot's
current state is its rows not retired; its original file is its rows not added."""

OPEN_END = dt.date(9999, 12, 31)
"""``valid_to`` of a version still in its registry's newest file: valid until a newer file
lacks it, so an ingest writes ``valid_to`` only where a record changed (readers showing an
interval end take the registry's newest snapshot date for it)."""

head_state = Table(
    "head_state",
    metadata,
    Column("registry", String(16), primary_key=True),
    Column("snapshot_id", Integer, nullable=False),
    Column("ids", LargeBinary, nullable=False),
    Column("origins", LargeBinary, nullable=False),
    Column("prints", LargeBinary, nullable=False),
)
"""Each registry's newest file as columns (:mod:`rirport.store.head`): the row id, origin and
record fingerprint of each of its rows, so the next file is diffed on sorted arrays instead of
reading every stored row back. Dropped by whatever rewrites those rows other than an append
(a late file, a transfer); the next ingest rebuilds it."""

snapshot_order = Table(
    "snapshot_order",
    metadata,
    Column("snapshot_id", Integer, primary_key=True, autoincrement=False),
    Column("origins", LargeBinary, nullable=False),
    Column("lines", LargeBinary, nullable=False),
)
"""Where each of a snapshot's file rows stood: zlib-compressed little-endian arrays of row
origins (int64, sorted) and their line numbers (int32), see :mod:`rirport.store.order`."""

holder_link = Table(
    "holder_link",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("registry", String(16), nullable=False),
    Column("from_snapshot", Integer, nullable=False),
    Column("to_snapshot", Integer, nullable=False),
    Column("from_id", String(128), nullable=False),
    Column("to_id", String(128), nullable=False),
    Column("shared", Integer, nullable=False),
    Column("from_records", Integer, nullable=False),
    Column("to_records", Integer, nullable=False),
)
"""Opaque-ids of consecutive snapshots of a registry that hold the same records
(:mod:`rirport.query.holders`); only links between different ids are stored."""

journal = Table(
    "journal",
    metadata,
    Column(
        "serial",
        BigInteger().with_variant(Integer, "sqlite"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("created_at", String(32), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(32), nullable=False),
    Column("payload", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)
"""Append-only and hash-chained (:mod:`rirport.services.audit.journal`); ``payload`` is canonical
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
    Index("ix_transfer_lo_hi", "lo", "hi"),
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

# -- change events and monitoring (migration 0004) ---------------------------------------------
event = Table(
    "event",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("snapshot_id", Integer, index=True),
    Column("kind", String(16), nullable=False),
    Column("type", String(4)),
    Column("registry", String(16), nullable=False),
    Column("from_registry", String(16)),
    Column("to_registry", String(16)),
    Column("lo", key_type(33)),
    Column("hi", key_type(33)),
    Column("body_z", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
"""A change event (:mod:`rirport.domain.events`); ``body_z`` is its JSON as feeds print it,
packed (:mod:`rirport.store.eventbody`: a format byte, then raw deflate with a preset
dictionary; migration 0013; the repository reads and writes the text),
``lo``/``hi`` the range keys of its resource (None for a registry-wide renumbering), and
``snapshot_id`` the ingested snapshot that produced it."""

watch = Table(
    "watch",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False),
    Column("criteria", JSON, nullable=False),
    Column("url", Text),
    Column("secret", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("removed_at", DateTime(timezone=True)),
)
"""A watchlist: what to match (resources, holders, countries, registries, kinds) and where to
post (``url``, payloads signed with ``secret``). Removed watchlists stay, marked."""

outbox = Table(
    "outbox",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("watch_id", Integer, nullable=False),
    Column("event_id", BigInteger, nullable=False),
    Column("state", String(12), nullable=False, index=True),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_error", Text),
    Column("delivered_at", DateTime(timezone=True)),
)
"""One webhook delivery, written in the transaction that stored its event: ``pending`` until
posted (``delivered``) or out of attempts (``dead``, with a ``dead_letter`` row)."""

dead_letter = Table(
    "dead_letter",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("outbox_id", BigInteger, nullable=False),
    Column("watch_id", Integer, nullable=False),
    Column("event_id", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=False),
    Column("failed_at", DateTime(timezone=True), nullable=False),
)

evidence = Table(
    "evidence",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(80), nullable=False, unique=True),
    Column("version", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_serial", BigInteger, nullable=False),
    Column("updated_serial", BigInteger, nullable=False),
)
"""Evidence items added or corrected through rirport (the shipped starter set is read from the
package): ``body`` is the validated item as canonical JSON, ``version`` counts corrections; the
journal entry of each write holds the previous body, so no correction loses what it replaced."""

# -- accounts, sessions and API tokens (migration 0006) -----------------------------------------
account = Table(
    "account",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(128), nullable=False),
    Column("username_key", String(128), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("tier", String(24), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("password_changed_at", DateTime(timezone=True), nullable=False),
    Column("disabled_at", DateTime(timezone=True)),
    Column("created_serial", BigInteger, nullable=False),
    Column("updated_serial", BigInteger, nullable=False),
)
"""A member (:mod:`rirport.accounts`): ``username`` as typed, ``username_key`` its casefolded
NFKC form (unique), an argon2 ``password_hash``, the ``tier`` (a role of
:data:`rirport.accounts.policy.ROLES`). Journal entries name accounts by ``id`` only."""

account_holder = Table(
    "account_holder",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", Integer, ForeignKey("account.id"), nullable=False, index=True),
    Column("registry", String(16), nullable=False),
    Column("opaque_id", String(128), nullable=False),
    Column("created_serial", BigInteger, nullable=False),
    UniqueConstraint("account_id", "registry", "opaque_id", name="uq_account_holder_link"),
)
"""A holder identity an administrator verified for a Leadership Alliance account."""

auth_session = Table(
    "auth_session",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("account_id", Integer, ForeignKey("account.id"), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)
"""A browser session: the sha256 of the random id the signed cookie carries (never the id)."""

api_token = Table(
    "api_token",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", Integer, ForeignKey("account.id"), nullable=False, index=True),
    Column("name", String(128), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_used_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    Column("created_serial", BigInteger, nullable=False),
)
"""An API token: only its sha256 is kept; the token itself is shown once."""

rate_counter = Table(
    "rate_counter",
    metadata,
    Column("key", String(400), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("expires_at", Float, nullable=False, index=True),
)
"""Fixed-window counters of the login throttle (:mod:`rirport.store.counters`): one row per
key, its count and when its window ends (seconds since the epoch)."""

# -- the transparency log (migration 0008) -----------------------------------------------------
log_node = Table(
    "log_node",
    metadata,
    Column("level", SmallInteger, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary, nullable=False),
)
"""The complete subtrees of the Merkle tree over the journal (:mod:`rirport.log.tree`):
``hash`` is MTH of leaves idx·2^level … (idx+1)·2^level − 1 (level 0: leaf hashes). Written
once, never updated; fewer than two rows per journal entry. The tree's size is one past the
last level-0 index."""

log_checkpoint = Table(
    "log_checkpoint",
    metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("origin", String(255), nullable=False),
    Column("note", Text, nullable=False),
    Column("state_root", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
)
"""Every checkpoint this instance signed (C2SP signed note text), one per tree size."""

log_state = Table(
    "log_state",
    metadata,
    Column("part", String(64), primary_key=True),
    Column("digest", String(64), nullable=False),
)
"""The digest of each part of the state root (:mod:`rirport.log.state`) as of the newest
entry, so a write recomputes only the parts it changed."""

log_bucket = Table(
    "log_bucket",
    metadata,
    Column("part", String(64), primary_key=True),
    Column("bucket", String(16), primary_key=True),
    Column("digest", String(64), nullable=False),
)
"""The digest of each non-empty bucket of a ``delegations`` part (:mod:`rirport.log.state`,
v2) as of the newest signed checkpoint, so a write that changed a few records rehashes only
their buckets."""

log_peer = Table(
    "log_peer",
    metadata,
    Column("role", String(16), primary_key=True),
    Column("origin", String(255), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("note", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("verified_at", String(32), nullable=False),
)
"""The newest checkpoint of another instance's log that this one verified: ``role`` mirror
(the publisher it follows, ``source`` its URL) or witness (the last one cosigned)."""
