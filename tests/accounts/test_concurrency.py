"""Account rules under real concurrency: several threads, each on its own connection to the
same store, on both engines (issue 11 #26, #32, #34)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from rirport.accounts import passwords, service
from rirport.accounts.service import AuthSettings
from rirport.accounts.throttle import Limits
from rirport.errors import (
    AuthenticationError,
    ConflictError,
    LoginThrottledError,
    RirportError,
)
from rirport.store.repos.accounts import AccountRepo
from rirport.store.unit import Store

PASSWORD = "correct horse battery staple"


@pytest.fixture
def shared(store_url: str) -> Iterator[Store]:
    store = Store(store_url)
    yield store
    store.close()


def at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls in threads released together; each one's result or error."""
    start = threading.Barrier(len(calls), timeout=30)
    out: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        start.wait()
        try:
            out[i] = calls[i]()
        except RirportError as exc:
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return out


def slow(monkeypatch: pytest.MonkeyPatch, cls: type, name: str, seconds: float = 0.3) -> None:
    """Widen a race: ``cls.name`` sleeps after it ran (so a competitor runs meanwhile)."""
    real = getattr(cls, name)

    def slowed(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        time.sleep(seconds)
        return result

    monkeypatch.setattr(cls, name, slowed)


def enabled_admins(store: Store) -> int:
    with store.read() as uow:
        return sum(
            1
            for r in AccountRepo(uow.connection).all()
            if r.tier == "admin" and r.disabled_at is None
        )


@pytest.mark.parametrize("take_away", ["demote", "disable"])
def test_two_administrators_removing_each_other_at_once(
    shared: Store, monkeypatch: pytest.MonkeyPatch, take_away: str
) -> None:
    a = service.create_account(shared, "admin-a", PASSWORD, "admin", "x").id
    b = service.create_account(shared, "admin-b", PASSWORD, "admin", "x").id
    slow(monkeypatch, AccountRepo, "get")  # read the account, then pause before changing it

    def remove(target: int) -> Callable[[], Any]:
        if take_away == "demote":
            return lambda: service.set_tier(shared, target, "strategy-circle", "x")
        return lambda: service.disable(shared, target, "x")

    outcomes = at_once([remove(b), remove(a)])
    refused = [o for o in outcomes if isinstance(o, ConflictError)]
    assert len(refused) == 1, outcomes
    assert "last administrator" in str(refused[0])
    assert enabled_admins(shared) == 1


def test_an_administrator_disabled_can_be_enabled_again(shared: Store) -> None:
    a = service.create_account(shared, "admin-a", PASSWORD, "admin", "x").id
    b = service.create_account(shared, "admin-b", PASSWORD, "admin", "x").id
    _row, token = service.create_token(shared, b, "ci", "x")
    service.disable(shared, b, "x")
    with pytest.raises(ConflictError, match="last administrator"):
        service.disable(shared, a, "x")
    row = service.enable(shared, b, "x")
    assert row.disabled_at is None and row.tier == "admin"
    assert service.from_token(shared, token) is None  # revoked when disabled, stays so
    assert service.login(shared, "admin-b", PASSWORD, "127.0.0.1", AuthSettings())[0]
    with pytest.raises(ConflictError, match="not disabled"):
        service.enable(shared, b, "x")
    service.disable(shared, a, "x")  # now there is another administrator
    assert enabled_admins(shared) == 1


def test_one_username_created_twice_at_once(shared: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    slow(monkeypatch, AccountRepo, "by_key")  # both check "free", then both insert
    outcomes = at_once(
        [
            lambda name=name: service.create_account(shared, name, PASSWORD, "admin", "x")  # type: ignore[misc]
            for name in ("quinn", "QUINN")
        ]
    )
    errors = [o for o in outcomes if isinstance(o, RirportError)]
    assert len(errors) == 1, outcomes
    assert isinstance(errors[0], ConflictError)
    assert str(errors[0]) == "an account with that username exists already"


def test_concurrent_logins_reach_the_password_check_at_most_the_limit(
    shared: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    service.create_account(shared, "member", PASSWORD, "strategy-circle", "x")
    checked: list[int] = []
    real = passwords.verify_password

    def counting(stored: str | None, given: str) -> bool:
        checked.append(1)
        return real(stored, given)

    monkeypatch.setattr(passwords, "verify_password", counting)
    settings = AuthSettings(limits=Limits(5, 1000, 900))
    outcomes = at_once(
        [
            lambda: service.login(shared, "member", "wrong password", "10.0.0.9", settings)
            for _ in range(24)
        ]
    )
    assert len(checked) == 5
    assert sum(isinstance(o, AuthenticationError) for o in outcomes) == 5
    assert sum(isinstance(o, LoginThrottledError) for o in outcomes) == 19
    # the member, from its own address, is not locked out
    assert service.login(shared, "member", PASSWORD, "10.0.0.1", settings)[0].account_id


def test_token_checks_and_reads_go_through_while_a_write_is_held(
    shared: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """During an ingest (any long write), a token-authenticated request, ``journal show`` and
    a lookup answer at once instead of waiting for it (issue 11 #30)."""
    from rirport.query.lookup import sql_find
    from rirport.services.audit import journal
    from rirport.store import engine as store_engine
    from tests.store.test_concurrency import HeldWrite

    monkeypatch.setattr(store_engine, "WRITE_WAIT_SECONDS", 5)
    account = service.create_account(shared, "member", PASSWORD, "strategy-circle", "x").id
    _row, token = service.create_token(shared, account, "ci", "x")
    with HeldWrite(shared) as held:
        principal = service.from_token(shared, token)  # its last-use write is skipped
        entries = journal.entries(shared)
        found = sql_find(shared, "AS3333")
        assert not held.released.is_set()
    assert principal is not None and principal.account_id == account
    assert [e.action for e in entries] == ["account-create", "token-create"]
    assert found == []
    if shared.engine.dialect.name == "sqlite":  # one write lock: the touch was skipped
        assert service.tokens_of(shared, account)[0].last_used_at is None
    service.from_token(shared, token)  # no write in the way: the last use is written
    assert service.tokens_of(shared, account)[0].last_used_at is not None
