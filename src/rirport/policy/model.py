"""Policy regimes as values: a regime is a named, versioned list of sourced rules.

A rule says, for one registry (or every registry, ``*``), one direction of a move (``out`` of
the source registry, ``in`` to the recipient registry, ``intra`` within one registry), some
resource types and transfer kinds: which check to run, and what happens when the check fires
(refuse, make conditional, allow, or only note). Every rule carries where it comes from (the
policy document and section, a URL, the date it took effect) and how sure we are of it (the
[V]/[P]/[U] tags of the research notes), because a decision is only as good as its sources.

The catalogue itself is data (TOML under ``rirport/data/policy``); :mod:`rirport.policy.loader`
reads and validates it into these types, :mod:`rirport.policy.engine` applies them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from rirport.domain.enums import Registry, ResourceType
from rirport.domain.resources import ResourceRange
from rirport.domain.transfer import Confidence, Effect, RuleResult, TransferKind


class Direction(StrEnum):
    """Which registry's view of a move a rule states."""

    OUT = "out"
    """The source registry letting a resource leave (its "donor" rules)."""
    IN = "in"
    """The recipient registry taking a resource in (its "recipient" rules)."""
    INTRA = "intra"
    """A move between two holders of the same registry (intra-RIR, or M&A within a region)."""


class Since(StrEnum):
    """What a holding period counts from."""

    ALLOCATION = "allocation"
    """The delegation's date in the statistics file (allocation or assignment)."""
    RECEIPT = "receipt"
    """The holder's last receipt by transfer or M&A (rirport's own records)."""
    LATEST = "latest"
    """Whichever is later of the two: "after any receipt" (RIPE NCC)."""
    HOLDER = "holder"
    """The latest receipt of any resource of the type by the holder (ARIN's source rule)."""


@dataclass(frozen=True)
class Params:
    """Typed parameters of a check; each check uses a few (see ``checks.SPECS``)."""

    registries: frozenset[Registry] = frozenset()
    types: frozenset[ResourceType] = frozenset()
    months: int | None = None
    after_months: int | None = None
    since: Since = Since.ALLOCATION
    receipt_kinds: frozenset[TransferKind] = frozenset()
    prefixes: tuple[ResourceRange, ...] = ()
    prefix_length: int | None = None
    asn16_only: bool = False


@dataclass(frozen=True)
class Rule:
    """One sourced rule of a regime."""

    id: str
    registry: Registry | None
    """None for ``*``: the rule belongs to every registry."""
    direction: Direction
    types: frozenset[ResourceType]
    kinds: frozenset[TransferKind]
    check: str
    params: Params
    effect: Effect
    message: str
    reference: str
    url: str | None
    effective: dt.date | None
    """When the rule took effect; None when the notes give no date (then always in force)."""
    confidence: Confidence
    until: dt.date | None = None
    """When the rule stopped applying (exclusive); None while in force."""
    line: int | None = None
    """Line of the rule's ``id`` in its file, for error messages."""

    def in_force(self, on: dt.date) -> bool:
        """True when the rule applies on ``on`` (effective that day, not yet ended)."""
        started = self.effective is None or self.effective <= on
        return started and (self.until is None or on < self.until)

    def matches(
        self, registry: Registry, direction: Direction, rtype: ResourceType, kind: TransferKind
    ) -> bool:
        """True when the rule speaks about this side of this kind of move of this type."""
        return (
            (self.registry is None or self.registry is registry)
            and self.direction is direction
            and rtype in self.types
            and kind in self.kinds
        )

    def result(self, message: str | None = None) -> RuleResult:
        """The rule as it appears in a decision (message filled in for the request)."""
        return RuleResult(
            self.id,
            self.reference,
            self.confidence,
            self.effective,
            self.effect,
            message or self.message,
            self.url,
        )


@dataclass(frozen=True)
class Regime:
    """A named, versioned set of rules: the policies in force, or a proposal."""

    name: str
    version: str
    description: str
    source: str
    rules: tuple[Rule, ...]
    notes: tuple[str, ...] = ()
    """Things a reader of any decision under this regime should know (author interest,
    status of the proposal), shown by ``rirport policy show`` and with every evaluation."""
    path: str = ""
    """Where the regime was read from (a built-in's package path, or the user's file)."""
    _by_side: dict[tuple[Registry, Direction, ResourceType, TransferKind], tuple[Rule, ...]] = (
        field(default_factory=dict, compare=False, repr=False)
    )

    def rules_for(
        self, registry: Registry, direction: Direction, rtype: ResourceType, kind: TransferKind
    ) -> tuple[Rule, ...]:
        """Rules of one side of a move, in file order (cached: the engine asks often)."""
        key = (registry, direction, rtype, kind)
        found = self._by_side.get(key)
        if found is None:
            found = tuple(r for r in self.rules if r.matches(registry, direction, rtype, kind))
            self._by_side[key] = found
        return found

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version}"


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus whole months, clamped to the month's end (31 Aug + 6 months = 28/29 Feb).

    Holding periods are stated in months or years; this is the one calendar rule both the
    scalar engine and the vectorised evaluation use.
    """
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, days_in_month(year, month)))


def days_in_month(year: int, month: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31
