"""A profile: sections of text built from graded claims, the claims it cites, one confidence.

Every section carries the lowest member tier that may read it (``public``, then
``strategy-circle``, then ``leadership-alliance``), so a server can cut a profile to a reader's
tier with :meth:`Profile.visible` without rebuilding it.

Tiers gate depth, never provenance: every entry of a section names the cited claims it states
or is computed from (:attr:`Section.refs`), a profile cannot cite an id it does not list
(:class:`Profile` refuses it), and the list of sources is public, so whatever a reader of any
tier is shown carries its source.
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


Refs = tuple[str, ...]


@dataclass(frozen=True)
class Section:
    """A titled part of a profile. ``refs`` holds, for each entry of the body (a text body is
    one entry), the ids of the cited claims that entry states or is computed from; an entry
    with no ids states no fact (a label, the confidence rule). Empty ``refs``: none given."""

    title: str
    tier: str
    body: str | list[str]
    refs: tuple[Refs, ...] = ()

    def __post_init__(self) -> None:
        if self.refs and len(self.refs) != len(self.entries):
            raise ValueError(
                f"section {self.title!r}: {len(self.refs)} refs for {len(self.entries)} entries"
            )

    @property
    def entries(self) -> list[str]:
        return [self.body] if isinstance(self.body, str) else list(self.body)

    def cites(self) -> list[tuple[str, Refs]]:
        """Each entry with the ids it rests on."""
        refs = self.refs or tuple(() for _ in self.entries)
        return list(zip(self.entries, refs, strict=True))


def section(title: str, tier: str, lines: list[tuple[str, Refs]]) -> Section:
    """A section from (entry, ids) pairs."""
    return Section(title, tier, [t for t, _ in lines], tuple(r for _, r in lines))


@dataclass(frozen=True)
class Profile:
    id: str
    name: str
    type: str
    sections: tuple[Section, ...]
    cited: tuple[Cited, ...]
    as_of: dt.date

    def __post_init__(self) -> None:
        known = {c.item.id for c in self.cited}
        for s in self.sections:
            for refs in s.refs:
                missing = [r for r in refs if r not in known]
                if missing:
                    raise ValueError(
                        f"profile {self.id}: section {s.title!r} cites {missing[0]!r}, "
                        "which is not among its sources"
                    )

    def source(self, item_id: str) -> Cited:
        """Raises: KeyError for an id the profile does not cite."""
        for cited in self.cited:
            if cited.item.id == item_id:
                return cited
        raise KeyError(item_id)

    @property
    def score(self) -> float:
        return profile_score([c.grade for c in self.cited])

    @property
    def rating(self) -> tuple[float, str, str]:
        """(score rounded to two decimals, grade, label), from the grade table."""
        rounded, grade, label = grade_of(self.score)
        return float(rounded), grade, label

    def visible(self, tier: str) -> Profile:
        """The sections a reader of ``tier`` may see. Every cited source stays: the Sources
        section is public, and the confidence is the full profile's.

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
            body["refs"] = {s.title: [list(r) for _, r in s.cites()] for s in self.sections}
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
    for part in sections:
        if isinstance(part.body, str):
            text = keep(part.body)
            result.append(part if text == part.body else replace(part, body=text))
        else:
            kept = [(k, r) for k, r in ((keep(e), r) for e, r in part.cites()) if k]
            entries = [k for k, _ in kept]
            result.append(
                part
                if entries == part.body
                else replace(
                    part, body=entries, refs=tuple(r for _, r in kept) if part.refs else ()
                )
            )
    return result
