"""Timelines and as-of answers on real excerpts (SQLite and PostgreSQL), and the commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from rirport.cli.main import cli
from rirport.errors import QueryError
from rirport.query.history import timeline
from rirport.services.registry.ingest import ingest_bytes
from rirport.store.unit import Store
from tests.excerpts import excerpt, real_file


def _ripe_asns(_index: int, fields: list[str]) -> bool:
    return fields[2] == "asn" and int(fields[3]) < 3400


def _ripe(year: str) -> bytes:
    return excerpt(real_file("ripencc", year), _ripe_asns)


def _line(data: bytes, asn: int) -> list[str]:
    (found,) = [line.split("|") for line in data.decode().splitlines() if f"|asn|{asn}|" in line]
    return found


@pytest.fixture
def two_years(store: Store) -> Store:
    ingest_bytes(store, _ripe("2018"), "ripe-2018")
    ingest_bytes(store, _ripe("2017"), "ripe-2017")  # older, ingested later
    return store


def test_a_renumbered_asn_has_two_periods_and_one_stable_holder(two_years: Store) -> None:
    old, new = _line(_ripe("2017"), 3333), _line(_ripe("2018"), 3333)
    assert old[7] != new[7]  # RIPE NCC renumbered its own opaque-id

    periods = timeline(two_years, "AS3333")

    assert [
        (p.first_seen.isoformat(), p.last_seen.isoformat(), p.snapshots, p.delegation.opaque_id)
        for p in periods
    ] == [("2017-03-20", "2017-03-20", 1, old[7]), ("2018-10-13", "2018-10-13", 1, new[7])]
    holders = {p.holder.key for p in periods if p.holder}
    assert holders == {f"ripencc:{old[7]}"}
    assert all(
        p.to_json()["holder_confidence"] in ("exact", "high", "medium", "low") for p in periods
    )


def test_a_holder_timeline_follows_its_linked_ids(two_years: Store) -> None:
    new_id = _line(_ripe("2018"), 3333)[7]
    periods = timeline(two_years, f"ripencc:{new_id}")
    years = {p.first_seen.year for p in periods}
    assert years == {2017, 2018}
    assert all(p.holder is not None and new_id in p.holder.ids for p in periods)


def test_an_unchanged_record_is_one_period_over_both_files(store: Store) -> None:
    def sample(_index: int, fields: list[str]) -> bool:
        return fields[2] == "asn" and int(fields[3]) < 33000

    old = excerpt(real_file("afrinic", "2017"), sample)
    new = excerpt(real_file("afrinic", "2018"), sample)
    ingest_bytes(store, old, "old")
    ingest_bytes(store, new, "new")
    same = sorted(set(old.decode().splitlines()[3:]) & set(new.decode().splitlines()[3:]))
    fields = next(line for line in same if "|asn|" in line).split("|")

    (period,) = timeline(store, f"AS{fields[3]}")

    assert (period.first_seen.isoformat(), period.last_seen.isoformat(), period.snapshots) == (
        "2017-03-21",
        "2018-10-13",
        2,
    )


def test_a_bad_query_is_refused_by_name(two_years: Store) -> None:
    with pytest.raises(QueryError):
        timeline(two_years, "193.0.0.0/33")


def _run(tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", f"sqlite:///{tmp_path / 'h.sqlite'}", *args])


def test_history_lookup_and_stats_commands(tmp_path: Path) -> None:
    for year in ("2018", "2017"):
        (tmp_path / year).write_bytes(_ripe(year))
        assert _run(tmp_path, "ingest", str(tmp_path / year)).exit_code == 0

    history = _run(tmp_path, "history", "AS3333", "--format", "json")
    assert history.exit_code == 0, history.output
    body = json.loads(history.output)
    assert [p["first_seen"] for p in body] == ["2017-03-20", "2018-10-13"]
    assert {
        "registry",
        "status",
        "cc",
        "date",
        "opaque_id",
        "holder",
        "holder_confidence",
        "first_seen",
        "last_seen",
        "snapshots",
    } <= set(body[0])
    table = _run(tmp_path, "history", "AS3333")
    assert table.exit_code == 0 and "2017-03-20" in table.output

    then = _run(tmp_path, "lookup", "AS3333", "--as-of", "2017-12-31", "--format", "json")
    assert then.exit_code == 0, then.output
    (match,) = json.loads(then.output)
    assert match["source"]["file"] == "2017"
    assert match["opaque_id"] == _line(_ripe("2017"), 3333)[7]

    stats = _run(tmp_path, "stats", "--as-of", "2017-12-31", "--format", "json")
    assert stats.exit_code == 0
    assert sum(r["records"] for r in json.loads(stats.output)) == len(
        [
            line
            for line in _ripe("2017").decode().splitlines()
            if "|asn|" in line and not line.endswith("summary")
        ]
    )

    too_early = _run(tmp_path, "lookup", "AS3333", "--as-of", "2001-01-01")
    assert too_early.exit_code == 1 and "no snapshot is dated on or before 2001-01-01" in (
        too_early.output
    )
    bad_date = _run(tmp_path, "stats", "--as-of", "yesterday")
    assert bad_date.exit_code == 2 and "--as-of" in bad_date.output
