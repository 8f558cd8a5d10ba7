"""The store's head, read cheaply: what a cached view is keyed by.

A view cache (:mod:`rirport.query.view`) is valid for exactly one state of the registry
data. That state is named by the data generation (the journal serial of the newest write
that changed registry data), the hash of that journal entry (two stores that ever sat at one
URL never share it: the entry's hash covers its time, actor and payload, chained to every
entry before) and the schema revision. :func:`peek` reads these three from a SQLite file
with the standard library alone, read-only, in a few milliseconds: a one-address lookup
answered from the cache needs neither SQLAlchemy nor a migration check.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

_SQLITE_PREFIXES = ("sqlite:///", "sqlite+pysqlite:///")

_READS = (
    "SELECT key, value FROM meta WHERE key IN ('data_generation', 'generation')",
    "SELECT hash FROM journal WHERE serial = ?",
    "SELECT version_num FROM alembic_version ORDER BY version_num",
)
"""The three reads of a head (:meth:`rirport.store.repos.meta.MetaRepo.head` makes the same
through SQLAlchemy; a test holds the two to one answer)."""


@dataclass(frozen=True)
class StoreHead:
    """The state of the registry data a view reflects."""

    generation: int
    journal_hash: str
    """The hash of journal entry ``generation`` ("" when the store is empty)."""
    revision: str
    """The schema revision(s) ``alembic_version`` holds, comma-joined."""


def head_from_rows(
    meta: dict[str, str], journal_hash: str | None, revisions: list[str]
) -> StoreHead:
    """A head from the results of the reads of :data:`_READS`."""
    return StoreHead(_generation(meta), journal_hash or "", ",".join(revisions))


def _generation(meta: dict[str, str]) -> int:
    """The data generation (a store from before that key: its journal generation)."""
    return int(meta.get("data_generation") or meta.get("generation") or 0)


def sqlite_file(url: str) -> Path | None:
    """The file of a plain SQLite URL (``sqlite:///path``, no query string), or None."""
    for prefix in _SQLITE_PREFIXES:
        if url.startswith(prefix):
            database = url[len(prefix) :]
            if not database or database == ":memory:" or "?" in database:
                return None
            return Path(database).expanduser()
    return None


def peek(url: str) -> StoreHead | None:
    """The head of the SQLite store at ``url``, read-only with the standard library; None
    when it cannot be read this way (not a SQLite file, no such file, not a migrated
    store, locked): the caller then opens the store as usual."""
    path = sqlite_file(url)
    if path is None or not path.is_file():
        return None
    try:
        connection = sqlite3.connect(
            f"file:{quote(str(path.resolve()))}?mode=ro", uri=True, timeout=1.0
        )
    except sqlite3.Error:
        return None
    try:
        meta_sql, journal_sql, revision_sql = _READS
        connection.execute("BEGIN")  # the three reads see one state
        meta = {str(k): str(v) for k, v in connection.execute(meta_sql)}
        row = connection.execute(journal_sql, (_generation(meta),)).fetchone()
        revisions = [str(r[0]) for r in connection.execute(revision_sql)]
        return head_from_rows(meta, None if row is None else str(row[0]), revisions)
    except (sqlite3.Error, ValueError):
        return None
    finally:
        connection.close()


__all__ = ["StoreHead", "head_from_rows", "peek", "sqlite_file"]
