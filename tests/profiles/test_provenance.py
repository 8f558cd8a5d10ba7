"""Tiers gate depth, never provenance: every claim a profile shows, at every tier, names its
sources, and every source it names is listed (with its grade and address) in what that tier
is shown — in the model, the JSON, the Markdown and the HTML.

Real profiles: AFRINIC's whole October 2018 file (with the starter evidence about its
litigation, receivership and elections) beside excerpts of the other four registries, a
legal hold and one requested transfer, so registries, countries, policies, the essay and
holders all have their graded and derived claims.
"""

from __future__ import annotations

import datetime as dt
import html
import ipaddress
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from rirport.domain.enums import Registry, ResourceType
from rirport.domain.resources import ResourceRange
from rirport.domain.transfer import TransferKind
from rirport.profiles.evidence import SourceKind
from rirport.profiles.model import TIERS, Profile, Section
from rirport.profiles.render import html_page, markdown
from rirport.query.iana import load_iana
from rirport.query.view import load_current
from rirport.services.profiles.build import ProfileSet, build_profiles
from rirport.services.registry.ingest import ingest_bytes
from rirport.services.transfers.holds import add_hold
from rirport.services.transfers.lifecycle import build_request, request_transfer
from rirport.store.unit import Store
from tests.excerpts import excerpt, real_file

DAY = dt.date(2026, 11, 28)
NO_FACT = ("Name: ", "Type: ", "Focus: ", "Rule: ")
"""Entries that state no fact: the labels of At a glance and the confidence rule."""
CLASSIFIED = ("registry", "policy", "document")
"""Types whose At a glance region is rirport's own classification (the RIRs' service regions,
the catalogue of policies and documents), not a claim read from a source; a holder's or a
country's region is read from the files and must name them."""
MARKER = re.compile(r"\[([a-z0-9][\w.:-]*) · [A-F][1-6]\]")
CONTENTIOUS = (SourceKind.NEWS_REPORT, SourceKind.INTERESTED_OPINION, SourceKind.OFFICIAL_RECORD)


@pytest.fixture(scope="module")
def profiles(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProfileSet]:
    path: Path = tmp_path_factory.mktemp("provenance") / "store.sqlite"
    store = Store(f"sqlite:///{path}")
    ingest_bytes(store, real_file("afrinic").read_bytes(), "delegated-afrinic-extended-20181013")
    for registry in ("apnic", "arin", "lacnic", "ripencc"):
        ingest_bytes(store, excerpt(real_file(registry), 200), f"{registry}-excerpt.txt")
    first = int(ipaddress.ip_address("41.0.0.0"))
    add_hold(
        store,
        ResourceRange(ResourceType.IPV4, first, first + 2**21 - 1),
        "legal-hold",
        "court order in test",
        "tester",
        dt.date(2026, 1, 5),
    )
    view = load_current(store)
    row = view.table.row(0)
    request = build_request(
        view, row.resource, Registry.RIPENCC, "org-x", TransferKind.INTER_RIR, DAY
    )
    request_transfer(store, view, request, "mandatory-portability", "tester", load_iana(store))
    yield build_profiles(store, DAY)
    store.close()


def sample(profiles: ProfileSet) -> list[Profile]:
    """Every registry, policy, document and country, and the first 300 holders."""
    out: list[Profile] = []
    for profile in profiles.all():
        if profile.type == "holder" and len(out) > 300 + 60:
            break
        out.append(profile)
    return out


def facts(profile: Profile, section: Section) -> Iterator[tuple[str, tuple[str, ...]]]:
    for text, refs in section.cites():
        label = section.title == "At a glance" and profile.type in CLASSIFIED
        if not text.startswith(NO_FACT) and not label:
            yield text, refs


def test_every_claim_at_every_tier_names_sources_that_tier_is_shown(
    profiles: ProfileSet,
) -> None:
    kinds: set[str] = set()
    for profile in sample(profiles):
        kinds.add(profile.type)
        for tier in TIERS:
            cut = profile.visible(tier)
            listed = {c.item.id for c in cut.cited}
            assert "Sources" in {s.title for s in cut.sections}, (profile.id, tier)
            for section in cut.sections:
                for text, refs in facts(profile, section):
                    assert refs, (profile.id, tier, section.title, text)
                    assert set(refs) <= listed, (profile.id, section.title, text)
                    named = set(MARKER.findall(text))
                    assert named <= set(refs), (profile.id, section.title, text)
            body = cut.to_json(tiers=True)
            sources = {s["id"] for s in body["sources"]}
            assert sources == listed
            for title, per_entry in body["refs"].items():
                assert len(per_entry) == len(cut_entries(body["sections"][title]))
                assert all(set(r) <= sources for r in per_entry)
    assert kinds == {"registry", "policy", "document", "country", "holder"}


