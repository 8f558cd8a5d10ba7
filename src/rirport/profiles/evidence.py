"""Evidence: one graded claim about one or more entities, and how its grade ages.

Every statement a profile makes comes either from registry data (a *derived* fact, generated,
linked to the file and line or rule it was read from) or from an evidence item like these. An
item is graded on two independent axes, as in the Admiralty (STANAG 2511) system, so a
reliable publisher reporting a doubtful claim is not blended into one vague figure:

* source reliability, A (completely reliable) to F (cannot be judged): who said it;
* information credibility, 1 (confirmed by other sources) to 6 (cannot be judged): how
  well the claim itself holds up.

The stored grade is the grade when the item was written. What a profile shows is the
*effective* grade (:func:`effective`): credibility worsens by one step for every full
:data:`DECAY_YEARS` years since the source's date (at most :data:`DECAY_MAX` steps: age alone
never makes a claim impossible to judge) and by one more step when another item contradicts
it. Both adjustments are listed beside the grade, so the reader sees why it moved.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any


class SourceKind(StrEnum):
    """What kind of document a source is; it bounds how direct the evidence can be."""

    REGISTRY_RECORD = "registry-record"
    POLICY_DOCUMENT = "policy-document"
    OFFICIAL_RECORD = "official-record"
    NEWS_REPORT = "news-report"
    INTERESTED_OPINION = "interested-opinion"


class EntityType(StrEnum):
    """What a profile is about; an essay is a document, never an institution."""

    REGISTRY = "registry"
    HOLDER = "holder"
    COUNTRY = "country"
    POLICY = "policy"
    DOCUMENT = "document"


RELIABILITY = "ABCDEF"
"""Source reliability, best first (A completely reliable … F cannot be judged)."""
CREDIBILITY = (1, 2, 3, 4, 5, 6)
"""Information credibility, best first (1 confirmed … 6 cannot be judged)."""
RELIABILITY_WORDS = {
    "A": "completely reliable",
    "B": "usually reliable",
    "C": "fairly reliable",
    "D": "not usually reliable",
    "E": "unreliable",
    "F": "reliability cannot be judged",
}
CREDIBILITY_WORDS = {
    1: "confirmed",
    2: "probably true",
    3: "possibly true",
    4: "doubtful",
    5: "improbable",
    6: "truth cannot be judged",
}

TAG_CREDIBILITY = {"V": 2, "P": 3, "U": 6}
"""The research notes' tags as credibility: V (verified in a quoted source) is "probably
true" — 1 is kept for claims confirmed independently, such as registry data; P (partly
verified: old, third-party or a proposal) is "possibly true"; U (unverified, background
knowledge) is "cannot be judged"."""

DECAY_YEARS = 3
DECAY_MAX = 2

ENTITY_ID = re.compile(r"^(registry|holder|country|policy|document):[A-Za-z0-9][\w.:-]{0,160}$")
EVIDENCE_ID = re.compile(r"^[a-z0-9][a-z0-9.-]{1,79}$")


@dataclass(frozen=True)
class Source:
    """Where a claim was published: the address a reader can follow, and by whom."""

    address: str
    publisher: str
    kind: SourceKind
    date: dt.date
    author: str | None = None
    undated: bool = False
    """True when the source gives no date and ``date`` is the day it was checked: it ages
    from that day but is never shown as news."""


@dataclass(frozen=True)
class Evidence:
    """One claim with its source, its two-axis grade and what it concerns."""

    id: str
    claim: str
    source: Source
    reliability: str
    credibility: int
    entities: tuple[str, ...]
    interests: str | None = None
    """The author's stake in the claim, where known (e.g. a party to litigation)."""
    tag: str | None = None
    """The research notes' V/P/U tag the credibility was taken from, if any."""
    contradicts: tuple[str, ...] = ()
    due: dt.date | None = None
    """For a pending item (a deadline, an expected ratification): when it falls due."""
    derived: bool = False
    """True for facts generated from registry data or the policy files."""
    link: str | None = None
    """For derived facts: the file and line, or rule id, the fact was read from."""


@dataclass(frozen=True)
class Grade:
    """An item's effective grade on a date, with the reasons it differs from the stored one."""

    reliability: str
    credibility: int
    stored_credibility: int
    reasons: tuple[str, ...] = field(default=())

    @property
    def code(self) -> str:
        return f"{self.reliability}{self.credibility}"

    @property
    def score(self) -> float:
        """The weaker of the two axes, each mapped evenly onto 0–1 (A, 1 → 1.0; F, 6 → 0.0):
        a claim is only as sure as the less sure of who said it and how well it holds."""
        return min(reliability_score(self.reliability), credibility_score(self.credibility))

    def describe(self) -> str:
        text = (
            f"{self.code} ({RELIABILITY_WORDS[self.reliability]}; "
            f"{CREDIBILITY_WORDS[self.credibility]})"
        )
        if self.reasons:
            text += f", stored as {self.reliability}{self.stored_credibility}, " + "; ".join(
                self.reasons
            )
        return text


def reliability_score(letter: str) -> float:
    return (5 - RELIABILITY.index(letter)) / 5


def credibility_score(level: int) -> float:
    return (6 - level) / 5


