"""Issue 11 #9: "What to watch" dates a change by its snapshots, never by the day of ingest."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from click.testing import CliRunner

from rirport.cli.main import cli
from rirport.services.profiles.build import change_events
from rirport.store.unit import Store
from tests.paths import DELEGATED


def test_events_between_old_files_are_dated_by_their_snapshots(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    folder = DELEGATED / "afrinic"
    result = CliRunner().invoke(
        cli, ["--db", url, "--data-dir", str(tmp_path), "ingest", str(folder)]
    )
    assert result.exit_code == 0, result.output
    store = Store(url)
    try:
        items = change_events(store)
    finally:
        store.close()
    assert items, "the 2014-2018 files bring change events"
    dates = {item.date for item in items}
    assert dt.date.today() not in dates
    assert dates <= {dt.date(2017, 3, 21), dt.date(2018, 10, 13)}
    assert all("between the snapshots of" in item.text for item in items)
