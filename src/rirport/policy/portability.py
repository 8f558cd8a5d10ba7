"""Who could leave: every current delegation evaluated against every other registry, at once.

The scalar engine answers one request in microseconds; the matrix asks the same question of
some 300,000 delegations × 4 target registries × each regime. Here the same rules run over
numpy columns: delegations are grouped by source registry and resource type (so a rule's
registry, direction, type, kind and date filters are decided once per group, not per row),
checks that depend only on the registry pair answer with one bool, and row-wise checks
(holding periods, locked pools, minimum size) are computed once per group and reused across
targets and regimes. A property test holds every row's outcome to the scalar engine's.

The answer is a matrix source × target × regime × type × outcome with the amount (addresses
for IPv4, prefixes for IPv6, AS numbers), the number of distinct holders (opaque-ids), and how
much of it RPKI relying parties would reject; and the scenario "registry X stops
functioning": what its holders could still take elsewhere, by country.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from rirport.domain.enums import REGISTRIES, Registry, ResourceType
from rirport.domain.transfer import Confidence, Effect, Outcome, TransferKind
from rirport.policy.checks import Batch, Columns, Fired, date_int, run_vector
from rirport.policy.model import Direction, Params, Regime, Rule
from rirport.policy.rpki import Constraints, rejected_rows

I8 = npt.NDArray[np.int8]
I64 = npt.NDArray[np.int64]
OUTCOMES: tuple[Outcome, ...] = (Outcome.ALLOWED, Outcome.CONDITIONAL, Outcome.REFUSED)
"""Outcome codes: index into this tuple (0 allowed, 1 conditional, 2 refused)."""
_SEVERITY = {Effect.REFUSE: 2, Effect.CONDITION: 1}


@dataclass(frozen=True)
class Group:
    """The delegated rows of one source registry and one type, sorted by holder."""

    registry: Registry
    columns: Columns
    holder: I64
    """Dense holder code per row (ascending): distinct holders are distinct codes."""
    cc: npt.NDArray[np.bytes_]
    amount: I64
    """Addresses (IPv4), 1 per prefix (IPv6), AS numbers (ASN)."""
    rows: I64
    """Row numbers in the table the group was built from."""
    memo: dict[tuple[str, Params, int], Fired] = field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def rtype(self) -> ResourceType:
        return self.columns.rtype

    def __len__(self) -> int:
        return len(self.holder)


@dataclass(frozen=True)
class MatrixCell:
    """How much of one registry's space of one type could go to another, with one outcome."""

    regime: str
    from_registry: Registry
    to_registry: Registry
    type: ResourceType
    outcome: Outcome
    amount: int
    holders: int
    records: int
    rpki_rejected: int
    """Of ``amount``, how much rpki-client would reject under the target's trust anchor."""
    rules: tuple[str, ...] = ()
    """Ids of the rules (other than notes) that fired on at least one of the cell's rows."""
    confidence: Confidence | None = None
    """The weakest confidence among those rules: a cell is only as sure as they are."""

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "regime": self.regime,
            "from_registry": self.from_registry.value,
            "to_registry": self.to_registry.value,
            "type": self.type.value,
            "outcome": self.outcome.value,
            "amount": self.amount,
            "holders": self.holders,
            "records": self.records,
            "rpki_rejected": self.rpki_rejected,
            "rules": list(self.rules),
            "confidence": self.confidence.value if self.confidence else None,
        }
        if self.type is ResourceType.IPV4:
            body["slash24s"] = round(self.amount / 256, 2)
        return body


@dataclass(frozen=True)
class ScenarioRow:
    """For one failing registry, one country and type: what could still leave, and who is
    stuck (a holder is stuck when any of its resources of the type cannot leave)."""

    regime: str
    failing_registry: Registry
    cc: str
    type: ResourceType
    allowed_amount: int
    conditional_amount: int
    stuck_amount: int
    holders_free: int
    holders_stuck: int

    def to_json(self) -> dict[str, Any]:
        return {
            "regime": self.regime,
            "failing_registry": self.failing_registry.value,
            "cc": self.cc,
            "type": self.type.value,
            "allowed_amount": self.allowed_amount,
            "conditional_amount": self.conditional_amount,
            "stuck_amount": self.stuck_amount,
            "holders_free": self.holders_free,
            "holders_stuck": self.holders_stuck,
        }


