"""Signed snapshots: a store's state at a checkpoint, so a new mirror joins without replaying
every entry since serial 1 (as NRTMv4 starts from a snapshot file).

A snapshot is gzip-compressed NDJSON, written from one consistent read of the publisher's
store (``rirport log snapshot FILE``, ``GET /log/snapshot``):

1. a header ``{"format": "rirport-snapshot/v1", "size": N, "checkpoint": "<signed note>"}``
   whose checkpoint is the one signed at size N, the journal's size in that same read;
2. for each table carried, ``{"table": name, "columns": [...]}`` then one JSON array per row
   (dates and times as ISO text, bytes as base64); the journal comes first;
3. ``{"end": {"table": rows, ...}, "signed": "<note>"}``: a snapshot cut short has no end
   line and is refused; the note, signed by the log key, names the checkpoint (origin, size,
   root) and the SHA-256 of every line before the end line, so the rows that neither the
   tree nor the state root cover (history, events, bookkeeping) are covered by the key.

What is carried: the registry data with its history (snapshots, delegation versions, their
order and head columns, holder links, events, IANA, transfers, holds), the journal, and the
bookkeeping the journal names (watchlists, evidence, accounts and their holder links, token
rows) with every secret left out exactly as ``journal replay`` leaves it out (no password
hash, no token secret, no webhook secret; accounts named ``replayed-<id>``). Never carried:
sessions, rate counters, webhook deliveries, the signing key, the publisher's own
checkpoints and peers. The tree and the state parts are recomputed, not copied.

Joining (:func:`load_snapshot`) needs an empty store and checks everything before its one
transaction commits: the checkpoint's signature (the publisher's key), the journal's chain,
the journal's entries against the signed tree root (the tree is rebuilt from them), and the
state root recomputed from the loaded tables against the signed ``rirport-state`` line, and
the rows' signature. Any failure rolls the whole load back: nothing is applied. The mirror
then records the checkpoint as the last one it verified and follows from there (consistency
proofs, entries checked against the tree, replay), as for a mirror that replayed from
serial 1.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

import orjson
from sqlalchemy import Column, Table, func, insert, select, text
from sqlalchemy.types import JSON, Boolean, Date, DateTime, LargeBinary

from rirport.errors import (
    ConflictError,
    NotFoundError,
    SplitViewError,
    VerificationError,
)
from rirport.log import merkle
from rirport.log.checkpoint import Checkpoint, open_checkpoint, parse_text
from rirport.log.entries import entry_line
from rirport.log.note import Verifier, open_note, sign_note, split_note
from rirport.log.state import state_root
from rirport.log.tree import Tree
from rirport.services.audit import journal
from rirport.services.audit.rebuild import NO_PASSWORD
from rirport.services.transparency import state
from rirport.store import schema
from rirport.store.eventbody import pack, unpack
from rirport.store.repos.log import PeerRow
from rirport.store.unit import Store, UnitOfWork

FORMAT = "rirport-snapshot/v1"
STATEMENT = "rirport-snapshot-rows/v1"
"""The first line of the note by which the log key signs a snapshot's rows."""
ROLE = "mirror"
BATCH = 5_000
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"

Scrub = Callable[[dict[str, Any]], None]


def _account(row: dict[str, Any]) -> None:
    name = f"replayed-{row['id']}"
    row.update(username=name, username_key=name, password_hash=NO_PASSWORD)


def _token(row: dict[str, Any]) -> None:
    row.update(name=f"replayed-{row['id']}", token_hash=f"!replayed-{row['created_serial']}")


def _watch(row: dict[str, Any]) -> None:
    row["secret"] = None


