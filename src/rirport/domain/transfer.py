"""Transfers as values: the request, the facts the registry knows about it, and a decision.

The policy engine (:mod:`rirport.policy`) is a pure function of these: it never reads the
store. The services gather :class:`ResourceFacts` from the store and index, the engine turns a
:class:`TransferRequest` and those facts into a :class:`Decision`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from rirport.domain.delegation import Delegation
from rirport.domain.enums import Registry
from rirport.domain.resources import ResourceRange


class TransferKind(StrEnum):
    """What kind of move a transfer is; policies differ by kind."""

    INTER_RIR = "inter-rir"
    INTRA_RIR = "intra-rir"
    MERGER = "merger-acquisition"


class Outcome(StrEnum):
    """A decision: allowed outright, allowed once conditions are met, or refused."""

    ALLOWED = "allowed"
    CONDITIONAL = "conditional"
    REFUSED = "refused"


class Effect(StrEnum):
    """What a rule that fired does to the decision."""

    REFUSE = "refuse"
    CONDITION = "condition"
    """Allowed only once something is shown or done (the message says what)."""
    ALLOW = "allow"
    NOTE = "note"
    """Information the parties should know (legacy status lost, say); no effect on outcome."""


class Confidence(StrEnum):
    """How well a policy fact is verified, as tagged in the research notes."""

    VERIFIED = "V"
    PARTLY = "P"
    UNVERIFIED = "U"


@dataclass(frozen=True)
class TransferRequest:
    """A request to move ``resource`` from one holder and registry to another."""

    resource: ResourceRange
    source: Registry
    source_holder: str
    recipient: Registry
    recipient_holder: str
    kind: TransferKind
    date: dt.date

    def to_json(self) -> dict[str, Any]:
        return {
            "resource": str(self.resource),
            "type": self.resource.type.value,
            "source": self.source.value,
            "source_holder": self.source_holder,
            "recipient": self.recipient.value,
            "recipient_holder": self.recipient_holder,
            "kind": self.kind.value,
            "date": self.date.isoformat(),
        }


@dataclass(frozen=True)
class ResourceFacts:
    """What the registry knows about the resource of a request, at the request's date.

    ``delegations`` are the source registry's records covering the resource (one, normally);
    the other fields summarise them and the history around them.
    """

    delegations: tuple[Delegation, ...]
    iana_registry: Registry | None = None
    """The RIR IANA gave the enclosing block to (or that administers it, for legacy space)."""
    legacy: bool = False
    """In IANA legacy space or registered before the holding RIR existed."""
    received_on: dt.date | None = None
    """When the current holder last received it by transfer or M&A (rirport's journal)."""
    received_kind: TransferKind | None = None
    in_dispute: bool = False
    legal_hold: bool = False
    hold_reasons: tuple[str, ...] = ()
    holder_received_on: dt.date | None = None
    """The latest date the source holder received any resource of this type at the source
    registry (its newest delegation record, or a transfer): ARIN's 12-month source rule looks
    at the holder, not at the one block. None: unknown (the rule falls back on this block)."""
    source_operational: bool = True
    """False in the scenario "the source registry stops functioning": inter-RIR transfers need
    the source RIR's approval, which a failed registry cannot give."""

    @property
    def allocated_on(self) -> dt.date | None:
        """The earliest date among the covering records (None when none is dated)."""
        dates = [d.date for d in self.delegations if d.date is not None]
        return min(dates) if dates else None

    @property
    def holders(self) -> frozenset[str]:
        return frozenset(d.opaque_id or "" for d in self.delegations)


@dataclass(frozen=True)
class RuleResult:
    """A rule that applied to a request, with where the rule comes from."""

    id: str
    reference: str
    confidence: Confidence
    effective: dt.date | None
    effect: Effect
    message: str
    url: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reference": self.reference,
            "confidence": self.confidence.value,
            "effective": self.effective.isoformat() if self.effective else None,
            "effect": self.effect.value,
            "message": self.message,
            "url": self.url,
        }


@dataclass(frozen=True)
class RpkiFinding:
    """Whether common RPKI relying parties would accept the resource under the recipient's
    trust anchor, independently of whether the registries allow the move."""

    accepted: bool
    constraints: tuple[RuleResult, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "constraints": [c.to_json() for c in self.constraints]}


@dataclass(frozen=True)
class Decision:
    """The engine's answer: the outcome, every rule that fired, and what is left to do."""

    outcome: Outcome
    regime: str
    rules: tuple[RuleResult, ...]
    conditions: tuple[str, ...] = ()
    rpki: RpkiFinding = field(default_factory=lambda: RpkiFinding(True))

    @property
    def allowed(self) -> bool:
        return self.outcome is not Outcome.REFUSED

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "regime": self.regime,
            "rules": [r.to_json() for r in self.rules],
            "conditions": list(self.conditions),
            "rpki": self.rpki.to_json(),
        }
