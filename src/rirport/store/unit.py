"""The store and its unit of work: one transaction, the repositories bound to it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from rirport.errors import RirportError, StorageError
from rirport.store.engine import make_engine, migrate
from rirport.store.repos.delegations import DelegationRepo
from rirport.store.repos.events import EventRepo, OutboxRepo, WatchRepo
from rirport.store.repos.evidence import EvidenceRepo
from rirport.store.repos.iana import IanaRepo
from rirport.store.repos.journal import JournalRepo
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

    @property
    def dialect(self) -> str:
        return self.connection.dialect.name

    @property
    def evidence(self) -> EvidenceRepo:
        """Evidence items (a property: bound to this transaction's connection)."""
        return EvidenceRepo(self.connection)


class Store:
    """A migrated database. ``transaction()`` is the only way in."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)
        migrate(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[UnitOfWork]:
        """Commit when the block ends, roll back everything if it raises.

        Raises:
            StorageError: the database failed (the driver's error is chained).
        """
        try:
            with self.engine.begin() as connection:
                meta = MetaRepo(connection)
                yield UnitOfWork(
                    connection,
                    SnapshotRepo(connection),
                    DelegationRepo(connection),
                    meta,
                    IanaRepo(connection),
                    JournalRepo(connection, meta),
                    TransferRepo(connection),
                    HoldRepo(connection),
                    EventRepo(connection),
                    WatchRepo(connection),
                    OutboxRepo(connection),
                )
        except RirportError:
            raise
        except SQLAlchemyError as exc:
            raise StorageError(f"database error: {exc}") from exc

    @property
    def identity(self) -> str:
        """A name for this database that is stable across processes (for cache files)."""
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()
