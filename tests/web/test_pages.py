"""Every page type in the browser: it renders over the real (excerpted) registry, its charts
draw marks, its tables match its JSON, it passes axe with no serious or critical violation,
and its screenshots at desktop and phone width land in ``--screenshots DIR`` (docs/web/ to
refresh the documented ones)."""

from __future__ import annotations

import httpx
import pytest

from tests.web.conftest import axe_check, screenshot

PAGES = [
    ("home", "/", "Who holds which Internet numbers"),
    ("resource-ip", "/ip/193.0.6.139", "193.0.6.139"),
    ("resource-asn", "/asn/3333", "AS3333"),
    ("registry", "/registry/ripencc", "RIPE NCC"),
    ("country", "/country/ZA", "South Africa"),
    ("portability", "/portability", "Portability"),
    ("events", "/events", "Change events"),
    ("transfers", "/transfers", "Transfers"),
    ("journal", "/journal", "Journal"),
    ("holder", "/holder/ripencc/2971c08b-2b8e-49f9-a938-fe3a9f8348be", "Holder"),
]


def wait_for_charts(page) -> int:
    """Wait until every chart of the page has drawn; the number of charts."""
    count = page.locator("figure.chart").count()
    for i in range(count):
        figure = page.locator("figure.chart").nth(i)
        rows = page.locator(f"#{figure.get_attribute('data-for')} tbody tr td.n").count()
        if rows:
            page.wait_for_function(
                "f => f.dataset.drawn !== undefined", arg=figure.element_handle()
            )
    return count


@pytest.mark.parametrize(("name", "path", "heading"), PAGES, ids=[p[0] for p in PAGES])
def test_page_renders_accessibly(page, server, name: str, path: str, heading: str) -> None:
    response = page.goto(path)
    assert response.status == 200
    assert heading in page.locator("h1").inner_text()
    wait_for_charts(page)
    axe_check(page)
    screenshot(page, name)


def test_every_table_matches_the_page_json(page, server) -> None:
    for path in ("/registry/ripencc", "/portability", "/ip/193.0.6.139", "/"):
        page.goto(path)
        data = httpx.get(server.base + path, params={"format": "json"}).json()
        compared = 0
        for name, body in data["tables"].items():
            if page.locator(f"table#table-{name}").count() == 0:
                assert name == "matches", f"{path}: table {name} is not shown"  # one match: facts
                continue
            compared += 1
            shown = page.locator(f"table#table-{name} tbody tr")
            if not body["rows"]:
                assert shown.count() == 1 and "Nothing to show" in shown.inner_text()
                continue
            limit = shown.count()
            assert limit == min(len(body["rows"]), limit) and limit > 0
            first = shown.first.locator("td")
            numeric = [
                page.locator(f"table#table-{name} thead th").nth(i).get_attribute("class") == "n"
                for i in range(first.count())
            ]
            for i, (value, is_number) in enumerate(zip(body["rows"][0], numeric, strict=True)):
                cell = first.nth(i)
                if is_number:
                    assert cell.get_attribute("data-v") == ("" if value is None else str(value))
                else:
                    assert cell.inner_text().strip() == ("–" if value is None else str(value))
        assert compared >= 2


def test_a_chart_draws_marks_from_its_table(page) -> None:
    page.goto("/registry/ripencc")
    wait_for_charts(page)
    figure = page.locator('figure.chart[data-for="table-stats"]')
    bars = figure.locator("svg rect")
    rows = page.locator("#table-stats tbody tr").count()
    assert bars.count() >= rows > 0
    assert figure.get_attribute("data-drawn") == str(rows)


def test_csv_download_is_the_table(server) -> None:
    csv = httpx.get(server.base + "/registry/ripencc", params={"format": "csv", "table": "stats"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    data = httpx.get(server.base + "/registry/ripencc", params={"format": "json"}).json()
    lines = csv.text.strip().splitlines()
    assert lines[0].split(",") == data["tables"]["stats"]["columns"]
    assert len(lines) - 1 == len(data["tables"]["stats"]["rows"])
    bad = httpx.get(server.base + "/registry/ripencc", params={"format": "csv", "table": "x"})
    assert bad.status_code == 400


def test_pages_read_without_javascript(browser, server) -> None:
    context = browser.new_context(java_script_enabled=False, base_url=server.base)
    try:
        tab = context.new_page()
        tab.goto("/")
        tab.fill("#home-q", "193.0.6.139")
        tab.press("#home-q", "Enter")
        tab.wait_for_url("**/ip/193.0.6.139")
        assert "RIPE NCC" in tab.locator("dl.facts").inner_text()
        assert tab.locator("#table-timeline tbody tr").count() >= 1
        tab.goto("/portability?regime=mandatory-portability&type=ipv4&failing=afrinic")
        assert tab.locator("#table-scenario tbody tr").count() >= 1
    finally:
        context.close()


def test_as_of_shows_the_older_files(page) -> None:
    page.goto("/?as-of=2017-06-01")
    assert "as of" in page.locator(".asof-banner").inner_text()
    files = page.locator("#table-files tbody").inner_text()
    assert "2017" in files and "2018" not in files
    assert "as-of=2017-06-01" in page.locator("footer a[rel=bookmark]").get_attribute("href")


def test_keyboard_reaches_the_search_with_a_visible_focus(page) -> None:
    page.goto("/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    for _ in range(6):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "site-q":
            break
    assert page.evaluate("document.activeElement.id") == "site-q"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/ip/192.0.2.1", 404),
        ("/ip/not-an-address", 400),
        ("/registry/nowhere", 404),
        ("/country/QQ", 404),
        ("/?as-of=2999-01-01", 400),
        ("/registry/arin?as-of=2001-01-01", 404),
    ],
)
def test_bad_input_is_a_page_in_the_site_style(page, watch, path: str, status: int) -> None:
    watch.allow(f"status of {status}")
    response = page.goto(path)
    assert response.status == status
    assert page.locator("header nav").is_visible()
    assert page.locator(".problem").inner_text().strip()
    axe_check(page)