CARRIED: dict[str, Scrub | None] = {
    "journal": None,
    "snapshot": None,
    "delegation": None,
    "head_state": None,
    "snapshot_order": None,
    "holder_link": None,
    "transfer": None,
    "legal_hold": None,
    "iana_block": None,
    "iana_source": None,
    "event": None,
    "evidence": None,
    "watch": _watch,
    "account": _account,
    "account_holder": None,
    "api_token": _token,
}
"""Tables a snapshot carries, journal first, and how each row's secrets are left out."""
LEFT_OUT = frozenset(
    {
        "meta",
        "auth_session",
        "rate_counter",
        "outbox",
        "dead_letter",
        "log_node",
        "log_checkpoint",
        "log_state",
        "log_bucket",
        "log_peer",
        "alembic_version",
    }
)
"""Tables it never carries: recomputed (tree, state parts, generation), this instance's own
(checkpoints, peers), or secrets and transient state."""
PACKED = {"event": ("body_z", "body")}
"""Columns a snapshot carries unpacked (:mod:`rirport.store.eventbody`), as ``(stored column,
name in the snapshot)``: an event's body is its JSON text under the name it had before
migration 0013, so the lines (and the rows' signature) are the ones an older version writes
for the same rows, and each version joins from the other's snapshot."""


@dataclass(frozen=True)
class SnapshotInfo:
    origin: str
    size: int
    rows: dict[str, int]

    def text(self) -> str:
        total = sum(self.rows.values())
        return f"{self.origin} at size {self.size}: {total} rows in {len(self.rows)} tables"


def _tables() -> list[Table]:
    tables = schema.metadata.tables
    unknown = set(tables) - set(CARRIED) - LEFT_OUT
    if unknown:  # a new table must say whether a snapshot carries it
        raise NotImplementedError(f"snapshot: no rule for tables {sorted(unknown)}")
    return [tables[name] for name in CARRIED]


# -- writing ------------------------------------------------------------------------------------
def _encoder(column: Column[Any], dialect: str) -> Callable[[Any], Any] | None:
    """How a raw driver value of ``column`` is written: dates and times as ISO text, bytes as
    base64, JSON as its text, booleans as booleans (SQLite holds text, PostgreSQL objects)."""
    kind = column.type
    if isinstance(kind, Date | DateTime):
        if dialect == "sqlite":
            return None  # stored as ISO text already
        return lambda v: None if v is None else v.isoformat()
    if isinstance(kind, LargeBinary):
        return lambda v: None if v is None else base64.b64encode(bytes(v)).decode()
    if isinstance(kind, JSON):
        if dialect == "sqlite":
            return None
        return lambda v: None if v is None else json.dumps(v, separators=(",", ":"))
    if isinstance(kind, Boolean):
        return lambda v: None if v is None else bool(v)
    return None


def write_snapshot(store: Store, out: IO[bytes]) -> SnapshotInfo:
    """Write the snapshot of the store's newest checkpoint to ``out`` (gzip NDJSON).

    Raises:
        NotFoundError: the newest entry has no signed checkpoint (``rirport log init`` or
            ``rirport log checkpoint`` first), or the store does not hold the log key.
    """
    signer = store.log_signer
    with store.read() as uow:
        if uow.dialect == "postgresql":  # one view of every table, however long it takes
            uow.connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        size = uow.journal.count()
        point = uow.log.checkpoint(size)
        if point is None:
            raise NotFoundError(
                f"no checkpoint is signed at size {size}, the journal's: run `rirport log "
                "checkpoint` (with the log key) before taking a snapshot"
            )
        if signer is None or signer.name != point.origin:
            raise NotFoundError(
                f"no snapshot here: a snapshot's rows are signed with the log key of "
                f"{point.origin}, and this store's data folder does not hold it (a mirror "
                "hands out none: take it at the publisher)"
            )
        rows: dict[str, int] = {}
        with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=1) as packed:
            hashed = _Hashing(packed)
            head = {"format": FORMAT, "size": size, "checkpoint": point.note}
            hashed.write((json.dumps(head) + "\n").encode())
            for table in _tables():
                rows[table.name] = _write_table(uow, table, hashed)
            signed = sign_note(
                _statement(parse_text(split_note(point.note)[0]), hashed.digest.hexdigest()),
                [signer],
            )
            packed.write((json.dumps({"end": rows, "signed": signed}) + "\n").encode())
    return SnapshotInfo(point.origin, size, rows)


