"""Replaying an exported journal into another store, on SQLite and PostgreSQL: the same real
files, transfer and holds give the same head hash and the same registry; a tampered file, a
missing file or a store that is not a prefix change nothing; a changed policy is a finding."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import shutil
from collections.abc import Generator
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from rirport.cli.main import cli
from rirport.domain.enums import Registry
from rirport.domain.query import parse_resource
from rirport.domain.transfer import TransferKind
from rirport.errors import ConflictError, InputError
from rirport.query.iana import load_iana
from rirport.query.view import load_current
from rirport.services.audit import journal
from rirport.services.audit.replay import differences, replay
from rirport.services.registry.export import export_combined, export_snapshot
from rirport.services.registry.iana import ingest_iana
from rirport.services.registry.ingest import ingest_path
from rirport.services.transfers.holds import add_hold, lift_hold
from rirport.services.transfers.lifecycle import advance, build_request, request_transfer
from rirport.store.unit import Store
from tests.conftest import _postgres_database
from tests.excerpts import excerpt, real_file
from tests.paths import SHARED, TEST_DATA

RIPE_HOLDER = "2971c08b-2b8e-49f9-a938-fe3a9f8348be"  # RIPE NCC's own 193.0.0.0/20 and /21
NEW_HOLDER = "org-new-holder"
PORTABLE = "mandatory-portability"
DAY = dt.date(2026, 11, 1)


def _ripe_sample(index: int, fields: list[str]) -> bool:
    return index < 60 or fields[3] in ("193.0.0.0", "193.0.16.0")


@dataclass
class History:
    """The source instance's store, its exported journal and the files it ingested."""

    store: Store
    journal: Path
    files: Path

    @property
    def lines(self) -> list[str]:
        return self.journal.read_text(encoding="utf-8").splitlines(keepends=True)


@pytest.fixture
def other(store_url: str, tmp_path: Path) -> Generator[Store, None, None]:
    """A second empty store on the same engine as ``store`` (another instance)."""
    if store_url.startswith("sqlite"):
        st = Store(f"sqlite:///{tmp_path / 'other.sqlite'}")
        yield st
        st.close()
        return
    database = _postgres_database()
    st = Store(next(database))
    try:
        yield st
    finally:
        st.close()
        database.close()


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture
def history(store: Store, tmp_path: Path) -> History:
    """Two real excerpts and IANA's real IPv4 registry ingested; a dispute that refuses one
    request; a completed transfer; the dispute lifted; exported."""
    folder = tmp_path / "inputs"
    ingest_path(
        store,
        _write(folder / "ripe.txt", excerpt(real_file("ripencc"), _ripe_sample)),
        actor="alice",
    )
    ingest_path(store, _write(folder / "arin.txt", excerpt(real_file("arin"), 40)), actor="alice")
    iana = shutil.copy(SHARED / "iana" / "ipv4-address-space.csv", folder)
    ingest_iana(store, iana, actor="alice")
    hold = add_hold(
        store,
        parse_resource("193.0.0.0/21"),
        "dispute",
        "court case",
        "bob",
        DAY,
        reference="case 42",
    )
    _request(store, "193.0.0.0/21")  # refused while disputed
    transfer = _request(store, "193.0.16.0/21")
    for step in ("approve", "accept", "complete"):
        advance(
            store,
            load_current(store),
            transfer,
            step,
            "carol",
            load_iana(store),
            conditions_met=True,
        )
    lift_hold(store, hold.id, "bob", "settled")
    out = tmp_path / "journal.ndjson"
    with out.open("w", encoding="utf-8") as handle:
        journal.export(store, handle)
    return History(store, out, folder)


def _request(store: Store, resource: str) -> int:
    view = load_current(store)
    req = build_request(
        view,
        parse_resource(resource),
        Registry.ARIN,
        NEW_HOLDER,
        TransferKind.INTER_RIR,
        DAY,
        RIPE_HOLDER,
    )
    return request_transfer(store, view, req, PORTABLE, "carol", load_iana(store)).transfer.id


