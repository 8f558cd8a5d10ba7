"""The transparency log of a store: a checkpoint signed with every write, proofs that verify
with the RFC 9162 reference written in tests/log/rfc9162.py, the state root's independence of
ingest order, and tampering that `log verify` catches."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from rirport.cli.main import cli
from rirport.log import merkle
from rirport.log.checkpoint import open_checkpoint
from rirport.log.tiles import TileRef, decode_bundle, split_hashes
from rirport.services.audit import journal
from rirport.services.registry.ingest import ingest_path
from rirport.services.store import open_store
from rirport.services.transparency import keys, reader, state, verify
from rirport.services.transparency import log as tlog
from rirport.simulation import ChurnRates, DailyHistory
from rirport.store.unit import Store
from tests.log import rfc9162
from tests.paths import TEST_DATA

EXCERPTS = sorted((TEST_DATA / "excerpts").glob("*-excerpt.txt"))
OPENED: list[Store] = []


@pytest.fixture(autouse=True)
def _close_stores() -> Iterator[None]:
    yield
    while OPENED:
        OPENED.pop().close()


def opened(url: str) -> Store:
    store = Store(url)
    OPENED.append(store)
    return store


def signed_store(url: str, data_dir: Path, origin: str = "rirport.test/log") -> Store:
    store = opened(url)
    signer, _ = keys.init(store, data_dir, origin)
    store.log_signer = signer
    tlog.catch_up(store)
    return store


def days(tmp_path: Path, n: int = 3) -> list[Path]:
    """Consecutive real-derived files of the five excerpts (day 0: the excerpts)."""
    history = DailyHistory(
        [(p.name, p.read_bytes()) for p in EXCERPTS], seed=5, rates=ChurnRates(per_record=0.05)
    )
    out = []
    for day in history.days(n):
        for f in day.files:
            path = tmp_path / "days" / f.name
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(f.data)
            out.append(path)
    return out


def entries(store: Store) -> list[bytes]:
    out: list[bytes] = []
    with store.read() as uow:
        for row in uow.log.journal_after(0):
            out.append(tlog.entry_line(*row).encode())
    return out


def test_every_write_is_covered_by_a_checkpoint_the_rfc_verifier_accepts(
    store_url: str, tmp_path: Path
) -> None:
    store = signed_store(store_url, tmp_path / "data")
    for path in EXCERPTS[:3]:
        ingest_path(store, path)
    with store.read() as uow:
        points = uow.log.checkpoints()
        vkey = keys.store_vkey(store)
    assert vkey is not None
    assert [p.size for p in points] == [0, 1, 2, 3]
    lines = entries(store)
    for row in points:
        point = open_checkpoint(row.note, vkey)
        assert point.root == rfc9162.MTH(lines[: point.size])
        assert point.state_root == row.state_root
    log = reader.LogReader(store)
    root = rfc9162.MTH(lines)
    for index in range(3):
        proof = log.inclusion(index, 3)
        assert proof.leaf_hash == merkle.leaf_hash(lines[index])
        assert rfc9162.verify_inclusion(index, 3, proof.leaf_hash, proof.hashes, root)
    for old in (1, 2):
        cons = log.consistency(old, 3)
        assert rfc9162.verify_consistency(old, 3, rfc9162.MTH(lines[:old]), root, cons.hashes)
    # the newest checkpoint says what the tables hold
    with store.read() as uow:
        assert state.root_of(uow) == points[-1].state_root
    assert verify.verify_log(store).ok


def test_export_lines_are_the_leaves(tmp_path: Path) -> None:
    store = signed_store(f"sqlite:///{tmp_path / 's.sqlite'}", tmp_path / "data")
    ingest_path(store, EXCERPTS[0])
    out = tmp_path / "export.ndjson"
    with out.open("w", encoding="utf-8") as handle:
        journal.export(store, handle)
    lines = out.read_bytes().splitlines()
    assert lines == entries(store)
    with store.read() as uow:
        assert uow.log.nodes([(0, 0)])[(0, 0)] == merkle.leaf_hash(lines[0])


def test_state_root_is_the_same_whatever_the_ingest_order(tmp_path: Path) -> None:
    files = days(tmp_path)
    forward = opened(f"sqlite:///{tmp_path / 'a.sqlite'}")
    backward = opened(f"sqlite:///{tmp_path / 'b.sqlite'}")
    for path in files:
        ingest_path(forward, path)
    for path in reversed(files):
        ingest_path(backward, path)
    tlog.catch_up(forward)  # no key: the parts wait for a checkpoint, which computes them
    tlog.catch_up(backward)
    with forward.read() as a, backward.read() as b:
        assert state.root_of(a) == state.root_of(b)
        # the stored parts (what each write signed) agree with the recomputation
        assert a.log.parts() == state.compute(a) and b.log.parts() == state.compute(b)
        assert reader.LogReader(forward).root(a.log.size()) != reader.LogReader(backward).root(
            b.log.size()
        )
    # and the root changes when the data does
    other = opened(f"sqlite:///{tmp_path / 'c.sqlite'}")
    for path in files[:5]:
        ingest_path(other, path)
    with forward.read() as a, other.read() as c:
        assert state.root_of(a) != state.root_of(c)


def test_verify_catches_edits_behind_the_journal(store_url: str, tmp_path: Path) -> None:
    store = signed_store(store_url, tmp_path / "data")
    for path in EXCERPTS[:2]:
        ingest_path(store, path)
    assert verify.verify_log(store).ok
    with store.transaction() as uow:
        uow.connection.execute(
            text(
                "UPDATE delegation SET record = record || 'x' WHERE id = "
                "(SELECT MIN(id) FROM delegation)"
            )
        )
    problems = verify.verify_log(store).problems
    assert any("state root recomputed from the data tables" in p for p in problems)


def test_verify_catches_a_forged_appended_entry_and_an_edited_one(tmp_path: Path) -> None:
    store = signed_store(f"sqlite:///{tmp_path / 's.sqlite'}", tmp_path / "data")
    for path in EXCERPTS[:2]:
        ingest_path(store, path)
    with store.read() as uow:
        last = uow.journal.get(2)
    assert last is not None
    forged_payload = journal.canonical({"note": "forged"})
    forged_hash = journal.entry_hash(3, last.created_at, "x", "hold", last.hash, forged_payload)
    with store.transaction() as uow:
        uow.connection.execute(
            text("INSERT INTO journal VALUES (3, :c, 'x', 'hold', :p, :prev, :h)"),
            {"c": last.created_at, "p": forged_payload, "prev": last.hash, "h": forged_hash},
        )
    assert journal.verify(store).ok  # the chain alone cannot tell
    problems = verify.verify_log(store).problems
    assert any("entries were added or removed behind the log's back" in p for p in problems)
    with store.transaction() as uow:
        uow.connection.execute(text("DELETE FROM journal WHERE serial = 3"))
        uow.connection.execute(text("UPDATE journal SET actor = 'mallory' WHERE serial = 1"))
    problems = verify.verify_log(store).problems
    assert any("its root is not the journal's" in p for p in problems)


def test_a_store_from_before_the_log_builds_its_tree_on_the_next_write(tmp_path: Path) -> None:
    store = opened(f"sqlite:///{tmp_path / 's.sqlite'}")
    for path in EXCERPTS[:2]:
        ingest_path(store, path)
    with store.transaction() as uow:
        uow.log.drop_tree()
        uow.log.set_parts({})
    ingest_path(store, EXCERPTS[2])
    lines = entries(store)
    assert reader.LogReader(store).root(3) == rfc9162.MTH(lines)


def test_tiles_and_bundles_published_hash_to_the_checkpoint(tmp_path: Path) -> None:
    store = signed_store(f"sqlite:///{tmp_path / 's.sqlite'}", tmp_path / "data")
    for path in days(tmp_path, 2):
        ingest_path(store, path)
    point, written = reader.publish(store, tmp_path / "pub")
    assert point.size == 10 and written == 3  # checkpoint, level-0 tile, bundle
    bundle = (tmp_path / "pub" / TileRef(None, 0, 10).path()).read_bytes()
    tile = (tmp_path / "pub" / TileRef(0, 0, 10).path()).read_bytes()
    leaves = [merkle.leaf_hash(e) for e in decode_bundle(bundle, 10)]
    assert leaves == split_hashes(tile, 10)
    vkey = keys.store_vkey(store)
    assert vkey is not None
    note = (tmp_path / "pub" / "checkpoint").read_text()
    assert open_checkpoint(note, vkey).root == rfc9162.MTH(decode_bundle(bundle, 10))


def test_cli_init_key_prove_state_root(tmp_path: Path) -> None:
    data = tmp_path / "data"
    runner = CliRunner()
    base = ["--data-dir", str(data)]
    assert runner.invoke(cli, [*base, "ingest", str(EXCERPTS[0])]).exit_code == 0
    made = runner.invoke(cli, [*base, "log", "init", "--origin", "rirport.test/cli"])
    assert made.exit_code == 0, made.output
    vkey = made.stdout.strip()
    assert vkey.startswith("rirport.test/cli+")
    assert (data / "log-signing.key").stat().st_mode & 0o777 == 0o600
    assert runner.invoke(cli, [*base, "log", "key"]).stdout.strip() == vkey
    # a write made through the CLI is signed at once
    assert runner.invoke(cli, [*base, "ingest", str(EXCERPTS[1])]).exit_code == 0
    note = runner.invoke(cli, [*base, "log", "checkpoint"]).stdout
    assert note.split("\n")[:2] == ["rirport.test/cli", "2"]
    proof = json.loads(runner.invoke(cli, [*base, "log", "prove", "--index", "1"]).stdout)
    assert proof["size"] == 2 and len(proof["hashes"]) == 1
    root = runner.invoke(cli, [*base, "state-root"]).stdout.strip()
    assert len(root) == 64 and root == root.lower()
    assert f"rirport-state {root}" in note
    assert runner.invoke(cli, [*base, "log", "verify"]).exit_code == 0
    beyond = runner.invoke(cli, [*base, "log", "prove", "--index", "0", "--size", "9"])
    assert beyond.exit_code == 1 and "beyond the tree" in beyond.output
    again = runner.invoke(cli, [*base, "log", "init", "--origin", "other.test/log"])
    assert again.exit_code == 1 and "holds the key of origin 'rirport.test/cli'" in again.output


def test_open_store_signs_only_with_the_key_the_store_was_made_with(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    signed_store(url, tmp_path / "one").close()
    keys.init(opened(f"sqlite:///{tmp_path / 'other.sqlite'}"), tmp_path / "two", "x.test/log")
    two, one = open_store(url, tmp_path / "two"), open_store(url, tmp_path / "one")
    OPENED.extend([two, one])
    assert two.log_signer is None
    assert one.log_signer is not None
    (tmp_path / "one" / "log-signing.key").chmod(0o644)
    with pytest.raises(Exception, match="readable by others"):
        open_store(url, tmp_path / "one")


def test_checkpoint_root_is_base64_of_the_tree_root(tmp_path: Path) -> None:
    store = signed_store(f"sqlite:///{tmp_path / 's.sqlite'}", tmp_path / "data")
    ingest_path(store, EXCERPTS[0])
    row = tlog.latest_checkpoint(store)
    assert row.note.split("\n")[2] == base64.b64encode(rfc9162.MTH(entries(store))).decode()