class _Hashing:
    """A binary stream that hashes what is written through it (every line of the snapshot
    before its end line, the bytes the rows' signature covers)."""

    def __init__(self, out: gzip.GzipFile) -> None:
        self.out = out
        self.digest = hashlib.sha256()

    def write(self, data: bytes) -> None:
        self.digest.update(data)
        self.out.write(data)


def _statement(point: Checkpoint, digest: str) -> str:
    """The text the log key signs for a snapshot: which checkpoint it is of, and the SHA-256
    of every line before its end line (header, tables, rows: everything a join takes in)."""
    root = base64.b64encode(point.root).decode()
    return f"{STATEMENT}\n{point.origin}\n{point.size}\n{root}\nsha256 {digest}\n"


def _carried_names(table: Table) -> list[str]:
    """The column names of ``table`` as a snapshot writes them (:data:`PACKED`)."""
    stored, carried = PACKED.get(table.name, ("", ""))
    return [carried if c.name == stored else c.name for c in table.columns]


def _packed_at(table: Table) -> int | None:
    """Where ``table`` has its packed column, if it has one."""
    stored, _ = PACKED.get(table.name, ("", ""))
    names = [c.name for c in table.columns]
    return names.index(stored) if stored in names else None


def _write_table(uow: UnitOfWork, table: Table, out: _Hashing) -> int:
    columns = list(table.columns)
    head = {"table": table.name, "columns": _carried_names(table)}
    out.write((json.dumps(head) + "\n").encode())
    packed = _packed_at(table)
    encoders: list[tuple[int, Callable[[Any], Any]]] = [
        (i, e)
        for i, c in enumerate(columns)
        if i != packed and (e := _encoder(c, uow.dialect)) is not None
    ]
    key = [c.name for c in columns].index("id") if packed is not None else 0
    names = ", ".join(f'"{c.name}"' for c in columns)
    order = ", ".join(f'"{c.name}"' for c in table.primary_key.columns)
    cursor = uow.connection.exec_driver_sql(f"SELECT {names} FROM {table.name} ORDER BY {order}")
    count = 0
    dumps = orjson.dumps
    while batch := cursor.fetchmany(BATCH):
        rows: Sequence[Any]
        if encoders or packed is not None:
            rows = []
            for row in batch:
                values = list(row)
                for i, encode in encoders:
                    values[i] = encode(values[i])
                if packed is not None:  # the text (a corrupt row named by its id)
                    values[packed] = unpack(values[packed], values[key])
                rows.append(values)
        else:
            rows = batch
        count += len(rows)
        out.write(b"\n".join(dumps(list(r)) for r in rows) + b"\n")
    return count


# -- joining -----------------------------------------------------------------------------------
def _decoder(column: Column[Any], dialect: str) -> Callable[[Any], Any] | None:
    """How a written value becomes what this store's driver takes (the inverse of
    :func:`_encoder`, for either engine's snapshot)."""
    kind = column.type
    if isinstance(kind, DateTime):
        if dialect == "sqlite":  # SQLAlchemy's SQLite text form
            return lambda v: (
                None if v is None else dt.datetime.fromisoformat(v).strftime(SQLITE_TIME)
            )
        return lambda v: None if v is None else dt.datetime.fromisoformat(v)
    if isinstance(kind, LargeBinary):
        return lambda v: None if v is None else base64.b64decode(v, validate=True)
    if isinstance(kind, JSON):
        return lambda v: None if v is None else json.dumps(json.loads(v), separators=(",", ":"))
    return None


def _packer(text: Any) -> bytes:
    if not isinstance(text, str):
        raise TypeError(f"a packed column's value must be text, not {type(text).__name__}")
    return pack(text)