def _exported(store: Store) -> str:
    out = io.StringIO()
    journal.export(store, out)
    return out.getvalue()


def _registry_state(store: Store) -> tuple[str, ...]:
    with store.transaction() as uow:
        transfers = [(t.state, t.resource, t.decision) for t in uow.transfers.all()]
        holds = [(h.resource, h.kind, h.lifted_serial) for h in uow.holds.all()]
    return (
        export_snapshot(store, registry=Registry.RIPENCC),
        export_snapshot(store, registry=Registry.ARIN),
        export_snapshot(store, registry=Registry.RIPENCC, state="original"),
        export_combined(load_current(store)),
        json.dumps(transfers, default=str),
        json.dumps(holds),
        json.dumps(load_iana(store).origins["ipv4-address-space"].to_json()),
    )


def _empty(store: Store) -> bool:
    with store.transaction() as uow:
        return (
            uow.journal.count() == 0 and uow.meta.generation() == 0 and not uow.snapshots.current()
        )


def test_replay_reproduces_the_head_and_the_registry(history: History, other: Store) -> None:
    report = replay(other, history.journal, [history.files])
    assert report.findings == []
    assert report.ok and (report.entries, report.already, report.applied) == (10, 0, 10)
    assert report.replay_head == report.file_head == journal.verify(history.store).last_hash
    assert _exported(other) == history.journal.read_text(encoding="utf-8")
    assert _registry_state(other) == _registry_state(history.store)
    with other.transaction() as uow:
        assert [t.state for t in uow.transfers.all()] == ["rejected", "completed"]


def test_a_tampered_file_is_refused_and_nothing_changes(history: History, other: Store) -> None:
    lines = history.lines
    entry = json.loads(lines[1])
    entry["payload"]["records"] += 1
    lines[1] = json.dumps(entry) + "\n"
    history.journal.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(
        InputError,
        match="refusing to replay a broken journal .* serial 2: "
        r"content does not match its hash \(edited\)",
    ):
        replay(other, history.journal, [history.files])
    assert _empty(other)


def test_an_entry_removed_from_the_middle_is_refused(history: History, other: Store) -> None:
    history.journal.write_text("".join(history.lines[:4] + history.lines[5:]), encoding="utf-8")
    with pytest.raises(InputError, match="entries 5-5 are missing"):
        replay(other, history.journal, [history.files])
    assert _empty(other)


def _rechained(lines: list[str]) -> str:
    """The entries with every hash and link recomputed: a forged chain that verifies."""
    out, prev = [], journal.GENESIS
    for line in lines:
        e = json.loads(line)
        e["prev_hash"] = prev
        e["hash"] = prev = journal.entry_hash(
            e["serial"],
            e["created_at"],
            e["actor"],
            e["action"],
            prev,
            journal.canonical(e["payload"]),
        )
        out.append(json.dumps(e) + "\n")
    return "".join(out)


@pytest.mark.parametrize(
    ("serial", "edit", "message"),
    [
        (4, lambda p: [p], "entry 4: the payload is not a JSON object"),
        (1, lambda p: {**p, "sha256": None}, r"entry 1 \(ingest\): the payload has no sha256"),
        (
            6,
            lambda p: {**p, "transfer": "six"},
            r"entry 6 \(transfer request\): the payload has "
            "no transfer id",
        ),
    ],
)
def test_a_chain_that_verifies_but_rirport_did_not_write_is_refused(
    history: History, other: Store, serial: int, edit: Any, message: str
) -> None:
    lines = history.lines
    entry = json.loads(lines[serial - 1])
    entry["payload"] = edit(entry["payload"])
    lines[serial - 1] = json.dumps(entry)
    history.journal.write_text(_rechained(lines), encoding="utf-8")
    assert journal.verify_file(history.journal).ok
    with pytest.raises(InputError, match=message):
        replay(other, history.journal, [history.files])
    assert _empty(other)


