"""Comparing regimes: where two regimes differ, per registry pair, type and kind."""

from __future__ import annotations

import datetime as dt
from importlib.resources import files

from rirport.domain.enums import Registry, ResourceType
from rirport.domain.transfer import TransferKind
from rirport.policy.compare import CompareRow, compare
from rirport.policy.loader import load_regime, parse_regime

ON = dt.date(2026, 1, 1)


def _cell(
    rows: list[CompareRow],
    source: Registry,
    recipient: Registry,
    rtype: ResourceType,
    kind: TransferKind = TransferKind.INTER_RIR,
) -> CompareRow:
    return next(
        r
        for r in rows
        if (r.source, r.recipient, r.type, r.kind) == (source, recipient, rtype, kind)
    )


def test_a_regime_does_not_differ_from_itself() -> None:
    current = load_regime("current")
    assert not [r for r in compare(current, current, ON) if r.differs]


def test_current_against_mandatory_portability() -> None:
    rows = compare(load_regime("current"), load_regime("mandatory-portability"), ON)
    afrinic = _cell(rows, Registry.AFRINIC, Registry.ARIN, ResourceType.IPV4)
    assert (afrinic.outcome_a, afrinic.outcome_b) == ("refused", "allowed")
    assert afrinic.differs and "afrinic-out-none" in afrinic.rules_a
    ipv6 = _cell(rows, Registry.RIPENCC, Registry.APNIC, ResourceType.IPV6)
    assert (ipv6.outcome_a, ipv6.outcome_b) == ("refused", "allowed")
    ripe_arin = _cell(rows, Registry.RIPENCC, Registry.ARIN, ResourceType.IPV4)
    assert (ripe_arin.outcome_a, ripe_arin.outcome_b) == ("conditional", "allowed")
    assert any(r.startswith("holding-period:") for r in ripe_arin.restrictions_a)
    assert not any(r.startswith("holding-period:") for r in ripe_arin.restrictions_b)


def test_a_user_proposal_differs_only_where_it_changes_a_rule() -> None:
    text = (
        _current_text()
        .replace('name = "current"', 'name = "afrinic-opens"')
        .replace('id = "afrinic-in-none"', 'id = "afrinic-in-none"\nuntil = 2025-01-01', 1)
    )
    proposal = parse_regime(text, "afrinic-opens.toml")
    rows = [r for r in compare(load_regime("current"), proposal, ON) if r.differs]
    assert rows and all(r.recipient is Registry.AFRINIC for r in rows)


def _current_text() -> str:
    return files("rirport").joinpath("data/policy/current.toml").read_text(encoding="utf-8")