def age_steps(source_date: dt.date, as_of: dt.date) -> int:
    """Credibility steps lost to age: one per full :data:`DECAY_YEARS` years, at most
    :data:`DECAY_MAX`; none for a source dated after ``as_of``."""
    years = (
        as_of.year
        - source_date.year
        - ((as_of.month, as_of.day) < (source_date.month, source_date.day))
    )
    return max(0, min(DECAY_MAX, years // DECAY_YEARS))


def effective(item: Evidence, as_of: dt.date, contradicted_by: tuple[str, ...] = ()) -> Grade:
    """The grade of ``item`` on ``as_of``: stored credibility, worsened by age and by
    contradiction (one step when any other item contradicts it), never past 6."""
    reasons: list[str] = []
    level = item.credibility
    steps = age_steps(item.source.date, as_of)
    if steps:
        level += steps
        reasons.append(f"-{steps} for age (source dated {item.source.date.isoformat()})")
    if contradicted_by:
        level += 1
        reasons.append("-1 as contradicted by " + ", ".join(contradicted_by))
    return Grade(item.reliability, min(6, level), item.credibility, tuple(reasons))


def contradictions(items: list[Evidence]) -> dict[str, tuple[str, ...]]:
    """For each item id, the ids of the other items in conflict with it (either side may
    declare the conflict)."""
    known = {i.id for i in items}
    found: dict[str, set[str]] = {}
    for item in items:
        for other in item.contradicts:
            if other in known and other != item.id:
                found.setdefault(item.id, set()).add(other)
                found.setdefault(other, set()).add(item.id)
    return {key: tuple(sorted(value)) for key, value in found.items()}


# -- the grade table -----------------------------------------------------------------------
GRADE_TABLE: tuple[tuple[Decimal, str, str], ...] = (
    (Decimal("0.90"), "A", "High — direct sources"),
    (Decimal("0.75"), "A/B", "Strong"),
    (Decimal("0.55"), "B/C", "Medium"),
    (Decimal("0.35"), "C/D", "Weak–medium"),
    (Decimal("0.10"), "D", "Weak signal"),
    (Decimal("0.00"), "D", "Internal monitoring"),
)
"""Lower bound (inclusive, two decimals), grade and label, exactly as in profiles.md."""

CONFIDENCE_RULE = (
    "Each claim's score is the weaker of its two axes, each spread evenly over 0–1 "
    "(reliability A 1.0, B 0.8, C 0.6, D 0.4, E 0.2, F 0.0; credibility 1 1.0, 2 0.8, 3 0.6, "
    "4 0.4, 5 0.2, 6 0.0), using the effective grade: credibility drops one step for every "
    f"full {DECAY_YEARS} years of the source's age (at most {DECAY_MAX}) and one step when "
    "another item contradicts the claim. The profile's score is the mean over the claims it "
    "shows, rounded half up to two decimals, then read from the grade table "
    "(0.90–1.00 A, 0.75–0.89 A/B, 0.55–0.74 B/C, 0.35–0.54 C/D, 0.10–0.34 D weak signal, "
    "0.00–0.09 D internal monitoring); so 0.895 rounds to 0.90 and is an A."
)


def round_score(score: float) -> Decimal:
    """Two decimals, half up, from the shortest text of the float (so 0.895 → 0.90).

    Raises:
        ValueError: the score is outside 0–1 or not a number.
    """
    if not 0.0 <= score <= 1.0:
        raise ValueError(f"confidence score {score!r} is outside 0–1")
    return Decimal(repr(score)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def grade_of(score: float) -> tuple[Decimal, str, str]:
    """The rounded score with its grade and label from the table."""
    rounded = round_score(score)
    for bound, grade, label in GRADE_TABLE:
        if rounded >= bound:
            return rounded, grade, label
    raise AssertionError("unreachable: the table's last bound is 0.00")


def profile_score(grades: list[Grade]) -> float:
    """The mean claim score (0.0 when a profile has no claim at all)."""
    if not grades:
        return 0.0
    return sum(g.score for g in grades) / len(grades)


# -- JSON form (storage, journal, output) -------------------------------------------------------
def to_json(item: Evidence) -> dict[str, Any]:
    """The item as the fields of an evidence file (what ``from_json`` reads back)."""
    source: dict[str, Any] = {
        "address": item.source.address,
        "publisher": item.source.publisher,
        "date": item.source.date.isoformat(),
        "kind": item.source.kind.value,
    }
    if item.source.author:
        source["author"] = item.source.author
    if item.source.undated:
        source["undated"] = True
    body: dict[str, Any] = {
        "id": item.id,
        "claim": item.claim,
        "source": source,
        "reliability": item.reliability,
        "credibility": item.credibility,
        "entities": list(item.entities),
    }
    optional = {
        "interests": item.interests,
        "tag": item.tag,
        "contradicts": list(item.contradicts) or None,
        "due": item.due.isoformat() if item.due else None,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    return body


def from_json(body: dict[str, Any]) -> Evidence:
    """An item from :func:`to_json`'s form (as stored: already validated)."""
    s = body["source"]
    return Evidence(
        id=body["id"],
        claim=body["claim"],
        source=Source(
            s["address"],
            s["publisher"],
            SourceKind(s["kind"]),
            dt.date.fromisoformat(s["date"]),
            s.get("author"),
            bool(s.get("undated", False)),
        ),
        reliability=body["reliability"],
        credibility=int(body["credibility"]),
        entities=tuple(body["entities"]),
        interests=body.get("interests"),
        tag=body.get("tag"),
        contradicts=tuple(body.get("contradicts", ())),
        due=dt.date.fromisoformat(body["due"]) if body.get("due") else None,
    )
