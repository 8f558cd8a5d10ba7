"""The store as an edge holds it: opened from a database URL, handed to the use cases and the
read side, closed at exit. The HTTP and page edges name it through here and never reach into
:mod:`rirport.store` (an import-linter contract holds them to it)."""

from __future__ import annotations

from rirport.store.unit import Store


def open_store(database_url: str) -> Store:
    """The store at ``database_url``, migrated to the current schema."""
    return Store(database_url)


__all__ = ["Store", "open_store"]
