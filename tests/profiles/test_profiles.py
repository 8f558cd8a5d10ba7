"""Evidence through the CLI and profiles built from real data, on SQLite and PostgreSQL.

The store holds AFRINIC's whole October 2018 file and excerpts of the other four; every
profile built from it is checked for repeated sentences and for a grade that matches the
table; bad input changes nothing (the journal proves it); injected markup renders inert.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result

from rirport.cli.main import cli
from rirport.domain.enums import Registry, ResourceType
from rirport.domain.resources import ResourceRange
from rirport.profiles.evidence import grade_of
from rirport.profiles.model import TIERS, Section, drop_repeats, sentences
from rirport.profiles.render import html_page, markdown
from rirport.query.view import load_current
from rirport.services.monitoring.events import events_between, record_between
from rirport.services.profiles.build import build_profiles
from rirport.services.registry.ingest import IngestOptions, ingest_bytes
from rirport.services.transfers.holds import add_hold
from rirport.store.unit import Store
from tests.excerpts import excerpt, real_file

DAY = dt.date(2026, 11, 28)
NDJSON_KEYS = {"id", "name", "type", "score", "grade", "label", "sections", "sources"}

ITEM = """\
evidence:
  - id: {id}
    claim: {claim}
    source: {{address: "https://example.org/{id}", publisher: {publisher}, date: 2026-06-01,
             kind: news-report}}
    reliability: C
    tag: {tag}
    entities: [registry:afrinic]
