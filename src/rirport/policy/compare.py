"""Comparing two regimes: for each registry pair, type and kind, where do they differ?

Two things are compared for every cell (source, recipient, type, kind):

* the outcome for a *clean* resource: held for ten years by the requester, not legacy, not
  in a locked pool, a /16 of IPv4 (a 32-bit ASN, a /32 of IPv6), no receipt, no hold;
* the *restrictions* that could bite other resources: the refusing and conditional rules in
  force for that cell, by check (a holding period, a locked pool, a minimum size ...).

A cell differs when the outcomes differ or the restrictions do; the rules behind each side
are listed so a reader sees why.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from rirport.domain.delegation import Delegation
from rirport.domain.enums import REGISTRIES, Registry, ResourceType, Status
from rirport.domain.transfer import (
    Decision,
    Effect,
    ResourceFacts,
    TransferKind,
    TransferRequest,
)
from rirport.policy.engine import evaluate, sides
from rirport.policy.model import Regime, Rule

#: The clean resource of each type (documentation and private-use numbers: no locked pool).
CLEAN: dict[ResourceType, tuple[str, int]] = {
    ResourceType.IPV4: ("198.18.0.0", 65536),
    ResourceType.IPV6: ("2001:db8::", 32),
    ResourceType.ASN: ("4200000000", 1),
}
HOLDER = "clean-holder"


@dataclass(frozen=True)
class CompareRow:
    """One cell of the comparison."""

    source: Registry
    recipient: Registry
    type: ResourceType
    kind: TransferKind
    outcome_a: str
    outcome_b: str
    restrictions_a: tuple[str, ...]
    restrictions_b: tuple[str, ...]
    rules_a: tuple[str, ...]
    rules_b: tuple[str, ...]

    @property
    def differs(self) -> bool:
        return self.outcome_a != self.outcome_b or _kinds(self.restrictions_a) != _kinds(
            self.restrictions_b
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "from_registry": self.source.value,
            "to_registry": self.recipient.value,
            "type": self.type.value,
            "kind": self.kind.value,
            "outcome_a": self.outcome_a,
            "outcome_b": self.outcome_b,
            "restrictions_a": list(self.restrictions_a),
            "restrictions_b": list(self.restrictions_b),
            "rules_a": list(self.rules_a),
            "rules_b": list(self.rules_b),
            "differs": self.differs,
        }


def compare(a: Regime, b: Regime, as_of: dt.date) -> list[CompareRow]:
    """Every cell: inter-RIR and M&A between two registries, intra-RIR and M&A within one."""
    rows = []
    for source in REGISTRIES:
        for recipient in REGISTRIES:
            kinds = (
                [TransferKind.INTRA_RIR, TransferKind.MERGER]
                if source is recipient
                else [TransferKind.INTER_RIR, TransferKind.MERGER]
            )
            for rtype in ResourceType:
                for kind in kinds:
                    rows.append(_row(a, b, source, recipient, rtype, kind, as_of))
    return rows


def clean_case(
    source: Registry, recipient: Registry, rtype: ResourceType, kind: TransferKind, as_of: dt.date
) -> tuple[TransferRequest, ResourceFacts]:
    """The clean resource of a cell as a request and its facts."""
    start, value = CLEAN[rtype]
    since = dt.date(as_of.year - 10, as_of.month, min(as_of.day, 28))
    delegation = Delegation(source, "ZZ", rtype, start, value, since, Status.ALLOCATED, HOLDER)
    request = TransferRequest(delegation.resource, source, HOLDER, recipient, "", kind, as_of)
    return request, ResourceFacts(delegations=(delegation,), iana_registry=source)


def _row(
    a: Regime,
    b: Regime,
    source: Registry,
    recipient: Registry,
    rtype: ResourceType,
    kind: TransferKind,
    as_of: dt.date,
) -> CompareRow:
    request, facts = clean_case(source, recipient, rtype, kind, as_of)
    decision_a, decision_b = (evaluate(request, r, facts, as_of) for r in (a, b))
    return CompareRow(
        source,
        recipient,
        rtype,
        kind,
        decision_a.outcome.value,
        decision_b.outcome.value,
        restrictions(a, request, as_of),
        restrictions(b, request, as_of),
        _deciding(decision_a),
        _deciding(decision_b),
    )


def restrictions(regime: Regime, request: TransferRequest, as_of: dt.date) -> tuple[str, ...]:
    """``check:rule-id`` of every refusing or conditional rule in force for the request's
    cell, fired or not (what could stop another resource of the same cell)."""
    found: list[Rule] = []
    for registry, direction, _ in sides(request):
        found += [
            r
            for r in regime.rules_for(registry, direction, request.resource.type, request.kind)
            if r.in_force(as_of) and r.effect in (Effect.REFUSE, Effect.CONDITION)
        ]
    return tuple(f"{r.check}:{r.id}" for r in found)


def _deciding(decision: Decision) -> tuple[str, ...]:
    return tuple(r.id for r in decision.rules if r.effect is not Effect.NOTE)


def _kinds(restrictions: tuple[str, ...]) -> frozenset[str]:
    """Restrictions compared by check, since rule ids differ between regimes."""
    return frozenset(r.split(":", 1)[0] for r in restrictions)
