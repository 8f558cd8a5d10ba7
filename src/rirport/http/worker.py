"""What a ``--workers`` process is handed: one small picklable object.

uvicorn's supervisor pickles its configuration (app included) to each spawned worker and kills
a worker that does not answer its health ping within seconds; the ping thread starts only after
unpickling. So this module imports only the settings and configuration classes, and the
application (FastAPI, SQLAlchemy, the index) is imported when the worker calls the factory,
after its ping thread runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rirport.config import Settings
from rirport.http.config import HttpConfig

if TYPE_CHECKING:
    from fastapi import FastAPI


@dataclass(frozen=True)
class WorkerApp:
    """The settings and server configuration of one start, as uvicorn's app factory."""

    settings: Settings
    config: HttpConfig

    def __call__(self) -> FastAPI:
        from rirport.http.app import create_app
        from rirport.services.store import open_store

        store = open_store(
            self.settings.resolved_database_url,
            self.settings.data_dir,
            self.settings.log_checkpoint_interval,
        )
        return create_app(store, self.settings.cache_dir, self.config)
