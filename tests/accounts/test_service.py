"""The account service on each engine: each change one journaled transaction without
secrets, refusals that change nothing, sessions and tokens ending, the last administrator."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from rirport.accounts import service
from rirport.accounts.service import AuthSettings
from rirport.accounts.throttle import Limits
from rirport.errors import (
    AuthenticationError,
    ConflictError,
    InputError,
    LoginThrottledError,
    NotFoundError,
)
from rirport.services.audit import journal
from rirport.store.repos.accounts import AccountRepo
from rirport.store.unit import Store

PASSWORD = "correct horse battery staple"


def counts(store: Store) -> dict[str, int]:
    with store.transaction() as uow:
        return {**AccountRepo(uow.connection).counts(), "generation": uow.meta.generation()}


def test_create_journal_and_refusals(store: Store) -> None:
    row = service.create_account(store, "Admin", PASSWORD, "admin", "root@host")
    assert row.username == "Admin" and row.password_hash.startswith("$argon2id$")
    entry = journal.entries(store)[-1]
    assert (entry.actor, entry.action, json.loads(entry.payload)) == (
        "root@host",
        "account-create",
        {"account": row.id, "tier": "admin"},
    )
    before = counts(store)
    with pytest.raises(ConflictError):
        service.create_account(store, "ADMIN", PASSWORD, "admin", "x")
    with pytest.raises(InputError, match="shorter"):
        service.create_account(store, "other", "short", "admin", "x")
    with pytest.raises(InputError, match="unknown tier"):
        service.create_account(store, "other", PASSWORD, "platinum", "x")
    with pytest.raises(ConflictError, match="last administrator"):
        service.set_tier(store, row.id, "strategy-circle", "x")
    with pytest.raises(ConflictError, match="last administrator"):
        service.disable(store, row.id, "x")
    with pytest.raises(NotFoundError):
        service.set_tier(store, 999, "admin", "x")
    assert counts(store) == before
    assert journal.verify(store).ok


def test_sessions_expire_end_and_die_with_the_account(store: Store) -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    service.create_account(store, "root", PASSWORD, "admin", "x")
    account = service.create_account(
        store, "member", PASSWORD, "strategy-circle", "x", lambda: start - dt.timedelta(days=1)
    ).id
    settings = AuthSettings(session_hours=1, clock=lambda: start)
    principal, sid = service.login(store, "member", PASSWORD, "127.0.0.1", settings)
    assert principal.account_id == account and principal.read_tier == "strategy-circle"
    generation = counts(store)["generation"]  # signing in is not journaled
    assert service.from_session(store, sid, lambda: start + dt.timedelta(minutes=59))
    assert service.from_session(store, sid, lambda: start + dt.timedelta(minutes=60)) is None
    assert service.from_session(store, "made-up", lambda: start) is None
    _p, second = service.login(store, "member", PASSWORD, "127.0.0.1", AuthSettings())
    row, token = service.create_token(store, account, "ci", "x")
    assert service.from_token(store, token) is not None
    assert counts(store)["generation"] == generation + 1  # the token only
    service.disable(store, account, "x")
    assert service.from_session(store, second) is None and service.from_token(store, token) is None
    with pytest.raises(AuthenticationError):
        service.login(store, "member", PASSWORD, "127.0.0.1", AuthSettings())
    with pytest.raises(ConflictError):
        service.create_token(store, account, "again", "x")
    assert row.id and all(token not in e.payload for e in journal.entries(store))


def test_login_throttle_is_shared_through_the_store(store: Store) -> None:
    service.create_account(store, "member", PASSWORD, "strategy-circle", "x")
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    settings = AuthSettings(limits=Limits(2, 100, 60), clock=lambda: now)
    for _ in range(2):
        with pytest.raises(AuthenticationError):
            service.login(store, "member", "wrong password", "10.0.0.1", settings)
    with pytest.raises(LoginThrottledError) as caught:  # the right password, too late
        service.login(store, "MEMBER", PASSWORD, "10.0.0.1", settings)
    assert caught.value.retry_after == 60
    # another address (the member's own) is not locked out by a stranger's failures
    assert service.login(store, "member", PASSWORD, "10.0.0.2", settings)[0].account_id
    later = AuthSettings(limits=Limits(2, 100, 60), clock=lambda: now + dt.timedelta(seconds=61))
    assert service.login(store, "member", PASSWORD, "10.0.0.1", later)[0].account_id
    assert counts(store)["rate_counter"] <= 2  # ended windows are dropped


def test_tokens_revoke_once_and_only_by_owner(store: Store) -> None:
    a = service.create_account(store, "aaaa", PASSWORD, "strategy-circle", "x").id
    b = service.create_account(store, "bbbb", PASSWORD, "strategy-circle", "x").id
    row, token = service.create_token(store, a, "<b>bold</b>", "x")
    assert service.tokens_of(store, a)[0].name == "<b>bold</b>"
    with pytest.raises(NotFoundError):
        service.revoke_token(store, row.id, "x", owner=b)
    service.revoke_token(store, row.id, "x", owner=a)
    with pytest.raises(ConflictError):
        service.revoke_token(store, row.id, "x")
    assert service.from_token(store, token) is None
    with pytest.raises(InputError):
        service.create_token(store, a, "line\nbreak", "x")


def test_links_need_a_known_holder(store: Store) -> None:
    account = service.create_account(store, "holder", PASSWORD, "leadership-alliance", "x").id
    before = counts(store)
    with pytest.raises(NotFoundError, match="no holder"):
        service.link_holder(store, account, "arin", "ghost", "x", lambda r, o: False)
    with pytest.raises(InputError):
        service.link_holder(store, account, "nowhere", "id", "x", lambda r, o: True)
    assert counts(store) == before
    service.link_holder(store, account, "RIPE NCC", "abc", "x", lambda r, o: True)
    with pytest.raises(ConflictError):
        service.link_holder(store, account, "ripencc", "abc", "x", lambda r, o: True)
    assert service.account(store, account).holders == [("ripencc", "abc")]
    service.unlink_holder(store, account, "ripencc", "abc", "x")
    with pytest.raises(NotFoundError):
        service.unlink_holder(store, account, "ripencc", "abc", "x")
    assert [e.action for e in journal.entries(store)][-2:] == ["account-link", "account-unlink"]
