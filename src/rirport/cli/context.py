"""What every command gets: settings (read once from the environment) and a store.

Nothing heavy is imported here: the store (SQLAlchemy), the read side (numpy) and Rich are
imported when a command first asks for them, so a command pays only for what it uses."""

from __future__ import annotations

import getpass
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from rirport.config import Settings

if TYPE_CHECKING:
    from rich.console import Console

    from rirport.query.view import CurrentView
    from rirport.store.unit import Store


@dataclass
class AppContext:
    """Lazily opened resources shared by the commands of one invocation."""

    settings: Settings
    actor: str = "rirport"
    """Who the journal records as making the changes of this invocation."""
    _store: Store | None = None
    _console: Console | None = None

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
                self.settings.resolved_database_url,
                self.settings.data_dir,
                self.settings.log_checkpoint_interval,
            )
        return self._store

    def current_view(self) -> CurrentView:
        """The current view; a store with nothing in it is an error saying how to load it.

        Straight from the view cache when the store has not changed since it was written (the
        store is then not opened at all), else read from the store (and cached)."""
        from rirport.query.view import cached_current, load_current, require_data

        if self._store is None:
            cached = cached_current(self.settings.resolved_database_url, self.settings.cache_dir)
            if cached is not None:
                return require_data(cached)
        return require_data(load_current(self.store, self.settings.cache_dir))

    def close(self) -> None:
        if self._store is not None:
            from rirport.services.transparency.log import flush

            try:
                flush(self._store)  # sign what the checkpoint interval left for later
            finally:
                self._store.close()


def make_context(db: str | None, data_dir: Path | None, actor: str | None = None) -> AppContext:
    settings = Settings.from_env(os.environ).with_overrides(
        database_url=db, data_dir=data_dir.expanduser() if data_dir else None
    )
    return AppContext(settings, actor or default_actor())


def default_actor() -> str:
    """``user@host`` of whoever runs the command."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


pass_app = click.make_pass_decorator(AppContext)
