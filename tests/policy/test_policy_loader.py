"""Regime files: the built-ins load and cite their sources; bad files fail precisely."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from rirport.domain.enums import Registry, ResourceType
from rirport.domain.transfer import Confidence, TransferKind
from rirport.errors import InputError, ParseError, PolicyError
from rirport.policy.compare import clean_case
from rirport.policy.engine import evaluate
from rirport.policy.loader import builtin_names, load_regime, parse_regime
from rirport.policy.model import Direction

HEAD = '[regime]\nname = "mine"\nversion = "0.1"\ndescription = "d"\nsource = "s"\n'
RULE = (
    '[[rule]]\nid = "{id}"\nregistry = "arin"\ndirection = "out"\ncheck = "always"\n'
    'effect = "refuse"\nmessage = "no"\nreference = "NRPM 8.4"\neffective = 2012-07-31\n'
    'confidence = "V"\n'
)


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "mine.toml"
    path.write_text(text)
    return str(path)


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        load_regime(write(tmp_path, text))
    return caught.value.problems


def test_builtins_load_with_versions_and_every_rule_sourced() -> None:
    assert builtin_names() == ["current", "mandatory-portability"]
    for name in builtin_names():
        regime = load_regime(name)
        assert regime.version and regime.source
        ids = [r.id for r in regime.rules]
        assert len(ids) == len(set(ids))
        for rule in regime.rules:
            assert rule.reference and rule.message
            assert rule.confidence in set(Confidence)


def test_current_keeps_the_uncertain_facts_visible() -> None:
    rules = {r.id: r for r in load_regime("current").rules}
    assert rules["afrinic-out-pending"].confidence is Confidence.PARTLY
    assert rules["arin-out-reserved-4-10"].confidence is Confidence.UNVERIFIED
    assert rules["lacnic-out-hold-allocation"].params.months == 36
    assert rules["lacnic-out-hold-allocation-en"].params.after_months == 12
    assert rules["apnic-out-103"].params.months == 60
    assert rules["lacnic-out-before-2019-1"].until == dt.date(2020, 7, 1)
    notes = " ".join(load_regime("mandatory-portability").notes)
    assert "Author interest" in notes and "Cloud Innovation" in notes


def test_current_states_scope_for_every_cell() -> None:
    """No cell of the built-in regimes falls through to the engine's "no rule" refusal."""
    on = dt.date(2026, 1, 1)
    for name in builtin_names():
        regime = load_regime(name)
        for source in Registry:
            for recipient in Registry:
                kinds = (
                    [TransferKind.INTRA_RIR, TransferKind.MERGER]
                    if source is recipient
                    else [TransferKind.INTER_RIR, TransferKind.MERGER]
                )
                for rtype in ResourceType:
                    for kind in kinds:
                        request, facts = clean_case(source, recipient, rtype, kind, on)
                        decision = evaluate(request, regime, facts, on)
                        assert not [r for r in decision.rules if ":no-rule:" in r.id], (
                            name,
                            source,
                            recipient,
                            rtype,
                            kind,
                        )


def test_a_valid_user_file_loads(tmp_path: Path) -> None:
    regime = load_regime(write(tmp_path, HEAD + RULE.format(id="a")))
    assert regime.label == "mine v0.1"
    rule = regime.rules[0]
    assert rule.registry is Registry.ARIN and rule.direction is Direction.OUT
    assert rule.kinds == {TransferKind.INTER_RIR, TransferKind.MERGER}
    assert rule.line == 7


def test_malformed_toml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + '[[rule]]\nid = "x"\nregistry = arin\n')
    with pytest.raises(ParseError) as caught:
        load_regime(path)
    assert caught.value.line == 8
    assert str(caught.value).startswith(f"{path}:8: invalid TOML")


def test_unknown_check_names_rule_and_field(tmp_path: Path) -> None:
    found = problems(tmp_path, HEAD + RULE.format(id="a").replace('"always"', '"allways"'))
    assert len(found) == 1
    assert "mine.toml:7: rule 'a': field 'check': unknown check 'allways'" in found[0]


def test_missing_reference(tmp_path: Path) -> None:
    found = problems(tmp_path, HEAD + RULE.format(id="a").replace('reference = "NRPM 8.4"\n', ""))
    assert found == [f"{tmp_path / 'mine.toml'}:7: rule 'a': field 'reference': required"]


def test_bad_confidence(tmp_path: Path) -> None:
    found = problems(tmp_path, HEAD + RULE.format(id="a").replace('"V"', '"X"'))
    assert "field 'confidence': 'X' is not one of V, P, U" in found[0]


def test_duplicate_rule_id(tmp_path: Path) -> None:
    found = problems(tmp_path, HEAD + RULE.format(id="a") + RULE.format(id="a"))
    assert len(found) == 1
    assert ":17: rule 'a': field 'id': duplicate rule id (first at line 7)" in found[0]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    bad = (
        RULE.format(id="b").replace('"arin"', '"arinn"').replace('"out"', '"sideways"')
        + "typo = 1\n"
    )
    params = RULE.format(id="c").replace(
        'check = "always"', 'check = "holding-period"\nparams = { months = -1, colour = "red" }'
    )
    found = problems(tmp_path, HEAD + bad + params)
    text = "\n".join(found)
    assert "rule 'b': field 'typo': unknown field" in text
    found = problems(
        tmp_path,
        HEAD
        + RULE.format(id="b").replace('"arin"', '"arinn"').replace('"out"', '"sideways"')
        + params,
    )
    text = "\n".join(found)
    assert "rule 'b': field 'registry'" in text
    assert "rule 'b': field 'direction': 'sideways' is not one of out, in, intra" in text
    assert "rule 'c': field 'params.colour'" in text
    assert "rule 'c': field 'params.months': -1 is not a whole number" in text


def test_bad_placeholder_and_date(tmp_path: Path) -> None:
    text = (
        RULE.format(id="a").replace('"no"', '"until {until}"').replace("2012-07-31", '"last year"')
    )
    found = "\n".join(problems(tmp_path, HEAD + text))
    assert "field 'message': unknown placeholder {until}" in found
    assert "field 'effective': 'last year' is not a TOML date" in found


def test_missing_regime_table_and_unknown_name(tmp_path: Path) -> None:
    assert "missing [regime] table" in problems(tmp_path, RULE.format(id="a"))[0]
    with pytest.raises(InputError, match="no regime 'nonesuch'"):
        load_regime("nonesuch")


def test_parse_regime_from_text_reports_the_source_name() -> None:
    with pytest.raises(PolicyError, match=r"proposal\.toml: no \[\[rule\]\] tables"):
        parse_regime(HEAD, "proposal.toml")
