"""Replay rebuilds every kind of entry (issue 11 #4): watchlists, accounts and their tiers,
links, disabling, passwords and tokens, evidence, holds, ingests, plus kinds it can only keep
(recorded events, deliveries, actions from a newer version); it names what it cannot carry
(secrets) and refuses nothing for it. With a signed checkpoint and key, only what the
checkpoint covers is accepted: a rehashed forgery and an appended forgery are refused."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from rirport.accounts import service as accounts
from rirport.cli.main import cli
from rirport.domain.query import parse_resource
from rirport.errors import VerificationError
from rirport.log.note import Signer
from rirport.services.audit import journal
from rirport.services.audit.replay import SignedHead, replay
from rirport.services.monitoring.events import record_between
from rirport.services.monitoring.watch import Criteria, add_watch, remove_watch
from rirport.services.profiles import evidence
from rirport.services.registry.ingest import ingest_path
from rirport.services.transfers.holds import add_hold, lift_hold
from rirport.services.transparency import keys, state
from rirport.services.transparency import log as tlog
from rirport.services.transparency.reader import LogReader
from rirport.store.unit import Store
from tests.paths import TEST_DATA

EXCERPTS = sorted((TEST_DATA / "excerpts").glob("*-excerpt.txt"))
ITEM = """evidence:
  - id: test-replay-item
    claim: {claim}
    source:
      {{address: "https://example.org/a", publisher: Example, date: 2025-01-01, kind: news-report}}
    reliability: C
    tag: V
    entities: [registry:afrinic]
