"""The RPKI relying-party check: would common validators accept the resource under the
recipient's trust anchor?

Since 2017 every RIR's trust anchor claims all resources (0/0), but relying-party software
undoes that over-claim: OpenBSD rpki-client ships per-TAL ``*.constraints`` files that deny
AFRINIC's blocks under the other four TAs, allow each TA only its own IANA IPv6 blocks, and
(later revisions) deny LACNIC ASNs under ARIN (research notes §5). So a move can be legal for
both registries and still leave the resource RPKI-invalid for those validators. This is a
separate finding, never part of the policy outcome.

The constraints are data (``rirport/data/policy/rpki-constraints.toml``) keyed by the RIR
IANA gave the enclosing block to, which :class:`ResourceFacts` carries.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

import numpy as np
import numpy.typing as npt

from rirport.domain.enums import REGISTRIES, Registry, ResourceType
from rirport.domain.resources import ResourceRange
from rirport.domain.transfer import Confidence, Effect, RpkiFinding, RuleResult
from rirport.errors import PolicyError
from rirport.policy.checks import Columns, overlaps_rows
from rirport.policy.loader import read_toml

CONSTRAINT_KEYS = frozenset(
    {
        "id",
        "trust_anchors",
        "types",
        "deny_iana",
        "only_own_iana",
        "also_allow",
        "message",
        "reference",
        "url",
        "effective",
        "confidence",
    }
)


@dataclass(frozen=True)
class Constraint:
    """One relying-party constraint: which resources a trust anchor may not certify."""

    id: str
    trust_anchors: frozenset[Registry]
    types: frozenset[ResourceType]
    deny_iana: frozenset[Registry]
    """Denied when IANA gave the enclosing block to one of these RIRs."""
    only_own_iana: bool
    """Denied unless IANA gave the enclosing block to the trust anchor's own RIR."""
    also_allow: dict[Registry, tuple[ResourceRange, ...]]
    """Exceptions to ``only_own_iana`` per trust anchor (APNIC's IXP block 2001:7fa::/32)."""
    message: str
    reference: str
    url: str | None
    effective: dt.date | None
    confidence: Confidence

    def denies(self, recipient: Registry, resource: ResourceRange, iana: Registry | None) -> bool:
        """True when validators would reject ``resource`` under ``recipient``'s TA."""
        if recipient not in self.trust_anchors or resource.type not in self.types:
            return False
        if iana is not None and iana in self.deny_iana:
            return True
        if not self.only_own_iana or iana is recipient:
            return False
        return not any(p.contains(resource) for p in self.also_allow.get(recipient, ()))

    def denies_rows(self, recipient: Registry, columns: Columns) -> npt.NDArray[np.bool_]:
        """:meth:`denies` for every row of a column group (its type is the group's)."""
        none = np.zeros(len(columns), dtype=bool)
        if recipient not in self.trust_anchors or columns.rtype not in self.types:
            return none
        denied: npt.NDArray[np.bool_] = np.isin(
            columns.iana, [REGISTRIES.index(r) for r in self.deny_iana]
        )
        if self.only_own_iana:
            foreign = columns.iana != REGISTRIES.index(recipient)
            for prefix in self.also_allow.get(recipient, ()):
                if prefix.type is columns.rtype:
                    foreign &= ~_inside(columns, prefix)
            denied |= foreign
        return denied

    def result(self, recipient: Registry, iana: Registry | None) -> RuleResult:
        text = self.message.format(recipient=recipient.label, iana=iana.label if iana else "no RIR")
        return RuleResult(
            self.id, self.reference, self.confidence, self.effective, Effect.REFUSE, text, self.url
        )


@dataclass(frozen=True)
class Constraints:
    """A versioned set of relying-party constraints."""

    name: str
    version: str
    source: str
    constraints: tuple[Constraint, ...]