class _Lines:
    """The snapshot's lines as JSON values; ``before`` is the SHA-256 of every line before
    the one last returned (at the end line: what the rows' signature covers)."""

    def __init__(self, stream: IO[bytes], where: str) -> None:
        self.packed = gzip.GzipFile(fileobj=stream, mode="rb")
        self.where = where
        self.number = 0
        self.digest = hashlib.sha256()
        self.before = self.digest.copy()
        self.end: dict[str, Any] = {}

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> Any:
        try:
            raw = self.packed.readline()
        except (OSError, EOFError) as exc:  # not gzip, or cut short
            raise VerificationError(
                f"{self.where}: not a whole gzip snapshot ({exc}); nothing was applied"
            ) from None
        if not raw:
            raise StopIteration
        self.number += 1
        self.before = self.digest.copy()
        self.digest.update(raw)
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise VerificationError(
                f"{self.where}: line {self.number} is not JSON ({exc}); nothing was applied"
            ) from None


def _lines(stream: IO[bytes], where: str) -> _Lines:
    return _Lines(stream, where)


def read_header(lines: Iterator[Any], key: Verifier, where: str) -> tuple[Checkpoint, str]:
    head = next(lines, None)
    if not isinstance(head, dict) or head.get("format") != FORMAT:
        raise VerificationError(f"{where}: not a {FORMAT} snapshot; nothing was applied")
    note = str(head.get("checkpoint", ""))
    point = open_checkpoint(note, key)
    if head.get("size") != point.size:
        raise VerificationError(
            f"{where}: the header says size {head.get('size')}, its checkpoint {point.size}"
        )
    return point, note


def load_snapshot(
    store: Store,
    stream: IO[bytes],
    key: Verifier,
    source: str,
    where: str = "snapshot",
    accept: Callable[[str, Checkpoint], None] | None = None,
) -> SnapshotInfo:
    """Join: load a snapshot into an empty store, verified before it commits (module doc).
    ``accept`` checks the snapshot's signed checkpoint before anything is loaded (the
    mirror's witness requirement), raising to refuse it.

    Raises:
        ConflictError: the store is not empty (nothing applied).
        VerificationError, SplitViewError: the snapshot does not verify (nothing applied).
    """
    with store.read() as uow:
        held = uow.journal.count() or uow.meta.generation() or len(uow.snapshots.all())
    if held:
        raise ConflictError(
            "a snapshot joins only an empty store; this one already holds data (follow it "
            "without --snapshot, or use a new database); nothing was applied"
        )
    lines = _lines(stream, where)
    point, note = read_header(lines, key, where)
    if accept is not None:
        accept(note, point)
    rows: dict[str, int] = {}
    with store.transaction() as uow:
        _fast_sqlite(uow)
        tree, last_data = _load_tables(uow, lines, point, note, rows, where)
        _finish(uow, point, note, tree, last_data, source, where)
        _check_signed(lines.end.get("signed"), lines, point, key, note, where)  # the rest
    return SnapshotInfo(point.origin, point.size, rows)


def _fast_sqlite(uow: UnitOfWork) -> None:
    if uow.dialect == "sqlite":
        uow.connection.exec_driver_sql("PRAGMA cache_size=-262144")


def _load_tables(
    uow: UnitOfWork,
    lines: _Lines,
    point: Checkpoint,
    note: str,
    rows: dict[str, int],
    where: str,
) -> tuple[Tree, int]:
    tables = {t.name: t for t in _tables()}
    tree = Tree()
    files: set[str] = set()
    last_data = 0
    line = next(lines, None)
    while isinstance(line, dict) and "table" in line:
        name = str(line["table"])
        table = tables.get(name)
        if table is None or name in rows:
            raise VerificationError(
                f"{where}: table {name!r} is not one a snapshot carries (or comes twice); "
                "nothing was applied"
            )
        columns = _carried_names(table)
        if line.get("columns") != columns:
            raise VerificationError(
                f"{where}: table {name} has columns {line.get('columns')}, this version "
                f"{columns}: the publisher runs another schema; nothing was applied"
            )
        if name == "journal":
            line, count, last_data = _load_journal(uow, lines, tree, files, point, note, where)
        else:
            line, count = _load_rows(uow, table, lines, CARRIED[name], where)
        rows[name] = count
    if not isinstance(line, dict) or line.get("end") != rows:
        raise VerificationError(
            f"{where}: the snapshot is cut short or its end line does not match the rows "
            f"read ({rows}); nothing was applied"
        )
    lines.end = line
    if "journal" not in rows:
        raise VerificationError(f"{where}: the snapshot has no journal; nothing was applied")
    unnamed = [
        sha
        for (sha,) in uow.connection.execute(select(schema.snapshot.c.content_sha256))
        if sha not in files
    ]
    if unnamed:  # every stored file must be one a verified ingest entry names
        raise VerificationError(
            f"{where}: the snapshot holds {len(unnamed)} file(s) no ingest entry of the "
            f"signed journal names (content sha256 {unnamed[0]}); nothing was applied"
        )
    return tree, last_data


