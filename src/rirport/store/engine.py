"""Engines for SQLite and PostgreSQL, and running the migrations."""

from __future__ import annotations

import functools
import re
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError

from rirport.errors import ConfigError, StorageError
from rirport.store import pgconn

MIGRATIONS = Path(__file__).parent / "migrations"
WRITE_WAIT_SECONDS = 60
"""How long a write waits for another write to finish (SQLite's busy timeout, PostgreSQL's
``lock_timeout``) before it fails with :class:`~rirport.errors.StorageError` saying so. The
longest single write is one file's ingest (about 15 s for RIPE NCC's full file here)."""
READ_ONLY = "rirport_read_only"
"""The connection execution option :meth:`rirport.store.unit.Store.read` sets."""
WAIT = "rirport_wait_ms"
"""The execution option of a write that waits less than :data:`WRITE_WAIT_SECONDS`."""
JOURNAL_MODE = "WAL"
"""SQLite's journal mode for files (``bench/sqlite_modes.py`` compares it with ``DELETE``)."""
WAL_LIMIT_BYTES = 64 * 1024 * 1024
"""The write-ahead log is truncated to this after a checkpoint (a full ingest grows it)."""


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get their folder created and their pragmas set.

    SQLite files use write-ahead logging (WAL): a read never takes the write lock and never
    waits for, nor fails because of, a writer (measured in docs/deploy.md); writers are
    serialised by ``BEGIN IMMEDIATE`` and wait up to :data:`WRITE_WAIT_SECONDS` for each
    other. A read transaction (:meth:`~rirport.store.unit.Store.read`) begins deferred and
    ``query_only``; on PostgreSQL it is ``READ ONLY``.

    Raises:
        ConfigError: the URL cannot be parsed or names an unsupported database.
    """
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError and ValueError here
        raise ConfigError(f"bad database URL {url!r}: {exc}") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, parsed.database)
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return _postgres_engine(parsed)
    raise ConfigError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")


PING_AFTER_IDLE_SECONDS = 1.0
"""A pooled PostgreSQL connection idle at least this long is pinged before it is handed out
(and replaced if the server dropped it). One used more recently is not: the ping was a round
trip at the start of every transaction, a fifth of a transfer step's statements. A server
restart within that second fails the one transaction that meets it (rolled back, nothing
half-written), as a restart during a transaction always did."""


def _postgres_engine(url: Any) -> Engine:
    # the URL's own libpq ``options`` come after the lock timeout (and so win over it): they
    # were dropped before, replaced by it. They are the way to choose a server setting per
    # store, e.g. ``?options=-c%20synchronous_commit%3Doff`` (commits stop waiting for the
    # disk: a crash may lose the last moments of committed writes, whole transactions only,
    # the journal's chain intact; the default, ``on``, loses none; see docs/deploy.md)
    given = url.query.get("options")
    given = " ".join(given) if isinstance(given, tuple) else given
    options = f"-c lock_timeout={WRITE_WAIT_SECONDS * 1000}" + (f" {given}" if given else "")
    engine = create_engine(
        url.difference_update_query(["options"]), connect_args={"options": options}
    )

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop(_IDLE_SINCE, None)
        if since is not None and time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return
        if since is None:
            return  # a connection just made (the pool pings none it opened itself)
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # the server closed it: the pool opens another
            raise DisconnectionError() from exc

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        return pgconn.Connection.connect(*cargs, **cparams)

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # the transaction is opened here, its BEGIN sent with its first statement
        # (:mod:`rirport.store.pgconn`); SQLAlchemy's own autocommit is left alone
        options = conn.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return
        raw = conn.connection.dbapi_connection
        if not isinstance(raw, pgconn.Connection):
            return
        if not raw.autocommit:  # (reset by SQLAlchemy after an isolation level of its own)
            raw.autocommit = True
        if options.get(READ_ONLY):
            raw.begin_with_next(("BEGIN READ ONLY",))
        elif options.get(WAIT) is not None:
            raw.begin_with_next(("BEGIN", f"SET LOCAL lock_timeout = {int(options[WAIT])}"))
        else:
            raw.begin_with_next(("BEGIN",))

    return engine


_IDLE_SINCE = "rirport_idle_since"
"""Connection record info key: when the connection was last returned to the pool."""
_PRAGMAS = "rirport_pragmas"
"""Connection info key: the (busy_timeout, query_only) a SQLite connection was last set to."""


def _sqlite_engine(url: str, database: str | None) -> Engine:
    on_disk = bool(database) and database != ":memory:"
    if on_disk:
        folder = Path(str(database)).expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"{folder}: cannot create the store's folder ({exc.strerror}); choose another "
                "with --data-dir or RIRPORT_DATA_DIR"
            ) from None
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        # let SQLAlchemy issue BEGIN itself, so a whole ingest is one transaction
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if on_disk:
            cursor.execute(f"PRAGMA journal_mode={JOURNAL_MODE}")
            cursor.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA cache_size=-32768")
        cursor.execute(f"PRAGMA busy_timeout={WRITE_WAIT_SECONDS * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        options = conn.get_execution_options()
        wait = options.get(WAIT)
        timeout = int(WRITE_WAIT_SECONDS * 1000 if wait is None else wait)
        read_only = bool(options.get(READ_ONLY))
        # the pragmas are the connection's until changed: set only what differs from the
        # last transaction on it (a transfer is four transactions: six statements saved)
        info = conn.connection.info
        if info.get(_PRAGMAS) != (timeout, read_only):
            conn.exec_driver_sql(f"PRAGMA busy_timeout={timeout}")
            conn.exec_driver_sql(f"PRAGMA query_only={int(read_only)}")
            info[_PRAGMAS] = (timeout, read_only)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


ANALYZE_FRACTION = 0.1
"""A write that adds more rows than this fraction of a table's planner estimate (plus
:data:`ANALYZE_ROWS`) refreshes its statistics on PostgreSQL: autovacuum's default analyze
threshold, applied at once instead of up to a minute later (or never, with autovacuum off)."""
ANALYZE_ROWS = 50


def refresh_statistics(engine: Engine, table: str, rows: int) -> bool:
    """After a committed write that added ``rows`` rows to ``table``: on PostgreSQL, run
    ``ANALYZE`` when they are many against what the planner knows of the table (never
    analysed: always); whether it ran. SQLite: nothing (its plans here need no statistics).

    Why: a freshly loaded ``delegation`` table without statistics made PostgreSQL plan the
    transfer's ``line_before`` (``max(lo)`` of one registry before a key) as a bitmap scan of
    every row of the type, 20 ms each, instead of a walk back along ``ix_delegation_lo_hi``
    (under 0.1 ms): ``bench/transfers.py`` ran at a fifth of its rate until autovacuum came.
    A failure is ignored (the statistics only guide the planner).
    """
    if engine.dialect.name != "postgresql" or rows <= 0:
        return False
    try:
        with engine.begin() as connection:
            known = connection.exec_driver_sql(
                "SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)", (table,)
            ).scalar()
            if known is not None and known >= 0 and rows <= ANALYZE_ROWS + ANALYZE_FRACTION * known:
                return False
            connection.exec_driver_sql(f'ANALYZE "{table}"')
    except SQLAlchemyError:
        return False
    return True


def busy(exc: BaseException) -> bool:
    """Whether a driver error means another write held the store past the wait."""
    text = str(getattr(exc, "orig", exc)).lower()
    return "database is locked" in text or "lock timeout" in text or "locknotavailable" in text


def migrate(engine: Engine) -> None:
    """Bring the schema up to the newest migration (creating it on an empty database).

    A database already at the newest revision is left alone without importing alembic (a
    tenth of a second every command paid): one plain read of ``alembic_version``.

    Raises:
        StorageError: the database cannot be reached or migrated.
    """
    head = head_revision()
    if head is not None and _current_revisions(engine) == [head]:
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot prepare the database {engine.url!r}: {exc}") from exc


_REVISION = re.compile(
    r'^(down_revision|revision)\s*(?::[^=]*)?=\s*(None|"[^"]*"|\'[^\']*\')', re.M
)


@functools.cache
def head_revision() -> str | None:
    """The newest migration's revision, read from the migration files' ``revision`` and
    ``down_revision`` lines; None when they do not form one line of history (alembic then
    decides, as it always did)."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = {m.group(1): m.group(2) for m in _REVISION.finditer(path.read_text())}
        if "revision" not in found:
            continue
        revisions.add(found["revision"].strip("\"'"))
        parent = found.get("down_revision", "None")
        if parent != "None":
            parents.add(parent.strip("\"'"))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _current_revisions(engine: Engine) -> list[str] | None:
    """The revisions ``alembic_version`` holds, or None (no such table yet, or unreadable)."""
    try:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql("SELECT version_num FROM alembic_version")
            return [str(r[0]) for r in rows]
    except SQLAlchemyError:
        return None
