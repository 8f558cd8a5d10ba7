"""The checkpoint interval (issue 14 with issue 15): within it a write grows the tree and
leaves its state parts pending; the next due write, or ``flush``, recomputes them once and
signs a checkpoint whose state root is the one recomputed from the tables."""

from __future__ import annotations

import json
from pathlib import Path

from rirport.domain.enums import Registry
from rirport.services.registry.ingest import ingest_path
from rirport.services.transparency import log as tlog
from rirport.services.transparency import state, verify
from rirport.store.unit import Store
from tests.services.test_transparency import EXCERPTS, _close_stores, signed_store

__all__ = ["_close_stores"]  # the fixture that closes the stores these tests open


def _sizes(store: Store) -> tuple[int, int]:
    with store.read() as uow:
        latest = uow.log.latest_checkpoint()
        return (latest.size if latest else 0), uow.log.size()


def test_writes_within_the_interval_wait_for_one_checkpoint(store_url: str, tmp_path: Path) -> None:
    store = signed_store(store_url, tmp_path / "data")
    ingest_path(store, EXCERPTS[0])  # the first write after catch_up is due only after N s
    store.checkpoint_interval = 3600.0
    for path in EXCERPTS[1:]:
        ingest_path(store, path)
    signed, size = _sizes(store)
    assert signed < size == len(EXCERPTS)
    with store.read() as uow:
        waiting = state.pending(uow)
    assert waiting is not None and {p.split()[-1] for p in waiting} >= {
        p.name.split("-")[0] for p in EXCERPTS[1:]
    }
    assert store.log_deferred
    head = tlog.flush(store)
    assert head is not None and head.size == size
    assert tlog.flush(store) is None  # nothing left for later any more
    with store.read() as uow:
        latest = uow.log.latest_checkpoint()
        assert latest is not None and latest.size == size
        assert latest.state_root == state.root_of(uow)
        assert not state.pending(uow)
        assert uow.log.parts() == state.compute(uow)
    assert verify.verify_log(store).ok


def test_without_an_interval_every_write_signs(tmp_path: Path) -> None:
    store = signed_store(f"sqlite:///{tmp_path / 's.sqlite'}", tmp_path / "data")
    for path in EXCERPTS:
        ingest_path(store, path)
        signed, size = _sizes(store)
        assert signed == size
    assert not store.log_deferred


def test_a_due_write_signs_what_earlier_ones_left_pending(tmp_path: Path) -> None:
    store = signed_store(f"sqlite:///{tmp_path / 's.sqlite'}", tmp_path / "data")
    store.checkpoint_interval = 3600.0
    for path in EXCERPTS[:-1]:
        ingest_path(store, path)
    assert _sizes(store)[0] < _sizes(store)[1]
    store.checkpoint_interval = 0.0  # the next write is due
    ingest_path(store, EXCERPTS[-1])
    with store.read() as uow:
        latest = uow.log.latest_checkpoint()
        assert latest is not None and latest.size == uow.log.size()
        assert latest.state_root == state.root_of(uow)


def test_a_completed_transfer_touches_only_its_registries() -> None:
    payload = {
        "step": "complete",
        "state": "completed",
        "changes": {
            "retired": ["ripencc|NL|ipv4|193.0.0.0|1024|19930901|allocated|x"],
            "added": ["arin|NL|ipv4|193.0.0.0|1024|19930901|allocated|y"],
        },
    }
    assert state.affected("transfer", json.dumps(payload)) == {
        "transfers",
        state.delegation_part(Registry.RIPENCC.value),
        state.delegation_part(Registry.ARIN.value),
    }
    refused = {"step": "complete", "state": "rejected", "changes": None}
    assert state.affected("transfer", json.dumps(refused)) == {"transfers"}
    assert state.affected("transfer", json.dumps({"step": "approve"})) == {"transfers"}
