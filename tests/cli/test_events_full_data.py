"""The ten shared 2017 and 2018 files through the CLI, on both engines: the events each ingest
records add up to the diff of the two sets, and ``rirport events`` keeps its contract."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from rirport.cli.main import cli
from rirport.store.unit import Store
from tests.paths import real_files

CONTRACT = {"kind", "type", "start", "value", "registry"}


def _move(row: dict[str, object]) -> tuple[object, ...]:
    return row["type"], row["start"], row["value"], row["from_registry"], row["to_registry"]


@pytest.mark.no_cover  # a check of facts over the ten whole files, 18-20 min under coverage's
# tracer against about 1.5 without it; the tests over tests/data measure the same code
def test_moves_recorded_by_ingest_are_the_moves_between_the_sets(
    store: Store, store_url: str, tmp_path: Path
) -> None:
    runner = CliRunner()
    base = ["--db", store_url, "--data-dir", str(tmp_path / "home")]
    files = real_files("2017") + sorted(real_files("2018"), key=lambda p: p.stat().st_size)
    ingested = runner.invoke(cli, [*base, "ingest", *map(str, files)])
    assert ingested.exit_code == 0, ingested.output
    assert ingested.output.count("warning: gap:") == 5
    with store.transaction() as uow:
        recorded = [json.loads(row.body) for chunk in uow.events.chunks() for row in chunk]
    printed = runner.invoke(
        cli, [*base, "events", "--from", "2017-04-01", "--to", "2018-10-31", "--format", "ndjson"]
    )
    assert printed.exit_code == 0
    rows = [json.loads(line) for line in printed.stdout.splitlines()]
    assert rows and all(set(r) >= CONTRACT for r in rows)
    moves = [r for r in rows if r["kind"] == "moved"]
    assert len(moves) == 397  # docs/events.md
    assert all({"from_registry", "to_registry"} <= set(r) for r in moves)
    assert Counter(_move(r) for r in recorded if r["kind"] == "moved") == Counter(
        _move(r) for r in moves
    )
    assert all(r["gap"]["days"] > 500 for r in recorded)
