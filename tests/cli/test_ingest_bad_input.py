"""Bad input to ``rirport ingest`` on both engines: conflicting files, late files, gaps,
misfiled or renamed files. Each is refused or reported by name, and nothing is half-stored."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from rirport.cli.main import cli
from rirport.errors import ConflictError, FileRejectedError
from rirport.services.registry.ingest import IngestOptions, ingest_path
from rirport.store.unit import Store
from tests.excerpts import excerpt, real_file


def _write(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return folder / name


def _afrinic(year: str, records: int = 60) -> tuple[str, bytes]:
    path = real_file("afrinic", year)
    return path.name, excerpt(path, records)


def _run(store_url: str, tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(
        cli, ["--db", store_url, "--data-dir", str(tmp_path / "home"), "ingest", *args]
    )


def _state(store: Store) -> tuple[int, int, int]:
    """Snapshots, journal entries and events: what any write would change."""
    with store.transaction() as uow:
        return len(uow.snapshots.all()), uow.journal.count(), uow.events.count()


def test_two_files_for_one_registry_and_date_conflict_naming_both(
    store: Store, store_url: str, tmp_path: Path
) -> None:
    name, data = _afrinic("2018")
    first = _write(tmp_path / "a", name, data)
    other = _write(tmp_path / "b", name, excerpt(real_file("afrinic", "2018"), 61))
    ingest_path(store, first)
    before = _state(store)
    try:
        ingest_path(store, other)
    except ConflictError as exc:
        message = str(exc)
    else:
        raise AssertionError("a second file for afrinic 2018-10-13 was stored")
    assert str(other) in message and f"from {name}" in message
    assert "already has a different snapshot dated 2018-10-13" in message
    assert _state(store) == before
    result = _run(store_url, tmp_path, str(other))
    assert result.exit_code == 1 and f"error: {other}: afrinic already has" in result.output
    assert _state(store) == before


def test_an_older_file_slots_in_and_the_cli_says_so(
    store: Store, store_url: str, tmp_path: Path
) -> None:
    new = _write(tmp_path, *_afrinic("2018"))
    old = _write(tmp_path, *_afrinic("2017"))
    assert _run(store_url, tmp_path, str(new)).exit_code == 0
    result = _run(store_url, tmp_path, str(old))
    assert result.exit_code == 0, result.output
    assert "slotted in before 2018-10-13 as history" in result.output
    assert "warning: gap: no afrinic snapshot between 2017-03-21" in result.output
    assert "event(s)" in result.output


def test_no_events_flag(store: Store, store_url: str, tmp_path: Path) -> None:
    old, new = _write(tmp_path, *_afrinic("2017")), _write(tmp_path, *_afrinic("2018"))
    result = _run(store_url, tmp_path, "--no-events", str(old), str(new))
    assert result.exit_code == 0, result.output
    assert "event(s)" not in result.output and _state(store)[2] == 0


def test_a_file_in_another_registrys_folder_is_refused_at_its_version_line(
    store: Store, store_url: str, tmp_path: Path
) -> None:
    name, data = "delegated-apnic-extended-20181014", excerpt(real_file("apnic"), 30)
    misfiled = _write(tmp_path / "arin", name, data)
    line = 1 + next(
        i for i, text in enumerate(data.decode().splitlines()) if not text.startswith("#")
    )
    result = _run(store_url, tmp_path, str(misfiled))
    assert result.exit_code == 1
    assert (
        f"{misfiled}:{line}: version line registry is 'apnic', but the file is in the "
        "folder of 'arin'"
    ) in result.output
    assert _state(store) == (0, 0, 0)
    trusted = _run(store_url, tmp_path, "--trust-header", str(misfiled))
    assert trusted.exit_code == 0, trusted.output
    assert "warning: " in trusted.output and "stored as the version line says" in trusted.output
    with store.transaction() as uow:
        entry = uow.journal.get(uow.meta.generation())
        assert entry is not None
        assert "folder of 'arin'" in json.loads(entry.payload)["warnings"][0]


def test_a_name_disagreeing_with_the_header_is_refused_naming_the_field(
    store: Store, tmp_path: Path
) -> None:
    data = excerpt(real_file("arin"), 30)  # ARIN's serial is a timestamp: the end date counts
    renamed = _write(tmp_path / "arin", "delegated-arin-extended-20181012", data)
    other = _write(tmp_path, "delegated-ripencc-extended-20181013", data)
    for path, reason in (
        (renamed, "version line enddate says 2018-10-13, but the file name says 2018-10-12"),
        (other, "version line registry is 'arin', but the file name says 'ripencc'"),
    ):
        try:
            ingest_path(store, path, skip_bad_lines=True)  # not a bad line: never skippable
        except FileRejectedError as exc:
            assert f"{path}:1: {reason} (--trust-header" in str(exc)
        else:
            raise AssertionError(f"{path.name} was stored")
    assert _state(store) == (0, 0, 0)
    stored = ingest_path(store, renamed, options=IngestOptions(trust_header=True))
    assert stored.registry == "arin" and str(stored.snapshot_date) == "2018-10-13"
    assert stored.warnings == [
        f"{renamed}:1: version line enddate says 2018-10-13, but the "
        "file name says 2018-10-12; stored as the version line says"
    ]


def test_names_that_say_nothing_are_not_checked(store: Store, tmp_path: Path) -> None:
    data = excerpt(real_file("lacnic"), 20)
    for path in (
        _write(tmp_path / "misc", "lacnic.txt", data),
        _write(tmp_path / "lacnic", "delegated-lacnic-extended-latest", data),
    ):
        assert ingest_path(store, path).warnings == []


def test_a_file_listing_a_block_twice_is_stored_with_a_warning(
    store: Store, store_url: str, tmp_path: Path
) -> None:
    """Said at ingest, as ``check`` says it later (issue 11 #35); the real AFRINIC 2017 file
    has one such pair (two records overlapping in 2001:43f8:d0::/48)."""
    data = (
        b"2.3|lacnic|20181012|4|19870101|20181012|-0300\n"
        b"lacnic|*|ipv4|*|4|summary\n"
        b"lacnic|AR|ipv4|24.232.0.0|65536|19970602|allocated|20118\n"
        b"lacnic|BR|ipv4|200.0.0.0|256|19970602|allocated|20119\n"
        b"lacnic|AR|ipv4|24.232.0.0|65536|19970602|allocated|20118\n"
        b"lacnic|BR|ipv4|200.0.0.128|256|19970602|allocated|20120\n"
    )
    path = _write(tmp_path, "delegated-lacnic-extended-20181012", data)
    result = _run(store_url, tmp_path, str(path))
    assert result.exit_code == 0, result.output
    assert f"warning: {path}: lines 3 and 5 both list 24.232.0.0/16" in result.output
    assert "lines 4 and 6 both list 200.0.0.128/25 (the records overlap)" in result.output
    with store.read() as uow:
        (snap,) = uow.snapshots.current()
        entry = uow.journal.get(uow.meta.generation())
    assert snap.records == 4
    assert entry is not None and "both list 24.232.0.0/16" in entry.payload
    real = ingest_path(store, real_file("afrinic", "2017"))
    assert real.warnings == [
        f"{real_file('afrinic', '2017')}: lines 5958 and 5959 both list 2001:43f8:d0::/48 "
        "(the records overlap)"
    ]
