"""What every command gets: settings (read once from the environment) and a store.

Nothing heavy is imported here: the store (SQLAlchemy), the read side (numpy) and Rich are
imported when a command first asks for them, so a command pays only for what it uses.

Settings too: when no ``RIRPORT_*`` variable is set there is nothing to validate, so
:func:`make_context` reads where the store is from the declared defaults
(:mod:`rirport.cli.settings_table`) and the options, and builds the pydantic
:class:`~rirport.config.Settings` only when a command asks for :attr:`AppContext.settings`.
With any ``RIRPORT_*`` variable set, every one is validated at start, as
:meth:`Settings.from_env` does."""

from __future__ import annotations

import getpass
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from rirport.locations import StoreLocation, default_data_dir

if TYPE_CHECKING:
    from rich.console import Console

    from rirport.config import Settings
    from rirport.query.match import Match
    from rirport.query.view import CurrentView
    from rirport.store.unit import Store


@dataclass(frozen=True)
class StoreSettings(StoreLocation):
    """The settings that say where the store is (all a lookup needs), without pydantic."""

    data_dir: Path
    database_url: str | None
    log_checkpoint_interval: float


@dataclass
class AppContext:
    """Lazily opened resources shared by the commands of one invocation."""

    where: StoreSettings
    """Where the store is (the settings every command needs first)."""
    actor: str = "rirport"
    """Who the journal records as making the changes of this invocation."""
    _settings: Settings | None = None
    _overrides: dict[str, Any] | None = None
    _store: Store | None = None
    _console: Console | None = None

    @property
    def settings(self) -> Settings:
        """Every global setting (made on first use when no ``RIRPORT_*`` variable is set)."""
        if self._settings is None:
            from rirport.config import Settings

            self._settings = Settings().with_overrides(**(self._overrides or {}))
        return self._settings

    @property
    def console(self) -> Console:
        """Rich's console on stderr, for progress and status lines; emoji codes off (a quoted file
        line holding ``:x:`` must print as it is)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=True, emoji=False)
        return self._console

    @property
    def store(self) -> Store:
        if self._store is None:
            from rirport.services.store import open_store

            self._store = open_store(
                self.where.resolved_database_url,
                self.where.data_dir,
                self.where.log_checkpoint_interval,
            )
        return self._store

    def current_view(self) -> CurrentView:
        """The current view; a store with nothing in it is an error saying how to load it.

        Straight from the view cache when the store has not changed since it was written (the
        store is then not opened at all), else read from the store (and cached)."""
        from rirport.query.view import cached_current, load_current, require_data

        if self._store is None:
            cached = cached_current(self.where.resolved_database_url, self.where.cache_dir)
            if cached is not None:
                return require_data(cached)
        return require_data(load_current(self.store, self.settings.cache_dir))

    def cached_point_matches(self, query: str) -> list[Match] | None:
        """The matches of a query for one address or AS number read from the view cache with
        the standard library (:mod:`rirport.query.mapped`: no numpy, no store opened), or None
        when the cache cannot answer it alone (then :meth:`current_view` does)."""
        if self._store is not None:
            return None
        from rirport.query.mapped import point_matches

        return point_matches(self.where.resolved_database_url, self.where.cache_dir, query)

    def close(self) -> None:
        if self._store is not None:
            from rirport.services.transparency.log import flush

            try:
                flush(self._store)  # sign what the checkpoint interval left for later
            finally:
                self._store.close()


def make_context(db: str | None, data_dir: Path | None, actor: str | None = None) -> AppContext:
    """The context of one invocation: the environment's settings with the options over them.

    Raises:
        ConfigError: a ``RIRPORT_*`` variable is not ours or its value is bad (all listed).
    """
    folder = data_dir.expanduser() if data_dir else None
    overrides: dict[str, Any] = {"database_url": db, "data_dir": folder}
    who = actor or default_actor()
    if any(name.startswith("RIRPORT_") for name in os.environ):
        from rirport.config import Settings

        settings = Settings.from_env(os.environ).with_overrides(**overrides)
        where = StoreSettings(
            settings.data_dir, settings.database_url, settings.log_checkpoint_interval
        )
        return AppContext(where, who, _settings=settings)
    from rirport.cli.settings_table import DEFAULTS

    where = StoreSettings(
        folder or default_data_dir(),
        db or DEFAULTS["database_url"],
        DEFAULTS["log_checkpoint_interval"],
    )
    return AppContext(where, who, _overrides=overrides)


def default_actor() -> str:
    """``user@host`` of whoever runs the command."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


pass_app = click.make_pass_decorator(AppContext)
