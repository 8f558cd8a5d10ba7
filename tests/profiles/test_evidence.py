"""The two-axis grade, its decay, contradiction, and the grade table with every boundary."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from rirport.profiles.evidence import (
    Evidence,
    Grade,
    Source,
    SourceKind,
    age_steps,
    contradictions,
    effective,
    from_json,
    grade_of,
    profile_score,
    round_score,
    to_json,
)
from rirport.profiles.loader import starter

DAY = dt.date(2026, 11, 28)


def item(
    day: dt.date = DAY,
    credibility: int = 2,
    reliability: str = "A",
    contradicts: tuple[str, ...] = (),
    ident: str = "x-1",
) -> Evidence:
    return Evidence(
        ident,
        "A claim.",
        Source("https://example.org/a", "Pub", SourceKind.POLICY_DOCUMENT, day),
        reliability,
        credibility,
        ("registry:afrinic",),
        contradicts=contradicts,
    )


@pytest.mark.parametrize(
    ("score", "rounded", "grade", "label"),
    [
        (1.0, "1.00", "A", "High — direct sources"),
        (0.90, "0.90", "A", "High — direct sources"),
        (0.895, "0.90", "A", "High — direct sources"),
        (0.8949, "0.89", "A/B", "Strong"),
        (0.89, "0.89", "A/B", "Strong"),
        (0.75, "0.75", "A/B", "Strong"),
        (0.745, "0.75", "A/B", "Strong"),
        (0.74, "0.74", "B/C", "Medium"),
        (0.55, "0.55", "B/C", "Medium"),
        (0.54, "0.54", "C/D", "Weak–medium"),
        (0.35, "0.35", "C/D", "Weak–medium"),
        (0.34, "0.34", "D", "Weak signal"),
        (0.10, "0.10", "D", "Weak signal"),
        (0.095, "0.10", "D", "Weak signal"),
        (0.09, "0.09", "D", "Internal monitoring"),
        (0.0, "0.00", "D", "Internal monitoring"),
    ],
)
def test_grade_table_boundaries(score: float, rounded: str, grade: str, label: str) -> None:
    assert grade_of(score) == (Decimal(rounded), grade, label)


@pytest.mark.parametrize("score", [-0.01, 1.01, float("nan")])
def test_scores_outside_the_scale_are_refused(score: float) -> None:
    with pytest.raises(ValueError, match="outside 0–1"):
        round_score(score)


def test_score_is_the_weaker_axis() -> None:
    assert Grade("A", 1, 1).score == 1.0
    assert Grade("A", 3, 3).score == pytest.approx(0.6)
    assert Grade("D", 2, 2).score == pytest.approx(0.4)
    assert Grade("F", 1, 1).score == 0.0
    assert profile_score([Grade("A", 1, 1), Grade("D", 2, 2)]) == pytest.approx(0.7)
    assert profile_score([]) == 0.0


def test_age_decays_credibility_one_step_per_three_years_at_most_two() -> None:
    assert age_steps(dt.date(2023, 11, 29), DAY) == 0  # a day short of three years
    assert age_steps(dt.date(2023, 11, 28), DAY) == 1
    assert age_steps(dt.date(2020, 11, 28), DAY) == 2
    assert age_steps(dt.date(1990, 1, 1), DAY) == 2
    assert age_steps(dt.date(2027, 1, 1), DAY) == 0
    grade = effective(item(dt.date(2018, 10, 13), credibility=1), DAY)
    assert (grade.code, grade.stored_credibility) == ("A3", 1)
    assert "for age" in grade.describe()


def test_contradiction_lowers_both_sides_and_never_past_six() -> None:
    a = item(ident="a-1", contradicts=("b-1",))
    b = item(ident="b-1", credibility=6)
    found = contradictions([a, b, item(ident="c-1", contradicts=("gone",))])
    assert found == {"a-1": ("b-1",), "b-1": ("a-1",)}
    assert effective(a, DAY, found["a-1"]).credibility == 3
    assert effective(b, DAY, found["b-1"]).credibility == 6
    assert "contradicted by b-1" in effective(a, DAY, found["a-1"]).describe()


def test_starter_set_conflict_shows_in_the_grade() -> None:
    items, catalogue = starter()
    found = contradictions(items)
    assert found["lacnic-lock-one-year-en"] == ("lacnic-lock-three-years-es",)
    assert {e.id for e in catalogue} >= {
        "policy:current",
        "policy:mandatory-portability",
        "policy:afpub-2020-gen-006",
        "document:lu-heng-portability-essay",
    }
    essay = [
        i
        for i in items
        if "document:lu-heng-portability-essay" in i.entities
        and i.source.kind is SourceKind.INTERESTED_OPINION
    ]
    assert essay and all(i.interests and "Cloud Innovation" in i.interests for i in essay)


def test_json_round_trip() -> None:
    for original in starter()[0]:
        assert from_json(to_json(original)) == original
