"""``rirport serve``: refuses an empty store (with the way out), and its options reach the
server's configuration; the URLs it prints."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from rirport.cli.main import cli
from rirport.domain.enums import Registry
from rirport.http.config import HttpConfig
from rirport.http.serve import example_urls


def test_an_empty_store_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "serve", "--port", "0"])
    assert result.exit_code == 2
    assert "the store is empty" in result.output and "--bundled" in result.output


@pytest.mark.parametrize("value", ["arin", "arin=ftp://x", "nowhere=https://x/"])
def test_bad_redirects_are_usage_errors(tmp_path: Path, value: str) -> None:
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "serve", "--redirect", value])
    assert result.exit_code == 2 and "--redirect" in result.output


def test_worker_app_pickles_with_its_configuration(tmp_path: Path) -> None:
    """Workers get settings and configuration as one picklable object (spawned processes)."""
    import pickle

    from rirport.config import Settings
    from rirport.http.worker import WorkerApp

    config = HttpConfig(
        rate=5,
        burst=7,
        refresh_seconds=1.5,
        public_url="https://r.example",
        redirects={Registry.ARIN: "https://rdap.arin.net/registry/"},
    )
    worker = WorkerApp(Settings(data_dir=tmp_path), config)
    assert pickle.loads(pickle.dumps(worker)) == worker


def test_example_urls() -> None:
    assert example_urls("0.0.0.0", 8080)[:2] == [
        "http://127.0.0.1:8080/rdap/help",
        "http://127.0.0.1:8080/rdap/ip/193.0.6.139",
    ]
    assert example_urls("::1", 80)[0] == "http://[::1]:80/rdap/help"


def test_workers_build_their_app_from_what_serve_hands_them(filled_store, tmp_path) -> None:
    """What each ``--workers`` process runs: the uvicorn config's factory, with the settings
    and server options of this start and nothing read from the environment."""
    import os

    from fastapi.testclient import TestClient

    from rirport.config import Settings
    from rirport.http.serve import worker_config
    from rirport.http.worker import WorkerApp

    before = dict(os.environ)
    settings = Settings(data_dir=tmp_path, database_url=filled_store.url)
    config = worker_config(settings, HttpConfig(rate=0, burst=9), "127.0.0.1", 0, workers=2)
    assert dict(os.environ) == before
    assert config.factory and config.workers == 2
    assert isinstance(config.app, WorkerApp)
    app = config.app()
    assert app.state.config.burst == 9
    with TestClient(app) as client:
        assert client.get("/rdap/autnum/3333").json()["handle"] == "AS3333"
    app.state.live.store.close()


def test_workers_of_one_start_share_one_session_secret(tmp_path: Path, monkeypatch) -> None:
    """Without a secret file, a start with several workers hands them one random secret (a
    session signed by one worker is valid at the next); with one, its content is used."""
    from rirport.config import Settings
    from rirport.http import serve as serving

    seen: list[str | None] = []
    monkeypatch.setattr(
        "rirport.http.serve.run_workers",
        lambda config: seen.append(config.app.config.session_secret),
    )
    settings = Settings(data_dir=tmp_path)
    serving.serve(settings, HttpConfig(), "127.0.0.1", 0, workers=2)
    serving.serve(settings, HttpConfig(), "127.0.0.1", 0, workers=2)
    serving.serve(settings, HttpConfig(session_secret="s" * 40), "127.0.0.1", 0, workers=2)
    assert seen[0] and seen[1] and seen[0] != seen[1] and len(seen[0]) >= 32
    assert seen[2] == "s" * 40


@pytest.mark.parametrize(
    "content, message",
    [("short", "at least 32 characters"), (None, "cannot read the session secret")],
)
def test_a_bad_session_secret_file_is_refused(
    tmp_path: Path, content: str | None, message: str
) -> None:
    secret = tmp_path / "secret"
    if content is not None:
        secret.write_text(content)
    result = CliRunner().invoke(
        cli,
        ["--data-dir", str(tmp_path), "serve", "--bundled", "--session-secret-file", str(secret)],
    )
    assert result.exit_code == 2 and message in result.output
