"""The state root's v2 delegations parts: computed as docs/log.md defines them (here from
that text, not from the code), rehashed bucket by bucket by signed writes yet equal to a
recomputation from the tables, and a store signed under v1 still verifying after the upgrade."""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text

import rirport.services.registry.ingest as ingest_module
from rirport.log.checkpoint import open_checkpoint
from rirport.services.registry.ingest import ingest_bytes, ingest_path
from rirport.services.transparency import keys, state, verify
from rirport.services.transparency import log as tlog
from rirport.store.engine import MIGRATIONS
from rirport.store.repos.log import LogRepo
from rirport.store.unit import Store
from tests.excerpts import excerpt, real_file
from tests.paths import TEST_DATA
from tests.services.test_transfers import _request, _ripe_sample, _through
from tests.services.test_transparency import days

EXCERPTS = sorted((TEST_DATA / "excerpts").glob("*-excerpt.txt"))


@pytest.fixture
def signed(store_url: str, tmp_path: Path) -> Iterator[Store]:
    """A store with a log key, on each engine."""
    store = Store(store_url)
    store.log_signer, _ = keys.init(store, tmp_path / "data", "rirport.test/log")
    tlog.catch_up(store)
    try:
        yield store
    finally:
        store.close()


def _sha(data: str) -> str:
    return hashlib.sha256(data.encode()).hexdigest()


def _documented_part(path: Path) -> tuple[str, str]:
    """docs/log.md, steps 1–4, from the file's lines: (part name, digest)."""
    text_lines = path.read_text().splitlines()
    header = text_lines[0].split("|")
    records = [
        line for line in text_lines[1:] if not line.startswith("#") and "|summary" not in line
    ]
    buckets: dict[str, list[str]] = {}
    for line in records:
        kind, start = line.split("|")[2:4]
        if kind == "asn":
            key, cut = "0" + format(int(start), "08x"), 7
        elif kind == "ipv4":
            key, cut = "1" + format(int(ipaddress.ip_address(start)), "08x"), 4
        else:
            key, cut = "2" + format(int(ipaddress.ip_address(start)), "032x"), 7
        buckets.setdefault(key[:cut], []).append(line)
    date = header[5]  # the end date: the snapshot's date
    content = hashlib.sha256(path.read_bytes()).hexdigest()
    snapshot = f"snapshot {date[:4]}-{date[4:6]}-{date[6:]} {content}"
    body = "".join(
        f"{name} {_sha(''.join(line + chr(10) for line in sorted(lines)))}\n"
        for name, lines in sorted(buckets.items())
    )
    return f"delegations {header[1]}", _sha(f"{snapshot}\n{body}")


