"""The profile pages in a real browser: what each tier reads, that every claim on the page
links to a listed source whatever the tier, what a reader who is not signed in is told about
the tiers, accessibility, and screenshots (docs/web/profile-*.png)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from rirport.accounts import service
from rirport.accounts.holdings import known_holder
from rirport.query.view import load_current
from tests.http.conftest import RIPE_HOLDER
from tests.web.conftest import Served, axe_check, screenshot

PASSWORD = "a passphrase for the profile pages"
HOLDER = f"holder:ripencc:{RIPE_HOLDER}"
ACCOUNTS = {
    "prof-sc": "strategy-circle",
    "prof-la": "leadership-alliance",
    "prof-admin": "admin",
}
OWN = ("How the confidence is graded", "What membership adds to this profile")
"""Headings of the page itself, not sections of the profile."""


@pytest.fixture(scope="module")
def tokens(server: Served) -> dict[str, str]:
    """One account per tier (the Leadership Alliance one verified for RIPE NCC's holder),
    and an API token each to ask the JSON API what that tier may read."""
    store = server.store
    known = known_holder(load_current(store), store)
    out = {}
    for name, tier in ACCOUNTS.items():
        row = service.create_account(store, name, PASSWORD, tier, "tests")
        if tier == "leadership-alliance":
            service.link_holder(store, row.id, "ripencc", RIPE_HOLDER, "tests", known)
        out[name] = service.create_token(store, row.id, "probe", "tests")[1]
    return out


def sign_in(page: Any, name: str) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/account")


def headings(page: Any) -> list[str]:
    texts = page.locator("article.profile h2").all_inner_texts()
    return [t.split(" (")[0] if t.startswith("Sources") else t for t in texts if t not in OWN]


def api(server: Served, profile: str, token: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = httpx.get(f"{server.base}/api/profiles/{profile}", headers=headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def assert_every_claim_links_a_listed_source(page: Any, expected: dict[str, Any]) -> None:
    listed = set(page.locator("ol.sources > li").evaluate_all("els => els.map(e => e.id)"))
    assert listed == {f"src-{s['id']}" for s in expected["sources"]}
    hrefs = page.locator("a.ref").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert hrefs, "no claim names a source"
    for href in hrefs:
        assert href == "#sources" or href[1:] in listed, href
    refs = {r for per in expected["refs"].values() for entry in per for r in entry}
    for ref in refs:  # what each claim rests on is on the page, with its address
        item = page.locator(f"li[id='src-{ref}']")
        source = next(s for s in expected["sources"] if s["id"] == ref)
        assert source["address"] in item.inner_text()


def test_a_reader_not_signed_in_sees_the_public_sections_every_source_and_the_tiers(
    page: Any, server: Served
) -> None:
    response = page.goto("/profiles/registry:afrinic")
    assert response.status == 200
    expected = api(server, "registry:afrinic")
    assert headings(page) == list(expected["sections"])
    assert "What it does" not in headings(page) and "Key points" in headings(page)
    assert_every_claim_links_a_listed_source(page, expected)
    lawsuits = page.locator("li[id='src-afrinic-lawsuits']")
    assert "afrinic.net/20220827-communique" in lawsuits.inner_text()
    assert "Author's interests" in lawsuits.inner_text()
    aside = page.locator("aside.tiers")
    assert "Strategy Circle reads What it does" in aside.inner_text()
    assert aside.get_by_role("link", name="Sign in").count() == 1
    assert page.locator("table.grades tr.mine").count() == 1
    page.locator("a.ref[href='#src-afrinic-lawsuits']").first.click()
    assert page.url.endswith("#src-afrinic-lawsuits")
    axe_check(page)
    screenshot(page, "profile-anonymous")


@pytest.mark.parametrize("name", list(ACCOUNTS))
def test_each_tier_reads_exactly_its_sections_with_the_same_sources(
    page: Any, server: Served, tokens: dict[str, str], name: str
) -> None:
    public = api(server, HOLDER)
    expected = api(server, HOLDER, tokens[name])
    sign_in(page, name)
    page.goto(f"/profiles/{HOLDER}")
    assert headings(page) == list(expected["sections"])
    assert expected["sources"] == public["sources"]  # provenance is the same for everyone
    assert_every_claim_links_a_listed_source(page, expected)
    alliance = ACCOUNTS[name] != "strategy-circle"
    assert ("Portfolio" in headings(page)) is alliance
    assert ("Where it could move" in headings(page)) is alliance
    assert "What it does" in headings(page)
    if alliance:
        assert page.locator("aside.tiers").count() == 0
        axe_check(page)
        if name == "prof-la":
            screenshot(page, "profile-leadership-alliance")
    else:
        assert "Leadership Alliance reads Portfolio" in page.locator("aside.tiers").inner_text()


def test_the_profiles_index_leads_to_every_kind_of_profile(page: Any) -> None:
    page.goto("/profiles")
    for label in ("AFRINIC", "ZA"):
        assert page.get_by_role("link", name=label, exact=True).count() == 1
    page.get_by_role("link", name="ZA", exact=True).click()
    page.wait_for_url("**/profiles/country:ZA")
    assert page.locator("h1").inner_text() == "Country ZA"
    axe_check(page)
    screenshot(page, "profile-country")


def test_an_unknown_profile_is_a_404_page(page: Any, watch: Any) -> None:
    watch.allow("status of 404")
    response = page.goto("/profiles/holder:ripencc:no-such-holder")
    assert response.status == 404
    assert "no profile for" in page.locator(".problem").inner_text()
