"""Replaying the entries that are not registry data: watchlists, accounts and tokens, evidence,
webhook deliveries, recorded events, and any action this version does not know.

Each is re-applied in one transaction that writes the entry exactly as the file has it (same
serial, time, actor, payload), so the replayed journal, and the transparency log over it,
stay identical to the file's. What the journal never holds cannot be rebuilt, and each such
gap is said, per entry, in the replay's notes:

- password hashes: a replayed account has no usable password (nobody can sign in as it until
  an administrator sets one); the journal names accounts by id only, so its username is
  ``replayed-<id>``;
- API tokens: the token row is rebuilt (name unknown, revocation kept) but its secret never
  was in the journal, so it matches no presented token; its owner makes a new one;
- webhook secrets: a replayed watchlist with a URL has no secret (set it again to deliver);
- webhook deliveries: recorded, never re-posted (a replay must not call anyone's webhook);
- ``events-record``: the entry counts the events, it does not hold them
  (``rirport events --record`` over the same window recomputes them);
- an action this version does not know: kept in the journal, not rebuilt.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from rirport.errors import ConflictError, InputError, StorageError
from rirport.services.audit import journal
from rirport.store.repos.journal import JournalRow
from rirport.store.unit import Store, UnitOfWork

NO_PASSWORD = "!replayed: the journal holds no password hash"
"""A ``password_hash`` no argon2 check accepts: the account exists, nobody can sign in."""
Resolve = Callable[[str, int], int]
"""(kind, id in the file) → id in this store."""

ACTIONS = frozenset(
    {
        "watch-add",
        "watch-remove",
        "webhook-delivery",
        "events-record",
        "evidence-add",
        "evidence-correct",
        "account-create",
        "account-tier",
        "account-link",
        "account-unlink",
        "account-disable",
        "account-enable",
        "account-password",
        "token-create",
        "token-revoke",
    }
)


def rebuild(store: Store, row: JournalRow, resolve: Resolve) -> list[str]:
    """Re-apply one entry and write it verbatim; returns what could not be rebuilt.

    Raises:
        InputError: the payload lacks what the action needs.
        ConflictError: the store's state does not allow it (e.g. the watchlist is gone).
    """
    payload = json.loads(row.payload)
    when = dt.datetime.fromisoformat(row.created_at)
    with store.transaction() as uow:
        serial = uow.journal.reserve()
        if serial != row.serial:
            raise StorageError(f"the store's next serial is {serial}, the entry's {row.serial}")
        try:
            notes = _apply(uow, row, payload, when, resolve)
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"payload is not one this version writes ({exc!r})") from exc
        journal.append(uow, row.actor, row.action, payload, serial, row.created_at)
    return notes


def _apply(
    uow: UnitOfWork, row: JournalRow, p: dict[str, Any], when: dt.datetime, resolve: Resolve
) -> list[str]:
    action = row.action
    if action.startswith(("account-", "token-")):
        return _account(uow, row, p, when, resolve)
    if action == "watch-add":
        uow.watches.add(
            {
                "name": p["name"],
                "criteria": p["criteria"],
                "url": p.get("url"),
                "secret": None,
                "created_at": when,
            }
        )
        if p.get("url"):
            return [
                f"watchlist {p['name']!r}: its webhook secret is not in the journal; set it again"
            ]
        return []
    if action == "watch-remove":
        found = uow.watches.find(p["name"])
        if found is None:
            raise ConflictError(f"no active watchlist named {p['name']!r} to remove")
        uow.watches.remove(found.id, when)
        return []
    if action == "evidence-add":
        for item in p["items"]:
            uow.evidence.add(item["id"], journal.canonical(item), row.serial)
        return []
    if action == "evidence-correct":
        for change in p["changes"]:
            body = journal.canonical(change["after"])
            if uow.evidence.get(change["id"]) is None:
                uow.evidence.add(change["id"], body, row.serial)
            uow.evidence.replace(change["id"], body, int(change["version"]), row.serial)
        return []
    if action == "webhook-delivery":
        return ["webhook delivery recorded, not re-posted (a replay calls no webhook)"]
    if action == "events-record":
        return [
            f"{p.get('events')} recorded event(s) not rebuilt: the entry counts them and does "
            "not hold them (`rirport events --record` over the same window recomputes them)"
        ]
    return [f"action {action!r} is not one this version knows: kept in the journal, not rebuilt"]


def _account(
    uow: UnitOfWork, row: JournalRow, p: dict[str, Any], when: dt.datetime, resolve: Resolve
) -> list[str]:
    repo, action, serial = uow.accounts, row.action, row.serial
    if action == "account-create":
        name = f"replayed-{p['account']}"
        repo.add(
            {
                "username": name,
                "username_key": name,
                "password_hash": NO_PASSWORD,
                "tier": p["tier"],
                "created_at": when,
                "password_changed_at": when,
                "created_serial": serial,
                "updated_serial": serial,
            }
        )
        return [
            f"account #{p['account']}: made as {name!r} (the journal names accounts by id "
            "only) without a password (password hashes are never journaled); an "
            "administrator sets one before anyone signs in"
        ]
    account = resolve("account", int(p["account"]))
    if action == "account-tier":
        repo.change(account, tier=p["tier"], updated_serial=serial)
    elif action == "account-link":
        repo.link(account, p["registry"], p["holder"], serial)
        repo.change(account, updated_serial=serial)
    elif action == "account-unlink":
        repo.unlink(account, p["registry"], p["holder"])
        repo.change(account, updated_serial=serial)
    elif action == "account-disable":
        repo.change(account, disabled_at=when, updated_serial=serial)
        repo.revoke_sessions(account, when)
        repo.revoke_tokens(account, when)
    elif action == "account-enable":
        repo.change(account, disabled_at=None, updated_serial=serial)
    elif action == "account-password":
        repo.change(account, password_changed_at=when, updated_serial=serial)
        repo.revoke_sessions(account, when)
        return [f"account #{p['account']}: password changed; the new hash is not journaled"]
    elif action == "token-create":
        repo.add_token(account, f"replayed-{p['token']}", f"!replayed-{serial}", when, serial)
        return [
            f"token #{p['token']}: rebuilt without its secret (never journaled): it matches "
            "no presented token; its owner makes a new one"
        ]
    elif action == "token-revoke":
        repo.revoke_token(resolve("token", int(p["token"])), when)
    else:
        return [
            f"action {action!r} is not one this version knows: kept in the journal, not rebuilt"
        ]
    return []
