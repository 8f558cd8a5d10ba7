"""Repositories of accounts, verified holders, sessions and API tokens.

Bound to one transaction's connection like the others (:mod:`rirport.store.repos`); no
business rules here: :mod:`rirport.accounts.service` decides, these read and write rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from rirport.errors import ConflictError
from rirport.store import schema


def utc(value: Any) -> dt.datetime | None:
    """A stored time as an aware UTC datetime (SQLite hands back naive ones)."""
    if value is None:
        return None
    when = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)


@dataclass(frozen=True)
class AccountRow:
    id: int
    username: str
    username_key: str
    password_hash: str
    tier: str
    created_at: dt.datetime
    password_changed_at: dt.datetime
    disabled_at: dt.datetime | None
    created_serial: int
    updated_serial: int

    @classmethod
    def of(cls, mapping: Any) -> AccountRow:
        values = dict(mapping)
        for key in ("created_at", "password_changed_at", "disabled_at"):
            values[key] = utc(values[key])
        return cls(**values)


@dataclass(frozen=True)
class HolderRow:
    registry: str
    opaque_id: str


@dataclass(frozen=True)
class SessionRow:
    id_hash: str
    account_id: int
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None


@dataclass(frozen=True)
class TokenRow:
    id: int
    account_id: int
    name: str
    token_hash: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None
    created_serial: int


def _times(mapping: Any, *keys: str) -> dict[str, Any]:
    values = dict(mapping)
    for key in keys:
        values[key] = utc(values[key])
    return values


class AccountRepo:
    """Rows of the account tables."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection

    # -- accounts ---------------------------------------------------------------------------
    def add(self, values: dict[str, Any]) -> int:
        """A new account's id.

        Raises:
            ConflictError: the username key is taken (by a concurrent creation that committed
                first: the service checks before, the unique index decides).
        """
        try:
            result = self._c.execute(insert(schema.account).values(**values))
        except IntegrityError:
            raise ConflictError("an account with that username exists already") from None
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def get(self, account_id: int) -> AccountRow | None:
        row = self._c.execute(
            select(schema.account).where(schema.account.c.id == account_id)
        ).first()
        return AccountRow.of(row._mapping) if row else None

    def by_key(self, username_key: str) -> AccountRow | None:
        row = self._c.execute(
            select(schema.account).where(schema.account.c.username_key == username_key)
        ).first()
        return AccountRow.of(row._mapping) if row else None

    def all(self) -> list[AccountRow]:
        return [
            AccountRow.of(r._mapping)
            for r in self._c.execute(select(schema.account).order_by(schema.account.c.id))
        ]

    def change(self, account_id: int, **values: Any) -> None:
        self._c.execute(
            update(schema.account).where(schema.account.c.id == account_id).values(**values)
        )

    def lock_admins(self) -> list[int]:
        """The enabled administrators' ids, their rows locked to the end of the transaction
        (``FOR UPDATE`` on PostgreSQL; SQLite's write lock already serialises writers), so
        a count read here stays true until this transaction commits."""
        a = schema.account.c
        query = (
            select(a.id)
            .where(a.tier == "admin", a.disabled_at.is_(None))
            .order_by(a.id)
            .with_for_update()
        )
        return [int(i) for i in self._c.execute(query).scalars()]

    # -- verified holders -------------------------------------------------------------------
    def holders(self, account_id: int) -> list[HolderRow]:
        h = schema.account_holder.c
        return [
            HolderRow(r.registry, r.opaque_id)
            for r in self._c.execute(
                select(h.registry, h.opaque_id)
                .where(h.account_id == account_id)
                .order_by(h.registry, h.opaque_id)
            )
        ]

    def link(self, account_id: int, registry: str, opaque_id: str, serial: int) -> None:
        self._c.execute(
            insert(schema.account_holder).values(
                account_id=account_id, registry=registry, opaque_id=opaque_id, created_serial=serial
            )
        )

    def unlink(self, account_id: int, registry: str, opaque_id: str) -> int:
        h = schema.account_holder.c
        return int(
            self._c.execute(
                delete(schema.account_holder).where(
                    h.account_id == account_id, h.registry == registry, h.opaque_id == opaque_id
                )
            ).rowcount
        )

    # -- sessions ---------------------------------------------------------------------------
    def add_session(
        self, id_hash: str, account_id: int, created: dt.datetime, expires: dt.datetime
    ) -> None:
        self._c.execute(
            insert(schema.auth_session).values(
                id_hash=id_hash, account_id=account_id, created_at=created, expires_at=expires
            )
        )

    def session(self, id_hash: str) -> SessionRow | None:
        row = self._c.execute(
            select(schema.auth_session).where(schema.auth_session.c.id_hash == id_hash)
        ).first()
        return (
            SessionRow(**_times(row._mapping, "created_at", "expires_at", "revoked_at"))
            if row
            else None
        )

    def revoke_session(self, id_hash: str, when: dt.datetime) -> int:
        s = schema.auth_session.c
        return int(
            self._c.execute(
                update(schema.auth_session)
                .where(s.id_hash == id_hash, s.revoked_at.is_(None))
                .values(revoked_at=when)
            ).rowcount
        )

    def revoke_sessions(self, account_id: int, when: dt.datetime) -> int:
        s = schema.auth_session.c
        return int(
            self._c.execute(
                update(schema.auth_session)
                .where(s.account_id == account_id, s.revoked_at.is_(None))
                .values(revoked_at=when)
            ).rowcount
        )

    def drop_expired_sessions(self, before: dt.datetime) -> None:
        self._c.execute(
            delete(schema.auth_session).where(schema.auth_session.c.expires_at < before)
        )

    # -- API tokens -------------------------------------------------------------------------
    def add_token(
        self, account_id: int, name: str, token_hash: str, created: dt.datetime, serial: int
    ) -> int:
        result = self._c.execute(
            insert(schema.api_token).values(
                account_id=account_id,
                name=name,
                token_hash=token_hash,
                created_at=created,
                created_serial=serial,
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def token(self, token_id: int) -> TokenRow | None:
        row = self._c.execute(
            select(schema.api_token).where(schema.api_token.c.id == token_id)
        ).first()
        return (
            TokenRow(**_times(row._mapping, "created_at", "last_used_at", "revoked_at"))
            if row
            else None
        )

    def token_by_hash(self, token_hash: str) -> TokenRow | None:
        row = self._c.execute(
            select(schema.api_token).where(schema.api_token.c.token_hash == token_hash)
        ).first()
        return (
            TokenRow(**_times(row._mapping, "created_at", "last_used_at", "revoked_at"))
            if row
            else None
        )

    def tokens(self, account_id: int | None = None) -> list[TokenRow]:
        t = schema.api_token.c
        query = select(schema.api_token).order_by(t.id)
        if account_id is not None:
            query = query.where(t.account_id == account_id)
        return [
            TokenRow(**_times(r._mapping, "created_at", "last_used_at", "revoked_at"))
            for r in self._c.execute(query)
        ]

    def revoke_token(self, token_id: int, when: dt.datetime) -> int:
        t = schema.api_token.c
        return int(
            self._c.execute(
                update(schema.api_token)
                .where(t.id == token_id, t.revoked_at.is_(None))
                .values(revoked_at=when)
            ).rowcount
        )

    def revoke_tokens(self, account_id: int, when: dt.datetime) -> int:
        t = schema.api_token.c
        return int(
            self._c.execute(
                update(schema.api_token)
                .where(t.account_id == account_id, t.revoked_at.is_(None))
                .values(revoked_at=when)
            ).rowcount
        )

    def touch_token(self, token_id: int, when: dt.datetime) -> None:
        self._c.execute(
            update(schema.api_token)
            .where(schema.api_token.c.id == token_id)
            .values(last_used_at=when)
        )

    def counts(self) -> dict[str, int]:
        """Rows per table (tests compare them before and after a refused request)."""
        tables = (
            schema.account,
            schema.account_holder,
            schema.auth_session,
            schema.api_token,
            schema.rate_counter,
        )
        return {
            t.name: int(self._c.execute(select(func.count()).select_from(t)).scalar_one())
            for t in tables
        }
