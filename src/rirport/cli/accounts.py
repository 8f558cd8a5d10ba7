"""``rirport accounts``: accounts, tiers, holder verification and API tokens, for the
administrators of the machine (the first administrator can only come from here).

ACCOUNT is an account id or username. Passwords are prompted for (hidden, twice) or read as
one line from stdin with ``--password-stdin``; they never appear in arguments.
"""

from __future__ import annotations

import sys

import click

from rirport.accounts import service
from rirport.accounts.holdings import known_holder
from rirport.accounts.policy import ROLES
from rirport.cli.context import AppContext, pass_app
from rirport.cli.output import FORMATS, emit
from rirport.errors import InputError


@click.group("accounts")
def command() -> None:
    """Member accounts, tiers, verified holders and API tokens (docs/accounts.md)."""


def _account(app: AppContext, text: str) -> int:
    return int(text) if text.isdigit() else service.account_id_of(app.store, text)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise InputError("--password-stdin: no password on stdin")
        return line.rstrip("\r\n")
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@command.command("create")
@click.argument("username")
@click.option("--tier", type=click.Choice(ROLES), default="strategy-circle", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@pass_app
def create(app: AppContext, username: str, tier: str, password_stdin: bool) -> None:
    """Create an account (tier admin for the first administrator)."""
    row = service.create_account(app.store, username, _password(password_stdin), tier, app.actor)
    click.echo(f"created account {row.id} ({row.tier})")


@command.command("list")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@pass_app
def list_(app: AppContext, fmt: str) -> None:
    """Every account with its tier, verified holders and tokens."""
    rows = []
    for account in service.accounts(app.store):
        body = account.to_json()
        body["holders"] = " ".join(f"{h['registry']}:{h['opaque_id']}" for h in body["holders"])
        body["tokens"] = sum(1 for t in body["tokens"] if not t["revoked"])
        rows.append(body)
    emit(rows, fmt, ["id", "username", "tier", "disabled", "holders", "tokens", "created_at"])


@command.command("set-tier")
@click.argument("account")
@click.argument("tier", type=click.Choice(ROLES))
@pass_app
def set_tier(app: AppContext, account: str, tier: str) -> None:
    """Set ACCOUNT's tier."""
    row = service.set_tier(app.store, _account(app, account), tier, app.actor)
    click.echo(f"account {row.id} is now {row.tier}")


def _holder(text: str) -> tuple[str, str]:
    registry, sep, opaque = text.partition(":")
    if not sep or not opaque:
        raise click.BadParameter(f"{text!r}: expected REGISTRY:OPAQUE-ID")
    return registry, opaque


@command.command("link-holder")
@click.argument("account")
@click.argument("holder", metavar="REGISTRY:OPAQUE-ID")
@pass_app
def link_holder(app: AppContext, account: str, holder: str) -> None:
    """Record that ACCOUNT was verified as (or for) the holder HOLDER."""
    registry, opaque = _holder(holder)
    known = known_holder(app.current_view(), app.store)
    service.link_holder(app.store, _account(app, account), registry, opaque, app.actor, known)
    click.echo(f"linked {registry}:{opaque}")


@command.command("unlink-holder")
@click.argument("account")
@click.argument("holder", metavar="REGISTRY:OPAQUE-ID")
@pass_app
def unlink_holder(app: AppContext, account: str, holder: str) -> None:
    """Withdraw ACCOUNT's verification for HOLDER."""
    registry, opaque = _holder(holder)
    service.unlink_holder(app.store, _account(app, account), registry, opaque, app.actor)
    click.echo(f"unlinked {registry}:{opaque}")


@command.command("disable")
@click.argument("account")
@pass_app
def disable(app: AppContext, account: str) -> None:
    """Disable ACCOUNT: its sessions and tokens stop working at once."""
    service.disable(app.store, _account(app, account), app.actor)
    click.echo("disabled; its sessions and tokens are revoked")


@command.command("enable")
@click.argument("account")
@pass_app
def enable(app: AppContext, account: str) -> None:
    """Enable a disabled ACCOUNT again (its old sessions and tokens stay revoked)."""
    service.enable(app.store, _account(app, account), app.actor)
    click.echo("enabled; it signs in anew")


@command.group("token")
def token() -> None:
    """API tokens (shown once, stored hashed)."""


@token.command("create")
@click.argument("account")
@click.option("--name", required=True, help="What the token is for.")
@pass_app
def token_create(app: AppContext, account: str, name: str) -> None:
    """A new API token for ACCOUNT, printed once on stdout."""
    row, text = service.create_token(app.store, _account(app, account), name, app.actor)
    click.echo(f"token {row.id} (shown once; send as 'Authorization: Bearer ...'):", err=True)
    click.echo(text)


@token.command("revoke")
@click.argument("token_id", type=click.IntRange(1))
@pass_app
def token_revoke(app: AppContext, token_id: int) -> None:
    """Revoke the API token TOKEN_ID."""
    service.revoke_token(app.store, token_id, app.actor)
    click.echo(f"revoked token {token_id}")
