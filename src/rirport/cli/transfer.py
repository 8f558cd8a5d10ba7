"""``rirport transfer``: the group of transfer commands; here ``evaluate`` (the lifecycle
commands are attached to this group elsewhere)."""

from __future__ import annotations

import json

import click

from rirport.cli.context import AppContext, pass_app
from rirport.cli.policy import parse_day
from rirport.domain.enums import Registry
from rirport.domain.resources import ResourceRange
from rirport.domain.transfer import Decision, Effect, TransferKind, TransferRequest
from rirport.errors import NotFoundError
from rirport.policy.engine import evaluate as evaluate_request
from rirport.policy.loader import load_regime
from rirport.policy.model import Regime
from rirport.query.view import CurrentView
from rirport.services.registry.iana import load_iana
from rirport.services.transfers.facts import covering_rows, gather_facts, resource_asked
from rirport.services.transfers.lifecycle import build_request

JSON_KEYS = ("outcome", "rules", "conditions", "rpki")
"""The contract of ``--format json``: exactly these keys (rules and rpki carry more)."""
MARKS = {Effect.ALLOW: "ok", Effect.CONDITION: "if", Effect.REFUSE: "NO", Effect.NOTE: "--"}


@click.group("transfer")
def command() -> None:
    """Transfers of number resources between holders and registries."""


def _registry(_ctx: click.Context, _param: click.Parameter, value: str) -> Registry:
    try:
        return Registry.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@command.command("evaluate")
@click.argument("resource")
@click.option(
    "--to",
    "recipient",
    required=True,
    callback=_registry,
    metavar="RIR",
    help="The recipient registry.",
)
@click.option("--regime", default="current", show_default=True, metavar="NAME|PATH")
@click.option(
    "--as-of",
    "as_of",
    metavar="YYYY-MM-DD",
    help="Date of the transfer and of the rules in force (default today).",
)
@click.option(
    "--kind",
    type=click.Choice([k.value for k in TransferKind]),
    default=None,
    help="Default: inter-rir when --to is another registry, else intra-rir.",
)
@click.option("--recipient-holder", default="", metavar="ID", help="The recipient's id.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@pass_app
def evaluate(
    app: AppContext,
    resource: str,
    recipient: Registry,
    regime: str,
    as_of: str | None,
    kind: str | None,
    recipient_holder: str,
    fmt: str,
) -> None:
    """Would moving RESOURCE to another registry (or holder) be allowed today?

    RESOURCE is an address (its whole delegation), a prefix, a range or an AS number held
    in the current data; the source registry and holder come from the data. Prints the
    decision as a checklist (every rule that fired, with its reference, confidence and
    effect; the conditions to satisfy; the RPKI relying-party finding) or as JSON. A
    refusal is an answer, not an error: the exit status is 0 for every decision, 1 for bad
    input (unknown resource, one straddling two holders, recipient = source for inter-RIR).
    """
    view = app.current_view()
    day = parse_day(as_of)
    wanted = resource_asked(view, resource)
    source = _source_of(view, wanted)
    chosen = (
        TransferKind(kind)
        if kind
        else (TransferKind.INTRA_RIR if recipient is source else TransferKind.INTER_RIR)
    )
    request = build_request(view, wanted, recipient, recipient_holder, chosen, day)
    iana = load_iana(app.store)
    loaded = load_regime(regime)
    facts = gather_facts(app.store, view, wanted, request.source, day, iana)
    decision = evaluate_request(request, loaded, facts, day)
    if fmt == "json":
        body = decision.to_json()
        click.echo(json.dumps({k: body[k] for k in JSON_KEYS}, indent=2, ensure_ascii=False))
    else:
        click.echo(checklist(request, decision, loaded))


def _source_of(view: CurrentView, resource: ResourceRange) -> Registry:
    rows = covering_rows(view, resource)
    if not rows:
        raise NotFoundError(f"no registry holds {resource}")
    return view.table.row(rows[0]).registry


def checklist(request: TransferRequest, decision: Decision, regime: Regime) -> str:
    """The decision as a person reads it."""
    lines = [
        f"{request.resource} ({request.resource.type.value}) held by "
        f"{request.source_holder or '?'} at {request.source.label} -> "
        f"{request.recipient.label}, {request.kind.value}, {request.date}",
        f"regime {regime.label}: {decision.outcome.value.upper()}",
        "",
    ]
    for rule in decision.rules:
        effective = rule.effective.isoformat() if rule.effective else "date unknown"
        lines.append(f"  [{MARKS[rule.effect]}] {rule.message}")
        lines.append(
            f"       {rule.id} | {rule.reference} | confidence {rule.confidence.value}"
            f" | effective {effective}"
        )
    if decision.conditions:
        lines += ["", "to satisfy:", *(f"  [ ] {c}" for c in decision.conditions)]
    lines.append("")
    if decision.rpki.accepted:
        lines.append(
            f"rpki: rpki-client would accept it under the {request.recipient.label} trust anchor"
        )
    else:
        lines.append(
            "rpki: REJECTED by rpki-client constraints (legal or not, validators "
            "would not accept it):"
        )
        lines += [
            f"  - {c.message} ({c.reference}; confidence {c.confidence.value})"
            for c in decision.rpki.constraints
        ]
    uncertain = sorted({r.confidence.value for r in decision.rules} - {"V"})
    if uncertain:
        lines.append(
            f"note: rules tagged {'/'.join(uncertain)} are not fully verified "
            "(P partly, U unverified): check the live policy text"
        )
    lines += [f"note: {n}" for n in regime.notes]
    return "\n".join(lines)
