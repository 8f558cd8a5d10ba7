"""Event bodies stored packed (migration 0013, :mod:`rirport.store.eventbody`), on SQLite and
PostgreSQL: real bodies read back as written by every reader, rows stored before the
migration read after it (and the downgrade gives the text back), a corrupt row named by its
id, and snapshots that carry the text as before."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text

from rirport.errors import StorageError
from rirport.services.monitoring.events import events_for_ingest
from rirport.services.registry.ingest import IngestOptions, ingest_bytes
from rirport.services.transparency import keys, snapshot
from rirport.store import eventbody
from rirport.store.engine import MIGRATIONS
from rirport.store.unit import Store
from tests.excerpts import excerpt, real_file

#: ARIN's 8/8 and 23.226.0.0/20 went to APNIC between the 2017 and 2018 files: real moves,
#: beside the new, returned and changed records of those ranges and of every 400th record.
PICK = re.compile(r"8\.|23\.22")
OLD_COLUMNS = [
    "id",
    "snapshot_id",
    "kind",
    "type",
    "registry",
    "from_registry",
    "to_registry",
    "lo",
    "hi",
    "body",
    "created_at",
]
"""The event table's columns before 0013: what a snapshot names them, then and now."""


def _cut(registry: str, year: str) -> tuple[bytes, str]:
    path = real_file(registry, year)
    data = excerpt(path, lambda i, f: i % 400 == 0 or (f[2] == "ipv4" and bool(PICK.match(f[3]))))
    return data, path.name


def _with_events(store: Store) -> list[str]:
    """ARIN and APNIC, 2017 then 2018, with the events of each 2018 ingest recorded; their
    bodies' text as the recorder encodes it, in id order."""
    for registry in ("arin", "apnic"):
        data, name = _cut(registry, "2017")
        ingest_bytes(store, data, name, options=IngestOptions(events=False))
    texts: list[str] = []
    for registry in ("arin", "apnic"):
        data, name = _cut(registry, "2018")
        sid = ingest_bytes(store, data, name, options=IngestOptions(events=False)).snapshot_id
        with store.transaction() as uow:
            snap = uow.snapshots.get(sid)
            assert snap is not None
            events = events_for_ingest(uow, snap)  # computed and recorded
        texts += [json.dumps(e.to_json(), sort_keys=True) for e in events]
    return texts


def _stored(store: Store) -> list[tuple[int, bytes]]:
    with store.read() as uow:
        rows = uow.connection.execute(text("SELECT id, body_z FROM event ORDER BY id"))
        return [(int(i), bytes(z)) for i, z in rows]


def _migrate(store: Store, revision: str, down: bool = False) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def test_the_first_dictionary_never_changes() -> None:
    # rows are stored with it: a better dictionary is a new format byte, never an edit
    assert eventbody.CURRENT == eventbody.DICT_1
    assert len(eventbody.DICTIONARY_1) == 2623
    assert hashlib.sha256(eventbody.DICTIONARY_1).hexdigest() == (
        "edb5a696f8d6b6c74633f648a38bf072d106080091ecf33a40b8e35c375a9a0b"
    )


def test_real_bodies_are_stored_packed_and_read_back_by_every_reader(store: Store) -> None:
    texts = _with_events(store)
    kinds = {json.loads(t)["kind"] for t in texts}
    assert {"moved", "new", "returned"} <= kinds and len(texts) > 100
    stored = _stored(store)
    assert len(stored) == len(texts)
    assert all(z[0] == eventbody.DICT_1 for _, z in stored)
    packed, plain = sum(len(z) for _, z in stored), sum(len(t.encode()) for t in texts)
    assert packed < plain * 0.4, (packed, plain)  # about a quarter on these real bodies
    with store.read() as uow:
        chunks = [r for chunk in uow.events.chunks(size=50) for r in chunk]
        assert [r.body for r in chunks] == texts
        ids = [r.id for r in chunks]
        assert {i: r.body for i, r in uow.events.get_many(ids[::7]).items()} == {
            i: t for i, t in zip(ids, texts, strict=True) if i in set(ids[::7])
        }
        sids = sorted({r.snapshot_id for r in chunks if r.snapshot_id is not None})
        assert [r.body for r in uow.events.of_snapshots(sids)] == texts
        moved = [t for t in texts if json.loads(t)["kind"] == "moved"]
        assert moved and [m[4] for m in uow.events.moves()] == moved


