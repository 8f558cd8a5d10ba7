"""The store as an edge holds it: opened from a database URL, handed to the use cases and the
read side, closed at exit. The HTTP and page edges name it through here and never reach into
:mod:`rirport.store` (an import-linter contract holds them to it)."""

from __future__ import annotations

from pathlib import Path

from rirport.services.transparency.keys import attach
from rirport.store.unit import Store


def open_store(
    database_url: str, data_dir: Path | None = None, checkpoint_interval: float = 0.0
) -> Store:
    """The store at ``database_url``, migrated to the current schema; with ``data_dir``, it
    signs a log checkpoint after each write when that folder holds its log key (at most every
    ``checkpoint_interval`` seconds under load, when that is above 0)."""
    store = Store(database_url)
    store.checkpoint_interval = checkpoint_interval
    if data_dir is not None:
        attach(store, data_dir)
    return store


__all__ = ["Store", "open_store"]