def _check_signed(
    signed: Any, lines: _Lines, point: Checkpoint, key: Verifier, note: str, where: str
) -> None:
    """The rows must be the ones the log key signed for this checkpoint.

    Raises:
        VerificationError: no signature, not by the key, or over other rows or another
            checkpoint (the checkpoint quoted).
    """
    if not isinstance(signed, str):
        raise VerificationError(
            f"{where}: the snapshot's rows carry no signature by the log key (a snapshot "
            "from before rirport signed them, or one edited); nothing was applied"
        )
    text, _ = open_note(signed, [key])
    expected = _statement(point, lines.before.hexdigest())
    if text != expected:
        raise VerificationError(
            f"{where}: the snapshot's rows are not the ones the log key signed for this "
            "checkpoint (a row, a table or the header was changed after it was written); "
            f"nothing was applied\n{_quote('signed', text)}\n{_quote('read', expected)}\n"
            + _quote("checkpoint", note)
        )


def _load_rows(
    uow: UnitOfWork, table: Table, lines: Iterator[Any], scrub: Scrub | None, where: str
) -> tuple[Any, int]:
    columns = list(table.columns)
    names = [c.name for c in columns]
    packed = _packed_at(table)
    decoders = [
        (i, d)
        for i, c in enumerate(columns)
        if i != packed and (d := _decoder(c, uow.dialect)) is not None
    ]
    if packed is not None:
        decoders.append((packed, _packer))
    count = 0
    batch: list[Any] = []
    insert = _inserter(uow, table)
    line = next(lines, None)
    while isinstance(line, list):
        if len(line) != len(names):
            raise VerificationError(
                f"{where}: a row of {table.name} has {len(line)} values, not {len(names)}"
            )
        try:
            for i, decode in decoders:
                line[i] = decode(line[i])
        except (ValueError, TypeError) as exc:
            raise VerificationError(
                f"{where}: a row of {table.name} is malformed ({exc})"
            ) from None
        if scrub is not None:
            row = dict(zip(names, line, strict=True))
            scrub(row)
            line = [row[n] for n in names]
        batch.append(line)
        count += 1
        if len(batch) >= BATCH:
            insert(batch)
            batch = []
        line = next(lines, None)
    if batch:
        insert(batch)
    return line, count


