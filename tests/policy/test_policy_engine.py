"""The engine gives the decisions the policy facts imply, on real 2018 delegations.

Each test asserts the outcome and the rule that decided it, with its reference and its
confidence as tagged in the research notes (shared/reference/inter-rir-policy.md).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from rirport.domain.delegation import Delegation
from rirport.domain.enums import Registry, ResourceType
from rirport.domain.resources import ResourceRange
from rirport.domain.transfer import (
    Confidence,
    Decision,
    Effect,
    Outcome,
    ResourceFacts,
    RuleResult,
    TransferKind,
    TransferRequest,
)
from rirport.errors import InputError
from rirport.policy.engine import evaluate
from rirport.policy.loader import load_regime, parse_regime
from rirport.policy.model import add_months
from tests.policy.conftest import AS_OF, Real

pytestmark = pytest.mark.slow
AFRINIC, APNIC, ARIN, LACNIC, RIPE = (
    Registry.AFRINIC,
    Registry.APNIC,
    Registry.ARIN,
    Registry.LACNIC,
    Registry.RIPENCC,
)
V, P, U = Confidence.VERIFIED, Confidence.PARTLY, Confidence.UNVERIFIED
OTHERS = {r: [o for o in Registry if o is not r] for r in Registry}


def fired(decision: Decision) -> dict[str, RuleResult]:
    return {r.id: r for r in decision.rules}


def assert_rule(
    decision: Decision, rule_id: str, effect: Effect, confidence: Confidence, reference: str
) -> None:
    """The rule fired with this effect and confidence, citing ``reference``."""
    rules = fired(decision)
    assert rule_id in rules, f"{rule_id} did not fire: {sorted(rules)}"
    rule = rules[rule_id]
    assert rule.effect is effect
    assert rule.confidence is confidence
    assert reference in rule.reference


def ipv4(real: Real, registry: Registry, **kw: object) -> Delegation:
    """An old, ordinary IPv4 delegation (a /24 or larger, outside 103/8 and 23.128/10)."""
    return real.pick(
        registry,
        ResourceType.IPV4,
        lambda d: d.value >= 256 and not d.start.startswith(("103.", "23.1")),
    )


# -- AFRINIC -------------------------------------------------------------------------------
@pytest.mark.parametrize("rtype", list(ResourceType))
def test_afrinic_resources_cannot_leave_for_any_registry(real: Real, rtype: ResourceType) -> None:
    d = real.pick(AFRINIC, rtype)
    for target in OTHERS[AFRINIC]:
        decision = real.decide(d, target)
        assert decision.outcome is Outcome.REFUSED
        assert_rule(decision, "afrinic-out-none", Effect.REFUSE, V, "CPM 5.7")
        assert_rule(decision, "afrinic-out-pending", Effect.NOTE, P, "AFPUB-2020-GEN-006")


def test_nothing_can_enter_afrinic(real: Real) -> None:
    for source in OTHERS[AFRINIC]:
        decision = real.decide(ipv4(real, source), AFRINIC)
        assert decision.outcome is Outcome.REFUSED
        assert_rule(decision, "afrinic-in-none", Effect.REFUSE, V, "CPM 5.7")


def test_arin_and_afrinic_refuse_each_other_on_reciprocity(real: Real) -> None:
    out = real.decide(ipv4(real, ARIN), AFRINIC)
    assert_rule(out, "arin-out-reciprocity-ipv4", Effect.REFUSE, V, "NRPM 8.4")
    assert "AFRINIC has none" in fired(out)["arin-out-reciprocity-ipv4"].message
    back = real.decide(ipv4(real, AFRINIC), ARIN)
    assert back.outcome is Outcome.REFUSED
    assert_rule(back, "arin-in-reciprocity-ipv4", Effect.REFUSE, V, "ARIN staff, 6 Oct 2016")


def test_ripe_demands_no_reciprocity_so_only_afrinic_refuses(real: Real) -> None:
    decision = real.decide(ipv4(real, RIPE), AFRINIC)
    assert decision.outcome is Outcome.REFUSED
    refusing = [r.id for r in decision.rules if r.effect is Effect.REFUSE]
    assert refusing == ["afrinic-in-none"]
    assert_rule(decision, "ripe-out-no-reciprocity", Effect.NOTE, V, "LAC-2017-2")


def test_apnic_and_lacnic_refuse_afrinic_as_counterpart(real: Real) -> None:
    apnic = real.decide(ipv4(real, APNIC), AFRINIC)
    assert_rule(apnic, "apnic-out-reciprocity-ipv4", Effect.REFUSE, P, "prop-095")
    lacnic = real.decide(ipv4(real, LACNIC), AFRINIC)
    assert_rule(lacnic, "lacnic-out-reciprocity", Effect.REFUSE, V, "LAC-2019-1")


# -- the pairs that work ---------------------------------------------------------------------
@pytest.mark.parametrize("source", [APNIC, ARIN, LACNIC, RIPE])
def test_ipv4_between_the_four_is_conditional_on_the_recipients_needs_test(
    real: Real, source: Registry
) -> None:
    d = ipv4(real, source)
    for target in OTHERS[source]:
        if target is AFRINIC:
            continue
        decision = real.decide(d, target)
        assert decision.outcome is Outcome.CONDITIONAL, (source, target, decision.rules)
        assert decision.conditions
    arin = real.decide(d, ARIN) if source is not ARIN else real.decide(d, RIPE)
    if source is not ARIN:
        assert_rule(arin, "arin-in-needs", Effect.CONDITION, V, "sign an RSA")
        assert "recipient must demonstrate need to ARIN" in arin.conditions[0]


def test_arin_to_ripe_lists_every_condition(real: Real) -> None:
    decision = real.decide(ipv4(real, ARIN), RIPE)
    assert decision.outcome is Outcome.CONDITIONAL
    assert_rule(decision, "arin-out-ipv4", Effect.ALLOW, V, "NRPM 8.4")
    assert_rule(decision, "arin-out-reserved-4-4", Effect.CONDITION, P, "4.4")
    assert_rule(decision, "ripe-in-membership", Effect.CONDITION, V, "ripe-807 §2.1")
    assert_rule(decision, "ripe-in-needs-plan", Effect.CONDITION, P, "ripe-644")
    assert any("50%" in c and "ARIN" in c for c in decision.conditions)


def test_arin_4_10_reserved_pool_is_not_eligible(real: Real) -> None:
    d = real.pick(ARIN, ResourceType.IPV4, lambda d: d.start.startswith("23.128."))
    decision = real.decide(d, RIPE)
    assert decision.outcome is Outcome.REFUSED
    assert_rule(decision, "arin-out-reserved-4-10", Effect.REFUSE, U, "4.10")


# -- IPv6 and ASNs ---------------------------------------------------------------------------
def test_ipv6_inter_rir_refused_now_allowed_under_portability_but_rpki_rejected(real: Real) -> None:
    d = real.pick(RIPE, ResourceType.IPV6)
    current = real.decide(d, ARIN)
    assert current.outcome is Outcome.REFUSED
    assert_rule(current, "arin-in-ipv6", Effect.REFUSE, V, "ARIN-2018-1")
    assert_rule(current, "ripe-out-ipv6", Effect.ALLOW, P, "ripe-807")
    arin = real.pick(ARIN, ResourceType.IPV6)
    assert_rule(real.decide(arin, RIPE), "arin-out-ipv6", Effect.REFUSE, V, "NRPM 8.4")
    portable = real.decide(d, ARIN, regime="mandatory-portability")
    assert portable.outcome is Outcome.ALLOWED
    assert_rule(portable, "mp-out", Effect.ALLOW, V, "Lu Heng")
    assert not portable.rpki.accepted
    assert [c.id for c in portable.rpki.constraints] == ["rpki-ipv6-own-blocks"]


def test_lacnic_asns_cannot_leave_and_rpki_rejects_them_under_arin(real: Real) -> None:
    d = real.pick(
        LACNIC, ResourceType.ASN, lambda d: d.value == 1 and real.facts(d).iana_registry is LACNIC
    )
    current = real.decide(d, ARIN)
    assert current.outcome is Outcome.REFUSED
    assert_rule(current, "lacnic-out-asn-ipv6", Effect.REFUSE, P, "2.3.2.18")
    assert_rule(current, "arin-in-reciprocity-asn", Effect.REFUSE, P, "ARIN-2018-1")
    portable = real.decide(d, ARIN, regime="mandatory-portability")
    assert portable.outcome is Outcome.ALLOWED
    assert not portable.rpki.accepted
    assert "rpki-lacnic-asn-under-arin" in [c.id for c in portable.rpki.constraints]


def test_asns_move_between_ripe_and_arin_with_arin_needs(real: Real) -> None:
    decision = real.decide(real.pick(RIPE, ResourceType.ASN), ARIN)
    assert decision.outcome is Outcome.CONDITIONAL
    assert_rule(decision, "arin-in-asn", Effect.ALLOW, P, "ARIN-2018-1")
    assert decision.rpki.accepted


def test_afrinic_space_is_rpki_rejected_under_other_trust_anchors(real: Real) -> None:
    d = real.pick(AFRINIC, ResourceType.IPV4, lambda d: d.start.startswith("41."))
    decision = real.decide(d, RIPE, regime="mandatory-portability")
    assert decision.outcome is Outcome.ALLOWED
    assert not decision.rpki.accepted
    assert decision.rpki.constraints[0].id == "rpki-afrinic-space"
    assert decision.rpki.constraints[0].confidence is V


# -- holding periods at their boundaries ------------------------------------------------------
def test_apnic_103_block_is_locked_five_years_after_delegation(real: Real) -> None:
    d = real.pick(APNIC, ResourceType.IPV4, lambda d: d.start.startswith("103."))
    assert d.date is not None
    unlock = add_months(d.date, 60)
    before = real.decide(d, RIPE, on=unlock - dt.timedelta(days=1))
    assert before.outcome is Outcome.REFUSED
    assert_rule(before, "apnic-out-103", Effect.REFUSE, V, "prop-116")
    assert unlock.isoformat() in fired(before)["apnic-out-103"].message
    after = real.decide(d, RIPE, on=unlock)
    assert "apnic-out-103" not in fired(after)
    assert after.outcome is Outcome.CONDITIONAL


def test_ripe_24_months_after_allocation_boundary(real: Real) -> None:
    d = real.pick(
        RIPE,
        ResourceType.IPV4,
        lambda d: d.date is not None and d.date >= dt.date(2018, 1, 1) and d.value >= 256,
    )
    assert d.date is not None
    ends = add_months(d.date, 24)
    before = real.decide(d, ARIN, on=ends - dt.timedelta(days=1))
    assert_rule(before, "ripe-out-hold-ipv4", Effect.REFUSE, V, "ripe-807 §2.2")
    assert before.outcome is Outcome.REFUSED
    assert "ripe-out-hold-ipv4" not in fired(real.decide(d, ARIN, on=ends))


def test_ripe_24_months_count_from_any_receipt_and_m_and_a_may_happen_inside(real: Real) -> None:
    d = ipv4(real, RIPE)
    received = AS_OF - dt.timedelta(days=200)
    facts = dataclasses.replace(
        real.facts(d), received_on=received, received_kind=TransferKind.INTER_RIR
    )
    moved = real.decide(d, ARIN, facts=facts)
    assert_rule(moved, "ripe-out-hold-ipv4", Effect.REFUSE, V, "ripe-807")
    merger = real.decide(d, RIPE, kind=TransferKind.MERGER, facts=facts)
    assert "ripe-intra-hold-ipv4" not in fired(merger)
    assert_rule(merger, "ripe-intra-merger-within-hold", Effect.NOTE, V, "ripe-807")
    assert merger.outcome is not Outcome.REFUSED


def test_ripe_hold_covers_16_bit_asns_only(real: Real) -> None:
    recent = dt.date(2017, 6, 1)
    small = real.pick(
        RIPE,
        ResourceType.ASN,
        lambda d: int(d.start) < 65536 and d.date is not None and d.date > recent,
    )
    large = real.pick(
        RIPE,
        ResourceType.ASN,
        lambda d: int(d.start) > 65535 and d.date is not None and d.date > recent,
    )
    for d, held in ((small, True), (large, False)):
        assert d.date is not None
        decision = real.decide(d, ARIN, on=d.date + dt.timedelta(days=30))
        assert ("ripe-out-hold-asn16" in fired(decision)) is held


def test_arin_12_month_source_rule_and_its_m_and_a_exemption(real: Real) -> None:
    d = ipv4(real, ARIN)
    latest = AS_OF - dt.timedelta(days=100)
    facts = dataclasses.replace(real.facts(d), holder_received_on=latest)
    intra = real.decide(d, ARIN, facts=facts)
    assert intra.outcome is Outcome.REFUSED
    assert_rule(intra, "arin-intra-12-months", Effect.REFUSE, P, "NRPM 8.3")
    out = real.decide(d, RIPE, facts=facts)
    assert_rule(out, "arin-out-12-months", Effect.REFUSE, P, "NRPM 8.4")
    merger = real.decide(d, ARIN, kind=TransferKind.MERGER, facts=facts)
    assert "arin-intra-12-months" not in fired(merger)
    assert_rule(merger, "arin-intra-merger-exempt", Effect.NOTE, V, "NRPM 8.2")
    assert merger.outcome is Outcome.ALLOWED
    eligible = add_months(latest, 12)
    at = dataclasses.replace(facts, holder_received_on=latest)
    assert "arin-out-12-months" in fired(
        real.decide(d, RIPE, facts=at, on=eligible - dt.timedelta(days=1))
    )
    assert "arin-out-12-months" not in fired(real.decide(d, RIPE, facts=at, on=eligible))


def test_arin_waitlist_hold_is_a_condition_for_60_months(real: Real) -> None:
    d = ipv4(real, ARIN)
    assert d.date is not None
    decision = real.decide(d, RIPE, on=add_months(d.date, 60) - dt.timedelta(days=1))
    assert_rule(decision, "arin-out-waitlist", Effect.CONDITION, V, "ARIN-2020-1")


def test_lacnic_three_years_spanish_with_the_english_conflict_visible(real: Real) -> None:
    d = ipv4(real, LACNIC)
    assert d.date is not None
    on = max(dt.date(2021, 1, 1), d.date)
    facts = dataclasses.replace(
        real.facts(d, on), delegations=(dataclasses.replace(d, date=add_months(on, -24)),)
    )
    both = real.decide(d, ARIN, on=on, facts=facts)
    assert_rule(both, "lacnic-out-hold-allocation", Effect.REFUSE, V, "Spanish text")
    assert_rule(both, "lacnic-out-hold-allocation-en", Effect.NOTE, V, "English text")
    assert "CONFLICT" in fired(both)["lacnic-out-hold-allocation"].message
    young = dataclasses.replace(
        facts, delegations=(dataclasses.replace(d, date=add_months(on, -6)),)
    )
    first_year = real.decide(d, ARIN, on=on, facts=young)
    assert "lacnic-out-hold-allocation" in fired(first_year)
    assert "lacnic-out-hold-allocation-en" not in fired(first_year)
    old = dataclasses.replace(
        facts, delegations=(dataclasses.replace(d, date=add_months(on, -36)),)
    )
    assert "lacnic-out-hold-allocation" not in fired(real.decide(d, ARIN, on=on, facts=old))


def test_lacnic_one_year_after_a_transfer_but_not_after_m_and_a(real: Real) -> None:
    d = ipv4(real, LACNIC)
    received = AS_OF - dt.timedelta(days=100)
    transfer = dataclasses.replace(
        real.facts(d), received_on=received, received_kind=TransferKind.INTER_RIR
    )
    assert_rule(
        real.decide(d, ARIN, facts=transfer), "lacnic-out-retransfer", Effect.REFUSE, V, "2.3.2.18"
    )
    merger = dataclasses.replace(transfer, received_kind=TransferKind.MERGER)
    assert "lacnic-out-retransfer" not in fired(real.decide(d, ARIN, facts=merger))


def test_lacnic_had_no_inter_rir_policy_before_lac_2019_1(real: Real) -> None:
    decision = real.decide(ipv4(real, LACNIC), ARIN, on=dt.date(2019, 1, 1))
    assert decision.outcome is Outcome.REFUSED
    assert_rule(decision, "lacnic-out-before-2019-1", Effect.REFUSE, V, "LAC-2019-1")


def test_lacnic_legacy_resources_lose_their_status(real: Real) -> None:
    d = ipv4(real, LACNIC)
    facts = dataclasses.replace(real.facts(d), legacy=True)
    assert_rule(real.decide(d, RIPE, facts=facts), "lacnic-out-legacy", Effect.NOTE, V, "2.3.2.18")


def test_lacnic_minimum_is_a_slash_24(real: Real) -> None:
    d = real.pick(LACNIC, ResourceType.IPV4, lambda d: d.value >= 1024)
    small = ResourceRange(ResourceType.IPV4, d.resource.first, d.resource.first + 127)
    request = TransferRequest(
        small, LACNIC, d.opaque_id or "", ARIN, "", TransferKind.INTER_RIR, AS_OF
    )
    decision = evaluate(request, load_regime("current"), real.facts(d), AS_OF)
    assert_rule(decision, "lacnic-out-min-size", Effect.REFUSE, P, "LAC-2015-2")


# -- holders, holds, disputes, a failing registry ---------------------------------------------
def test_requester_who_is_not_the_holder_is_refused_under_both_regimes(real: Real) -> None:
    d = ipv4(real, RIPE)
    for regime, rule in (("current", "any-out-holder"), ("mandatory-portability", "mp-out-holder")):
        decision = real.decide(d, ARIN, regime=regime, holder="someone-else")
        assert decision.outcome is Outcome.REFUSED
        assert rule in fired(decision)


@pytest.mark.parametrize("field", ["in_dispute", "legal_hold"])
def test_disputes_and_legal_holds_block_every_regime(real: Real, field: str) -> None:
    d = ipv4(real, RIPE)
    flags: dict[str, Any] = {field: True}
    facts = dataclasses.replace(real.facts(d), hold_reasons=("dispute #1: court",), **flags)
    for regime in ("current", "mandatory-portability"):
        decision = real.decide(d, ARIN, regime=regime, facts=facts)
        assert decision.outcome is Outcome.REFUSED, regime


def test_a_failed_source_blocks_current_policy_but_not_portability(real: Real) -> None:
    d = ipv4(real, RIPE)
    facts = dataclasses.replace(real.facts(d), source_operational=False)
    current = real.decide(d, ARIN, facts=facts)
    assert_rule(current, "any-out-source-failed", Effect.REFUSE, V, "Owen DeLong")
    portable = real.decide(d, ARIN, regime="mandatory-portability", facts=facts)
    assert portable.outcome is Outcome.ALLOWED
    assert_rule(portable, "mp-out-source-failed", Effect.NOTE, V, "Lu Heng")


def test_a_side_no_rule_permits_is_refused_by_the_engine(real: Real) -> None:
    regime = parse_regime(
        '[regime]\nname = "bare"\nversion = "1"\ndescription = "d"\nsource = "s"\n'
        '[[rule]]\nid = "out"\nregistry = "*"\ndirection = "out"\ncheck = "always"\n'
        'effect = "allow"\nmessage = "m"\nreference = "r"\neffective = "unknown"\n'
        'confidence = "V"\n',
        "bare.toml",
    )
    d = ipv4(real, RIPE)
    request = TransferRequest(
        d.resource, RIPE, d.opaque_id or "", ARIN, "", TransferKind.INTER_RIR, AS_OF
    )
    decision = evaluate(request, regime, real.facts(d), AS_OF)
    assert decision.outcome is Outcome.REFUSED
    assert "bare:no-rule:arin:in" in fired(decision)
    assert fired(decision)["bare:no-rule:arin:in"].confidence is U


# -- malformed requests are input errors --------------------------------------------------------
def _request(
    d: Delegation,
    to: Registry,
    kind: TransferKind = TransferKind.INTER_RIR,
    on: dt.date = AS_OF,
    resource: ResourceRange | None = None,
) -> TransferRequest:
    return TransferRequest(resource or d.resource, d.registry, d.opaque_id or "", to, "", kind, on)


def test_recipient_equal_to_source_for_inter_rir_is_an_input_error(real: Real) -> None:
    d = ipv4(real, RIPE)
    with pytest.raises(InputError, match="inter-RIR transfer needs a recipient registry"):
        evaluate(_request(d, RIPE), load_regime("current"), real.facts(d), AS_OF)
    with pytest.raises(InputError, match="intra-RIR transfer stays at"):
        evaluate(
            _request(d, ARIN, TransferKind.INTRA_RIR), load_regime("current"), real.facts(d), AS_OF
        )


def test_date_before_the_delegation_is_an_input_error(real: Real) -> None:
    d = ipv4(real, RIPE)
    assert d.date is not None
    early = d.date - dt.timedelta(days=1)
    with pytest.raises(InputError, match="before the delegation"):
        evaluate(_request(d, ARIN, on=early), load_regime("current"), real.facts(d), early)


def test_a_range_straddling_two_holders_is_an_input_error(real: Real) -> None:
    t = real.view.table
    for row in range(len(t) - 1):
        a, b = t.row(row), t.row(row + 1)
        if (
            a.registry is b.registry is RIPE
            and a.type is b.type is ResourceType.IPV4
            and a.status.delegated
            and b.status.delegated
            and a.opaque_id != b.opaque_id
            and a.resource.last + 1 == b.resource.first
        ):
            break
    both = ResourceRange(ResourceType.IPV4, a.resource.first, b.resource.last)
    facts = ResourceFacts(delegations=(a, b))
    with pytest.raises(InputError, match="straddles holders"):
        evaluate(_request(a, ARIN, resource=both), load_regime("current"), facts, AS_OF)


def test_part_not_delegated_is_an_input_error(real: Real) -> None:
    d = ipv4(real, RIPE)
    wider = ResourceRange(ResourceType.IPV4, d.resource.first, d.resource.last + 256)
    with pytest.raises(InputError, match="only partly delegated"):
        evaluate(
            _request(d, ARIN, resource=wider),
            load_regime("current"),
            ResourceFacts(delegations=(d,)),
            AS_OF,
        )


def test_every_decision_carries_reference_and_confidence(real: Real) -> None:
    for regime in ("current", "mandatory-portability"):
        for source in Registry:
            d = ipv4(real, source)
            for target in OTHERS[source]:
                for rule in real.decide(d, target, regime=regime).rules:
                    assert rule.reference and rule.confidence in (V, P, U)
