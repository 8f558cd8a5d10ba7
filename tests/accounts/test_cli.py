"""``rirport accounts`` on each engine: bootstrapping the first administrator, tiers, holder
links, tokens that then work over HTTP, and bad input that exits 1 and changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from rirport.accounts import service
from rirport.cli.main import cli
from rirport.services.audit import journal
from rirport.services.registry.ingest import ingest_bytes
from rirport.store.unit import Store
from tests.excerpts import excerpt, real_file
from tests.http.conftest import RIPE_HOLDER

PASSWORD = "correct horse battery staple\n"


@pytest.fixture
def url(store: Store, store_url: str) -> str:
    ingest_bytes(
        store, excerpt(real_file("ripencc"), lambda i, f: i < 30 or f[3] == "193.0.0.0"), "ripe.txt"
    )
    return store_url


def run(url: str, tmp_path: Path, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(
        cli,
        ["--db", url, "--data-dir", str(tmp_path), "--actor", "ops@host", "accounts", *args],
        input=stdin,
    )


def entries(store: Store) -> int:
    return len(journal.entries(store))


def test_bootstrap_and_manage_from_the_cli(url: str, store: Store, tmp_path: Path) -> None:
    made = run(
        url, tmp_path, "create", "root", "--tier", "admin", "--password-stdin", stdin=PASSWORD
    )
    assert made.exit_code == 0, made.output
    prompted = run(
        url,
        tmp_path,
        "create",
        "<b>member</b>",
        stdin="another long passphrase\nanother long passphrase\n",
    )
    assert prompted.exit_code == 0, prompted.output
    assert run(url, tmp_path, "set-tier", "<B>MEMBER</B>", "leadership-alliance").exit_code == 0
    linked = run(url, tmp_path, "link-holder", "2", f"ripencc:{RIPE_HOLDER}")
    assert linked.exit_code == 0, linked.output
    token = run(url, tmp_path, "token", "create", "root", "--name", "ops")
    assert token.exit_code == 0 and token.stdout.strip().startswith("rpt_")
    assert service.from_token(store, token.stdout.strip()) is not None
    listed = json.loads(run(url, tmp_path, "list", "--format", "json").output)
    assert [(a["username"], a["tier"], a["holders"], a["tokens"]) for a in listed] == [
        ("root", "admin", "", 1),
        ("<b>member</b>", "leadership-alliance", f"ripencc:{RIPE_HOLDER}", 0),
    ]
    table = run(url, tmp_path, "list")
    assert table.exit_code == 0 and "<b>member</b>" in table.output
    assert run(url, tmp_path, "token", "revoke", "1").exit_code == 0
    assert service.from_token(store, token.stdout.strip()) is None
    assert run(url, tmp_path, "disable", "2").exit_code == 0
    actions = [e.action for e in journal.entries(store)][-7:]
    assert actions == [
        "account-create",
        "account-create",
        "account-tier",
        "account-link",
        "token-create",
        "token-revoke",
        "account-disable",
    ]
    assert {e.actor for e in journal.entries(store)[-7:]} == {"ops@host"}


def test_bad_input_exits_1_and_changes_nothing(url: str, store: Store, tmp_path: Path) -> None:
    run(url, tmp_path, "create", "root", "--tier", "admin", "--password-stdin", stdin=PASSWORD)
    before = entries(store)
    cases = [
        (("create", "root", "--password-stdin"), PASSWORD, "exists already"),
        (("create", "weak", "--password-stdin"), "short\n", "shorter than 12"),
        (("create", "nopass", "--password-stdin"), "", "no password"),
        (("set-tier", "root", "strategy-circle"), None, "last administrator"),
        (("set-tier", "ghost", "admin"), None, "no account 'ghost'"),
        (("link-holder", "root", "ripencc:not-a-holder"), None, "no holder"),
        (("link-holder", "root", "nowhere:abc"), None, "registry"),
        (("token", "revoke", "42"), None, "no token 42"),
        (("disable", "root"), None, "last administrator"),
    ]
    for args, stdin, message in cases:
        result = run(url, tmp_path, *args, stdin=stdin)
        assert result.exit_code == 1, (args, result.output)
        assert message in result.output, (args, result.output)
    assert run(url, tmp_path, "link-holder", "root", "no-colon").exit_code == 2
    assert entries(store) == before


def test_a_disabled_administrator_is_enabled_again_from_the_cli(
    url: str, store: Store, tmp_path: Path
) -> None:
    for name in ("root", "second"):
        made = run(
            url, tmp_path, "create", name, "--tier", "admin", "--password-stdin", stdin=PASSWORD
        )
        assert made.exit_code == 0, made.output
    assert run(url, tmp_path, "disable", "second").exit_code == 0
    last = run(url, tmp_path, "disable", "root")
    assert last.exit_code == 1 and "last administrator" in last.output
    enabled = run(url, tmp_path, "enable", "second")
    assert enabled.exit_code == 0, enabled.output
    assert "enabled" in enabled.output
    again = run(url, tmp_path, "enable", "second")
    assert again.exit_code == 1 and "is not disabled" in again.output
    listed = json.loads(run(url, tmp_path, "list", "--format", "json").output)
    assert [(a["username"], a["disabled"]) for a in listed] == [
        ("root", False),
        ("second", False),
    ]
    assert journal.entries(store)[-1].action == "account-enable"
