"""Evidence files: every problem reported as file:line, nothing half-accepted."""

from __future__ import annotations

from pathlib import Path

import pytest

from rirport.errors import InputError
from rirport.profiles.loader import MAX_BYTES, EvidenceFileError, parse_evidence, read_file

GOOD = """\
evidence:
  - id: good-1
    claim: AFRINIC has no inter-RIR transfer policy in force.
    source: {address: "https://afrinic.net/x", publisher: AFRINIC, date: 2025-10-01,
             kind: policy-document}
    reliability: A
    tag: V
    entities: [registry:afrinic]
"""


def problems(text: str, name: str = "f.yaml") -> list[str]:
    with pytest.raises(EvidenceFileError) as caught:
        parse_evidence(text, name)
    return caught.value.problems


def test_a_good_file_reads_and_maps_the_tag() -> None:
    (item,) = parse_evidence(GOOD, "f.yaml")
    assert (item.reliability, item.credibility, item.tag) == ("A", 2, "V")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "reliability: A",
            "reliability: G",
            "f.yaml:6: item 'good-1': field 'reliability': 'G' is outside the scale A–F",
        ),
        (
            "tag: V",
            "credibility: 7",
            "f.yaml:7: item 'good-1': field 'credibility': 7 is outside the scale 1–6",
        ),
        ("tag: V", "credibility: 0", "outside the scale 1–6"),
        ("tag: V", "tag: X", "'X' is not V, P or U"),
        (
            "tag: V",
            "tag: V\n    colour: red",
            "f.yaml:8: item 'good-1': field 'colour': unknown field",
        ),
        ("kind: policy-document", "kind: rumour", "kind 'rumour' is not one of"),
        ("https://afrinic.net/x", "javascript:alert(1)", "must be an http(s) URL"),
        ("date: 2025-10-01", "date: 2025-13-01", "is not YYYY-MM-DD"),
        ("[registry:afrinic]", "[afrinic]", "an entity id is type:name"),
        ("id: good-1", "id: Bad Id", "is not an id"),
        ("    tag: V\n", "", "give 'credibility' (1–6) or 'tag' (V, P or U)"),
        ("    reliability: A\n", "", "f.yaml:2: item 'good-1': missing field 'reliability'"),
    ],
)
def test_each_problem_names_file_line_and_field(old: str, new: str, expected: str) -> None:
    found = problems(GOOD.replace(old, new))
    assert any(expected in p for p in found), found


def test_duplicates_in_one_file() -> None:
    body = GOOD + GOOD.split("\n", 1)[1]
    assert problems(body) == [
        "f.yaml:9: item 'good-1': field 'id': duplicate evidence id 'good-1' (first at line 2)"
    ]
    assert "duplicate key 'tag'" in problems(GOOD.replace("tag: V", "tag: V\n    tag: P"))[0]


def test_structure_and_syntax_errors() -> None:
    assert problems("evidence: [\n", "f.yaml")[0].startswith("f.yaml:2: not valid YAML")
    assert "expected a mapping" in problems("items: []\n")[0]
    assert "non-empty list" in problems("evidence: []\n")[0]
    assert problems('{"evidence": [}', "f.json")[0].startswith("f.json:1: not valid JSON")
    assert "duplicate key" in problems('{"evidence": [], "evidence": []}', "f.json")[0]


def test_json_files_read_like_yaml() -> None:
    text = (
        '{"evidence": [{"id": "j-1", "claim": "A claim.", "source": {"address": '
        '"https://a.org", "publisher": "P", "date": "2020-01-01", "kind": "news-report"}, '
        '"reliability": "C", "credibility": 3, "entities": ["country:ZA"]}]}'
    )
    (item,) = parse_evidence(text, "f.json")
    assert item.entities == ("country:ZA",)
    bad = text.replace('"credibility": 3', '"credibility": 9')
    assert "outside the scale 1–6" in problems(bad, "f.json")[0]


def test_oversized_files_are_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(GOOD + "#" * MAX_BYTES)
    with pytest.raises(InputError, match="over the 524288-byte limit"):
        read_file(path)


def test_every_problem_is_listed_at_once() -> None:
    text = GOOD.replace("reliability: A", "reliability: Z").replace("tag: V", "tag: Q")
    assert len(problems(text)) == 2


#: 355 bytes of nested aliases: nine levels of nine, about 387 million nodes when expanded.
ALIAS_BOMB = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(
        f"{b}: &{b} [{','.join(['*' + a] * 9)}]\n"
        for a, b in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "evidence: *i\n"
)


def test_yaml_aliases_are_refused_with_their_line() -> None:
    """A "billion laughs" evidence file is refused at its first alias, in no time, instead of
    keeping a server thread busy expanding it (issue 11 #32)."""
    assert len(ALIAS_BOMB) < 400
    (problem,) = problems(ALIAS_BOMB, "bomb.yaml")
    assert problem.startswith("bomb.yaml:2: not valid YAML: aliases (*name) are not accepted")
    harmless = GOOD.replace("evidence:", "evidence: &all", 1)  # an anchor alone is fine
    assert parse_evidence(harmless, "f.yaml")[0].id == "good-1"