def cut_entries(body: str | list[str]) -> list[str]:
    return [body] if isinstance(body, str) else body


def test_rendered_pages_show_the_source_of_every_claim_they_show(profiles: ProfileSet) -> None:
    for profile in sample(profiles)[:120]:
        for tier in TIERS:
            cut = profile.visible(tier)
            page = html_page(cut)
            text = markdown(cut)
            sources_md = text[text.index("## Sources") :]
            for section in cut.sections:
                for _, refs in facts(profile, section):
                    for ref in refs:
                        source = cut.source(ref).item.source
                        assert f'id="src-{html.escape(ref)}"' in page, (profile.id, tier, ref)
                        assert html.escape(source.address) in page, (profile.id, ref)
                        assert ref.replace("_", "\\_") in sources_md, (profile.id, tier, ref)


def test_contentious_claims_shown_anonymously_carry_their_source(profiles: ProfileSet) -> None:
    checked = 0
    for name in ("registry:afrinic", "document:lu-heng-portability-essay", "country:SC"):
        public = profiles.get(name).visible("public")
        page = html_page(public)
        shown = " ".join(e for s in public.sections if s.title != "Sources" for e in s.entries)
        for cited in public.cited:
            item = cited.item
            if item.derived or item.source.kind not in CONTENTIOUS or item.claim not in shown:
                continue
            checked += 1
            address = html.escape(item.source.address, quote=True)
            assert f'<a href="{address}"' in page, (name, item.id)
            line = next(e for e in public.sections[-1].entries if e.startswith(item.id))
            assert cited.grade.code in line and item.source.publisher in line
            if item.interests:
                assert html.escape(item.interests) in page, (name, item.id)
    lawsuits = profiles.get("registry:afrinic").visible("public")
    assert "afrinic-lawsuits" in " ".join(lawsuits.sections[-1].entries)
    assert checked >= 5


def test_cited_below_is_never_said_without_the_sources_below(profiles: ProfileSet) -> None:
    said = 0
    for profile in sample(profiles):
        public = profile.visible("public")
        titles = [s.title for s in public.sections]
        for position, section in enumerate(public.sections):
            if any(re.search(r"(cited|claims) below", e) for e in section.entries):
                said += 1
                assert "Sources" in titles[position + 1 :], (profile.id, section.title)
                assert public.sections[titles.index("Sources")].entries
    assert said > 0  # the country and holder pages say it; they must be followed by sources


def test_a_profile_cannot_cite_what_it_does_not_list(profiles: ProfileSet) -> None:
    profile = profiles.get("registry:afrinic")
    bad = Section("Key points", "public", ["A claim."], (("no-such-item",),))
    with pytest.raises(ValueError, match="no-such-item"):
        Profile(profile.id, profile.name, profile.type, (bad,), profile.cited, profile.as_of)
    with pytest.raises(ValueError, match="2 refs for 1 entries"):
        Section("Key points", "public", ["A claim."], ((), ()))


def test_derived_claims_point_at_the_file_or_rule_they_come_from(profiles: ProfileSet) -> None:
    afrinic = profiles.get("registry:afrinic")
    matters = dict(
        afrinic.sections[[s.title for s in afrinic.sections].index("Why it matters")].cites()
    )
    impact = next(refs for text, refs in matters.items() if text.startswith("Impact:"))
    assert afrinic.source(impact[0]).item.source.address == "delegated-afrinic-extended-20181013"
    does = afrinic.sections[[s.title for s in afrinic.sections].index("What it does")]
    rules = [refs for text, refs in does.cites() if text.startswith("Inter-RIR rule")]
    assert rules and all(
        re.search(r"current\.toml:\d+ \(rule ", afrinic.source(r[0]).item.source.address)
        for r in rules
    )
    holder_id = next(i for i in profiles.ids() if i.startswith("holder:afrinic:"))
    holder = profiles.get(holder_id)
    moves = holder.sections[[s.title for s in holder.sections].index("Where it could move")]
    for _, refs in moves.cites():
        item = holder.source(refs[0]).item
        assert item.source.publisher == "rirport policy engine" and item.credibility == 3
