"""Settings.from_env: defaults, every RIRPORT_ variable, and all problems reported at once."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs
import pytest

from rirport.config import DEFAULT_SYNC_URLS, Settings
from rirport.domain.enums import Registry
from rirport.errors import ConfigError

MIRROR = "http://127.0.0.1:8765/stats"


def mirror_url(registry: Registry) -> str:
    return f"{MIRROR}/{registry.value}/delegated-{registry.value}-extended-latest"


def test_defaults() -> None:
    settings = Settings.from_env({"HOME": "/nowhere", "PATH": "/bin", "RIRPORTX": "not ours"})
    data_dir = Path(platformdirs.user_data_dir("rirport", appauthor=False))
    assert settings.data_dir == data_dir
    assert settings.database_url is None
    assert settings.resolved_database_url == f"sqlite:///{data_dir}/rirport.sqlite"
    assert dict(settings.sync_urls) == DEFAULT_SYNC_URLS
    assert set(settings.sync_urls) == set(Registry)
    assert settings.http_timeout == 60.0
    assert settings == Settings()


def test_default_sync_urls_are_the_rirs_extended_files() -> None:
    for registry, url in DEFAULT_SYNC_URLS.items():
        assert url.startswith("https://ftp.")
        assert url.endswith(f"/delegated-{registry.value}-extended-latest")


def test_unknown_and_bad_variables_are_all_listed() -> None:
    env = {
        "RIRPORT_DATADIR": "/tmp/x",  # a misspelling of RIRPORT_DATA_DIR
        "RIRPORT_HTTP_TIMEOUT": "soon",
        "RIRPORT_SYNC_URL_IANA": "http://example.invalid/iana",
        "RIRPORT_VERBOSE": "1",
        "RIRPORT_DATA_DIR": "/tmp/fine",
    }
    with pytest.raises(ConfigError) as err:
        Settings.from_env(env)
    lines = str(err.value).split("\n")
    assert lines[0] == "invalid settings:"
    assert sorted(line.strip() for line in lines[1:]) == sorted(
        [
            "RIRPORT_DATADIR is not a rirport setting",
            "RIRPORT_HTTP_TIMEOUT='soon': Input should be a valid number, "
            "unable to parse string as a number",
            "RIRPORT_SYNC_URL_IANA: unknown registry 'IANA' (expected one of afrinic, apnic, arin, "
            "lacnic, ripencc)",
            "RIRPORT_VERBOSE is not a rirport setting",
        ]
    )


def test_one_unknown_variable() -> None:
    with pytest.raises(ConfigError, match="RIRPORT_DATABASE is not a rirport setting"):
        Settings.from_env({"RIRPORT_DATABASE": "sqlite://"})


def test_the_test_suites_variables_are_allowed() -> None:
    settings = Settings.from_env(
        {"RIRPORT_TEST_POSTGRES_URL": "postgresql+psycopg://x/y", "RIRPORT_REQUIRE_POSTGRES": "1"}
    )
    assert settings.database_url is None


def test_sync_base_serves_all_five() -> None:
    for base in (MIRROR, MIRROR + "/", MIRROR + "//"):
        settings = Settings.from_env({"RIRPORT_SYNC_BASE": base})
        assert dict(settings.sync_urls) == {r: mirror_url(r) for r in Registry}


@pytest.mark.parametrize(
    "name",
    [
        "RIRPORT_SYNC_URL_RIPENCC",
        "RIRPORT_SYNC_URL_ripencc",
        "RIRPORT_SYNC_URL_RIPE_NCC",
        "RIRPORT_SYNC_URL_RIPE",
    ],
)
def test_one_rir_url_overridden(name: str) -> None:
    settings = Settings.from_env({name: "file:///srv/ripe.txt"})
    expected = dict(DEFAULT_SYNC_URLS)
    expected[Registry.RIPENCC] = "file:///srv/ripe.txt"
    assert dict(settings.sync_urls) == expected


def test_a_rir_url_wins_over_the_base_in_any_order() -> None:
    pairs = [
        ("RIRPORT_SYNC_URL_ARIN", "https://arin.example/latest"),
        ("RIRPORT_SYNC_BASE", MIRROR),
    ]
    for env in (dict(pairs), dict(reversed(pairs))):
        urls = dict(Settings.from_env(env).sync_urls)
        assert urls[Registry.ARIN] == "https://arin.example/latest"
        assert {r: u for r, u in urls.items() if r is not Registry.ARIN} == {
            r: mirror_url(r) for r in Registry if r is not Registry.ARIN
        }


def test_data_dir(tmp_path: Path) -> None:
    settings = Settings.from_env({"RIRPORT_DATA_DIR": str(tmp_path / "rir")})
    assert settings.data_dir == tmp_path / "rir"
    assert settings.resolved_database_url == f"sqlite:///{tmp_path}/rir/rirport.sqlite"
    assert settings.cache_dir == tmp_path / "rir" / "cache"
    assert settings.download_dir == tmp_path / "rir" / "downloads"


def test_data_dir_expands_the_home_folder() -> None:
    settings = Settings.from_env({"RIRPORT_DATA_DIR": "~/rirport-data"})
    assert settings.data_dir == Path.home() / "rirport-data"
    assert "~" not in settings.resolved_database_url


def test_database_url() -> None:
    url = "postgresql+psycopg://rir@db.example/rirport"
    settings = Settings.from_env({"RIRPORT_DATABASE_URL": url, "RIRPORT_DATA_DIR": "/srv/rir"})
    assert settings.database_url == url
    assert settings.resolved_database_url == url
    empty = Settings.from_env({"RIRPORT_DATABASE_URL": "", "RIRPORT_DATA_DIR": "/srv/rir"})
    assert empty.database_url is None
    assert empty.resolved_database_url == "sqlite:////srv/rir/rirport.sqlite"


def test_http_timeout() -> None:
    assert Settings.from_env({"RIRPORT_HTTP_TIMEOUT": "12.5"}).http_timeout == 12.5
    assert Settings.from_env({"RIRPORT_HTTP_TIMEOUT": "3"}).http_timeout == 3.0


def test_with_overrides_ignores_none(tmp_path: Path) -> None:
    base = Settings.from_env({"RIRPORT_DATA_DIR": str(tmp_path)})
    changed = base.with_overrides(database_url="sqlite://", data_dir=None, http_timeout=5.0)
    assert changed.database_url == "sqlite://"
    assert changed.data_dir == tmp_path
    assert changed.http_timeout == 5.0
    assert base.database_url is None  # a copy: the original is unchanged


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf"])
def test_timeout_must_be_a_positive_finite_number(value: str) -> None:
    with pytest.raises(
        ConfigError,
        match=r"RIRPORT_HTTP_TIMEOUT=.*: Input should be (greater than 0|a finite number)",
    ):
        Settings.from_env({"RIRPORT_HTTP_TIMEOUT": value})


def test_an_empty_data_dir_is_refused() -> None:
    with pytest.raises(ConfigError, match="RIRPORT_DATA_DIR=' ': is empty"):
        Settings.from_env({"RIRPORT_DATA_DIR": " "})


def test_the_clis_settings_table_is_current() -> None:
    from rirport.cli import settings_table
    from rirport.cli.settings import plain_table

    table = plain_table()
    assert table["GLOBAL_OPTIONS"] == settings_table.GLOBAL_OPTIONS, (
        "regenerate: python -m rirport.cli.settings > src/rirport/cli/settings_table.py"
    )
    assert table["DEFAULTS"] == settings_table.DEFAULTS
    assert set(table["GLOBAL_OPTIONS"]) == {"data_dir", "database_url"}


def test_without_variables_the_context_builds_the_same_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rirport.cli.context import make_context

    for name in [n for n in os.environ if n.startswith("RIRPORT_")]:
        monkeypatch.delenv(name)
    for db, data_dir in ((None, None), ("sqlite://", tmp_path), (None, tmp_path)):
        app = make_context(db, data_dir)
        assert app._settings is None  # nothing to validate: no pydantic model yet
        expected = Settings.from_env({}).with_overrides(database_url=db, data_dir=data_dir)
        assert app.settings == expected
        assert app.where.resolved_database_url == expected.resolved_database_url
        assert app.where.cache_dir == expected.cache_dir
        assert app.where.log_checkpoint_interval == expected.log_checkpoint_interval


def test_with_a_variable_the_context_validates_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rirport.cli.context import make_context

    monkeypatch.setenv("RIRPORT_LOG_CHECKPOINT_INTERVAL", "2.5")
    app = make_context(None, tmp_path)
    assert app._settings is not None and app.where.log_checkpoint_interval == 2.5
    assert app.where.data_dir == tmp_path
    monkeypatch.setenv("RIRPORT_HTTP_TIMEOUT", "soon")
    with pytest.raises(ConfigError, match="RIRPORT_HTTP_TIMEOUT"):
        make_context(None, tmp_path)