"""


def _every_kind(store: Store, tmp_path: Path) -> None:
    ingest_path(store, EXCERPTS[0], actor="alice")
    ingest_path(store, EXCERPTS[4], actor="alice")
    add_watch(store, "ripe", Criteria(registries=("ripencc",)), actor="alice")
    add_watch(
        store, "hook", Criteria(countries=("NL",)), "https://example.org/h", "s3cret", "alice"
    )
    remove_watch(store, "ripe", "alice")
    admin = accounts.create_account(store, "root", "correct horse battery", "admin", "alice")
    member = accounts.create_account(
        store, "member", "another long passphrase", "strategy-circle", "root"
    )
    accounts.set_tier(store, member.id, "leadership-alliance", "root")
    accounts.link_holder(store, member.id, "ripencc", "holder-1", "root", lambda r, h: True)
    accounts.unlink_holder(store, member.id, "ripencc", "holder-1", "root")
    token, _secret = accounts.create_token(store, member.id, "ci", "member")
    accounts.revoke_token(store, token.id, "member")
    accounts.change_password(
        store, member.id, "another long passphrase", "a third long passphrase", "member"
    )
    accounts.disable(store, member.id, "root")
    accounts.enable(store, member.id, "root")
    first = tmp_path / "item.yaml"
    first.write_text(ITEM.format(claim="A first claim about AFRINIC."), encoding="utf-8")
    evidence.add(store, first, "alice")
    first.write_text(ITEM.format(claim="The corrected claim about AFRINIC."), encoding="utf-8")
    evidence.correct(store, first, "alice")
    hold = add_hold(
        store, parse_resource("193.0.0.0/21"), "dispute", "case", "bob", dt.date(2026, 1, 1)
    )
    lift_hold(store, hold.id, "bob", "settled")
    record_between(store, [], "alice")
    assert admin.id != member.id


def _export(store: Store, path: Path) -> Path:
    with path.open("w", encoding="utf-8") as out:
        journal.export(store, out)
    return path


def _snapshot(store: Store) -> dict[str, object]:
    with store.read() as uow:
        return {
            "watches": sorted((w.name, w.url, w.removed_at is None) for w in uow.watches.active()),
            "accounts": sorted(
                (a.tier, a.disabled_at is None, a.created_serial) for a in uow.accounts.all()
            ),
            "links": [len(uow.accounts.holders(a.id)) for a in uow.accounts.all()],
            "tokens": sorted(
                (t.created_serial, t.revoked_at is not None) for t in uow.accounts.tokens()
            ),
            "evidence": sorted((e.key, e.body, e.version) for e in uow.evidence.all()),
            "holds": [(h.resource, h.lifted_serial) for h in uow.holds.all()],
            "state": state.root_of(uow),
        }


def test_every_kind_of_entry_is_rebuilt_or_named(store_url: str, tmp_path: Path) -> None:
    source = Store(store_url)
    target = Store(f"sqlite:///{tmp_path / 'target.sqlite'}")
    try:
        _every_kind(source, tmp_path)
        exported = _export(source, tmp_path / "journal.ndjson")
        actions = {json.loads(line)["action"] for line in exported.read_text().splitlines()}
        assert {"watch-add", "account-create", "token-revoke", "evidence-correct"} <= actions
        report = replay(target, exported, [TEST_DATA / "excerpts"])
        assert report.ok, report.findings
        assert report.applied == report.entries == len(exported.read_text().splitlines())
        assert report.file_head == report.replay_head
        said = " ".join(n.message for n in report.notes)
        assert "without a password (password hashes are never journaled)" in said
        assert "token #" in said and "rebuilt without its secret" in said
        assert "webhook secret is not in the journal" in said
        assert "recorded event(s) not rebuilt" in said
        mine, theirs = _snapshot(target), _snapshot(source)
        assert mine["watches"] == theirs["watches"]
        assert mine["accounts"] == theirs["accounts"]
        assert mine["tokens"] == theirs["tokens"]
        assert mine["evidence"] == theirs["evidence"]
        assert mine["links"] == theirs["links"]
        assert mine["state"] == theirs["state"]
        # the replayed journal is the same log
        assert LogReader(target).root(report.entries) == LogReader(source).root(report.entries)
        # nobody signs in as a replayed account
        with target.read() as uow:
            rows = uow.accounts.all()
        assert all(r.username.startswith("replayed-") for r in rows)
        assert all(r.password_hash.startswith("!replayed") for r in rows)
    finally:
        source.close()
        target.close()


def test_an_unknown_action_is_kept_and_named(tmp_path: Path) -> None:
    source = Store(f"sqlite:///{tmp_path / 's.sqlite'}")
    ingest_path(source, EXCERPTS[0])
    with source.transaction() as uow:
        journal.append(uow, "future", "from-the-future", {"x": 1})
    exported = _export(source, tmp_path / "j.ndjson")
    target = Store(f"sqlite:///{tmp_path / 't.sqlite'}")
    report = replay(target, exported, [TEST_DATA / "excerpts"])
    assert report.ok and report.applied == 2
    assert "'from-the-future' is not one this version knows" in report.notes[0].message


@pytest.fixture
def published(tmp_path: Path) -> tuple[Store, Signer, Path, str]:
    store = Store(f"sqlite:///{tmp_path / 'pub.sqlite'}")
    signer, _ = keys.init(store, tmp_path / "pubdata", "rirport.test/pub")
    store.log_signer = signer
    for path in EXCERPTS[:3]:
        ingest_path(store, path)
    add_watch(store, "w", Criteria(registries=("afrinic",)))
    note = tlog.latest_checkpoint(store).note
    return store, signer, _export(store, tmp_path / "pub.ndjson"), note


def test_replay_with_a_checkpoint_accepts_what_it_covers(
    published: tuple[Store, Signer, Path, str], tmp_path: Path
) -> None:
    _store, signer, exported, note = published
    target = Store(f"sqlite:///{tmp_path / 't.sqlite'}")
    report = replay(
        target, exported, [TEST_DATA / "excerpts"], signed=SignedHead(note, signer.verifier)
    )
    assert report.ok and report.applied == 4
    assert report.checkpoint is not None and "size 4" in report.checkpoint


def test_a_rehashed_forgery_is_refused(
    published: tuple[Store, Signer, Path, str], tmp_path: Path
) -> None:
    _store, signer, exported, note = published
    lines = exported.read_text().splitlines()
    forged, prev = [], journal.GENESIS
    for line in lines:
        entry = json.loads(line)
        if entry["action"] == "watch-add":
            entry["payload"]["criteria"] = {"registries": ["arin"]}
        entry["prev_hash"] = prev
        payload = journal.canonical(entry["payload"])
        entry["hash"] = journal.entry_hash(
            entry["serial"], entry["created_at"], entry["actor"], entry["action"], prev, payload
        )
        prev = entry["hash"]
        forged.append(json.dumps(entry))
    path = tmp_path / "forged.ndjson"
    path.write_text("\n".join(forged) + "\n")
    assert journal.verify_file(path).ok  # the chain alone is fooled
    target = Store(f"sqlite:///{tmp_path / 't.sqlite'}")
    with pytest.raises(VerificationError, match="do not make the root signed"):
        replay(target, path, [TEST_DATA / "excerpts"], signed=SignedHead(note, signer.verifier))
    with target.read() as uow:
        assert uow.journal.count() == 0


def test_an_appended_forgery_is_not_accepted(
    published: tuple[Store, Signer, Path, str], tmp_path: Path
) -> None:
    _store, signer, exported, note = published
    last = json.loads(exported.read_text().splitlines()[-1])
    payload = journal.canonical({"watch": 9, "name": "evil"})
    extra = {
        "serial": 5,
        "created_at": last["created_at"],
        "actor": "mallory",
        "action": "watch-remove",
        "payload": {"watch": 9, "name": "evil"},
        "prev_hash": last["hash"],
        "hash": journal.entry_hash(
            5, last["created_at"], "mallory", "watch-remove", last["hash"], payload
        ),
    }
    with exported.open("a") as out:
        out.write(json.dumps(extra) + "\n")
    target = Store(f"sqlite:///{tmp_path / 't.sqlite'}")
    report = replay(
        target, exported, [TEST_DATA / "excerpts"], signed=SignedHead(note, signer.verifier)
    )
    assert report.applied == 4 and report.entries == 4
    with target.read() as uow:
        assert uow.journal.count() == 4


def test_a_wrong_key_is_refused_by_the_cli(
    published: tuple[Store, Signer, Path, str], tmp_path: Path
) -> None:
    _, _, exported, note = published
    (tmp_path / "cp").write_text(note)
    other = Signer.generate("rirport.test/pub").verifier.vkey()
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "--db",
            f"sqlite:///{tmp_path / 't.sqlite'}",
            "journal",
            "replay",
            str(exported),
            "--files",
            str(TEST_DATA / "excerpts"),
            "--checkpoint",
            str(tmp_path / "cp"),
            "--key",
            other,
        ],
    )
    assert result.exit_code == 1
    assert "not signed by an expected key" in result.output
