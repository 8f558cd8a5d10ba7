"""The fixed vocabulary of checks a rule can name, each in two forms.

A regime file names a check (``counterpart``, ``holding-period`` ...) and gives it parameters;
the check decides whether the rule *fires* for a request. Keeping the vocabulary closed and
small is what lets a user's regime file be validated, and lets every decision be explained
by the rules that fired.

Each check exists twice: a scalar function over one request and its :class:`ResourceFacts`
(the engine), and a vectorised one over columns of many delegations (the portability
matrix). A property test holds the two to the same answers on real delegations.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from rirport.domain.enums import Registry, ResourceType
from rirport.domain.resources import BITS, ResourceRange
from rirport.domain.transfer import ResourceFacts, TransferKind, TransferRequest
from rirport.policy.model import Params, Since, add_months

Bools = npt.NDArray[np.bool_]
I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
Fired = bool | Bools
"""A vectorised check's answer: one bool for every row, or one per row."""

ASN16_LAST = 65535
KIND_CODES: dict[TransferKind, int] = {k: i for i, k in enumerate(TransferKind)}


# -- the specification of each check's parameters ------------------------------------------
@dataclass(frozen=True)
class Spec:
    """Which parameters a check needs and which it accepts, and what it does (for docs)."""

    required: frozenset[str]
    optional: frozenset[str]
    doc: str


def _spec(doc: str, required: str = "", optional: str = "") -> Spec:
    return Spec(frozenset(required.split()), frozenset(optional.split()), doc)


SPECS: dict[str, Spec] = {
    "always": _spec("fires on every request the rule's types and kinds cover"),
    "counterpart": _spec("fires when the other registry is not one of `registries`", "registries"),
    "needs": _spec(
        "fires (a needs test) always, or only when the other registry is one of `registries`",
        optional="registries",
    ),
    "type-scope": _spec("fires when the resource type is not one of `types`", "types"),
    "holding-period": _spec(
        "fires while fewer than `months` have passed since `since` (allocation, receipt, "
        "latest, holder); with `after_months`, only once that many have passed; "
        "`receipt_kinds` limits which receipts count; `asn16_only` limits ASNs to 16-bit",
        "months",
        "since after_months receipt_kinds asn16_only",
    ),
    "locked-pool": _spec(
        "fires when the resource overlaps one of `prefixes` (for `months` "
        "after its allocation, or for ever)",
        "prefixes",
        "months",
    ),
    "min-size": _spec(
        "fires when an address range is smaller than a /`prefix_length`", "prefix_length"
    ),
    "legacy": _spec("fires when the resource is legacy space"),
    "dispute": _spec("fires when the resource is in dispute"),
    "legal-hold": _spec("fires when a legal hold stands on the resource"),
    "holder-matches": _spec("fires when the requester is not the holder of record"),
    "recipient-recognised": _spec(
        "fires when the recipient registry is not one of `registries`", "registries"
    ),
    "source-failed": _spec("fires when the source registry has stopped functioning"),
}


# -- scalar form ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Context:
    """One side of one request: the rule's registry and the registry on the other side."""

    request: TransferRequest
    facts: ResourceFacts
    as_of: dt.date
    registry: Registry
    counterpart: Registry


Outcome = tuple[bool, dict[str, str]]
"""Whether the check fired, and details for the rule's message (``{until}`` and the like)."""
ScalarCheck = Callable[[Context, Params], Outcome]
NO_DETAILS: dict[str, str] = {}


def _always(ctx: Context, p: Params) -> Outcome:
    return True, NO_DETAILS


def _counterpart(ctx: Context, p: Params) -> Outcome:
    return ctx.counterpart not in p.registries, NO_DETAILS


def _needs(ctx: Context, p: Params) -> Outcome:
    return (not p.registries or ctx.counterpart in p.registries), NO_DETAILS


def _type_scope(ctx: Context, p: Params) -> Outcome:
    return ctx.request.resource.type not in p.types, NO_DETAILS


def holding_start(facts: ResourceFacts, p: Params) -> dt.date | None:
    """The date a holding period counts from, or None when there is none to count from."""
    received = facts.received_on
    if received is not None and p.receipt_kinds and facts.received_kind not in p.receipt_kinds:
        received = None
    candidates: list[dt.date | None]
    if p.since is Since.ALLOCATION:
        candidates = [facts.allocated_on]
    elif p.since is Since.RECEIPT:
        candidates = [received]
    elif p.since is Since.LATEST:
        candidates = [facts.allocated_on, received]
    else:
        candidates = [facts.allocated_on, received, facts.holder_received_on]
    dates = [d for d in candidates if d is not None]
    return max(dates) if dates else None


