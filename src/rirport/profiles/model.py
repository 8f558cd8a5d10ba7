"""A profile: sections of text built from graded claims, the claims it cites, one confidence.

Every section carries the lowest member tier that may read it (``public``, then
``strategy-circle``, then ``leadership-alliance``), so a server can cut a profile to a reader's
tier with :meth:`Profile.visible` without rebuilding it.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, replace
from typing import Any

from rirport.profiles.evidence import (
    CONFIDENCE_RULE,
    Evidence,
    Grade,
    grade_of,
    profile_score,
)

TIERS = ("public", "strategy-circle", "leadership-alliance")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"“(\[])")


@dataclass(frozen=True)
class Cited:
    """A claim a profile rests on, with its effective grade on the profile's date."""

    item: Evidence
    grade: Grade

    def source_json(self) -> dict[str, Any]:
        s = self.item.source
        return {
            "id": self.item.id,
            "address": s.address,
            "publisher": s.publisher,
            "author": s.author,
            "date": s.date.isoformat(),
            "kind": s.kind.value,
            "grade": self.grade.code,
            "reliability": self.grade.reliability,
            "credibility": self.grade.credibility,
            "adjustments": list(self.grade.reasons),
            "interests": self.item.interests,
            "derived": self.item.derived,
            "link": self.item.link,
        }


@dataclass(frozen=True)
class Section:
    title: str
    tier: str
    body: str | list[str]


@dataclass(frozen=True)
class Profile:
    id: str
    name: str
    type: str
    sections: tuple[Section, ...]
    cited: tuple[Cited, ...]
    as_of: dt.date

    @property
    def score(self) -> float:
        return profile_score([c.grade for c in self.cited])

    @property
    def rating(self) -> tuple[float, str, str]:
        """(score rounded to two decimals, grade, label), from the grade table."""
        rounded, grade, label = grade_of(self.score)
        return float(rounded), grade, label

    def visible(self, tier: str) -> Profile:
        """The sections a reader of ``tier`` may see (cited sources go with the full view).

        Raises:
            ValueError: unknown tier.
        """
        rank = TIERS.index(tier)
        return replace(
            self, sections=tuple(s for s in self.sections if TIERS.index(s.tier) <= rank)
        )

    def to_json(self, tiers: bool = False) -> dict[str, Any]:
        """The keys of ``profile --all --format ndjson`` (``tiers=True`` adds each section's
        tier, the date and the confidence rule)."""
        score, grade, label = self.rating
        body: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "type": self.type,
            "score": score,
            "grade": grade,
            "label": label,
            "sections": {s.title: s.body for s in self.sections},
            "sources": [c.source_json() for c in self.cited],
        }
        if tiers:
            body["tiers"] = {s.title: s.tier for s in self.sections}
            body["as_of"] = self.as_of.isoformat()
            body["confidence_rule"] = CONFIDENCE_RULE
        return body


def sentences(text: str) -> list[str]:
    """The sentences of a text, as the no-repetition rule counts them."""
    return list(_sentences(text))


@functools.lru_cache(maxsize=4096)
def _sentences(text: str) -> tuple[str, ...]:
    # cached: the confidence rule and shared registry lines recur in every profile
    return tuple(s.strip() for s in SENTENCE_END.split(text) if s.strip())


def drop_repeats(sections: list[Section]) -> list[Section]:
    """Sections with every sentence that already appeared earlier in the profile removed
    (and entries left empty dropped): the last guard behind builders that avoid repeats."""
    seen: set[str] = set()

    def keep(text: str) -> str:
        if ". " not in text and "? " not in text and "! " not in text:
            single = text.strip()  # one sentence: no need to split
            if single in seen:
                return ""
            seen.add(single)
            return text
        kept = []
        for sentence in sentences(text):
            if sentence not in seen:
                seen.add(sentence)
                kept.append(sentence)
        return " ".join(kept)

    result = []
    for section in sections:
        if isinstance(section.body, str):
            text = keep(section.body)
            result.append(
                section if text == section.body else Section(section.title, section.tier, text)
            )
        else:
            entries = [e for e in (keep(e) for e in section.body) if e]
            result.append(
                section
                if entries == section.body
                else Section(section.title, section.tier, entries)
            )
    return result