"""


@pytest.fixture
def url(store: Store, store_url: str) -> str:
    ingest_bytes(store, real_file("afrinic").read_bytes(), "delegated-afrinic-extended-20181013")
    for registry in ("apnic", "arin", "lacnic", "ripencc"):
        ingest_bytes(store, excerpt(real_file(registry), 200), f"{registry}-excerpt.txt")
    return store_url


def run(url: str, tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(
        cli, ["--db", url, "--data-dir", str(tmp_path / "d"), "--actor", "profile-test", *args]
    )


def entries(url: str, tmp_path: Path) -> int:
    result = run(url, tmp_path, "journal", "verify", "--format", "json")
    assert result.exit_code == 0, result.output
    return int(json.loads(result.output)["entries"])


def write(tmp_path: Path, name: str, **fields: str) -> Path:
    values = {"claim": "A claim.", "publisher": "Pub", "tag": "P", **fields}
    path = tmp_path / name
    path.write_text(ITEM.format(**values))
    return path


def test_evidence_add_correct_list_show_each_journaled(url: str, tmp_path: Path) -> None:
    before = entries(url, tmp_path)
    new = write(tmp_path, "new.yaml", id="test-new", claim="AFRINIC published a notice.")
    assert run(url, tmp_path, "evidence", "add", str(new)).exit_code == 0
    assert entries(url, tmp_path) == before + 1
    again = run(url, tmp_path, "evidence", "add", str(new))
    assert again.exit_code == 1 and "exists already" in again.output
    same = write(tmp_path, "same.yaml", id="test-same", claim="AFRINIC published a notice.")
    same.write_text(same.read_text().replace("example.org/test-same", "example.org/test-new"))
    repeated = run(url, tmp_path, "evidence", "add", str(same))
    assert repeated.exit_code == 1 and "repeats the claim and source" in repeated.output
    bad = write(tmp_path, "bad.yaml", id="test-bad", tag="Z")
    refused = run(url, tmp_path, "evidence", "add", str(bad))
    assert refused.exit_code == 1 and "bad.yaml:7:" in refused.output
    assert entries(url, tmp_path) == before + 1
    fixed = write(tmp_path, "fix.yaml", id="test-new", claim="AFRINIC published a notice.", tag="V")
    corrected = run(url, tmp_path, "evidence", "correct", str(fixed))
    assert corrected.exit_code == 0 and "test-new (version 2)" in corrected.output
    starter = write(tmp_path, "starter.yaml", id="afrinic-no-board", claim="Corrected text.")
    assert run(url, tmp_path, "evidence", "correct", str(starter)).exit_code == 0
    unknown = write(tmp_path, "unknown.yaml", id="test-unknown")
    missing = run(url, tmp_path, "evidence", "correct", str(unknown))
    assert missing.exit_code == 1 and "no evidence 'test-unknown'" in missing.output
    assert entries(url, tmp_path) == before + 3
    shown = json.loads(run(url, tmp_path, "evidence", "show", "test-new").output)
    assert (shown["credibility"], shown["version"], shown["origin"]) == (2, 2, "store")
    listed = {
        r["id"]: r
        for r in json.loads(run(url, tmp_path, "evidence", "list", "--format", "json").output)
    }
    assert listed["afrinic-no-board"]["origin"] == "corrected"
    assert listed["ripe-807-scope"]["origin"] == "starter"
    log = run(url, tmp_path, "journal", "show", "--format", "json")
    assert "Corrected text." in log.output and "no chief executive" in log.output
    assert run(url, tmp_path, "evidence", "show", "nope").exit_code == 1


def test_every_profile_has_no_repeated_sentence_and_a_grade_from_the_table(
    url: str, store: Store
) -> None:
    profiles = build_profiles(store, DAY)
    seen_types: dict[str, int] = {}
    count = 0
    for profile in profiles.all(guard=False):
        count += 1
        seen_types[profile.type] = seen_types.get(profile.type, 0) + 1
        texts = [
            e for s in profile.sections for e in ([s.body] if isinstance(s.body, str) else s.body)
        ]
        said = [x for t in texts for x in sentences(t)]
        assert len(said) == len(set(said)), (profile.id, [x for x in said if said.count(x) > 1][:3])
        body = profile.to_json()
        assert set(body) == NDJSON_KEYS
        assert (body["score"], body["grade"], body["label"]) == (
            float(grade_of(profile.score)[0]),
            *grade_of(profile.score)[1:],
        )
        assert body["sources"] and all(s["grade"] for s in body["sources"])
        assert {"At a glance", "Why it matters", "What to watch", "Key points", "Sources"} <= set(
            body["sections"]
        )
        assert all(s.tier in TIERS for s in profile.sections)
    table = load_current(store).table
    named = (table.registry == 0) & (table.opaque_id != b"") & np.isin(table.status, [0, 1])
    assert seen_types["registry"] == 5 and seen_types["policy"] == 4
    assert seen_types["document"] == 1
    assert seen_types["holder"] >= len(np.unique(table.opaque_id[named]))
    assert count == len(list(profiles.ids()))


def test_profiles_say_what_they_are_and_show_figures(url: str, store: Store) -> None:
    profiles = build_profiles(store, DAY)
    afrinic = profiles.get("afrinic").to_json()
    glance = afrinic["sections"]["At a glance"]
    assert "Type: registry (Regional Internet Registry)" in glance
    matters = " ".join(afrinic["sections"]["Why it matters"])
    assert "Under current policy, 0 of AFRINIC's" in matters
    assert "(100.0%) could move" in matters
    essay = profiles.get("document:lu-heng-portability-essay").to_json()
    assert essay["type"] == "document"
    assert any("author's interests" in s for s in essay["sections"]["Sources"])
    za = profiles.get("ZA").to_json()
    assert za["type"] == "country" and za["name"] == "Country ZA"
    holder_id = next(i for i in profiles.ids() if i.startswith("holder:afrinic:"))
    holder = profiles.get(holder_id.removeprefix("holder:")).to_json(tiers=True)
    assert holder["tiers"]["Where it could move"] == "leadership-alliance"
    moves = " ".join(holder["sections"]["Where it could move"])
    assert "Under current policy" in moves and "no other registry" in moves
    link = holder["sources"][0]["link"]
    assert link.startswith("delegated-afrinic-extended-20181013:")
    line = int(link.rsplit(":", 1)[1])
    record = real_file("afrinic").read_text().splitlines()[line - 1]
    assert holder_id.rsplit(":", 1)[1] in record


def test_holds_show_in_what_to_watch(url: str, store: Store) -> None:
    first = int(ipaddress.ip_address("41.0.0.0"))
    add_hold(
        store,
        ResourceRange(ResourceType.IPV4, first, first + 2**21 - 1),
        "legal-hold",
        "court order in test",
        "tester",
        dt.date(2026, 1, 5),
    )
    watch = (
        build_profiles(store, DAY).get("registry:afrinic").to_json()["sections"]["What to watch"]
    )
    assert any("legal-hold on 41.0.0.0/11: court order in test" in w for w in watch)


def test_profile_cli_one_all_and_unknown(url: str, tmp_path: Path) -> None:
    one = run(
        url, tmp_path, "profile", "policy:current", "--format", "json", "--as-of", "2026-11-28"
    )
    assert one.exit_code == 0, one.output
    body = json.loads(one.output)
    assert body["type"] == "policy" and set(body["tiers"]) == set(body["sections"])
    every = run(url, tmp_path, "profile", "--all", "--format", "ndjson", "--as-of", "2026-11-28")
    assert every.exit_code == 0
    rows = [json.loads(line) for line in every.output.splitlines()]
    assert all(set(r) == NDJSON_KEYS for r in rows)
    assert len({r["id"] for r in rows}) == len(rows) > 100
    unknown = run(url, tmp_path, "profile", "afrinic:no-such-holder")
    assert unknown.exit_code == 1 and "no profile for 'afrinic:no-such-holder'" in unknown.output
    assert run(url, tmp_path, "profile", "--all", "--format", "html").exit_code == 2


def test_injected_markup_renders_inert(url: str, store: Store, tmp_path: Path) -> None:
    attack = write(
        tmp_path,
        "attack.yaml",
        id="test-attack",
        claim="'<script>alert(1)</script> [click](javascript:alert(1))'",
        publisher="'\"><img src=x onerror=alert(1)>'",
    )
    assert run(url, tmp_path, "evidence", "add", str(attack)).exit_code == 0
    profile = build_profiles(store, DAY).get("afrinic")
    page = html_page(profile)
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    text = markdown(profile)
    assert "<script>" not in text
    assert "<img" not in text
    assert re.search(r"(?<!\\)\]\(javascript", text) is None
    assert "&lt;script&gt;" in text and "\\[click\\](javascript" in text


def test_tiers_cut_a_profile(url: str, store: Store) -> None:
    profile = build_profiles(store, DAY).get("afrinic")
    public = profile.visible("public")
    assert {s.tier for s in public.sections} == {"public"}
    assert {s.title for s in public.sections} == {
        "At a glance",
        "Confidence",
        "Key points",
        "Sources",
    }
    assert public.cited == profile.cited  # provenance is never cut
    assert len(profile.visible("leadership-alliance").sections) == len(profile.sections)
    with pytest.raises(ValueError):
        profile.visible("everyone")


def test_the_repeat_guard_drops_later_copies() -> None:
    sections = [
        Section("A", "public", ["One. Two."]),
        Section("B", "public", ["Two.", "Three."]),
        Section("C", "public", "One. Four."),
    ]
    assert [s.body for s in drop_repeats(sections)] == [["One. Two."], ["Three."], "Four."]


def test_change_events_show_in_what_to_watch(url: str, store: Store) -> None:
    older = real_file("afrinic", "2017")
    ingest_bytes(store, older.read_bytes(), older.name, options=IngestOptions(events=False))
    record_between(
        store, events_between(store, dt.date(2017, 3, 21), dt.date(2018, 10, 13), Registry.AFRINIC)
    )
    watch = build_profiles(store, DAY).get("afrinic").to_json()["sections"]["What to watch"]
    assert any(
        "817 change event(s) of kind new recorded for AFRINIC between the snapshots of "
        "2017-03-21 and 2018-10-13 (rirport events)" in w
        for w in watch
    ), watch
