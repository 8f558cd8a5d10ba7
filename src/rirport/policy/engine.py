"""The policy engine: a request, a regime, the facts of the resource, a date → a decision.

How a decision is made (research notes §0: an inter-RIR transfer needs both RIRs):

1. The request is checked for things no regime could decide, because they are not policy
   but a malformed question: nothing of the source registry covers the resource, it is not
   wholly delegated, it straddles two holders, it is not the source registry's, recipient
   equals source for an inter-RIR move (or differs for an intra-RIR one), or the date is
   before the delegation. These raise :class:`~rirport.errors.InputError`.
   A requester who is not the holder, by contrast, *is* a policy matter (every RIR and the
   ICP-2 proposal state "the source is the current holder"): the ``holder-matches`` rule of
   the regime refuses it, citing its source.
2. The sides of the move: for a move between registries the source registry's ``out`` rules
   and the recipient registry's ``in`` rules; within one registry its ``intra`` rules. Only
   rules in force on ``as_of`` and covering the resource type and the transfer kind count.
3. Every rule whose check fires is reported with its reference, confidence and effect.
   A side on which no ``allow`` rule fired has no policy permitting the move: the engine
   adds a refusal saying so (the catalogue states scope explicitly, so this is a safety net
   for hand-written regimes).
4. Outcome: refused if any rule refuses, else conditional if any rule sets a condition
   (the conditions are listed), else allowed.
5. The RPKI relying-party finding (:mod:`rirport.policy.rpki`) is attached, separately, for
   moves between registries (within one the trust anchor does not change).
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Mapping
from typing import Any

from rirport.domain.enums import Registry
from rirport.domain.resources import ResourceRange
from rirport.domain.transfer import (
    Confidence,
    Decision,
    Effect,
    Outcome,
    ResourceFacts,
    RpkiFinding,
    RuleResult,
    TransferKind,
    TransferRequest,
)
from rirport.errors import InputError
from rirport.policy.checks import SCALAR, Context
from rirport.policy.model import Direction, Regime, Rule
from rirport.policy.rpki import Constraints, check_rpki

Side = tuple[Registry, Direction, Registry]
"""The registry whose rules apply, which of its rules, and the registry on the other side."""


def evaluate(
    request: TransferRequest,
    regime: Regime,
    facts: ResourceFacts,
    as_of: dt.date,
    rpki: Constraints | None = None,
) -> Decision:
    """Decide ``request`` under ``regime`` on ``as_of``.

    Raises:
        InputError: the request is malformed for these facts (see the module docstring).
    """
    validate_request(request, facts)
    results: list[RuleResult] = []
    for side in sides(request):
        results += side_results(request, regime, facts, as_of, side)
    outcome = outcome_of(results)
    conditions = tuple(dict.fromkeys(r.message for r in results if r.effect is Effect.CONDITION))
    finding = (
        check_rpki(request.recipient, request.resource, facts.iana_registry, rpki)
        if request.recipient is not request.source
        else RpkiFinding(True)
    )
    return Decision(outcome, regime.label, tuple(results), conditions, finding)


def sides(request: TransferRequest) -> list[Side]:
    """Whose rules decide: both registries for a move between them, one for a move within."""
    if request.recipient is request.source:
        return [(request.source, Direction.INTRA, request.source)]
    return [
        (request.source, Direction.OUT, request.recipient),
        (request.recipient, Direction.IN, request.source),
    ]


def side_results(
    request: TransferRequest, regime: Regime, facts: ResourceFacts, as_of: dt.date, side: Side
) -> list[RuleResult]:
    """The rules of one side that fired, plus a refusal when nothing permits the move."""
    registry, direction, counterpart = side
    ctx = Context(request, facts, as_of, registry, counterpart)
    fired: list[RuleResult] = []
    permitted = refused = False
    for rule in regime.rules_for(registry, direction, request.resource.type, request.kind):
        if not rule.in_force(as_of):
            continue
        hit, details = SCALAR[rule.check](ctx, rule.params)
        if not hit:
            continue
        fired.append(rule.result(render(rule, request, registry, counterpart, details)))
        permitted |= rule.effect is Effect.ALLOW
        refused |= rule.effect is Effect.REFUSE
    if not permitted and not refused:
        fired.append(no_rule(regime, request, side))
    return fired


def no_rule(regime: Regime, request: TransferRequest, side: Side) -> RuleResult:
    """The refusal for a side that no rule of the regime permits."""
    registry, direction, _ = side
    where = {Direction.OUT: "out of", Direction.IN: "into", Direction.INTRA: "within"}[direction]
    return RuleResult(
        f"{regime.name}:no-rule:{registry.value}:{direction.value}",
        f"regime {regime.label}: no rule permits this",
        Confidence.UNVERIFIED,
        None,
        Effect.REFUSE,
        f"no rule of regime {regime.name!r} permits {request.kind.value} "
        f"transfers of {request.resource.type.value} {where} {registry.label}",
    )


def outcome_of(results: list[RuleResult]) -> Outcome:
    """Refused beats conditional beats allowed."""
    effects = {r.effect for r in results}
    if Effect.REFUSE in effects:
        return Outcome.REFUSED
    if Effect.CONDITION in effects:
        return Outcome.CONDITIONAL
    return Outcome.ALLOWED


def render(
    rule: Rule,
    request: TransferRequest,
    registry: Registry,
    counterpart: Registry,
    details: Mapping[str, str],
) -> str:
    """The rule's message with the request's registries, type and the check's details."""
    values: dict[str, Any] = {
        "source": request.source.label,
        "recipient": request.recipient.label,
        "registry": registry.label,
        "counterpart": counterpart.label,
        "type": request.resource.type.value,
        "kind": request.kind.value,
        "resource": str(request.resource),
        **details,
    }
    return string.Formatter().vformat(rule.message, (), _Defaulting(values))