def _holding_period(ctx: Context, p: Params) -> Outcome:
    resource = ctx.request.resource
    if p.asn16_only and resource.type is ResourceType.ASN and resource.last > ASN16_LAST:
        return False, NO_DETAILS
    start = holding_start(ctx.facts, p)
    assert p.months is not None
    if start is None:
        return False, NO_DETAILS
    ends = add_months(start, p.months)
    fired = ctx.as_of < ends
    if fired and p.after_months is not None:
        fired = ctx.as_of >= add_months(start, p.after_months)
    return fired, {"start": start.isoformat(), "until": ends.isoformat()}


def _locked_pool(ctx: Context, p: Params) -> Outcome:
    resource = ctx.request.resource
    pools = [pool for pool in p.prefixes if pool.overlaps(resource)]
    if not pools:
        return False, NO_DETAILS
    details = {"pool": ", ".join(str(pool) for pool in pools)}
    if p.months is None:
        return True, details
    start = ctx.facts.allocated_on
    if start is None:
        return False, details
    ends = add_months(start, p.months)
    return ctx.as_of < ends, {**details, "start": start.isoformat(), "until": ends.isoformat()}


def _min_size(ctx: Context, p: Params) -> Outcome:
    resource = ctx.request.resource
    assert p.prefix_length is not None
    if not resource.is_ip:
        return False, NO_DETAILS
    return resource.size < 1 << (BITS[resource.type] - p.prefix_length), NO_DETAILS


def _legacy(ctx: Context, p: Params) -> Outcome:
    return ctx.facts.legacy, NO_DETAILS


def _dispute(ctx: Context, p: Params) -> Outcome:
    return ctx.facts.in_dispute, {"holds": "; ".join(ctx.facts.hold_reasons)}


def _legal_hold(ctx: Context, p: Params) -> Outcome:
    return ctx.facts.legal_hold, {"holds": "; ".join(ctx.facts.hold_reasons)}


def _holder_matches(ctx: Context, p: Params) -> Outcome:
    holders = ctx.facts.holders
    return ctx.request.source_holder not in holders, {"holder": ", ".join(sorted(holders))}


def _recipient_recognised(ctx: Context, p: Params) -> Outcome:
    return ctx.request.recipient not in p.registries, NO_DETAILS


def _source_failed(ctx: Context, p: Params) -> Outcome:
    return not ctx.facts.source_operational, NO_DETAILS


SCALAR: dict[str, ScalarCheck] = {
    "always": _always,
    "counterpart": _counterpart,
    "needs": _needs,
    "type-scope": _type_scope,
    "holding-period": _holding_period,
    "locked-pool": _locked_pool,
    "min-size": _min_size,
    "legacy": _legacy,
    "dispute": _dispute,
    "legal-hold": _legal_hold,
    "holder-matches": _holder_matches,
    "recipient-recognised": _recipient_recognised,
    "source-failed": _source_failed,
}


# -- vectorised form -----------------------------------------------------------------------
@dataclass(frozen=True)
class Columns:
    """Delegated rows of one source registry and one resource type, with their facts.

    Dates are YYYYMMDD integers, 0 for none. ``value`` is the statistics value field (a
    count for IPv4 and ASNs, the prefix length for IPv6).
    """

    rtype: ResourceType
    date: I32
    received: I32
    received_kind: npt.NDArray[np.int8]
    """Code of the kind of the last receipt (index into ``TransferKind``), -1 for none."""
    holder_latest: I32
    legacy: Bools
    dispute: Bools
    hold: Bools
    first_hi: U64
    first_lo: U64
    last_hi: U64
    last_lo: U64
    value: I64
    iana: npt.NDArray[np.int8]
    """Code of the RIR IANA gave the enclosing block to (index into ``REGISTRIES``), -1."""

    def __len__(self) -> int:
        return len(self.date)


@dataclass
class Batch:
    """One side of one kind of move for a :class:`Columns` group, with a memo shared across
    sides, targets and regimes: row-wise checks depend only on the rows and their params."""

    columns: Columns
    as_of: int
    registry: Registry
    counterpart: Registry
    recipient: Registry
    source_operational: bool
    memo: dict[tuple[str, Params, int], Fired] = field(default_factory=dict)


VectorCheck = Callable[[Batch, Params], Fired]


def _v_always(b: Batch, p: Params) -> Fired:
    return True


def _v_counterpart(b: Batch, p: Params) -> Fired:
    return b.counterpart not in p.registries


def _v_needs(b: Batch, p: Params) -> Fired:
    return not p.registries or b.counterpart in p.registries


def _v_type_scope(b: Batch, p: Params) -> Fired:
    return b.columns.rtype not in p.types


