"""Accounts as use cases: each change one transaction with its journal entry.

Journal entries name accounts by id and never carry a username, password, hash or token (the
journal is public at ``/api/journal``). Signing in and out and the login throttle's counters
are authentication bookkeeping, not changes to the registry: each is one transaction, but
without a journal entry (an entry bumps the store generation, which makes every server process
reload its index; a login must not, and failed logins must not let anyone force reloads).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from limits.storage import Storage

from rirport.accounts import passwords
from rirport.accounts.credentials import digest, new_secret, new_token
from rirport.accounts.policy import ROLES, Principal, parse_role
from rirport.accounts.throttle import Limits, LoginThrottle
from rirport.errors import (
    AuthenticationError,
    ConflictError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
    StoreBusyError,
)
from rirport.services.audit import journal
from rirport.store.counters import StoreCounters
from rirport.store.repos.accounts import AccountRepo, AccountRow, TokenRow
from rirport.store.unit import Store

Clock = Callable[[], dt.datetime]
MAX_NAME = 128
TOUCH_EVERY = dt.timedelta(seconds=60)
"""A token's ``last_used_at`` is written at most once a minute (a write per request would
serialise every API call on SQLite)."""
TOUCH_WAIT = 0.2
"""Seconds the last-use write waits for another write before it is skipped."""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class AuthSettings:
    """How long sessions live and how logins are throttled (passed in by the edge).

    ``counters`` makes the ``limits`` storage the throttle counts in (default: the store's
    own table, shared by every process on it).
    """

    session_hours: float = 12.0
    limits: Limits = field(default_factory=Limits)
    clock: Clock = utcnow
    counters: Callable[[Store, Callable[[], float]], Storage] = StoreCounters

    def throttle(self, store: Store) -> LoginThrottle:
        return LoginThrottle(
            self.counters(store, lambda: self.clock().timestamp()),
            self.limits,
            lambda: self.clock().timestamp(),
        )


@dataclass(frozen=True)
class Account:
    """An account as shown to administrators (never its password hash)."""

    row: AccountRow
    holders: list[tuple[str, str]]
    tokens: list[TokenRow]

    def to_json(self) -> dict[str, Any]:
        r = self.row
        return {
            "id": r.id,
            "username": r.username,
            "tier": r.tier,
            "created_at": r.created_at.isoformat(),
            "disabled": r.disabled_at is not None,
            "holders": [{"registry": g, "opaque_id": o} for g, o in self.holders],
            "tokens": [token_json(t) for t in self.tokens],
        }


def token_json(t: TokenRow) -> dict[str, Any]:
    return {
        "id": t.id,
        "name": t.name,
        "created_at": t.created_at.isoformat(),
        "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
        "revoked": t.revoked_at is not None,
    }


def text_field(value: str, what: str, limit: int = MAX_NAME) -> str:
    """Free text as stored (verbatim): refused only when empty, too long or with control
    characters.

    Raises:
        InputError: naming the field.
    """
    text = value.strip()
    if not text or len(text) > limit or any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise InputError(f"{what} must be 1 to {limit} printable characters")
    return text


# -- administration ------------------------------------------------------------------------
def create_account(
    store: Store, username: str, password: str, tier: str, actor: str, clock: Clock = utcnow
) -> AccountRow:
    """A new account.

    Raises:
        InputError: a bad username, weak password or unknown tier.
        ConflictError: the name is taken (compared case- and width-insensitively).
    """
    name = passwords.check_username(username)
    passwords.check_password(password, name)
    role = parse_role(tier)
    hashed = passwords.hash_password(password)
    now = clock()
    with store.transaction() as uow:
        repo = uow.accounts
        if repo.by_key(passwords.username_key(name)) is not None:
            raise ConflictError("an account with that username exists already")
        serial = uow.journal.reserve()
        account_id = repo.add(
            {
                "username": name,
                "username_key": passwords.username_key(name),
                "password_hash": hashed,
                "tier": role,
                "created_at": now,
                "password_changed_at": now,
                "created_serial": serial,
                "updated_serial": serial,
            }
        )
        journal.append(uow, actor, "account-create", {"account": account_id, "tier": role}, serial)
        row = repo.get(account_id)
    assert row is not None
    return row


def set_tier(store: Store, account_id: int, tier: str, actor: str) -> AccountRow:
    """Change an account's tier (the last enabled administrator stays one).

    Raises:
        InputError: unknown tier. NotFoundError: no such account.
        ConflictError: it would leave no administrator.
    """
    role = parse_role(tier)
    with store.transaction() as uow:
        repo = uow.accounts
        if role != "admin":
            _keep_an_administrator(repo, account_id)
        row = _account(repo, account_id)
        serial = uow.journal.reserve()
        repo.change(account_id, tier=role, updated_serial=serial)
        journal.append(
            uow,
            actor,
            "account-tier",
            {"account": account_id, "tier": role, "before": row.tier},
            serial,
        )
        changed = repo.get(account_id)
    assert changed is not None
    return changed


def link_holder(
    store: Store,
    account_id: int,
    registry: str,
    opaque_id: str,
    actor: str,
    known: Callable[[str, str], bool],
) -> None:
    """Record that an administrator verified this account for a holder identity.

    Raises:
        InputError: a bad registry or id. NotFoundError: no such account, or no such holder
        in the current data (``known``). ConflictError: linked already.
    """
    reg, holder = _holder(registry, opaque_id)
    if not known(reg, holder):
        raise NotFoundError(f"no holder {reg}:{holder} in the current data")
    with store.transaction() as uow:
        repo = uow.accounts
        _account(repo, account_id)
        if (reg, holder) in {(h.registry, h.opaque_id) for h in repo.holders(account_id)}:
            raise ConflictError(f"account {account_id} is linked to {reg}:{holder} already")
        serial = uow.journal.reserve()
        repo.link(account_id, reg, holder, serial)
        _touch(repo, account_id, serial)
        journal.append(
            uow,
            actor,
            "account-link",
            {"account": account_id, "registry": reg, "holder": holder},
            serial,
        )


def unlink_holder(store: Store, account_id: int, registry: str, opaque_id: str, actor: str) -> None:
    """Withdraw a verification.

    Raises:
        NotFoundError: no such account, or no such link.
    """
    reg, holder = _holder(registry, opaque_id)
    with store.transaction() as uow:
        repo = uow.accounts
        _account(repo, account_id)
        if not repo.unlink(account_id, reg, holder):
            raise NotFoundError(f"account {account_id} is not linked to {reg}:{holder}")
        serial = uow.journal.reserve()
        _touch(repo, account_id, serial)
        journal.append(
            uow,
            actor,
            "account-unlink",
            {"account": account_id, "registry": reg, "holder": holder},
            serial,
        )


def disable(store: Store, account_id: int, actor: str, clock: Clock = utcnow) -> None:
    """Disable an account: its sessions and tokens stop working at once.

    Raises:
        NotFoundError: no such account. ConflictError: disabled already, or the last
        administrator.
    """
    now = clock()
    with store.transaction() as uow:
        repo = uow.accounts
        _keep_an_administrator(repo, account_id)
        row = _account(repo, account_id)
        if row.disabled_at is not None:
            raise ConflictError(f"account {account_id} is disabled already")
        serial = uow.journal.reserve()
        repo.change(account_id, disabled_at=now, updated_serial=serial)
        sessions = repo.revoke_sessions(account_id, now)
        tokens = repo.revoke_tokens(account_id, now)
        journal.append(
            uow,
            actor,
            "account-disable",
            {"account": account_id, "sessions_revoked": sessions, "tokens_revoked": tokens},
            serial,
        )


def enable(store: Store, account_id: int, actor: str) -> AccountRow:
    """Enable a disabled account again (the way back, also for an administrator). Its old
    sessions and tokens stay revoked: it signs in anew.

    Raises:
        NotFoundError: no such account. ConflictError: it is not disabled.
    """
    with store.transaction() as uow:
        repo = uow.accounts
        if _account(repo, account_id).disabled_at is None:
            raise ConflictError(f"account {account_id} is not disabled")
        serial = uow.journal.reserve()
        repo.change(account_id, disabled_at=None, updated_serial=serial)
        journal.append(uow, actor, "account-enable", {"account": account_id}, serial)
        changed = repo.get(account_id)
    assert changed is not None
    return changed


def _keep_an_administrator(repo: AccountRepo, account_id: int) -> None:
    """Refuse to take away the last enabled administrator: the administrators' rows are
    locked before they are counted, so two administrators demoting or disabling each other
    at once cannot both succeed (the second sees the first's change).

    Raises:
        ConflictError: ``account_id`` is the only enabled administrator.
    """
    if repo.lock_admins() == [account_id]:
        raise ConflictError("that is the last administrator; make another one first")


def accounts(store: Store) -> list[Account]:
    with store.read() as uow:
        repo = uow.accounts
        return [
            Account(r, [(h.registry, h.opaque_id) for h in repo.holders(r.id)], repo.tokens(r.id))
            for r in repo.all()
        ]


def account(store: Store, account_id: int) -> Account:
    """Raises: NotFoundError."""
    with store.read() as uow:
        repo = uow.accounts
        row = _account(repo, account_id)
        return Account(
            row, [(h.registry, h.opaque_id) for h in repo.holders(row.id)], repo.tokens(row.id)
        )


def account_id_of(store: Store, username: str) -> int:
    """The id of a username (the CLI takes either).

    Raises:
        NotFoundError: no such account.
    """
    with store.read() as uow:
        row = uow.accounts.by_key(passwords.username_key(username))
    if row is None:
        raise NotFoundError(f"no account {username!r}")
    return row.id


# -- one's own account -----------------------------------------------------------------------
def change_password(
    store: Store, account_id: int, current: str, new: str, actor: str, clock: Clock = utcnow
) -> None:
    """Replace a password; every session of the account is revoked (the caller signs the
    browser in again), API tokens stay.

    Raises:
        PermissionDeniedError: the current password is wrong. InputError: a weak new one.
    """
    with store.read() as uow:
        row = _account(uow.accounts, account_id)
    if not passwords.verify_password(row.password_hash, current):
        raise PermissionDeniedError("the current password is not right")
    passwords.check_password(new, row.username)
    hashed = passwords.hash_password(new)
    now = clock()
    with store.transaction() as uow:
        repo = uow.accounts
        serial = uow.journal.reserve()
        repo.change(
            account_id, password_hash=hashed, password_changed_at=now, updated_serial=serial
        )
        revoked = repo.revoke_sessions(account_id, now)
        journal.append(
            uow,
            actor,
            "account-password",
            {"account": account_id, "sessions_revoked": revoked},
            serial,
        )


def create_token(
    store: Store, account_id: int, name: str, actor: str, clock: Clock = utcnow
) -> tuple[TokenRow, str]:
    """A new API token; the token text is returned here and never again.

    Raises:
        InputError: a bad name. NotFoundError: no such account.
        ConflictError: the account is disabled.
    """
    label = text_field(name, "a token name")
    token = new_token()
    with store.transaction() as uow:
        repo = uow.accounts
        if _account(repo, account_id).disabled_at is not None:
            raise ConflictError(f"account {account_id} is disabled")
        serial = uow.journal.reserve()
        token_id = repo.add_token(account_id, label, digest(token), clock(), serial)
        journal.append(
            uow, actor, "token-create", {"account": account_id, "token": token_id}, serial
        )
        row = repo.token(token_id)
    assert row is not None
    return row, token


def revoke_token(
    store: Store, token_id: int, actor: str, owner: int | None = None, clock: Clock = utcnow
) -> None:
    """Revoke a token (``owner``: only if it is that account's).

    Raises:
        NotFoundError: no such token (or not the owner's: the same answer).
        ConflictError: revoked already.
    """
    with store.transaction() as uow:
        repo = uow.accounts
        row = repo.token(token_id)
        if row is None or (owner is not None and row.account_id != owner):
            raise NotFoundError(f"no token {token_id}")
        if row.revoked_at is not None:
            raise ConflictError(f"token {token_id} is revoked already")
        serial = uow.journal.reserve()
        repo.revoke_token(token_id, clock())
        journal.append(
            uow, actor, "token-revoke", {"account": row.account_id, "token": token_id}, serial
        )


def tokens_of(store: Store, account_id: int) -> list[TokenRow]:
    with store.read() as uow:
        return uow.accounts.tokens(account_id)


# -- signing in -----------------------------------------------------------------------------
def login(
    store: Store, username: str, password: str, client: str, settings: AuthSettings
) -> tuple[Principal, str]:
    """Check a password and open a session; returns the principal and the new session id.

    The same error for an unknown name, a disabled account and a wrong password.

    Raises:
        LoginThrottledError: too many recent attempts for the name from this client, or from
            the client (:mod:`rirport.accounts.throttle`; counted before the password is
            checked). AuthenticationError: the name and password do not match.
    """
    key = passwords.username_key(username)[:MAX_NAME]
    client = client[:64]
    throttle = settings.throttle(store)
    throttle.admit(key, client)
    with store.read() as uow:
        row = uow.accounts.by_key(key)
    good = passwords.verify_password(row.password_hash if row else None, password)
    if not good or row is None or row.disabled_at is not None:
        raise AuthenticationError("wrong username or password")
    throttle.succeeded(key, client)
    with store.transaction() as uow:
        repo = uow.accounts
        if passwords.needs_rehash(row.password_hash):
            repo.change(row.id, password_hash=passwords.hash_password(password))
        return _open_session(repo, row, settings)


def start_session(store: Store, account_id: int, settings: AuthSettings) -> tuple[Principal, str]:
    """A new session for an account that just proved itself (after a password change).

    Raises:
        NotFoundError: no such account. AuthenticationError: it is disabled.
    """
    with store.transaction() as uow:
        repo = uow.accounts
        row = _account(repo, account_id)
        if row.disabled_at is not None:
            raise AuthenticationError("the account is disabled")
        return _open_session(repo, row, settings)


def _open_session(
    repo: AccountRepo, row: AccountRow, settings: AuthSettings
) -> tuple[Principal, str]:
    now = settings.clock()
    session_id = new_secret()
    repo.drop_expired_sessions(now)
    repo.add_session(
        digest(session_id), row.id, now, now + dt.timedelta(hours=settings.session_hours)
    )
    return _principal(repo, row, "session", digest(session_id)), session_id


def logout(store: Store, session_hash: str, clock: Clock = utcnow) -> bool:
    """Revoke one session; True if it was open."""
    with store.transaction() as uow:
        return uow.accounts.revoke_session(session_hash, clock()) > 0


def from_session(store: Store, session_id: str, clock: Clock = utcnow) -> Principal | None:
    """The principal of a session id, or None: unknown, revoked, expired, older than the
    last password change, or of a disabled account."""
    now = clock()
    with store.read() as uow:
        repo = uow.accounts
        row = repo.session(digest(session_id))
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            return None
        account_row = repo.get(row.account_id)
        if (
            account_row is None
            or account_row.disabled_at is not None
            or row.created_at < account_row.password_changed_at
        ):
            return None
        return _principal(repo, account_row, "session", row.id_hash)


def from_token(store: Store, token: str, clock: Clock = utcnow) -> Principal | None:
    """The principal of an API token, or None: unknown, revoked or of a disabled account.

    A read: it never waits for a write in progress. The token's last-use time (written at
    most once a minute) is bookkeeping, skipped when another write holds the store.
    """
    now = clock()
    with store.read() as uow:
        repo = uow.accounts
        row = repo.token_by_hash(digest(token))
        if row is None or row.revoked_at is not None:
            return None
        account_row = repo.get(row.account_id)
        if account_row is None or account_row.disabled_at is not None:
            return None
        principal = _principal(repo, account_row, "token")
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
        with contextlib.suppress(StoreBusyError), store.transaction(wait=TOUCH_WAIT) as uow:
            uow.accounts.touch_token(row.id, now)
    return principal


# -- helpers ---------------------------------------------------------------------------------
def _principal(
    repo: AccountRepo, row: AccountRow, via: str, session_hash: str | None = None
) -> Principal:
    holders = tuple((h.registry, h.opaque_id) for h in repo.holders(row.id))
    return Principal(
        row.id, row.tier if row.tier in ROLES else "strategy-circle", via, session_hash, holders
    )


def _account(repo: AccountRepo, account_id: int) -> AccountRow:
    row = repo.get(account_id)
    if row is None:
        raise NotFoundError(f"no account {account_id}")
    return row


def _touch(repo: AccountRepo, account_id: int, serial: int) -> None:
    repo.change(account_id, updated_serial=serial)


def _holder(registry: str, opaque_id: str) -> tuple[str, str]:
    from rirport.domain.enums import Registry

    try:
        reg = Registry.parse(registry).value
    except ValueError as exc:
        raise InputError(str(exc)) from None
    return reg, text_field(opaque_id, "a holder's opaque-id")