def check_rpki(
    recipient: Registry,
    resource: ResourceRange,
    iana: Registry | None,
    constraints: Constraints | None = None,
) -> RpkiFinding:
    """The RPKI finding for ``resource`` certified under ``recipient``'s trust anchor."""
    found = constraints or default_constraints()
    denied = tuple(
        c.result(recipient, iana) for c in found.constraints if c.denies(recipient, resource, iana)
    )
    return RpkiFinding(not denied, denied)


def rejected_rows(
    recipient: Registry, columns: Columns, constraints: Constraints | None = None
) -> npt.NDArray[np.bool_]:
    """Rows of a column group validators would reject under ``recipient``'s TA."""
    found = constraints or default_constraints()
    rejected = np.zeros(len(columns), dtype=bool)
    for c in found.constraints:
        rejected |= c.denies_rows(recipient, columns)
    return rejected


@functools.cache
def default_constraints() -> Constraints:
    """The bundled rpki-client constraints (read once)."""
    resource = (
        files("rirport").joinpath("data").joinpath("policy").joinpath("rpki-constraints.toml")
    )
    return parse_constraints(
        resource.read_text(encoding="utf-8"), "rirport/data/policy/rpki-constraints.toml"
    )


def parse_constraints(text: str, source: str) -> Constraints:
    """Validate a constraints file.

    Raises:
        ParseError: not valid TOML.
        PolicyError: a constraint is malformed.
    """
    data = read_toml(text, source)
    head = data.get("constraints", {})
    problems: list[str] = []
    items = []
    for number, raw in enumerate(data.get("constraint", []), start=1):
        try:
            items.append(_constraint(raw))
        except (KeyError, ValueError, TypeError) as exc:
            problems.append(f"{source}: constraint #{number} ({raw.get('id', '?')}): {exc}")
    if not isinstance(head, dict) or not head.get("version"):
        problems.append(f"{source}: [constraints] needs a name and a version")
    if problems:
        raise PolicyError(source, problems)
    return Constraints(
        str(head.get("name", "")), str(head["version"]), str(head.get("source", "")), tuple(items)
    )


def _constraint(raw: dict[str, Any]) -> Constraint:
    unknown = set(raw) - CONSTRAINT_KEYS
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(sorted(unknown))}")
    anchors = raw["trust_anchors"]
    effective = raw["effective"]
    return Constraint(
        id=str(raw["id"]),
        trust_anchors=frozenset(REGISTRIES)
        if anchors == ["*"]
        else frozenset(Registry.parse(a) for a in anchors),
        types=frozenset(ResourceType(t) for t in raw["types"]),
        deny_iana=frozenset(Registry.parse(r) for r in raw.get("deny_iana", [])),
        only_own_iana=bool(raw.get("only_own_iana", False)),
        also_allow={
            Registry.parse(k): tuple(ResourceRange.from_network(p) for p in v)
            for k, v in raw.get("also_allow", {}).items()
        },
        message=str(raw["message"]),
        reference=str(raw["reference"]),
        url=raw.get("url"),
        effective=None if effective == "unknown" else effective,
        confidence=Confidence(raw["confidence"]),
    )


def _inside(columns: Columns, prefix: ResourceRange) -> npt.NDArray[np.bool_]:
    """Rows wholly inside ``prefix`` (overlap and both ends within)."""
    lo_hi, lo_lo = np.uint64(prefix.first >> 64), np.uint64(prefix.first & (2**64 - 1))
    hi_hi, hi_lo = np.uint64(prefix.last >> 64), np.uint64(prefix.last & (2**64 - 1))
    after = (columns.first_hi > lo_hi) | ((columns.first_hi == lo_hi) & (columns.first_lo >= lo_lo))
    before = (columns.last_hi < hi_hi) | ((columns.last_hi == hi_hi) & (columns.last_lo <= hi_lo))
    result: npt.NDArray[np.bool_] = after & before & overlaps_rows(columns, prefix)
    return result
