"""The profile pages: ``/profiles`` (what is profiled) and ``/profiles/{id}`` (one profile, cut
to the reader's tier).

A profile page shows the sections the reader's tier reads, every entry with the sources it
rests on, and every source the profile cites with its two-axis grade: tiers gate depth, never
provenance (:mod:`rirport.profiles.model`). Where a tier would add sections, the page names
them and says how to get that tier, once, beside them. Profiles come from
:func:`rirport.services.profiles.build.build_profiles`, made once per data generation and
day (shared with ``GET /api/profiles/{id}``).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Path
from starlette.responses import Response

from rirport.profiles.evidence import GRADE_TABLE
from rirport.profiles.model import TIERS, Profile
from rirport.profiles.render import source_ids
from rirport.services.profiles.build import ProfileSet
from rirport.web.context import Page, PageContext
from rirport.web.pages.shared import facts
from rirport.web.tables import table

router = APIRouter(include_in_schema=False)  # HTML pages: not in the OpenAPI description
TIER_NAMES = {
    "public": "everyone",
    "strategy-circle": "Strategy Circle",
    "leadership-alliance": "Leadership Alliance",
}
JOIN = {
    "strategy-circle": "the free tier for any registered reader: sign in with an account "
    "this server's administrators made for you",
    "leadership-alliance": "for resource holders and their management: an administrator "
    "verifies the holder identities you act for and links them to your account",
}
ID = Path(..., min_length=1, max_length=200)
MARKER = re.compile(r"\[([a-z0-9][\w.:-]*) · [A-F][1-6]\]")
"""How a graded claim names itself in a profile's text (``[id · grade]``)."""


async def profile_set(page: PageContext) -> ProfileSet:
    shared = facts(page)
    return await shared.off_loop(shared.profiles())


@router.get("/profiles")
async def index(page: Page) -> Response:
    profiles = await profile_set(page)
    ctx = profiles.context
    registries = [i for i in profiles.ids() if i.startswith("registry:")]
    catalogue = [(e.id, e.name, e.type.value) for e in ctx.catalogue]
    countries = sorted(ctx.holdings.country_amount)
    rows = [(i, i.split(":", 1)[1].upper(), "registry") for i in registries]
    rows += catalogue + [(f"country:{cc}", cc, "country") for cc in countries]
    listed = table(
        "profiles", "Profiles (holders: search by registry:opaque-id)", ("id", "name", "type"), rows
    )
    return page.render(
        "profiles_index.html",
        title="Profiles",
        data={"profiles": [dict(zip(listed.columns, r, strict=True)) for r in rows]},
        tables=[listed],
        registries=registries,
        catalogue=catalogue,
        countries=countries,
        holders=len(ctx.holdings),
    )


@router.get("/profiles/{profile_id}")
async def profile_page(page: Page, profile_id: str = ID) -> Response:
    """Raises: NotFoundError for a name that is no profile."""
    profiles = await profile_set(page)
    full = profiles.get(profile_id)
    tier = page.principal.read_tier
    shown = full.visible(tier)
    sources = table(
        "sources",
        "Sources of this profile, with their effective grades",
        ("id", "grade", "kind", "publisher", "author", "date", "address", "interests"),
        [
            (
                c.item.id,
                c.grade.code,
                c.item.source.kind.value,
                c.item.source.publisher,
                c.item.source.author,
                c.item.source.date.isoformat(),
                c.item.source.address,
                c.item.interests,
            )
            for c in full.cited
        ],
    )
    body = shown.to_json(tiers=True)
    body["tier"] = tier
    body["locked"] = locked(full, tier)
    return page.render(
        "profile.html",
        title=full.name,
        data=body,
        tables=[sources],
        profile=shown,
        view=view_of(full, shown, tier),
        grade_table=grade_rows(full),
    )


def locked(full: Profile, tier: str) -> list[dict[str, Any]]:
    """The sections above the reader's tier: title, the tier that reads it, entry count."""
    rank = TIERS.index(tier)
    return [
        {"title": s.title, "tier": s.tier, "entries": len(s.entries)}
        for s in full.sections
        if TIERS.index(s.tier) > rank
    ]


def view_of(full: Profile, shown: Profile, tier: str) -> dict[str, Any]:
    """What the template needs beyond the profile: each entry's source ids not already
    written in its text, where each source is cited, and what higher tiers would add."""
    grades = {c.item.id: c.grade for c in full.cited}
    cited_in: dict[str, list[tuple[str, bool]]] = {c.item.id: [] for c in full.cited}
    rank = TIERS.index(tier)
    for s in full.sections:
        if s.title == "Sources":
            continue
        for _, refs in s.cites():
            for ref in refs:
                place = (s.title, TIERS.index(s.tier) > rank)
                if place not in cited_in[ref]:
                    cited_in[ref].append(place)
    sections = []
    for s in shown.sections:
        if s.title == "Sources":
            continue
        entries = []
        for text, refs in s.cites():
            ids = source_ids(shown, text, refs)
            every = len(ids) > 3 and len(set(refs)) == len(shown.cited)
            entries.append(
                {
                    "text": text,
                    "parts": parts(text, refs),
                    "refs": [] if every else [(r, grades[r].code) for r in ids],
                    "all": every,
                }
            )
        sections.append({"title": s.title, "tier": s.tier, "entries": entries})
    adds: dict[str, list[str]] = {}
    for item in locked(full, tier):
        adds.setdefault(item["tier"], []).append(f"{item['title']} ({item['entries']})")
    return {
        "sections": sections,
        "cited_in": cited_in,
        "adds": [(TIER_NAMES[t], titles, JOIN[t]) for t, titles in adds.items()],
        "tier_name": TIER_NAMES[tier],
    }


def parts(text: str, refs: tuple[str, ...]) -> list[tuple[str, str | None]]:
    """The text cut around its ``[id · grade]`` markers: (text, None) and (marker, id), so
    the page links each marker to its source."""
    out: list[tuple[str, str | None]] = []
    at = 0
    for found in MARKER.finditer(text):
        if found.group(1) not in refs:
            continue
        out += [(text[at : found.start()], None), (found.group(0), found.group(1))]
        at = found.end()
    return [*out, (text[at:], None)]


def grade_rows(profile: Profile) -> list[dict[str, Any]]:
    """The grade table, upper bounds included, with the profile's own row marked."""
    _score, grade, label = profile.rating
    rows = []
    upper = "1.00"
    for bound, g, lab in GRADE_TABLE:
        rows.append(
            {
                "range": f"{bound}–{upper}",
                "grade": g,
                "label": lab,
                "mine": (g, lab) == (grade, label),
            }
        )
        upper = f"{bound - Decimal('0.01'):.2f}"
    return rows