class _Defaulting(dict[str, Any]):
    """Placeholders a check had nothing for print as ``?`` rather than failing."""

    def __missing__(self, key: str) -> str:
        return "?"


# -- malformed requests ---------------------------------------------------------------------
def validate_request(request: TransferRequest, facts: ResourceFacts) -> None:
    """Refuse requests that are not questions a regime can answer.

    Raises:
        InputError: see the module docstring.
    """
    resource = request.resource
    if not facts.delegations:
        raise InputError(f"{request.source.label} holds nothing of {resource}")
    _same_registry(request, facts)
    _wholly_delegated(resource, facts)
    holders = sorted(facts.holders)
    if len(holders) > 1:
        raise InputError(
            f"{resource} straddles holders ({', '.join(holders)}): evaluate each "
            "holder's part separately"
        )
    _kind_matches(request)
    started = max((d.date for d in facts.delegations if d.date is not None), default=None)
    if started is not None and request.date < started:
        raise InputError(f"date {request.date} is before the delegation of {resource} ({started})")


def _same_registry(request: TransferRequest, facts: ResourceFacts) -> None:
    others = sorted({d.registry.label for d in facts.delegations} - {request.source.label})
    if others:
        raise InputError(
            f"{request.resource} is held at {', '.join(others)}, not at {request.source.label}"
        )


def _wholly_delegated(resource: ResourceRange, facts: ResourceFacts) -> None:
    for d in facts.delegations:
        if not d.status.delegated:
            raise InputError(
                f"{d.resource} is {d.status.value} at {d.registry.label}: only "
                "allocated or assigned resources can be transferred"
            )
    remaining = [resource]
    for d in facts.delegations:
        remaining = [part for r in remaining for part in r.subtract(d.resource)]
    if remaining:
        raise InputError(f"{resource} is only partly delegated: {remaining[0]} is not")


def _kind_matches(request: TransferRequest) -> None:
    same = request.recipient is request.source
    if request.kind is TransferKind.INTER_RIR and same:
        raise InputError(
            f"an inter-RIR transfer needs a recipient registry other than {request.source.label}"
        )
    if request.kind is TransferKind.INTRA_RIR and not same:
        raise InputError(
            f"an intra-RIR transfer stays at {request.source.label}; "
            f"{request.recipient.label} is another registry"
        )