def _v_holding_period(b: Batch, p: Params) -> Fired:
    c = b.columns
    received = c.received
    if p.receipt_kinds:
        codes = np.array([KIND_CODES[k] for k in p.receipt_kinds], dtype=np.int8)
        received = np.where(np.isin(c.received_kind, codes), received, 0).astype(np.int32)
    if p.since is Since.ALLOCATION:
        start = c.date
    elif p.since is Since.RECEIPT:
        start = received
    elif p.since is Since.LATEST:
        start = np.maximum(c.date, received)
    else:
        start = np.maximum(np.maximum(c.date, received), c.holder_latest)
    assert p.months is not None
    fired: Bools = (start != 0) & (add_months_int(start, p.months) > b.as_of)
    if p.after_months is not None:
        fired &= add_months_int(start, p.after_months) <= b.as_of
    if p.asn16_only and c.rtype is ResourceType.ASN:
        fired &= (c.last_hi == 0) & (c.last_lo <= np.uint64(ASN16_LAST))
    return fired


def _v_locked_pool(b: Batch, p: Params) -> Fired:
    c = b.columns
    inside = np.zeros(len(c), dtype=bool)
    for pool in p.prefixes:
        if pool.type is c.rtype:
            inside |= overlaps_rows(c, pool)
    if p.months is None:
        return inside
    locked: Bools = inside & (c.date != 0) & (add_months_int(c.date, p.months) > b.as_of)
    return locked


def _v_min_size(b: Batch, p: Params) -> Fired:
    c = b.columns
    assert p.prefix_length is not None
    if c.rtype is ResourceType.ASN:
        return False
    if c.rtype is ResourceType.IPV6:
        smaller: Bools = c.value > p.prefix_length
        return smaller
    below: Bools = c.value < (1 << (32 - p.prefix_length))
    return below


def _v_legacy(b: Batch, p: Params) -> Fired:
    return b.columns.legacy


def _v_dispute(b: Batch, p: Params) -> Fired:
    return b.columns.dispute


def _v_legal_hold(b: Batch, p: Params) -> Fired:
    return b.columns.hold


def _v_holder_matches(b: Batch, p: Params) -> Fired:
    return False  # the matrix asks for each row what its own holder could do


def _v_recipient_recognised(b: Batch, p: Params) -> Fired:
    return b.recipient not in p.registries


def _v_source_failed(b: Batch, p: Params) -> Fired:
    return not b.source_operational


VECTOR: dict[str, VectorCheck] = {
    "always": _v_always,
    "counterpart": _v_counterpart,
    "needs": _v_needs,
    "type-scope": _v_type_scope,
    "holding-period": _v_holding_period,
    "locked-pool": _v_locked_pool,
    "min-size": _v_min_size,
    "legacy": _v_legacy,
    "dispute": _v_dispute,
    "legal-hold": _v_legal_hold,
    "holder-matches": _v_holder_matches,
    "recipient-recognised": _v_recipient_recognised,
    "source-failed": _v_source_failed,
}
ROW_WISE = frozenset({"holding-period", "locked-pool", "min-size"})
"""Checks whose answer depends on each row and nothing else of the batch (memoised)."""


def run_vector(name: str, batch: Batch, params: Params) -> Fired:
    """Run a vectorised check, reusing the answer of a row-wise check already computed."""
    if name not in ROW_WISE:
        return VECTOR[name](batch, params)
    key = (name, params, batch.as_of)
    found = batch.memo.get(key)
    if found is None:
        found = VECTOR[name](batch, params)
        batch.memo[key] = found
    return found


_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int32)


def add_months_int(dates: I32, months: int) -> I32:
    """:func:`~rirport.policy.model.add_months` over YYYYMMDD integers (0 stays meaningless:
    callers mask it out)."""
    year, month, day = dates // 10000, dates // 100 % 100, dates % 100
    index = year * 12 + np.maximum(month, 1) - 1 + months
    new_year, new_month = index // 12, index % 12 + 1
    leap = (new_year % 4 == 0) & ((new_year % 100 != 0) | (new_year % 400 == 0))
    last = _DAYS[new_month] + ((new_month == 2) & leap)
    result: I32 = (new_year * 10000 + new_month * 100 + np.minimum(day, last)).astype(np.int32)
    return result


def date_int(day: dt.date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def overlaps_rows(c: Columns, pool: ResourceRange) -> Bools:
    """Rows sharing a number with ``pool`` (128-bit comparisons on hi/lo halves)."""
    p_first_hi, p_first_lo = np.uint64(pool.first >> 64), np.uint64(pool.first & (2**64 - 1))
    p_last_hi, p_last_lo = np.uint64(pool.last >> 64), np.uint64(pool.last & (2**64 - 1))
    starts_before_end = (c.first_hi < p_last_hi) | (
        (c.first_hi == p_last_hi) & (c.first_lo <= p_last_lo)
    )
    ends_after_start = (c.last_hi > p_first_hi) | (
        (c.last_hi == p_first_hi) & (c.last_lo >= p_first_lo)
    )
    result: Bools = starts_before_end & ends_after_start
    return result
