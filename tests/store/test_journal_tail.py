"""What a write remembers of this process's last commit (``Store.journal_tail``), and that
it falls back to reading the store when another writer came in between.

A write transaction takes for granted what the last committed write of the same process
left (the journal's newest entry, the transfers' widths, the newest snapshots, ...) only
while the entry before its own is still that write's: two :class:`Store` objects over one
database are two processes here, each writing in turn. PostgreSQL also answers the entry
before and "not a mirror" with the statement that reserves the serial.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from sqlalchemy import text

from rirport.domain.enums import ResourceType
from rirport.errors import MirrorReadOnlyError
from rirport.services.audit import journal
from rirport.services.transparency import readonly
from rirport.store.driver import Driver
from rirport.store.keys import key_of
from rirport.store.repos.journal import MIRROR_PROBE
from rirport.store.unit import Store
from tests.concurrent import while_held

V4 = ResourceType.IPV4


def _ip(text: str) -> int:
    a, b, c, d = (int(p) for p in text.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


def _transfer(store: Store, first: str, last: str) -> int:
    """A completed transfer row over ``first..last`` added by a journaled write."""
    lo, hi = key_of(V4, _ip(first)), key_of(V4, _ip(last))
    with store.transaction() as uow:
        serial = uow.journal.reserve()
        tid = uow.transfers.add(
            {
                "state": "completed",
                "kind": "inter-rir",
                "type": "ipv4",
                "resource": f"{first}-{last}",
                "lo": lo,
                "hi": hi,
                "source_registry": "ripencc",
                "source_holder": "a",
                "recipient_registry": "arin",
                "recipient_holder": "b",
                "transfer_date": dt.date(2026, 1, 1),
                "regime": "mandatory-portability",
                "decision": {},
                "conditions_met": False,
                "created_serial": serial,
                "updated_serial": serial,
            }
        )
        journal.append(uow, "test", "transfer", {"transfer": tid}, serial)
    return tid


def _count_reads(monkeypatch: pytest.MonkeyPatch, needle: str) -> list[str]:
    seen: list[str] = []
    real = Driver._run

    def counted(self: Driver, sql: str, params: Any) -> Any:
        if needle in sql or needle in [str(p) for p in params]:
            seen.append(sql)
        return real(self, sql, params)

    monkeypatch.setattr(Driver, "_run", counted)
    return seen


def test_the_probe_asks_what_the_mirror_check_asks() -> None:
    assert MIRROR_PROBE == (readonly.ROLE, readonly.STARTED)


def test_entries_of_two_stores_in_turn_chain_to_each_other(store_url: str) -> None:
    a, b = Store(store_url), Store(store_url)
    try:
        for writer in (a, a, b, a, b, b, a):
            with writer.transaction() as uow:
                journal.append(uow, "test", "watch-add", {"by": id(writer)})
        with a.transaction() as uow:  # a batch: two entries of one transaction
            journal.append(uow, "test", "watch-add", {"n": 1})
            journal.append(uow, "test", "watch-add", {"n": 2})
        checked = journal.verify(a)
        assert checked.ok, checked.problems
        rows = journal.entries(a)
        assert [r.serial for r in rows] == list(range(1, 10))
        assert all(y.prev_hash == x.hash for x, y in itertools.pairwise(rows))
    finally:
        a.close()
        b.close()


def test_a_write_continues_only_from_its_own_last_commit(store_url: str) -> None:
    a, b = Store(store_url), Store(store_url)
    try:
        for writer, follows in ((a, False), (a, True), (b, False), (a, False), (a, True)):
            with writer.transaction() as uow:
                uow.journal.reserve()
                assert uow.journal.continues() is follows
                journal.append(uow, "test", "watch-add", {}, None)
    finally:
        a.close()
        b.close()


def test_transfer_widths_are_read_again_after_another_store_wrote(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = Store(store_url), Store(store_url)
    try:
        _transfer(a, "10.0.0.0", "10.0.0.255")  # a /24: the widest so far
        reads = _count_reads(monkeypatch, "transfer_widest")
        _transfer(a, "10.0.1.0", "10.0.1.255")
        assert reads == []  # taken from a's last commit
        wide = _transfer(b, "11.0.0.0", "11.0.255.255")  # another process: a /16
        reads.clear()
        with a.transaction() as uow:
            uow.journal.reserve()
            found = uow.transfers.completed_into(
                key_of(V4, _ip("11.0.128.0")), key_of(V4, _ip("11.0.128.255"))
            )
        assert [t.id for t in found] == [wide]  # a /24's reach would have missed it
        assert len(reads) == 1  # read back, not taken from a's memory
    finally:
        a.close()
        b.close()


def test_a_rolled_back_write_leaves_nothing_to_remember(store_url: str) -> None:
    a = Store(store_url)
    try:
        _transfer(a, "10.0.0.0", "10.0.0.255")
        kept = a.journal_tail
        wider = key_of(V4, _ip("12.0.0.0")), key_of(V4, _ip("12.255.255.255"))
        with pytest.raises(RuntimeError), a.transaction() as uow:
            uow.journal.reserve()
            uow.transfers._widen(*wider)  # folded into this unit's widths and saved, undone
            raise RuntimeError("rolled back")
        assert a.journal_tail is kept
        with a.transaction() as uow:
            uow.journal.reserve()
            assert uow.journal.continues()
            widths = uow.transfers._widths()
            assert widths.ordinary.get(key_of(V4, 0)[0]) == 255  # the rolled-back /8 is not in them
    finally:
        a.close()


def _while_held(store_url: str, during: Any, then: Any) -> dict[str, Any]:
    """Run ``then(uow)`` in a write of a second store that starts (and waits for the write
    lock) while ``during(uow)``'s write of a first store is still open; what each returned,
    and the journal's verification after."""
    a, b = Store(store_url), Store(store_url)
    try:
        with a.transaction() as uow:  # the generation exists: the bump's own path is taken
            journal.append(uow, "test", "watch-add", {"n": 0})
        out = while_held(a, during, b, then)
        out["verified"] = journal.verify(a)
    finally:
        a.close()
        b.close()
    return out


def test_a_write_that_waited_for_another_chains_to_the_entry_it_committed(
    store_url: str,
) -> None:
    out = _while_held(
        store_url,
        lambda uow: journal.append(uow, "test", "watch-add", {"n": 1}),
        lambda uow: journal.append(uow, "test", "watch-add", {"n": 2}),
    )
    assert "error" not in out, out.get("error")
    first, second = out["during"], out["then"]
    assert (second.serial, second.prev_hash) == (first.serial + 1, first.hash)
    assert out["verified"].ok, out["verified"].problems


def test_a_write_that_waited_while_the_store_became_a_mirror_is_refused(
    store_url: str,
) -> None:
    def become_mirror(uow: Any) -> None:
        journal.append(uow, "test", "watch-add", {"n": 1})
        uow.connection.execute(
            text(
                "INSERT INTO log_peer (role, origin, size, note, source, verified_at) "
                "VALUES ('mirror', 'pub', 2, 'note', 'http://pub', 'now')"
            )
        )

    out = _while_held(
        store_url, become_mirror, lambda uow: journal.append(uow, "test", "watch-add", {})
    )
    assert isinstance(out.get("error"), MirrorReadOnlyError), out
    assert out["verified"].entries == 2
