"""The vectorised matrix gives every delegation the scalar engine's outcome.

Two property tests on real 2018 delegations: (1) the whole path, facts gathered from the
store one resource at a time (with legal holds and disputes in the store) against the facts
gathered for every row at once; (2) the engine alone, on rows given random facts (receipts,
holds, legacy, the holder's latest receipt) to reach every check.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rirport.domain.enums import REGISTRIES, Registry, ResourceType
from rirport.domain.transfer import Outcome, ResourceFacts, TransferKind, TransferRequest
from rirport.policy.checks import KIND_CODES, Fired, date_int
from rirport.policy.engine import evaluate
from rirport.policy.loader import builtin_names, load_regime
from rirport.policy.model import Rule, add_months
from rirport.policy.portability import (
    OUTCOMES,
    Group,
    failing_scenario,
    matrix,
    row_outcomes,
)
from rirport.policy.rpki import rejected_rows
from rirport.services.transfers.facts import covering_rows, gather_facts
from rirport.services.transfers.holds import add_hold
from rirport.services.transfers.portability import build_groups, store_facts
from tests.policy.conftest import AS_OF, Real, build_real

pytestmark = pytest.mark.slow
REGIMES = [load_regime(name) for name in builtin_names()]
DATES = (dt.date(2018, 10, 14), dt.date(2019, 6, 30), AS_OF)
KINDS = list(TransferKind)


@pytest.fixture(scope="module")
def held(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Real, dict[dt.date, list[Group]]]]:
    """A store of the real files with a dispute and a legal hold, and its groups per date."""
    real = build_real(tmp_path_factory.mktemp("held"))
    ripe = real.pick(Registry.RIPENCC, ResourceType.IPV4)
    arin = real.pick(Registry.ARIN, ResourceType.IPV4)
    add_hold(real.store, ripe.resource, "dispute", "test dispute", "test", dt.date(2010, 1, 1))
    add_hold(real.store, arin.resource, "legal-hold", "court order", "test", dt.date(2019, 1, 1))
    groups = {
        day: build_groups(real.view.table, real.iana, day, store_facts(real.store, day))[0]
        for day in DATES
    }
    yield real, groups
    real.store.close()


def _request(
    real: Real, group: Group, pos: int, target: Registry, kind: TransferKind, on: dt.date
) -> TransferRequest:
    d = real.view.table.row(int(group.rows[pos]))
    return TransferRequest(d.resource, d.registry, d.opaque_id or "", target, "", kind, on)


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_matrix_rows_match_the_scalar_engine_with_facts_from_the_store(
    held: tuple[Real, dict[dt.date, list[Group]]], data: st.DataObject
) -> None:
    real, by_date = held
    on = data.draw(st.sampled_from(DATES))
    groups = by_date[on]
    group = groups[data.draw(st.integers(0, len(groups) - 1))]
    pos = data.draw(st.integers(0, len(group) - 1))
    target = data.draw(st.sampled_from(REGISTRIES))
    regime = data.draw(st.sampled_from(REGIMES))
    operational = data.draw(st.booleans())
    kind = TransferKind.INTRA_RIR if target is group.registry else TransferKind.INTER_RIR
    row = int(group.rows[pos])
    request = _request(real, group, pos, target, kind, on)
    if covering_rows(real.view, request.resource, request.source) != [row]:
        return  # overlapping records of one registry: not one holder's whole delegation
    facts = dataclasses.replace(
        gather_facts(real.store, real.view, request.resource, request.source, on, real.iana),
        source_operational=operational,
    )
    decision = evaluate(request, regime, facts, on)
    vector = row_outcomes(group, regime, target, on, kind, operational)
    assert OUTCOMES[vector[pos]] is decision.outcome, decision.rules
    if target is not group.registry:
        assert bool(rejected_rows(target, group.columns)[pos]) is not decision.rpki.accepted


def _one_row(group: Group, pos: int, **columns: object) -> Group:
    """Row ``pos`` of ``group`` alone, with some fact columns replaced."""
    cut = {
        f.name: getattr(group.columns, f.name)[pos : pos + 1]
        for f in dataclasses.fields(group.columns)
        if f.name != "rtype"
    }
    cut.update({k: np.array([v], dtype=cut[k].dtype) for k, v in columns.items()})
    return Group(
        group.registry,
        dataclasses.replace(group.columns, **cut),
        group.holder[pos : pos + 1],
        group.cc[pos : pos + 1],
        group.amount[pos : pos + 1],
        group.rows[pos : pos + 1],
    )


def _day(number: int) -> dt.date | None:
    return dt.date(number // 10000, number // 100 % 100, number % 100) if number else None


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_vectorised_checks_match_scalar_checks_on_any_facts(
    held: tuple[Real, dict[dt.date, list[Group]]], data: st.DataObject
) -> None:
    real, by_date = held
    groups = by_date[AS_OF]
    group = groups[data.draw(st.integers(0, len(groups) - 1))]
    pos = data.draw(st.integers(0, len(group) - 1))
    d = real.view.table.row(int(group.rows[pos]))
    start = d.date or dt.date(1990, 1, 1)
    on = data.draw(st.one_of(near_boundaries(start), st.just(AS_OF)))
    received = data.draw(st.one_of(st.none(), st.dates(start, on), near_boundaries(start, on)))
    received_kind = data.draw(st.sampled_from(KINDS)) if received else None
    latest = data.draw(st.one_of(st.none(), st.dates(start, on), near_boundaries(start, on)))
    legacy, dispute, hold = (data.draw(st.booleans()) for _ in range(3))
    operational = data.draw(st.booleans())
    target = data.draw(st.sampled_from(REGISTRIES))
    kind = data.draw(
        st.sampled_from(
            [TransferKind.INTRA_RIR, TransferKind.MERGER]
            if target is d.registry
            else [TransferKind.INTER_RIR, TransferKind.MERGER]
        )
    )
    regime = data.draw(st.sampled_from(REGIMES))
    iana = int(group.columns.iana[pos])
    one = _one_row(
        group,
        pos,
        received=date_int(received) if received else 0,
        received_kind=KIND_CODES[received_kind] if received_kind else -1,
        holder_latest=date_int(latest) if latest else 0,
        legacy=legacy,
        dispute=dispute,
        hold=hold,
    )
    facts = ResourceFacts(
        delegations=(d,),
        iana_registry=REGISTRIES[iana] if iana >= 0 else None,
        legacy=legacy,
        received_on=received,
        received_kind=received_kind,
        in_dispute=dispute,
        legal_hold=hold,
        holder_received_on=latest,
        source_operational=operational,
    )
    request = TransferRequest(d.resource, d.registry, d.opaque_id or "", target, "", kind, on)
    decision = evaluate(request, regime, facts, on)
    fired: list[tuple[Rule, Fired]] = []
    vector = row_outcomes(one, regime, target, on, kind, operational, fired)
    assert OUTCOMES[vector[0]] is decision.outcome, decision.rules
    vector_ids = {rule.id for rule, where in fired if np.any(where)}
    assert vector_ids == {r.id for r in decision.rules if ":no-rule:" not in r.id}


@st.composite
def near_boundaries(draw: st.DrawFn, start: dt.date, before: dt.date | None = None) -> dt.date:
    """A date at (or a day off) a holding period's end after ``start``, or, with
    ``before``, a start such that a period ends near ``before``."""
    months = draw(st.sampled_from([6, 12, 24, 36, 60]))
    shift = dt.timedelta(days=draw(st.sampled_from([-1, 0, 1])))
    if before is None:
        return add_months(start, months) + shift
    return min(max(add_months(before, -months) + shift, start), before)


def test_matrix_conserves_amounts_and_shows_the_known_pairs(
    held: tuple[Real, dict[dt.date, list[Group]]],
) -> None:
    _, by_date = held
    groups = by_date[AS_OF]
    cells = matrix(groups, REGIMES, AS_OF)
    assert len(cells) == len(REGIMES) * 5 * 4 * 3 * 3
    totals = {(g.registry, g.rtype): int(g.amount.sum()) for g in groups}
    by_cell: dict[tuple[str, Registry, Registry, ResourceType], int] = {}
    for c in cells:
        key = (c.regime, c.from_registry, c.to_registry, c.type)
        by_cell[key] = by_cell.get(key, 0) + c.amount
    for (_, source, _, rtype), amount in by_cell.items():
        assert amount == totals[(source, rtype)]
    find = {(c.regime, c.from_registry, c.to_registry, c.type, c.outcome): c for c in cells}
    afrinic_out = find[
        "current", Registry.AFRINIC, Registry.RIPENCC, ResourceType.IPV4, Outcome.REFUSED
    ]
    assert afrinic_out.amount == totals[(Registry.AFRINIC, ResourceType.IPV4)]
    assert afrinic_out.rules[0] == "afrinic-out-none" and afrinic_out.confidence is not None
    portable = find[
        "mandatory-portability",
        Registry.AFRINIC,
        Registry.RIPENCC,
        ResourceType.IPV4,
        Outcome.ALLOWED,
    ]
    assert portable.amount > 0.99 * totals[(Registry.AFRINIC, ResourceType.IPV4)]
    assert portable.rpki_rejected > 0.5 * portable.amount
    ipv6 = find["current", Registry.RIPENCC, Registry.ARIN, ResourceType.IPV6, Outcome.REFUSED]
    assert ipv6.amount == totals[(Registry.RIPENCC, ResourceType.IPV6)]


def test_failing_afrinic_strands_everyone_under_current_policy_but_not_portability(
    held: tuple[Real, dict[dt.date, list[Group]]],
) -> None:
    _, by_date = held
    rows = failing_scenario(by_date[AS_OF], REGIMES, Registry.AFRINIC, AS_OF)
    current = [r for r in rows if r.regime == "current"]
    portable = [r for r in rows if r.regime == "mandatory-portability"]
    assert current and all(r.allowed_amount == r.conditional_amount == 0 for r in current)
    assert sum(r.holders_stuck for r in current) > 1000
    assert all(r.stuck_amount == 0 for r in portable)
    assert {r.cc for r in current} >= {"ZA", "EG", "NG", "KE"}


def test_groups_carry_iana_and_legacy_like_the_scalar_facts(
    held: tuple[Real, dict[dt.date, list[Group]]],
) -> None:
    real, by_date = held
    for group in by_date[AS_OF][::3]:
        for pos in range(0, len(group), max(1, len(group) // 5)):
            d = real.view.table.row(int(group.rows[pos]))
            facts = gather_facts(real.store, real.view, d.resource, d.registry, AS_OF, real.iana)
            if len(facts.delegations) != 1:
                continue
            iana = int(group.columns.iana[pos])
            assert facts.iana_registry == (REGISTRIES[iana] if iana >= 0 else None)
            assert facts.legacy == bool(group.columns.legacy[pos])
            latest = int(group.columns.holder_latest[pos])
            assert facts.holder_received_on == _day(latest)


def test_store_facts_read_holds(held: tuple[Real, dict[dt.date, list[Group]]]) -> None:
    facts = store_facts(held[0].store, AS_OF)
    assert sorted(kind for kind, _ in facts.holds) == ["dispute", "legal-hold"]
    assert store_facts(held[0].store, dt.date(2018, 1, 1)).holds[0][0] == "dispute"
