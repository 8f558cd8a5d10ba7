"""``rirport transfer request|approve|accept|complete|reject|cancel|expire|list``.

Attached to the ``transfer`` group of :mod:`rirport.cli.transfer` (which holds ``evaluate``).
Every step is one journaled transaction; a step that ends in ``rejected`` exits with status 1.
"""

from __future__ import annotations

import json
from typing import Any

import click

from rirport.cli.context import AppContext, pass_app
from rirport.cli.output import emit
from rirport.cli.parsing import option_day
from rirport.domain.enums import Registry
from rirport.domain.transfer import TransferKind
from rirport.query.iana import load_iana
from rirport.query.parse import parse_resource
from rirport.services.transfers.lifecycle import (
    StepResult,
    advance,
    build_request,
    expire_stale,
    request_transfer,
)

FORMATS = ["text", "json"]


def _registry(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Registry | None:
    try:
        return Registry.parse(value) if value else None
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _print(result: StepResult, fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(result.to_json(), indent=2))
    else:
        t = result.transfer
        click.echo(
            f"transfer #{t.id} {t.state}: {t.resource} {t.source_registry}:"
            f"{t.source_holder} -> {t.recipient_registry}:{t.recipient_holder} "
            f"({t.kind}, {t.transfer_date}, regime {t.regime}; journal "
            f"#{result.serial})"
        )
        decision = result.decision.to_json() if result.decision else None
        if decision:
            click.echo(f"  decision: {decision['outcome']}")
            for rule in decision["rules"]:
                click.echo(
                    f"  [{rule['effect']}] {rule['message']} ({rule['reference']}, "
                    f"confidence {rule['confidence']})"
                )
            for condition in decision["conditions"]:
                click.echo(f"  to satisfy: {condition}")
        if result.changes:
            click.echo(
                f"  moved {result.changes['moved']}: retired "
                f"{len(result.changes['retired'])} record(s), added "
                f"{len(result.changes['added'])}"
            )
    if result.transfer.state == "rejected":
        raise click.exceptions.Exit(1)


@click.command("request")
@click.argument("resource")
@click.option("--to", "recipient", required=True, callback=_registry, metavar="RIR")
@click.option(
    "--recipient-holder",
    required=True,
    metavar="ID",
    help="The recipient's opaque-id (organisation) at the recipient registry.",
)
@click.option("--requester", metavar="ID", help="Who asks (must be the current holder).")
@click.option(
    "--kind",
    type=click.Choice([k.value for k in TransferKind]),
    default=TransferKind.INTER_RIR.value,
    show_default=True,
)
@click.option("--date", "date_text", metavar="YYYY-MM-DD", help="Transfer date (default today).")
@click.option("--regime", default="current", show_default=True, metavar="NAME|PATH")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text")
@pass_app
def request(
    app: AppContext,
    resource: str,
    recipient: Registry,
    recipient_holder: str,
    requester: str | None,
    kind: str,
    date_text: str | None,
    regime: str,
    fmt: str,
) -> None:
    """Request a transfer of RESOURCE (checked against the regime at once)."""
    view = app.current_view()
    req = build_request(
        view,
        parse_resource(resource),
        recipient,
        recipient_holder,
        TransferKind(kind),
        option_day(date_text, "--date"),
        requester,
    )
    _print(request_transfer(app.store, view, req, regime, app.actor, load_iana(app.store)), fmt)


def _step(
    name: str, help_text: str, with_conditions: bool = False, with_reason: bool = False
) -> click.Command:
    @click.command(name, help=help_text)
    @click.argument("transfer_id", type=int)
    @click.option("--format", "fmt", type=click.Choice(FORMATS), default="text")
    @pass_app
    def run(app: AppContext, /, transfer_id: int, fmt: str, **options: Any) -> None:
        result = advance(
            app.store,
            app.current_view(),
            transfer_id,
            name,
            app.actor,
            load_iana(app.store),
            conditions_met=bool(options.get("conditions_met")),
            reason=options.get("reason") or "",
        )
        _print(result, fmt)

    if with_conditions:
        run = click.option(
            "--conditions-met",
            is_flag=True,
            help="Confirm that the "
            "decision's conditions are satisfied (needed to complete a "
            "conditional transfer).",
        )(run)
    if with_reason:
        run = click.option("--reason", required=True)(run)
    return run


approve = _step("approve", "The source registry approves the transfer (re-checked).")
accept = _step(
    "accept", "The recipient registry accepts the transfer (re-checked).", with_conditions=True
)
complete = _step(
    "complete", "Move the resource: one transaction, invariants checked.", with_conditions=True
)
reject = _step("reject", "Refuse the transfer.", with_reason=True)
cancel = _step("cancel", "Withdraw the transfer.", with_reason=True)


@click.command("expire")
@click.option("--today", "today_text", metavar="YYYY-MM-DD")
@pass_app
def expire(app: AppContext, today_text: str | None) -> None:
    """Expire open transfers dated more than 90 days ago."""
    results = expire_stale(
        app.store,
        app.current_view(),
        option_day(today_text, "--today"),
        app.actor,
        load_iana(app.store),
    )
    click.echo(f"expired {len(results)} transfer(s)")


@click.command("list")
@click.option("--state", "states", multiple=True)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "ndjson", "csv"]), default="table"
)
@pass_app
def list_transfers(app: AppContext, states: tuple[str, ...], fmt: str) -> None:
    """List transfers."""
    with app.store.read() as uow:
        rows = uow.transfers.all(states)
    emit(
        [StepResult(r, None, r.updated_serial).to_json() for r in rows],
        fmt,
        [
            "id",
            "state",
            "kind",
            "resource",
            "source",
            "source_holder",
            "recipient",
            "recipient_holder",
            "date",
            "journal_serial",
        ],
    )


def attach(group: click.Group) -> None:
    """Add the lifecycle commands to the ``transfer`` group."""
    for cmd in (request, approve, accept, complete, reject, cancel, expire, list_transfers):
        group.add_command(cmd)