def test_the_state_root_is_the_documented_one(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    paths = [p for p in EXCERPTS if p.name.split("-")[0] in ("afrinic", "ripencc")]
    for path in paths:
        ingest_path(store, path)
    empty = _sha("")
    parts = dict(_documented_part(p) for p in paths)
    parts.update({"holds": empty, "iana": empty, "transfers": empty})
    expected = _sha(
        "rirport-state/v2\n" + "".join(f"{name} {parts[name]}\n" for name in sorted(parts))
    )
    with store.read() as uow:
        assert state.root_of(uow) == expected
    store.close()


def _full_recomputation_matches(store: Store) -> None:
    with store.read() as uow:
        latest = uow.log.latest_checkpoint()
        assert latest is not None and latest.size == uow.journal.count()
        assert latest.state_root == state.root_of(uow)
        fresh = state.compute_all(uow)
        assert uow.log.parts() == fresh.parts
        for name, buckets in fresh.buckets.items():
            assert uow.log.buckets(name) == buckets, name


def test_a_completed_transfer_rehashes_only_its_buckets(
    signed: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest_bytes(signed, excerpt(real_file("ripencc"), _ripe_sample), "ripe.txt")
    ingest_bytes(signed, excerpt(real_file("arin"), 40), "arin.txt")
    _full_recomputation_matches(signed)
    reads: list[Any] = []
    real = LogRepo.keyed_records

    def counted(self: LogRepo, registry: str, date: Any, bounds: Any = None) -> Any:
        reads.append((registry, bounds))
        return real(self, registry, date, bounds)

    monkeypatch.setattr(LogRepo, "keyed_records", counted)
    seen = []
    for resource in ("193.0.16.0/21", "193.0.0.0/22"):  # whole, then split
        done = _through(signed, _request(signed, resource).transfer.id)
        seen += reads
        assert done.transfer.state == "completed"
        _full_recomputation_matches(signed)
        reads.clear()
    reads[:] = seen
    ripe = [bounds for registry, bounds in reads if registry == "ripencc"]
    assert len(ripe) == 2 and all(b == [("1c10", "1c10g")] for b in ripe)  # 193.0.0.0/12's
    assert {registry for registry, _ in reads} == {"arin", "ripencc"}  # (ARIN's 40: whole)
    assert verify.verify_log(signed).ok


def test_daily_ingests_rehash_their_changes_and_match_the_tables(
    signed: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hinted: list[state.Hint] = []
    real = state.ingest_hint

    def watched(*args: Any) -> state.Hint:
        hint = real(*args)
        hinted.append(hint)
        return hint

    monkeypatch.setattr(ingest_module, "state_hint", watched)
    for path in days(tmp_path, 3):
        ingest_path(signed, path)
        _full_recomputation_matches(signed)
    assert any(h.touched for h in hinted)  # the later days went bucket by bucket
    assert verify.verify_log(signed).ok


def _downgrade(store: Store) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0010_histsc")


def test_a_store_signed_under_v1_verifies_after_the_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    store = Store(url)
    signer, _ = keys.init(store, tmp_path / "data", "rirport.test/log")
    store.log_signer = signer
    for path in EXCERPTS[:2]:
        ingest_path(store, path)
    # what an older rirport left: checkpoints whose state root is v1, schema at 0010
    with store.transaction() as uow:
        latest = uow.log.latest_checkpoint()
        assert latest is not None
        v1 = state.root_of(uow, 1)
        assert v1 != latest.state_root
        root = open_checkpoint(latest.note, signer.verifier).root
        uow.connection.execute(text("DELETE FROM log_checkpoint"))
        tlog.sign_head(uow, tlog.Head(latest.size, root, v1))
    _downgrade(store)
    store.close()

    upgraded = Store(url)
    upgraded.log_signer = signer
    report = verify.verify_log(upgraded)
    assert report.ok, report.problems
    assert report.state_root == v1
    ingest_path(upgraded, EXCERPTS[2])  # the next checkpoint is v2
    report = verify.verify_log(upgraded)
    assert report.ok, report.problems
    with upgraded.read() as uow:
        assert report.state_root == state.root_of(uow) != state.root_of(uow, 1)
    _full_recomputation_matches(upgraded)
    with upgraded.transaction() as uow:  # an edit behind the journal's back still shows
        uow.connection.execute(text("UPDATE delegation SET record = record || 'x' WHERE id = 1"))
    problems = verify.verify_log(upgraded).problems
    assert any("state root recomputed from the data tables" in p for p in problems)
    upgraded.close()


def test_writes_left_for_a_later_checkpoint_name_their_buckets(
    signed: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest_bytes(signed, excerpt(real_file("ripencc"), _ripe_sample), "ripe.txt")
    ingest_bytes(signed, excerpt(real_file("arin"), 40), "arin.txt")
    signed.checkpoint_interval = 3600.0  # every write below leaves its checkpoint for later
    for resource in ("193.0.16.0/21", "193.0.0.0/22"):
        _through(signed, _request(signed, resource).transfer.id)
    with signed.read() as uow:
        assert state.pending_buckets(uow)["delegations ripencc"] == ["1c10"]
        assert uow.log.latest_checkpoint().size < uow.journal.count()  # type: ignore[union-attr]
    reads: list[Any] = []
    real = LogRepo.keyed_records

    def counted(self: LogRepo, registry: str, date: Any, bounds: Any = None) -> Any:
        reads.append((registry, bounds))
        return real(self, registry, date, bounds)

    monkeypatch.setattr(LogRepo, "keyed_records", counted)
    assert tlog.flush(signed) is not None
    assert [b for r, b in reads if r == "ripencc"] == [[("1c10", "1c10g")]]
    monkeypatch.undo()
    _full_recomputation_matches(signed)
    with signed.read() as uow:
        assert state.pending_buckets(uow) == {} and state.pending(uow) == set()