def test_rows_stored_before_the_migration_read_after_it_and_the_downgrade_restores_them(
    store: Store, store_url: str
) -> None:
    texts = _with_events(store)
    packed = _stored(store)
    _migrate(store, "0012_logappend", down=True)  # the text, as 0012 stores it
    with store.read() as uow:
        rows = uow.connection.execute(text("SELECT id, body FROM event ORDER BY id")).all()
        assert [b for _, b in rows] == texts
        assert [i for i, _ in rows] == [i for i, _ in packed]
    with store.transaction() as uow:  # a row an older rirport wrote by hand, late
        uow.connection.execute(
            text(
                "INSERT INTO event (id, kind, registry, body, created_at) "
                "VALUES (:i, 'renumbered', 'arin', :b, :t)"
            ),
            {"i": 10_000, "b": texts[0], "t": "2026-12-04 00:00:00"},
        )
    store.close()

    again = Store(store_url)  # migrates to the newest revision: 0013 packs every row
    try:
        assert _stored(again)[:-1] == packed  # the same bytes as packed at ingest
        with again.read() as uow:
            assert [r.body for c in uow.events.chunks() for r in c] == [*texts, texts[0]]
            assert uow.events.get_many([10_000])[10_000].body == texts[0]
    finally:
        again.close()


def test_a_plain_body_reads_and_a_corrupt_one_names_its_event(store: Store) -> None:
    texts = _with_events(store)
    (first, _), (second, _), (third, z3), *_ = _stored(store)
    with store.transaction() as uow:
        set_body = text("UPDATE event SET body_z = :z WHERE id = :i")
        uow.connection.execute(set_body, {"i": first, "z": b"\x00" + texts[0].encode()})
        uow.connection.execute(set_body, {"i": second, "z": b"\x01not deflate at all"})
    with store.read() as uow:
        assert uow.events.get_many([first])[first].body == texts[0]
        with pytest.raises(StorageError, match=rf"^event {second}: .*corrupt"):
            uow.events.get_many([second])
        with pytest.raises(StorageError, match=rf"^event {second}: "):
            list(uow.events.chunks())
    for bad, said in (
        (z3[:-3], "cut short"),
        (z3 + b"x", "bytes after its end"),
        (b"\x07" + z3[1:], "format 7, which this version of rirport does not know"),
        (b"", "empty"),
    ):
        with store.transaction() as uow:
            uow.connection.execute(set_body, {"i": third, "z": bad})
        with store.read() as uow, pytest.raises(StorageError, match=rf"^event {third}: .*{said}"):
            uow.events.get_many([third])


def test_a_snapshot_carries_the_text_as_before_and_a_join_packs_it(
    store: Store, tmp_path: Path
) -> None:
    signer, _ = keys.init(store, tmp_path / "data", "rirport.test/evpack")
    store.log_signer = signer
    texts = _with_events(store)
    out = io.BytesIO()
    snapshot.write_snapshot(store, out)
    lines = gzip.decompress(out.getvalue()).decode().splitlines()
    at = lines.index(json.dumps({"table": "event", "columns": OLD_COLUMNS}))
    rows = [json.loads(line) for line in lines[at + 1 : at + 1 + len(texts)]]
    assert [r[OLD_COLUMNS.index("body")] for r in rows] == texts

    joined = Store(f"sqlite:///{tmp_path / 'joined.sqlite'}")
    try:
        snapshot.load_snapshot(joined, io.BytesIO(out.getvalue()), signer.verifier, "pub")
        assert _stored(joined) == _stored(store)
        with joined.read() as uow:
            assert [r.body for c in uow.events.chunks() for r in c] == texts
    finally:
        joined.close()