# -- outcomes per row ------------------------------------------------------------------------
def row_outcomes(
    group: Group,
    regime: Regime,
    target: Registry,
    as_of: dt.date,
    kind: TransferKind = TransferKind.INTER_RIR,
    source_operational: bool = True,
    fired: list[tuple[Rule, Fired]] | None = None,
) -> I8:
    """Outcome code of every row of ``group`` moved to ``target`` (as the scalar engine would
    decide for the row's own holder requesting it on ``as_of``); ``fired`` collects each
    rule that ran with where it fired."""
    source = group.registry
    if target is source:
        sides = [(source, Direction.INTRA, source)]
    else:
        sides = [(source, Direction.OUT, target), (target, Direction.IN, source)]
    worst = np.zeros(len(group), dtype=np.int8)
    for registry, direction, counterpart in sides:
        batch = Batch(
            group.columns,
            date_int(as_of),
            registry,
            counterpart,
            target,
            source_operational,
            group.memo,
        )
        worst = np.maximum(worst, _side(batch, regime, direction, kind, as_of, fired))
    return worst


def _side(
    batch: Batch,
    regime: Regime,
    direction: Direction,
    kind: TransferKind,
    as_of: dt.date,
    record: list[tuple[Rule, Fired]] | None,
) -> I8:
    """Severity per row from one side's rules; a row no ``allow`` rule fired for is refused."""
    n = len(batch.columns)
    severity = np.zeros(n, dtype=np.int8)
    permitted = np.zeros(n, dtype=bool)
    for rule in regime.rules_for(batch.registry, direction, batch.columns.rtype, kind):
        if not rule.in_force(as_of):
            continue
        fired = run_vector(rule.check, batch, rule.params)
        if record is not None:
            record.append((rule, fired))
        if rule.effect is Effect.ALLOW:
            permitted |= fired
        elif rule.effect in _SEVERITY:
            level = np.int8(_SEVERITY[rule.effect])
            severity = np.maximum(severity, np.where(fired, level, np.int8(0)))
    result: I8 = np.where(permitted, severity, np.int8(2)).astype(np.int8)
    return result


# -- the matrix ------------------------------------------------------------------------------
def matrix(
    groups: Sequence[Group],
    regimes: Sequence[Regime],
    as_of: dt.date,
    targets: Sequence[Registry] = REGISTRIES,
    rpki: Constraints | None = None,
) -> list[MatrixCell]:
    """Every (regime, source, target ≠ source, type, outcome) cell, zero cells included so
    the shape is the same whatever the data."""
    cells = []
    for regime in regimes:
        for group in groups:
            for target in targets:
                if target is not group.registry:
                    cells += _cells(group, regime, target, as_of, rpki)
    return cells


def _cells(
    group: Group, regime: Regime, target: Registry, as_of: dt.date, rpki: Constraints | None
) -> list[MatrixCell]:
    fired: list[tuple[Rule, Fired]] = []
    outcomes = row_outcomes(group, regime, target, as_of, fired=fired)
    rejected = rejected_rows(target, group.columns, rpki)
    cells = []
    for code, outcome in enumerate(OUTCOMES):
        mask = outcomes == code
        rules, confidence = deciding_rules(fired, mask, outcome)
        cells.append(
            MatrixCell(
                regime.name,
                group.registry,
                target,
                group.rtype,
                outcome,
                int(group.amount[mask].sum()),
                distinct(group.holder[mask]),
                int(mask.sum()),
                int(group.amount[mask & rejected].sum()),
                rules,
                confidence,
            )
        )
    return cells


