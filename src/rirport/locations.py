"""Where a store lives: the default data folder and the database URL derived from it.

Plain functions without pydantic: :class:`rirport.config.Settings` uses them, and so does the
command line's fast path (:mod:`rirport.cli.context`), which builds no settings model when no
``RIRPORT_*`` variable is set.
"""

from __future__ import annotations

from pathlib import Path


def default_data_dir() -> Path:
    """The user data folder (``~/.local/share/rirport`` on Linux)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("rirport", appauthor=False))


def resolved_database_url(database_url: str | None, data_dir: Path) -> str:
    """The database URL, defaulting to the SQLite file ``rirport.sqlite`` in ``data_dir``."""
    if database_url:
        return database_url
    return f"sqlite:///{data_dir / 'rirport.sqlite'}"


class StoreLocation:
    """Where a store's files are, derived from ``data_dir`` and ``database_url``: one
    definition for the pydantic settings and the command line's plain settings alike."""

    data_dir: Path
    database_url: str | None

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to the SQLite file in ``data_dir``."""
        return resolved_database_url(self.database_url, self.data_dir)

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def download_dir(self) -> Path:
        return self.data_dir / "downloads"
