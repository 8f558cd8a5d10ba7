"""The global options and the literal defaults of the global settings as plain data,
generated from the declarations in src/rirport/config.py by
``python -m rirport.cli.settings > src/rirport/cli/settings_table.py`` (then
``ruff format``): do not edit (tests/test_config.py checks it is current). Every command
builds its global options from it without importing pydantic."""

from typing import Any

GLOBAL_OPTIONS: dict[str, Any] = {
    "data_dir": {
        "names": ["--data-dir", "data_dir"],
        "help": "Folder for the SQLite store, caches and downloads. [env: RIRPORT_DATA_DIR]",
        "type": {"kind": "path", "dir_okay": True},
        "metavar": "DIR",
    },
    "database_url": {
        "names": ["--db", "database_url"],
        "help": "SQLAlchemy URL of the store; default: SQLite file "
        "rirport.sqlite in the data folder. PostgreSQL: "
        "postgresql://user@host/db [env: RIRPORT_DATABASE_URL]",
        "type": None,
        "metavar": "URL",
    },
}

DEFAULTS: dict[str, Any] = {
    "database_url": None,
    "http_timeout": 60.0,
    "sync_base": None,
    "redis_url": None,
    "redis_prefix": "rirport",
    "as_of_views": 2,
    "log_checkpoint_interval": 1.0,
}
