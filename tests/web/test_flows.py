"""What a person does, in the browser: search an address → its resource page → its registry →
the portability matrix, switch the regime → the failing-registry map; suggestions as one
types; a search that is not understood; comparing an uploaded regime; the feeds."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from rirport.policy.loader import builtin_names
from tests.web.conftest import axe_check

REGIMES = Path(__file__).resolve().parents[2] / "src" / "rirport" / "data" / "policy"


def test_search_resource_registry_portability_map(page) -> None:
    page.goto("/")
    page.fill("#home-q", "193.0.6.139")
    page.press("#home-q", "Enter")
    page.wait_for_url("**/ip/193.0.6.139")
    facts = page.locator("dl.facts").inner_text()
    assert "RIPE NCC" in facts and "193.0.0.0/20" in facts and "Netherlands (NL)" in facts
    assert "ripencc-2018-excerpt:" in facts  # the file and line it came from
    moves = page.locator("#table-moves tbody tr")
    assert moves.count() == 5 * len(builtin_names())
    page.locator("dl.facts a", has_text="RIPE NCC").click()
    page.wait_for_url("**/registry/ripencc")
    assert page.locator("h1").inner_text() == "RIPE NCC"
    page.locator("main a", has_text="where its holders could move").click()
    page.wait_for_url("**/portability*")
    assert page.locator("table.matrix tbody tr").count() == 5
    page.select_option("select[name=regime]", "mandatory-portability")  # submits on change
    page.wait_for_url(re.compile(r".*regime=mandatory-portability.*"))
    assert page.locator("select[name=regime]").input_value() == "mandatory-portability"
    page.select_option("select[name=failing]", "ripencc")
    page.wait_for_url(re.compile(r".*failing=ripencc.*"))
    figure = page.locator('figure.chart[data-chart="map"]')
    page.wait_for_function("f => f.dataset.drawn !== undefined", arg=figure.element_handle())
    countries = figure.locator("svg path")
    assert countries.count() > 150  # world-atlas' countries, drawn
    stuck = page.locator("#table-scenario tbody tr")
    assert stuck.count() >= 1 and "Netherlands" in page.locator("#table-scenario").inner_text()
    axe_check(page)


def test_suggestions_offer_countries_registries_and_resources(page) -> None:
    page.goto("/")
    page.fill("#home-q", "south af")
    page.wait_for_function("() => document.querySelectorAll('#home-q-list option').length > 0")
    labels = page.eval_on_selector_all("#home-q-list option", "os => os.map(o => o.label)")
    assert "South Africa (ZA)" in labels
    items = httpx.get(page.url.rstrip("/") + "/search/suggest", params={"q": "ripe"}).json()
    assert items[0]["href"] == "/registry/ripencc"
    items = httpx.get(page.url.rstrip("/") + "/search/suggest", params={"q": "AS3333"}).json()
    assert items[0]["href"] == "/asn/3333"


def test_a_search_not_understood_says_why_and_suggests(page, watch) -> None:
    watch.allow("status of 400")
    response = page.goto("/search?q=10.0.0.1%2F8")
    assert response.status == 400
    problem = page.locator(".problem").inner_text()
    assert "10.0.0.1/8" in problem
    assert "AS number" in page.locator("main").inner_text()  # what is accepted
    assert page.locator("main ul li a").count() >= 1  # suggestions
    page.goto("/search?q=Narnia")
    assert "Narnia" in page.locator(".problem").inner_text()
    axe_check(page)


def test_search_goes_to_each_kind_of_page(page) -> None:
    for text, where in (
        ("AS3333", "/asn/3333"),
        ("South Africa", "/country/ZA"),
        ("ripe", "/registry/ripencc"),
        ("2001:4860::/32", "/ip/2001:4860::/32"),
        ("ripencc:2971c08b-2b8e-49f9-a938-fe3a9f8348be", "/holder/ripencc/"),
    ):
        page.goto("/search?q=" + httpx.QueryParams({"q": text})["q"].replace("/", "%2F"))
        assert where in page.url, (text, page.url)


def test_uploaded_regime_is_compared_with_a_shipped_one(page, tmp_path) -> None:
    mine = tmp_path / "open-doors.toml"
    text = (REGIMES / "current.toml").read_text()
    text = text.replace('name = "current"', 'name = "open-doors"', 1)
    mine.write_text(text.replace('effect = "refuse"', 'effect = "allow"'))
    page.goto("/portability")
    page.set_input_files("input[name=regime]", str(mine))
    page.select_option("select[name=against]", "current")
    page.locator("form[enctype] button").click()
    page.wait_for_url("**/portability/compare*")
    table = page.locator("#table-comparison tbody tr")
    assert table.count() > 0
    assert "open-doors.toml" in page.locator("#table-comparison thead").inner_text()


def test_a_bad_regime_file_names_the_line(page, watch, tmp_path) -> None:
    watch.allow("status of 400")
    bad = tmp_path / "broken.toml"
    bad.write_text('[regime]\nname = "x"\n[[rule]]\nid = "r"\neffect = "sideways"\n')
    page.goto("/portability")
    page.set_input_files("input[name=regime]", str(bad))
    page.locator("form[enctype] button").click()
    page.wait_for_load_state()
    assert "broken.toml" in page.locator(".problem").inner_text()


def test_a_form_without_its_token_is_refused(server) -> None:
    files = {"regime": ("x.toml", b"[regime]\n", "text/plain")}
    response = httpx.post(
        server.base + "/portability/compare",
        files=files,
        data={"against": "current"},
        headers={"Accept": "text/html"},
    )
    assert response.status_code == 403
    assert "form expired" in response.text


def test_feeds_are_atom_of_the_filtered_lists(server) -> None:
    feed = httpx.get(server.base + "/events.atom", params={"registry": "ripencc"})
    assert feed.status_code == 200 and feed.headers["content-type"].startswith(
        "application/atom+xml"
    )
    assert feed.text.count("<entry>") >= 1 and "ripencc" in feed.text
    transfers = httpx.get(server.base + "/transfers.atom").text
    assert "193.0.16.0/21" in transfers
    page_json = httpx.get(server.base + "/transfers", params={"format": "json"}).json()
    # the completed one of the fixture (a browser test may have filed a request since)
    assert "completed" in {t["state"] for t in page_json["data"]["transfers"]}


def test_the_journal_verifies_and_links_entries(page) -> None:
    page.goto("/journal")
    assert "Verified" in page.locator(".card").inner_text()
    link = page.locator("#table-entries a", has_text="193.0.16.0/21").first
    link.click()
    page.wait_for_url("**/ip/193.0.16.0/21")
    assert "ARIN" in page.locator("dl.facts").inner_text()