def deciding_rules(
    fired: list[tuple[Rule, Fired]], mask: npt.NDArray[np.bool_], outcome: Outcome
) -> tuple[tuple[str, ...], Confidence | None]:
    """The rules behind a cell and how sure the cell is.

    A refusal stands if any refusing rule holds, so a refused cell is as sure as its best
    sourced refusal (U when only the engine's "no rule permits" refused it); a permission
    needs every rule that allowed or conditioned it, so those cells are as sure as the
    weakest of them.
    """
    if not mask.any():
        return (), None
    if outcome is Outcome.REFUSED:
        rules = [r for r, where in fired if r.effect is Effect.REFUSE and _any(where, mask)]
        if not rules:
            return (), Confidence.UNVERIFIED
        return tuple(dict.fromkeys(r.id for r in rules)), strongest(r.confidence for r in rules)
    rules = [
        r
        for r, where in fired
        if r.effect in (Effect.ALLOW, Effect.CONDITION) and _any(where, mask)
    ]
    return tuple(dict.fromkeys(r.id for r in rules)), weakest(r.confidence for r in rules)


def _any(fired: Fired, mask: npt.NDArray[np.bool_]) -> bool:
    if isinstance(fired, np.ndarray):
        return bool((fired & mask).any())
    return bool(fired) and bool(mask.any())


_ORDER = {Confidence.VERIFIED: 0, Confidence.PARTLY: 1, Confidence.UNVERIFIED: 2}


def weakest(confidences: Iterable[Confidence]) -> Confidence | None:
    """The least verified of some confidence tags (U before P before V); None for none."""
    found = list(confidences)
    return max(found, key=_ORDER.__getitem__) if found else None


def strongest(confidences: Iterable[Confidence]) -> Confidence | None:
    """The best verified of some confidence tags; None for none."""
    found = list(confidences)
    return min(found, key=_ORDER.__getitem__) if found else None


def distinct(sorted_codes: I64) -> int:
    """Distinct values of an ascending array, without sorting again."""
    if not len(sorted_codes):
        return 0
    return 1 + int(np.count_nonzero(sorted_codes[1:] != sorted_codes[:-1]))


# -- the scenario "registry X stops functioning" ------------------------------------------------
def failing_scenario(
    groups: Sequence[Group], regimes: Sequence[Regime], failing: Registry, as_of: dt.date
) -> list[ScenarioRow]:
    """For each regime, country and type: what the failing registry's holders could still
    move to at least one other registry (its best outcome), and who is stuck."""
    rows: list[ScenarioRow] = []
    for regime in regimes:
        for group in groups:
            if group.registry is failing:
                rows += _scenario_group(group, regime, failing, as_of)
    return sorted(
        rows,
        key=lambda r: (
            r.regime,
            r.type.value,
            -r.stuck_amount,
            -r.allowed_amount - r.conditional_amount,
            r.cc,
        ),
    )


def best_outcomes(
    group: Group, regime: Regime, as_of: dt.date, source_operational: bool = True
) -> I8:
    """The most favourable outcome of each row over every other registry."""
    best = np.full(len(group), 2, dtype=np.int8)
    for target in REGISTRIES:
        if target is not group.registry:
            best = np.minimum(
                best,
                row_outcomes(group, regime, target, as_of, source_operational=source_operational),
            )
    return best


def _scenario_group(
    group: Group, regime: Regime, failing: Registry, as_of: dt.date
) -> Iterator[ScenarioRow]:
    best = best_outcomes(group, regime, as_of, source_operational=False)
    countries, inverse = np.unique(group.cc, return_inverse=True)
    for code, cc in enumerate(countries.tolist()):
        mine = inverse == code
        stuck = mine & (best == 2)
        stuck_holders = np.unique(group.holder[stuck])
        all_holders = np.unique(group.holder[mine])
        yield ScenarioRow(
            regime.name,
            failing,
            cc.decode() or "--",
            group.rtype,
            int(group.amount[mine & (best == 0)].sum()),
            int(group.amount[mine & (best == 1)].sum()),
            int(group.amount[stuck].sum()),
            len(all_holders) - len(stuck_holders),
            len(stuck_holders),
        )
