"""The layout every page shares, in the browser: navigation, search box, footer links, the
error page, the page's data one click away, CSP holding (no inline script runs)."""

from __future__ import annotations

import httpx

from tests.web.conftest import axe_check, screenshot


def test_home_renders_with_navigation_search_and_data_links(page, server) -> None:
    response = page.goto("/")
    assert response.status == 200
    assert page.locator("header nav a", has_text="Portability").count() == 1
    assert page.get_by_role("search").first.is_visible()
    json_link = page.locator("footer .data-links a", has_text="JSON")
    data = httpx.get(server.base + json_link.get_attribute("href")).json()
    assert data["page"] == "/" and data["tables"]["files"]["rows"]
    rows = page.locator("#table-files tbody tr")
    assert rows.count() == len(data["tables"]["files"]["rows"])
    axe_check(page)
    screenshot(page, "home")


def test_unknown_path_is_a_404_page_in_the_site_style(page, watch) -> None:
    watch.allow("status of 404")
    response = page.goto("/no/such/page")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "Not found"
    assert page.locator("header nav").is_visible()
    axe_check(page)


def test_future_and_malformed_as_of_are_400_pages(page, watch) -> None:
    watch.allow("status of 400")
    for value in ("2999-01-01", "yesterday"):
        response = page.goto(f"/?as-of={value}")
        assert response.status == 400
        assert "as-of" in page.locator(".problem").inner_text()


def test_the_csp_forbids_inline_scripts_and_foreign_hosts(server) -> None:
    csp = httpx.get(server.base + "/").headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "default-src 'none'" in csp


def test_static_assets_are_cached_for_a_year(server) -> None:
    html = httpx.get(server.base + "/").text
    start = html.index("/static/site.css?v=")
    url = html[start : html.index('"', start)]
    asset = httpx.get(server.base + url, headers={"Accept-Encoding": "gzip"})
    assert asset.status_code == 200
    assert "immutable" in asset.headers["cache-control"]
    assert asset.headers["content-encoding"] == "gzip"
    assert httpx.get(server.base + "/static/nothing.js").status_code == 404
