"""The store and its unit of work: one transaction, the repositories bound to it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from rirport.errors import RirportError, StorageError, StoreBusyError
from rirport.log.note import Signer
from rirport.store import engine as engines
from rirport.store.engine import READ_ONLY, WAIT, busy, make_engine, migrate
from rirport.store.repos.accounts import AccountRepo
from rirport.store.repos.delegations import DelegationRepo, SnapshotCache
from rirport.store.repos.events import EventRepo, OutboxRepo, WatchRepo
from rirport.store.repos.evidence import EvidenceRepo
from rirport.store.repos.iana import IanaRepo
from rirport.store.repos.journal import JournalRepo, JournalTail
from rirport.store.repos.log import LogRepo, LogTail
from rirport.store.repos.meta import MetaRepo
from rirport.store.repos.snapshots import SnapshotRepo
from rirport.store.repos.transfers import HoldRepo, TransferRepo


@dataclass
class UnitOfWork:
    """Repositories sharing one connection and transaction."""

    connection: Connection
    snapshots: SnapshotRepo
    delegations: DelegationRepo
    meta: MetaRepo
    iana: IanaRepo
    journal: JournalRepo
    transfers: TransferRepo
    holds: HoldRepo
    events: EventRepo
    watches: WatchRepo
    outbox: OutboxRepo
    log_signer: Signer | None = None
    """The key that signs a checkpoint after each write (None: the tree grows, no checkpoint
    is signed until ``rirport log checkpoint``); set from :attr:`Store.log_signer`."""
    state_hints: dict[str, Any] = field(default_factory=dict)
    """What a write already holds in memory about a state-root part (an ingest: the records
    of the registry's new current snapshot, or which of them changed), so the log need not
    read them back (:class:`rirport.services.transparency.state.Hint`)."""
    log_tail: LogTail | None = None
    """The log as the last write of this process committed it (from :attr:`Store.log_tail`),
    then as this transaction's entry left it: kept by the store only if it commits."""
    checkpoint_interval: float = 0.0
    """Seconds: a write within this long of the newest checkpoint leaves signing to a later
    one (0: a checkpoint after every write); set from :attr:`Store.checkpoint_interval`."""
    log_deferred: bool = False
    """Set by the log when this transaction's entry was left for a later checkpoint."""
    found_writable: bool = False
    """Set once an entry of this transaction found the store not a mirror
    (:func:`rirport.services.transparency.readonly.check_writable`): the next entries of the
    same transaction, a batch of transfer steps, are not asked again."""

    @property
    def dialect(self) -> str:
        return self.connection.dialect.name

    @property
    def evidence(self) -> EvidenceRepo:
        """Evidence items (a property: bound to this transaction's connection)."""
        return EvidenceRepo(self.connection)

    @cached_property
    def log(self) -> LogRepo:
        """The transparency log's tree, checkpoints and state parts."""
        return LogRepo(self.connection)

    @cached_property
    def accounts(self) -> AccountRepo:
        """Accounts, sessions and tokens (made on first use: most transactions touch none)."""
        return AccountRepo(self.connection)


class Store:
    """A migrated database. :meth:`transaction` (to write) and :meth:`read` are the ways in."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)
        self.log_signer: Signer | None = None
        """Set by the edge (:func:`rirport.services.transparency.keys.attach`) when the data
        folder holds this store's log key."""
        self.snapshot_cache = SnapshotCache()
        """Snapshot rows and line orders read by committed transactions (never change)."""
        self.checkpoint_interval = 0.0
        """Seconds between signed checkpoints under load (0: after every write); see
        :mod:`rirport.services.transparency.log`."""
        self.log_deferred = False
        """True once a write of this process left its checkpoint for later
        (:func:`rirport.services.transparency.log.flush` signs it)."""
        self.journal_tail: JournalTail | None = None
        """The journal's entry after this process's last committed write, and the facts it
        left (:class:`~rirport.store.repos.journal.JournalTail`: valid while that entry is
        still the newest, checked by the next reservation)."""
        self.log_tail: LogTail | None = None
        """The log after this process's last committed write (saves the next write reading
        the tree's edge and the state digests back; checked against the journal's head)."""
        self.transfers_known: dict[int, tuple[str, str, Any]] = {}
        """The range and date of transfers this process read or wrote
        (:attr:`~rirport.store.repos.transfers.TransferRepo.known`)."""
        migrate(self.engine)

    @contextmanager
    def transaction(self, wait: float | None = None) -> Iterator[UnitOfWork]:
        """A write transaction: commit when the block ends, roll back everything if it raises.

        Writers run one at a time; each waits up to
        :data:`~rirport.store.engine.WRITE_WAIT_SECONDS` (or ``wait`` seconds) for the one
        before it.

        Raises:
            StorageError: the database failed (the driver's error is chained), or another
                write held the store longer than the wait (the message says so).
        """
        with self._unit({} if wait is None else {WAIT: round(wait * 1000)}) as uow:
            yield uow

    @contextmanager
    def read(self) -> Iterator[UnitOfWork]:
        """A read-only transaction: one consistent snapshot, never the write lock, so it
        neither waits for nor fails because of a writer (SQLite in WAL mode, PostgreSQL
        ``READ ONLY``). A write inside it fails.

        Raises:
            StorageError: the database failed.
        """
        with self._unit({READ_ONLY: True}) as uow:
            yield uow

    @contextmanager
    def _unit(self, options: dict[str, Any]) -> Iterator[UnitOfWork]:
        try:
            with self.engine.connect() as connection:
                connection.execution_options(**options)
                with connection.begin():
                    uow = self._bound(connection, self.snapshot_cache)
                    uow.log_signer = self.log_signer
                    uow.checkpoint_interval = self.checkpoint_interval
                    uow.log_tail = handed = self.log_tail
                    uow.journal.tail = self.journal_tail
                    uow.transfers.known = self.transfers_known
                    yield uow
                self.snapshot_cache.keep(uow.delegations)
                self.journal_tail = uow.journal.tail_after()
                if "log" in uow.__dict__ and uow.log.rewritten:
                    self.log_tail = None
                    self.journal_tail = None
                elif uow.log_tail is not handed:  # (not what another thread's write left)
                    self.log_tail = uow.log_tail
                if uow.log_deferred:
                    self.log_deferred = True
        except RirportError:
            raise
        except SQLAlchemyError as exc:
            if busy(exc):
                raise StoreBusyError(
                    f"the store is busy: another write held it for more than "
                    f"{engines.WRITE_WAIT_SECONDS} s (an ingest, say); nothing was changed, "
                    "try again when it has finished"
                ) from exc
            raise StorageError(f"database error: {exc}") from exc

    @staticmethod
    def _bound(connection: Connection, shared: SnapshotCache | None = None) -> UnitOfWork:
        meta = MetaRepo(connection)
        journal = JournalRepo(connection, meta)
        return UnitOfWork(
            connection,
            SnapshotRepo(connection, journal),
            DelegationRepo(connection, shared, journal),
            meta,
            IanaRepo(connection),
            journal,
            TransferRepo(connection, journal),
            HoldRepo(connection),
            EventRepo(connection),
            WatchRepo(connection),
            OutboxRepo(connection),
        )

    def refresh_statistics(self, table: str, rows: int) -> bool:
        """After a committed write of ``rows`` new rows to ``table`` (an ingest): refresh the
        planner's statistics when they are many (PostgreSQL; see
        :func:`rirport.store.engine.refresh_statistics`)."""
        return engines.refresh_statistics(self.engine, table, rows)

    @property
    def identity(self) -> str:
        """A name for this database that is stable across processes (for cache files)."""
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()
