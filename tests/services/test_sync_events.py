"""Sync records the change events of each new file in its transaction (or not, when asked),
and says so with the gap since the registry's previous snapshot."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from rirport.cli.main import cli
from rirport.config import Settings
from rirport.domain.enums import Registry
from rirport.services.registry.ingest import ingest_path
from rirport.services.registry.sync import sync, urls_under
from rirport.store.unit import Store
from tests.excerpts import real_file
from tests.mirror import Mirror, serve_mirror


@pytest.fixture
def mirror() -> Iterator[Mirror]:
    with serve_mirror() as served:
        yield served


@pytest.fixture
def settings(tmp_path: Path, mirror: Mirror) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", sync_urls=urls_under(mirror.base_url), http_timeout=5.0
    )


def _events(store: Store, snapshot_id: int) -> int:
    with store.transaction() as uow:
        return len(uow.events.of_snapshots([snapshot_id]))


@pytest.mark.parametrize("record", [True, False])
def test_sync_records_events_unless_told_not_to(
    store: Store, settings: Settings, record: bool
) -> None:
    ingest_path(store, real_file("afrinic", "2017"))
    (result,) = sync(store, settings, [Registry.AFRINIC], record_events=record)
    assert result.ok and result.ingest is not None, result.error
    stored = _events(store, result.ingest.snapshot_id)
    if record:
        assert result.ingest.events == stored > 0
        assert f"{stored} event(s)" in result.message
    else:
        assert result.ingest.events is None and stored == 0
    assert "warning: gap: no afrinic snapshot between 2017-03-21" in result.message


def test_sync_cli_no_events(store: Store, store_url: str, tmp_path: Path, mirror: Mirror) -> None:
    ingest_path(store, real_file("afrinic", "2017"))
    result = CliRunner().invoke(
        cli,
        [
            "--db",
            store_url,
            "--data-dir",
            str(tmp_path / "home"),
            "sync",
            "--registry",
            "afrinic",
            "--base-url",
            mirror.base_url,
            "--no-events",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "afrinic: ingested 2018-10-13" in result.output and "event(s)" not in result.output
    with store.transaction() as uow:
        assert uow.events.count() == 0
