"""Ingest into the store, on SQLite and PostgreSQL: provenance, atomicity, idempotence."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from rirport.errors import ConflictError, FileRejectedError, ParseError
from rirport.query.view import load_current
from rirport.services.registry.ingest import ingest_bytes, ingest_path
from rirport.store import schema
from rirport.store.unit import Store
from tests.excerpts import excerpt, real_file


def _counts(store: Store) -> tuple[int, int, int]:
    with store.transaction() as uow:
        snapshots = uow.snapshots.all()
        rows = uow.delegations.count(s.id for s in snapshots)
        return len(snapshots), rows, uow.meta.generation()


def test_migrations_create_exactly_the_declared_schema(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), schema.metadata)
    assert diff == []


def test_ingest_records_provenance(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "delegated-apnic-extended-20181014"
    data = excerpt(real_file("apnic"), 60)
    path.write_bytes(data)

    result = ingest_path(store, path)

    assert result.outcome == "ingested" and result.records == 60
    with store.transaction() as uow:
        snap = uow.snapshots.get(result.snapshot_id)
    assert snap is not None
    assert snap.registry == "apnic"
    assert snap.file_name == path.name
    assert snap.content_sha256 == hashlib.sha256(data).hexdigest()
    assert snap.serial == "20181014" and snap.snapshot_date == dt.date(2018, 10, 14)
    assert snap.version == "2.3" and snap.start_date == "" and snap.utc_offset == "+1000"
    assert snap.declared_records == 60 and snap.records == 60
    assert snap.preamble.count("\n") == 27  # APNIC's conditions-of-use comment block
    assert sum(n for _, n in snap.summary) == 60


def test_every_record_knows_its_snapshot_and_line(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "ripe"
    data = excerpt(real_file("ripencc"), 30)
    path.write_bytes(data)
    result = ingest_path(store, path)
    lines = data.decode().split("\n")
    with store.transaction() as uow:
        numbers, records = uow.delegations.record_columns(result.snapshot_id)
    assert len(records) == 30
    assert all(lines[n - 1] == record for n, record in zip(numbers, records, strict=True))


def test_reingesting_the_same_content_is_a_noop_that_says_so(store: Store, tmp_path: Path) -> None:
    data = excerpt(real_file("lacnic"), 25)
    (tmp_path / "a").write_bytes(data)
    (tmp_path / "a.gz").write_bytes(gzip.compress(data))
    first = ingest_path(store, tmp_path / "a")
    before = _counts(store)

    again = ingest_path(store, tmp_path / "a")
    gzipped = ingest_path(store, tmp_path / "a.gz")

    assert again.outcome == gzipped.outcome == "unchanged"
    assert again.snapshot_id == gzipped.snapshot_id == first.snapshot_id
    assert "already stored" in again.message
    assert _counts(store) == before


def test_a_file_with_a_bad_line_leaves_the_store_as_it_was(store: Store) -> None:
    good = excerpt(real_file("arin"), 20)
    ingest_bytes(store, good, "arin-good")
    before = _counts(store)
    lines = excerpt(real_file("afrinic"), 20).decode().split("\n")
    lines[10] = lines[10].replace("|ipv4|", "|ipv5|").replace("|asn|", "|ipv5|")

    with pytest.raises(FileRejectedError) as caught:
        ingest_bytes(store, "\n".join(lines).encode(), "afrinic-bad")

    assert "afrinic-bad:11: unknown type 'ipv5'" in str(caught.value)
    assert "nothing was stored" in str(caught.value)
    assert _counts(store) == before


def test_skip_bad_lines_stores_the_good_records(store: Store) -> None:
    lines = excerpt(real_file("afrinic"), 20).decode().split("\n")
    lines[5] = lines[5].replace("|ZA|", "|za|")

    result = ingest_bytes(store, "\n".join(lines).encode(), "afrinic-one-bad", skip_bad_lines=True)

    assert result.records == 19
    assert [str(e) for e in result.skipped] == [
        "afrinic-one-bad:6: country code 'za' is not two capital letters"
    ]
    with store.transaction() as uow:
        snap = uow.snapshots.get(result.snapshot_id)
    assert snap is not None and snap.skipped_lines == 1 and snap.declared_records == 20


def test_count_mismatch_is_refused_even_when_skipping(store: Store) -> None:
    data = excerpt(real_file("ripencc"), 20).replace(b"|20|", b"|21|", 1)
    with pytest.raises(FileRejectedError, match="announces 21 records, the file has 20"):
        ingest_bytes(store, data, "ripe-count", skip_bad_lines=True)
    assert _counts(store)[:2] == (0, 0)


def test_a_database_failure_mid_file_rolls_everything_back(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = excerpt(real_file("apnic"), 30)

    def fail_after_snapshot_row(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk full (simulated)")

    monkeypatch.setattr(
        "rirport.store.repos.delegations.DelegationRepo.add_rows", fail_after_snapshot_row
    )
    with pytest.raises(RuntimeError, match="simulated"):
        ingest_bytes(store, data, "apnic")
    assert _counts(store) == (0, 0, 0)


def test_a_different_file_for_the_same_registry_and_day_is_a_conflict(store: Store) -> None:
    ingest_bytes(store, excerpt(real_file("arin"), 20), "arin-a")
    with pytest.raises(ConflictError, match="already has a different snapshot dated 2018-10-13"):
        ingest_bytes(store, excerpt(real_file("arin"), 21), "arin-b")


def test_current_view_is_the_newest_snapshot_whatever_the_ingest_order(store: Store) -> None:
    newer = ingest_bytes(store, excerpt(real_file("ripencc", "2018"), 15), "ripe-2018")
    older = ingest_bytes(store, excerpt(real_file("ripencc", "2017"), 15), "ripe-2017")
    view = load_current(store)
    assert [s.id for s in view.snapshots] == [newer.snapshot_id]
    assert older.snapshot_id != newer.snapshot_id
    assert set(view.snapshot_ids.tolist()) == {newer.snapshot_id}


def test_not_a_statistics_file_is_refused_by_name(store: Store, tmp_path: Path) -> None:
    page = tmp_path / "delegated-arin-extended-latest"
    page.write_text("<!DOCTYPE html><html><body>503 Service Unavailable</body></html>\n")
    with pytest.raises(ParseError, match="HTML"):
        ingest_path(store, page)
    assert _counts(store) == (0, 0, 0)
