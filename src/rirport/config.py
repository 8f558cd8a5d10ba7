"""Settings: declared once with their help, loaded from the environment, passed down.

Nothing in rirport reads the environment except :meth:`Settings.from_env`, which the entry
points (CLI, server) call once; every other layer receives a :class:`Settings`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import platformdirs

from rirport.domain.enums import Registry
from rirport.errors import ConfigError

#: Where each RIR publishes its latest extended statistics file (``.md5`` beside it).
DEFAULT_SYNC_URLS: dict[Registry, str] = {
    Registry.AFRINIC: "https://ftp.afrinic.net/pub/stats/afrinic/delegated-afrinic-extended-latest",
    Registry.APNIC: "https://ftp.apnic.net/stats/apnic/delegated-apnic-extended-latest",
    Registry.ARIN: "https://ftp.arin.net/pub/stats/arin/delegated-arin-extended-latest",
    Registry.LACNIC: "https://ftp.lacnic.net/pub/stats/lacnic/delegated-lacnic-extended-latest",
    Registry.RIPENCC: "https://ftp.ripe.net/pub/stats/ripencc/delegated-ripencc-extended-latest",
}


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("rirport", appauthor=False))


@dataclass(frozen=True)
class Settings:
    """Every setting, its default and (in ``metadata["help"]``) what it does."""

    data_dir: Path = field(
        default_factory=_default_data_dir,
        metadata={
            "help": "Folder for the SQLite store, caches and downloads.",
            "env": "RIRPORT_DATA_DIR",
        },
    )
    database_url: str | None = field(
        default=None,
        metadata={
            "help": "SQLAlchemy URL of the store; default: SQLite file rirport.sqlite in data_dir. "
            "PostgreSQL: postgresql+psycopg://user@host/db",
            "env": "RIRPORT_DATABASE_URL",
        },
    )
    sync_urls: Mapping[Registry, str] = field(
        default_factory=lambda: dict(DEFAULT_SYNC_URLS),
        metadata={
            "help": "URL of each RIR's latest extended file; RIRPORT_SYNC_URL_<RIR> overrides one, "
            "RIRPORT_SYNC_BASE=<url> takes all five from "
            "<url>/<rir>/delegated-<rir>-extended-latest.",
            "env": "RIRPORT_SYNC_URL_*",
        },
    )
    http_timeout: float = field(
        default=60.0,
        metadata={"help": "Seconds before a download gives up.", "env": "RIRPORT_HTTP_TIMEOUT"},
    )
    redis_url: str | None = field(
        default=None,
        metadata={
            "help": "Redis URL (redis://host:port/db): every server process on it shares one "
            "request limit and one login throttle. Needs the redis extra.",
            "env": "RIRPORT_REDIS_URL",
        },
    )
    redis_prefix: str = field(
        default="rirport",
        metadata={
            "help": "Prefix of this deployment's Redis keys (several may share one Redis).",
            "env": "RIRPORT_REDIS_PREFIX",
        },
    )
    as_of_views: int = field(
        default=2,
        metadata={
            "help": "As-of views a server process keeps in memory (least recently used "
            "dropped first); each costs about the current view's memory.",
            "env": "RIRPORT_AS_OF_VIEWS",
        },
    )

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to the SQLite file in ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'rirport.sqlite'}"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def download_dir(self) -> Path:
        return self.data_dir / "downloads"

    def with_overrides(self, **values: Any) -> Settings:
        """A copy with some settings replaced (None values are ignored)."""
        return replace(self, **{k: v for k, v in values.items() if v is not None})

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Load from ``RIRPORT_*`` variables; unknown ``RIRPORT_`` names are an error.

        ``RIRPORT_SYNC_BASE`` sets all five sync URLs; ``RIRPORT_SYNC_URL_<RIR>`` then
        overrides one.

        Raises:
            ConfigError: listing every bad variable at once.
        """
        problems: list[str] = []
        values: dict[str, Any] = {}
        ours = {k: v for k, v in env.items() if k.startswith("RIRPORT_")}
        urls = (
            urls_under(ours["RIRPORT_SYNC_BASE"])
            if "RIRPORT_SYNC_BASE" in ours
            else dict(DEFAULT_SYNC_URLS)
        )
        for name, value in sorted(ours.items()):
            if name == "RIRPORT_DATA_DIR":
                if not value.strip():
                    problems.append(f"{name} is empty")
                values["data_dir"] = Path(value).expanduser()
            elif name == "RIRPORT_DATABASE_URL":
                values["database_url"] = value or None
            elif name == "RIRPORT_HTTP_TIMEOUT":
                seconds = _seconds(value)
                if seconds is None:
                    problems.append(f"{name}={value!r} is not a positive number of seconds")
                values["http_timeout"] = seconds
            elif name == "RIRPORT_REDIS_URL":
                values["redis_url"] = value or None
            elif name == "RIRPORT_REDIS_PREFIX":
                if not value:
                    problems.append(f"{name} is empty")
                values["redis_prefix"] = value
            elif name == "RIRPORT_AS_OF_VIEWS":
                if not value.isdigit() or int(value) < 1:
                    problems.append(f"{name}={value!r} is not a whole number of views (1 or more)")
                else:
                    values["as_of_views"] = int(value)
            elif name.startswith("RIRPORT_SYNC_URL_"):
                try:
                    urls[Registry.parse(name.removeprefix("RIRPORT_SYNC_URL_"))] = value
                except ValueError as exc:
                    problems.append(f"{name}: {exc}")
            elif name not in _OTHER_VARIABLES:
                problems.append(f"{name} is not a rirport setting")
        if problems:
            raise ConfigError("invalid settings:\n  " + "\n  ".join(problems))
        return cls(sync_urls=urls, **values)


#: Variables rirport reads elsewhere (the sync base above, and the test suite's own).
_OTHER_VARIABLES = {
    "RIRPORT_SYNC_BASE",
    "RIRPORT_TEST_POSTGRES_URL",
    "RIRPORT_REQUIRE_POSTGRES",
    "RIRPORT_SHARED_DATA",
    "RIRPORT_TEST_WORKERS",
}


def _seconds(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if 0 < value < float("inf") else None


def urls_under(base: str) -> dict[Registry, str]:
    """The five URLs of a mirror laid out as ``<base>/<rir>/delegated-<rir>-extended-latest``."""
    root = base.rstrip("/")
    return {r: f"{root}/{r.value}/delegated-{r.value}-extended-latest" for r in Registry}