def test_a_watch_entry_whose_payload_is_not_one_stops_there(history: History, other: Store) -> None:
    """Replay now rebuilds watch-add entries (issue 11 #4); one carrying another action's
    payload is a finding that stops the replay at it, the entries before it stored."""
    lines = history.lines
    entry = json.loads(lines[9])
    entry["action"] = "watch-add"
    lines[9] = json.dumps(entry)
    history.journal.write_text(_rechained(lines), encoding="utf-8")
    report = replay(other, history.journal, [history.files])
    assert report.stopped_at == 10 and report.applied == 9
    assert "payload is not one this version writes" in report.findings[0].message


def test_a_missing_file_names_the_entry_and_changes_nothing(history: History, other: Store) -> None:
    (history.files / "arin.txt").unlink()
    with pytest.raises(
        InputError,
        match=r"entry 2 needs arin\.txt \(sha256 [0-9a-f]{12}…\): "
        "no file given with --files has that content",
    ):
        replay(other, history.journal, [history.files])
    assert _empty(other)


def test_a_compressed_copy_is_found_by_its_content(
    history: History, other: Store, tmp_path: Path
) -> None:
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    for path in history.files.iterdir():
        (moved / path.name).write_bytes(path.read_bytes())
    ripe = moved / "ripe.txt"
    (moved / "ripe.txt.gz").write_bytes(gzip.compress(ripe.read_bytes()))
    ripe.unlink()
    report = replay(other, history.journal, [moved])
    # the snapshot is the same content, but the file name is part of the record
    assert [(f.serial, f.message) for f in report.findings] == [
        (1, 'payload differs: file: file "ripe.txt", replay "ripe.txt.gz"')
    ]
    assert not report.ok and report.replay_head != report.file_head
    assert report.applied == 10


def test_a_prefix_continues_and_other_stores_are_refused(
    history: History, other: Store, tmp_path: Path
) -> None:
    first = tmp_path / "first.ndjson"
    first.write_text("".join(history.lines[:5]), encoding="utf-8")
    assert replay(other, first, [history.files]).ok
    report = replay(other, history.journal, [history.files])
    assert report.ok and (report.already, report.applied) == (5, 5)
    again = replay(other, history.journal)  # nothing left: no files needed
    assert again.ok and (again.already, again.applied) == (10, 0)
    with pytest.raises(ConflictError, match="the store's journal has 10 entries, the file only 5"):
        replay(other, first, [history.files])


def test_a_store_with_other_entries_is_refused(history: History, other: Store) -> None:
    ingest_path(other, history.files / "arin.txt", actor="alice")
    before = _exported(other)
    with pytest.raises(ConflictError, match=r"differs from the file at serial 1 .*prefix"):
        replay(other, history.journal, [history.files])
    assert _exported(other) == before


def test_a_changed_policy_is_a_finding(history: History, other: Store) -> None:
    """The same journal replayed where "mandatory-portability" means RIPE NCC's and ARIN's
    current rules: the decisions differ (conditional, not allowed), and each is listed."""
    current = files("rirport").joinpath("data").joinpath("policy").joinpath("current.toml")
    report = replay(other, history.journal, [history.files], {PORTABLE: str(current)})
    changed = {f.serial: f.message for f in report.findings}
    assert sorted(changed) == [5, 6, 7, 8, 9]  # the lift (10) comes out the same
    assert 'regime: file "mandatory-portability", replay "current"' in changed[5]
    assert "decision.outcome" not in changed[5]  # refused under both: the dispute
    for serial in (6, 7, 8, 9):
        assert 'decision.outcome: file "allowed", replay "conditional"' in changed[serial]
    assert not report.ok and report.stopped_at is None
    assert report.replay_head != report.file_head