def _inserter(uow: UnitOfWork, table: Table) -> Callable[[list[Any]], None]:
    """Rows (value lists in column order) into ``table`` at driver speed: multi-row INSERTs
    on SQLite, COPY on PostgreSQL (the driver adapts each value)."""
    raw = uow.connection.connection.dbapi_connection
    assert raw is not None
    names = [c.name for c in table.columns]
    quoted = ", ".join(f'"{n}"' for n in names)
    if uow.dialect == "postgresql":

        def copy(rows: list[Any]) -> None:
            sql = f"COPY {table.name} ({quoted}) FROM STDIN"
            with raw.cursor() as cursor, cursor.copy(sql) as pipe:  # type: ignore[attr-defined]
                for row in rows:
                    pipe.write_row(row)

        return copy
    one = "(" + ", ".join(["?"] * len(names)) + ")"
    per = max(1, 900 // len(names))  # SQLite's bound-parameter limit, with room

    def many(rows: list[Any]) -> None:
        cursor = raw.cursor()
        try:
            whole = len(rows) // per * per
            if whole:
                sql = f"INSERT INTO {table.name} ({quoted}) VALUES " + ", ".join([one] * per)
                cursor.executemany(
                    sql,
                    [
                        [v for row in rows[at : at + per] for v in row]
                        for at in range(0, whole, per)
                    ],
                )
            if whole < len(rows):
                cursor.executemany(
                    f"INSERT INTO {table.name} ({quoted}) VALUES {one}", rows[whole:]
                )
        finally:
            cursor.close()

    return many


def _load_journal(
    uow: UnitOfWork,
    lines: Iterator[Any],
    tree: Tree,
    files: set[str],
    point: Checkpoint,
    note: str,
    where: str,
) -> tuple[Any, int, int]:
    rows: list[tuple[Any, ...]] = []
    leaves = []
    line = next(lines, None)
    while isinstance(line, list):
        if len(line) != 7:
            raise VerificationError(f"{where}: a journal row has {len(line)} values, not 7")
        row = tuple(line)
        rows.append(row)
        leaves.append(merkle.leaf_hash(entry_line(*row).encode()))
        line = next(lines, None)
    checked = journal.verify_rows(rows)
    if not checked.ok:
        raise VerificationError(
            f"{where}: the journal's chain is broken ({checked.problems[0]}); nothing was applied"
        )
    tree.extend(leaves)
    if tree.size != point.size or tree.root() != point.root:
        raise SplitViewError(
            f"{point.origin}: the snapshot's {tree.size} journal entries do not make the tree "
            f"the checkpoint signs (size {point.size}): the snapshot is not the signed "
            f"history; nothing was applied\n" + _quote("checkpoint", note)
        )
    last_data = max((int(r[0]) for r in rows if r[3] not in journal.BOOKKEEPING), default=0)
    files.update(str(orjson.loads(r[4]).get("sha256")) for r in rows if r[3] == "ingest")
    fields = ("serial", "created_at", "actor", "action", "payload", "prev_hash", "hash")
    for start in range(0, len(rows), BATCH):
        uow.connection.execute(
            insert(schema.journal),
            [dict(zip(fields, r, strict=True)) for r in rows[start : start + BATCH]],
        )
    return line, len(rows), last_data


def _finish(
    uow: UnitOfWork,
    point: Checkpoint,
    note: str,
    tree: Tree,
    last_data: int,
    source: str,
    where: str,
) -> None:
    uow.log.add_nodes(
        (level, index, tree.node(level, index))
        for level in range(len(tree.levels))
        for index in range(tree.count(level))
    )
    uow.meta.put("generation", str(point.size))
    uow.meta.put("data_generation", str(last_data))
    if uow.dialect == "postgresql":
        _reset_sequences(uow)
    done = state.compute_all(uow)
    mine = state_root(done.parts)
    if point.state_root and mine != point.state_root:
        raise VerificationError(
            f"{where}: the state root of the snapshot's tables is {mine}, the checkpoint "
            f"signs {point.state_root}: the data is not the signed data; nothing was "
            "applied\n" + _quote("checkpoint", note)
        )
    state.store(uow, done)
    recorded = uow.log.set_peer(
        PeerRow(
            ROLE,
            point.origin,
            point.size,
            note,
            source,
            dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        ),
        expected_size=None,
    )
    if not recorded:
        raise ConflictError(f"{point.origin}: this store already follows that log")


def _reset_sequences(uow: UnitOfWork) -> None:
    """Ids were copied: PostgreSQL's sequences must start after them."""
    for table in _tables():
        column = table.c.get("id")
        if column is None or not column.autoincrement or not column.primary_key:
            continue
        top = uow.connection.execute(select(func.max(column))).scalar_one_or_none()
        if top is not None:
            uow.connection.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), :top)"),
                {"top": int(top)},
            )


def _quote(label: str, note: str) -> str:
    return f"{label}:\n" + "\n".join(f"    {line}" for line in note.rstrip("\n").split("\n"))


__all__ = [
    "CARRIED",
    "FORMAT",
    "LEFT_OUT",
    "SnapshotInfo",
    "load_snapshot",
    "write_snapshot",
]
