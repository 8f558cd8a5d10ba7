"""``/docs`` renders the API's operations in the browser from this server's assets alone: the
page fixture fails the test on any request to another host, a failed request or a console
error (a CSP violation included)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.web.conftest import Served


def test_docs_renders_every_operation_offline(page: Any, server: Served) -> None:
    response = page.goto("/docs")
    assert response.status == 200
    page.wait_for_selector(".opblock", timeout=20_000)
    paths = httpx.get(server.base + "/openapi.json").json()["paths"]
    operations = sum(
        1
        for item in paths.values()
        for method in item
        if method in ("get", "post", "put", "delete")
    )
    assert page.locator(".opblock").count() == operations
    assert page.locator(".opblock-summary-path", has_text="/rdap/ip/{query}").count() == 1
    assert "rirport" in page.locator(".info .title").inner_text()


def test_redoc_leads_to_the_same_page(page: Any) -> None:
    page.goto("/redoc")
    assert page.url.endswith("/docs")
    page.wait_for_selector(".opblock", timeout=20_000)
