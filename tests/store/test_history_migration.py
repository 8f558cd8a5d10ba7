"""Migration 0003 on a store written by 0002 (one copy of every record per snapshot): every
snapshot still exports byte for byte, and files ingested afterwards are stored as versions."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, Table, insert

from rirport.formats.source import source_from_bytes
from rirport.formats.statsfile import read_stats
from rirport.query.view import load_current
from rirport.services.registry.export import export_snapshot
from rirport.services.registry.ingest import ingest_bytes, snapshot_values
from rirport.store.bulk import delegation_rows
from rirport.store.engine import MIGRATIONS, make_engine
from rirport.store.unit import Store
from tests.excerpts import excerpt, real_file


def _store_as_0002(url: str, files: list[tuple[str, bytes]]) -> list[int]:
    """Files stored the way revision 0002 stored them (raw SQL, no repository)."""
    engine = make_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    ids = []
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
        meta = MetaData()
        snapshot = Table("snapshot", meta, autoload_with=connection)
        delegation = Table("delegation", meta, autoload_with=connection)
        for name, data in files:
            source = source_from_bytes(data, name)
            stats = read_stats(source.data, name)
            key = connection.execute(
                insert(snapshot).values(**snapshot_values(stats, source, None))
            ).inserted_primary_key
            assert key is not None
            sid = key[0]
            rows = delegation_rows(
                stats.table, [data.decode().split("\n")[n - 1] for n in stats.table.line.tolist()]
            )
            connection.execute(
                insert(delegation),
                [
                    {
                        "snapshot_id": sid,
                        "line": rows.line[i],
                        "lo": rows.lo[i],
                        "hi": rows.hi[i],
                        "opaque_id": rows.opaque_id[i],
                        "record": rows.record[i],
                    }
                    for i in range(len(rows))
                ],
            )
            ids.append(int(sid))
    engine.dispose()
    return ids


def test_copies_become_versions_and_export_unchanged(store_url: str) -> None:
    old = excerpt(real_file("lacnic", "2017"), 40)
    new = excerpt(real_file("lacnic", "2018"), 40)
    ids = _store_as_0002(store_url, [("lacnic-2018", new), ("lacnic-2017", old)])

    store = Store(store_url)  # migrates to the newest revision
    try:
        assert export_snapshot(store, ids[0]).encode() == new
        assert export_snapshot(store, ids[1]).encode() == old
        assert [s.id for s in load_current(store).snapshots] == [ids[0]]
        later = excerpt(real_file("lacnic", "2018"), 41, serial="20181101")
        added = ingest_bytes(store, later, "lacnic-later")
        assert export_snapshot(store, added.snapshot_id).encode() == later
        assert export_snapshot(store, ids[0]).encode() == new
    finally:
        store.close()
