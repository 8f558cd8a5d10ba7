"""The widest transfer per type (``meta.transfer_widest``) is kept by writes, never by reads.

The resource page reads the completed transfers into a range in a read-only transaction; on
a store with no transfer yet (the README's demo) that read once tried to save the widths and
failed with "attempt to write a readonly database" (503 on every resource page).
"""

from __future__ import annotations

from sqlalchemy import text

from rirport.store.unit import Store


def _stored_widths(store: Store) -> str | None:
    with store.engine.connect() as c:
        return c.execute(text("SELECT value FROM meta WHERE key = 'transfer_widest'")).scalar()


def test_a_read_on_a_store_without_transfers_writes_nothing(store: Store) -> None:
    lo, hi = "4c1000600", "4c10006ff"
    with store.read() as uow:
        assert uow.transfers.completed_into(lo, hi) == []
    assert _stored_widths(store) is None