def test_an_entry_that_no_longer_applies_stops_the_replay(
    store: Store, other: Store, tmp_path: Path
) -> None:
    """AFRINIC space may leave under mandatory portability but not under current policy: on an
    instance where the regime is current policy, the request is refused, so its approval
    cannot follow; the replay stops there, the entries before it applied."""
    folder = tmp_path / "inputs"
    folder.mkdir()
    shutil.copy(TEST_DATA / "excerpts" / "afrinic-2018-excerpt.txt", folder)
    _write(folder / "ripe.txt", excerpt(real_file("ripencc"), _ripe_sample))
    for path in sorted(folder.iterdir()):
        ingest_path(store, path, actor="alice")
    view = load_current(store)
    req = build_request(
        view,
        parse_resource("41.56.0.0/16"),
        Registry.RIPENCC,
        NEW_HOLDER,
        TransferKind.INTER_RIR,
        DAY,
        "F365B26F",
    )
    transfer = request_transfer(store, view, req, PORTABLE, "carol", load_iana(store))
    assert transfer.transfer.state == "requested"
    advance(store, load_current(store), transfer.transfer.id, "approve", "carol", load_iana(store))
    exported = tmp_path / "journal.ndjson"
    exported.write_text(_exported(store), encoding="utf-8")
    current = files("rirport").joinpath("data").joinpath("policy").joinpath("current.toml")

    report = replay(other, exported, [folder], {PORTABLE: str(current)})
    assert (report.applied, report.stopped_at) == (3, 4) and not report.ok
    assert [f.serial for f in report.findings] == [3, 4]
    assert '; state: file "requested", replay "rejected"' in report.findings[0].message
    assert 'decision.outcome: file "allowed", replay "refused"' in report.findings[0].message
    assert report.findings[1].message.startswith(
        "not re-applied: transfer #1 is rejected: it cannot approve (only from requested)"
    )
    assert journal.verify(other).entries == 3


def test_differences_name_the_path_and_both_values() -> None:
    assert differences({"a": 1, "b": {"c": [1, 2]}}, {"a": 1, "b": {"c": [1, 3]}}) == [
        "b.c[1]: file 2, replay 3"
    ]
    assert differences([1], [1, 2]) == ["payload: file [1], replay [1,2]"]
    deep = differences({"z": 1, "a": {"b": list(range(9))}}, {"z": 2, "a": {"b": [0] * 9}})
    assert deep[0] == "z: file 1, replay 2" and deep[-1] == "and 4 more"


def _cli(url: str, tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", url, "--data-dir", str(tmp_path / "home"), *args])


def test_the_cli_exit_codes(history: History, other: Store, tmp_path: Path) -> None:
    url = other.engine.url.render_as_string(hide_password=False)
    done = _cli(
        url, tmp_path, "journal", "replay", str(history.journal), "--files", str(history.files)
    )
    assert done.exit_code == 0, done.output
    assert "replayed 10 of 10 entries" in done.output and "(identical)" in done.output
    broken = tmp_path / "broken.ndjson"
    broken.write_text("".join(history.lines).replace('"settled"', '"dropped"'), encoding="utf-8")
    refused = _cli(url, tmp_path, "journal", "replay", str(broken))
    assert refused.exit_code == 1 and "refusing to replay a broken journal" in refused.output
    bad = _cli(url, tmp_path, "journal", "replay", str(history.journal), "--regime", "x")
    assert bad.exit_code == 2 and "is not NAME=PATH" in bad.output
    again = _cli(url, tmp_path, "journal", "replay", str(history.journal), "--format", "json")
    assert again.exit_code == 0, again.output
    body = json.loads(again.output)
    assert (body["ok"], body["already"], body["applied"]) == (True, 10, 0)


def test_the_cli_exits_1_on_a_missing_file_or_a_difference(
    history: History, other: Store, tmp_path: Path
) -> None:
    url = other.engine.url.render_as_string(hide_password=False)
    missing = _cli(url, tmp_path, "journal", "replay", str(history.journal))
    assert missing.exit_code == 1 and "entry 1 needs ripe.txt" in missing.output
    assert "entry 3 needs ipv4-address-space.csv" in missing.output
    current = files("rirport").joinpath("data").joinpath("policy").joinpath("current.toml")
    differs = _cli(
        url,
        tmp_path,
        "journal",
        "replay",
        str(history.journal),
        "--files",
        str(history.files),
        "--regime",
        f"{PORTABLE}={current}",
    )
    assert differs.exit_code == 1
    assert "(DIFFERENT)" in differs.output and "serial 6 (transfer): payload differs" in (
        differs.output
    )
