"""The log's rows of a signed write sent as one batch, and the ``holds`` part kept in memory
between writes: every checkpoint still signs what the tables hold, on both engines."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from rirport.domain.query import parse_resource
from rirport.errors import StorageError
from rirport.services.monitoring.watch import Criteria, add_watch, remove_watch
from rirport.services.transfers.holds import add_hold, lift_hold
from rirport.services.transparency import holds_part, keys, state, verify
from rirport.services.transparency import log as tlog
from rirport.store.batch import ROWS_PER_STATEMENT, Batch
from rirport.store.unit import Store, UnitOfWork

OPENED: list[Store] = []
CHECKING: list[bool] = []


@pytest.fixture(autouse=True)
def _close_stores() -> Iterator[None]:
    yield
    while OPENED:
        OPENED.pop().close()


def signed_store(url: str, data_dir: Path) -> Store:
    store = Store(url)
    OPENED.append(store)
    store.log_signer, _ = keys.init(store, data_dir, "rirport.test/append")
    tlog.catch_up(store)
    return store


def signed_matches_tables(store: Store) -> None:
    """The newest checkpoint covers the whole journal and its state root is the one the
    tables give when recomputed from nothing."""
    CHECKING.append(True)
    try:
        with store.read() as uow:
            latest = uow.log.latest_checkpoint()
            assert latest is not None and latest.size == uow.journal.count()
            assert latest.state_root == state.root_of(uow)
    finally:
        CHECKING.pop()


def test_holds_part_from_kept_lines_signs_what_the_tables_hold(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = signed_store(store_url, tmp_path / "data")
    reads: list[int] = []
    real_read = holds_part.read

    def counted(uow: UnitOfWork) -> dict[int, str]:
        if not CHECKING:  # the log's reads, not the recomputation that checks it
            reads.append(1)
        return real_read(uow)

    monkeypatch.setattr(holds_part, "read", counted)
    net = parse_resource("193.0.0.0/21")
    first = add_hold(store, net, "dispute", "a | b — ünïcode", "t", dt.date(2026, 1, 1))
    signed_matches_tables(store)
    ids = [first.id]
    for i in range(6):
        hold = add_hold(
            store,
            parse_resource(f"AS{64500 + i}"),
            "legal-hold" if i % 2 else "dispute",
            f"case {i}",
            "t",
            dt.date(2026, 1, 2 + i),
            dt.date(2027, 1, 1) if i % 3 == 0 else None,
            f"ref-{i}" if i % 2 == 0 else None,
        )
        ids.append(hold.id)
        signed_matches_tables(store)
        add_watch(store, f"w{i}", Criteria(registries=("ripencc",)))
        signed_matches_tables(store)
        if i % 2:
            lift_hold(store, ids.pop(0), "t")
            signed_matches_tables(store)
        remove_watch(store, f"w{i}")
    # only the first hold write (nothing kept yet: the store was opened before) read the table
    assert len(reads) == 1
    assert verify.verify_log(store).ok


def test_holds_read_from_the_table_when_the_kept_lines_are_stale(
    store_url: str, tmp_path: Path
) -> None:
    """Another process (here: a second store object) lifted a hold since this one's last
    write: the journal's head moved, so the lines this one kept (which still hold it) are not
    used for its next hold."""
    store = signed_store(store_url, tmp_path / "data")
    net = parse_resource("193.0.0.0/21")
    first = add_hold(store, net, "dispute", "first", "t", dt.date(2026, 1, 1))
    add_hold(store, net, "dispute", "second", "t", dt.date(2026, 1, 1))
    other = Store(store_url)
    OPENED.append(other)
    other.log_signer = store.log_signer
    lift_hold(other, first.id, "t")
    add_hold(store, net, "dispute", "third", "t", dt.date(2026, 1, 1))
    signed_matches_tables(store)
    assert verify.verify_log(store).ok


def test_a_batch_writes_what_separate_statements_write(store_url: str, tmp_path: Path) -> None:
    store = Store(store_url)
    OPENED.append(store)
    many = [(0, 1000 + i, bytes([i % 256]) * 32) for i in range(ROWS_PER_STATEMENT + 5)]
    with store.transaction() as uow:
        batch = Batch(uow.connection)
        uow.log.add_nodes([(0, 0, b"a" * 32), (1, 0, b"b" * 32)], batch)
        uow.log.set_parts({"holds": "1" * 64, "iana": "2" * 64}, {"holds": "0" * 64}, batch)
        uow.log.add_nodes(many, batch)
        uow.log.add_nodes([(0, 1, b"c" * 32)], batch)
        assert len(batch) == 5
        batch.send()
        assert len(batch) == 0
        assert uow.log.nodes([(0, 0), (1, 0), (0, 1), (0, 1000), (0, 1068)]) == {
            (0, 0): b"a" * 32,
            (1, 0): b"b" * 32,
            (0, 1): b"c" * 32,
            (0, 1000): bytes([0]) * 32,
            (0, 1068): bytes([68]) * 32,
        }
        assert uow.log.parts() == {"iana": "2" * 64}  # holds was not stored: an update of none


def test_a_failing_statement_in_a_batch_fails_the_write(store_url: str, tmp_path: Path) -> None:
    store = Store(store_url)
    OPENED.append(store)
    with pytest.raises(StorageError), store.transaction() as uow:
        batch = Batch(uow.connection)
        uow.log.add_nodes([(0, 0, b"a" * 32)], batch)
        uow.log.add_nodes([(0, 0, b"b" * 32)], batch)  # the same node twice
        batch.send()
    with store.read() as uow:
        assert uow.log.size() == 0


def test_two_store_objects_alternating_each_sign_what_the_tables_hold(
    store_url: str, tmp_path: Path
) -> None:
    """Two store objects over one database (as two processes are) write in turn: each one's
    kept tail (right edge, part digests, checkpoint template) is stale after the other's
    write, so it reads them back; every checkpoint covers the journal, carries the tree root
    the journal gives and the state root recomputed from the tables from nothing."""
    first = signed_store(store_url, tmp_path / "data")
    second = Store(store_url)
    OPENED.append(second)
    second.log_signer = first.log_signer
    net = parse_resource("193.0.0.0/21")
    holds: list[int] = []
    for i in range(9):
        store = (first, second, second)[i % 3]  # sometimes the same one twice running
        add_watch(store, f"w{i}", Criteria(registries=("ripencc",)))
        signed_matches_tables(store)
        holds.append(add_hold(store, net, "dispute", f"case {i}", "t", dt.date(2026, 1, 1)).id)
        signed_matches_tables(store)
        if i % 2:
            lift_hold((second, first)[i % 2 - 1], holds.pop(0), "t")
            signed_matches_tables(store)
    with first.read() as uow:
        assert uow.log.checkpoint_count() == uow.journal.count() + 1  # + catch_up's at 0
    report = verify.verify_log(first)
    assert report.ok, report.problems
    assert report.entries == report.checkpoints - 1


def test_a_checkpoint_signed_by_another_store_since_is_not_signed_again(
    store_url: str, tmp_path: Path
) -> None:
    """Under a checkpoint interval a write left its checkpoint for later; another store
    object's ``catch_up`` (``rirport log checkpoint``) signed it. This one's flush then finds
    it signed (it reads, it does not trust what it kept), and its next write is correct."""
    first = signed_store(store_url, tmp_path / "data")
    add_watch(first, "a", Criteria(registries=("ripencc",)))  # signed: the tail is full
    first.checkpoint_interval = 3600.0
    add_hold(first, parse_resource("AS64500"), "dispute", "x", "t", dt.date(2026, 1, 1))
    assert first.log_deferred
    second = Store(store_url)
    OPENED.append(second)
    second.log_signer = first.log_signer
    head = tlog.catch_up(second)
    signed_matches_tables(second)
    again = tlog.flush(first)
    assert again is not None and again == head
    with first.read() as uow:  # catch_up's at 0, the watch's, second's: none by the flush
        assert uow.log.checkpoint_count() == 3 and head.size == uow.journal.count()
    first.checkpoint_interval = 0.0
    add_hold(first, parse_resource("AS64501"), "dispute", "y", "t", dt.date(2026, 1, 1))
    signed_matches_tables(first)
    assert verify.verify_log(first).ok


def test_flush_keeps_what_it_signed_for_the_next_write(store_url: str, tmp_path: Path) -> None:
    """After a flush at the entry this process wrote last, the next write uses the digests
    the flush stored (no read of the holds) and the flush's time (not due again at once)."""
    store = signed_store(store_url, tmp_path / "data")
    store.checkpoint_interval = 3600.0
    add_hold(store, parse_resource("AS64500"), "dispute", "x", "t", dt.date(2026, 1, 1))
    assert tlog.flush(store) is not None
    tail = store.log_tail
    assert tail is not None and tail.state is not None and tail.checkpoint_at is not None
    with store.read() as uow:
        latest = uow.log.latest_checkpoint()
        assert latest is not None and latest.created_at == tail.checkpoint_at
    add_hold(store, parse_resource("AS64501"), "dispute", "y", "t", dt.date(2026, 1, 1))
    assert store.log_deferred  # within the hour of the flush's checkpoint
    store.checkpoint_interval = 0.0
    add_watch(store, "a", Criteria(registries=("ripencc",)))
    signed_matches_tables(store)


def test_checkpoint_times_are_iso_8601_as_datetime_writes_them() -> None:
    before = dt.datetime.now(dt.UTC)
    text = tlog.now_text()
    after = dt.datetime.now(dt.UTC)
    stamped = dt.datetime.fromisoformat(text)
    assert before <= stamped <= after
    assert text == stamped.isoformat(timespec="microseconds")
