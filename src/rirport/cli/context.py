"""What every command gets: settings (read once from the environment) and a store."""

from __future__ import annotations

import getpass
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

import click
from rich.console import Console

from rirport.config import Settings
from rirport.query.view import CurrentView, load_current, require_data
from rirport.services.store import open_store
from rirport.store.unit import Store


@dataclass
class AppContext:
    """Lazily opened resources shared by the commands of one invocation."""

    settings: Settings
    actor: str = "rirport"
    """Who the journal records as making the changes of this invocation."""
    console: Console = field(default_factory=lambda: Console(stderr=True))
    _store: Store | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = open_store(self.settings.resolved_database_url, self.settings.data_dir)
        return self._store

    def current_view(self) -> CurrentView:
        """The current view; a store with nothing in it is an error saying how to load it."""
        return require_data(load_current(self.store, self.settings.cache_dir))

    def close(self) -> None:
        if self._store is not None:
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
