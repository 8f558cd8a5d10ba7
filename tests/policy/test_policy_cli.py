"""The policy commands as scripts use them: JSON keys, exit codes, messages."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from rirport.cli.main import cli
from tests.policy.conftest import Real

pytestmark = pytest.mark.slow
MATRIX_KEYS = {"regime", "from_registry", "to_registry", "type", "outcome", "amount", "holders"}


def run(real: Real, tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", real.url, "--data-dir", str(tmp_path), *args])


def test_transfer_evaluate_json_has_exactly_the_contract_keys(real: Real, tmp_path: Path) -> None:
    result = run(
        real,
        tmp_path,
        "transfer",
        "evaluate",
        "193.0.0.1",
        "--to",
        "arin",
        "--as-of",
        "2026-11-28",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert set(body) == {"outcome", "rules", "conditions", "rpki"}
    assert body["outcome"] == "conditional"
    for rule in body["rules"]:
        assert {"id", "reference", "confidence", "effect", "message"} <= set(rule)
    assert any("need to ARIN" in c for c in body["conditions"])
    assert body["rpki"]["accepted"] is True


def test_transfer_evaluate_text_is_a_checklist(real: Real, tmp_path: Path) -> None:
    result = run(
        real,
        tmp_path,
        "transfer",
        "evaluate",
        "41.0.0.1",
        "--to",
        "ripencc",
        "--regime",
        "mandatory-portability",
        "--as-of",
        "2026-11-28",
    )
    assert result.exit_code == 0, result.output
    assert "ALLOWED" in result.output
    assert "rpki: REJECTED" in result.output
    assert "Author interest" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["10.0.0.1", "--to", "arin"], "no registry holds"),
        (["193.0.0.1", "--to", "ripencc", "--kind", "inter-rir"], "inter-RIR transfer needs"),
        (["AS3333", "--to", "arin", "--as-of", "1990-01-01"], "before the delegation"),
        (["AS3333", "--to", "arin", "--regime", "nonesuch"], "no regime 'nonesuch'"),
    ],
)
def test_transfer_evaluate_bad_input_exits_1(
    real: Real, tmp_path: Path, args: list[str], message: str
) -> None:
    result = run(real, tmp_path, "transfer", "evaluate", *args)
    assert result.exit_code == 1, result.output
    assert message in result.output


def test_transfer_evaluate_straddling_two_holders_exits_1(real: Real, tmp_path: Path) -> None:
    t = real.view.table
    ripe = [
        r
        for r in range(len(t))
        if t.row(r).registry.value == "ripencc" and t.row(r).type.value == "asn"
    ][:200]
    for a, b in itertools.pairwise(ripe):
        first, second = t.row(a), t.row(b)
        if first.resource.last + 1 == second.resource.first and first.opaque_id != second.opaque_id:
            break
    span = f"AS{first.resource.first}-AS{second.resource.last}"
    result = run(real, tmp_path, "transfer", "evaluate", span, "--to", "arin")
    assert result.exit_code == 1
    assert "straddles holders" in result.output


def test_portability_json_keys_and_scenario(real: Real, tmp_path: Path) -> None:
    result = run(
        real,
        tmp_path,
        "portability",
        "--format",
        "json",
        "--registry",
        "afrinic",
        "--as-of",
        "2026-11-28",
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows and all(set(r) >= MATRIX_KEYS for r in rows)
    assert {r["regime"] for r in rows} == {"current", "mandatory-portability"}
    assert {r["from_registry"] for r in rows} == {"afrinic"}
    scenario = run(
        real,
        tmp_path,
        "portability",
        "--scenario-failing",
        "afrinic",
        "--regime",
        "current",
        "--format",
        "csv",
    )
    assert scenario.exit_code == 0, scenario.output
    assert scenario.output.startswith("regime,failing_registry,cc,type,allowed_amount")
    table = run(real, tmp_path, "portability", "--regime", "current", "--registry", "lacnic")
    assert table.exit_code == 0 and "lacnic" in table.output


def test_policy_list_show_validate_compare(real: Real, tmp_path: Path) -> None:
    listed = run(real, tmp_path, "policy", "list", "--format", "json")
    assert [r["name"] for r in json.loads(listed.output)] == ["current", "mandatory-portability"]
    shown = json.loads(run(real, tmp_path, "policy", "show", "current", "--format", "json").output)
    assert shown["version"] and all(r["reference"] for r in shown["rules"])
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[regime]\nname = "x"\nversion = "1"\ndescription = "d"\nsource = "s"\n'
        '[[rule]]\nid = "r"\nregistry = "arin"\ndirection = "out"\n'
        'check = "nope"\neffect = "refuse"\nmessage = "m"\nreference = "ref"\n'
        'effective = "unknown"\nconfidence = "Q"\n'
    )
    result = run(real, tmp_path, "policy", "validate", str(bad))
    assert result.exit_code == 1
    assert f"{bad}:7: rule 'r': field 'check'" in result.output
    assert "field 'confidence'" in result.output
    compared = run(
        real, tmp_path, "policy", "compare", "current", "mandatory-portability", "--format", "json"
    )
    rows = json.loads(compared.output)
    assert rows and all(r["differs"] for r in rows)
