"""``/docs`` works offline: every URL its page names is this server's, every asset it names
is served (and is the real bundle), and it runs no inline script; ``/redoc`` leads to it.

(In a browser: ``tests/web/test_docs_browser.py`` renders both pages with every request to
another host failing the test.)
"""

from __future__ import annotations

import gzip
import re
from html.parser import HTMLParser

from fastapi.testclient import TestClient

ATTRS = ("src", "href", "data-openapi", "spec-url")
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


class Refs(HTMLParser):
    """Every URL-bearing attribute and whether any ``<script>`` has inline text."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_script = False
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [v for k, v in attrs if k in ATTRS and v is not None]
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_script = True


def refs(text: str) -> Refs:
    parser = Refs()
    parser.feed(text)
    return parser


def test_docs_page_names_only_local_assets_and_they_are_served(client: TestClient) -> None:
    expected = {"swagger-ui-bundle.js", "swagger-ui.css", "swagger-init.js", "favicon.png"}
    page = client.get("/docs", headers=BROWSER)
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    found = refs(page.text)
    assert not found.inline_script
    assert found.urls, "the page names no asset"
    for url in found.urls:
        assert url.startswith("/") and not url.startswith("//"), url
    assert "/openapi.json" in found.urls
    names = {m.group(1) for u in found.urls if (m := re.match(r"/docs/assets/([^?]+)", u))}
    assert names == expected
    for url in found.urls:
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert len(answer.content) > 0
    csp = dict(
        (d.split()[0], d.split()[1:]) for d in page.headers["content-security-policy"].split(";")
    )
    assert csp["script-src"] == ["'self'"] and csp["default-src"] == ["'none'"]
    assert not [v for values in csp.values() for v in values if "http" in v or "*" in v]


def test_assets_are_the_real_bundles_cached_and_compressed(client: TestClient) -> None:
    bundle = client.get("/docs/assets/swagger-ui-bundle.js", headers={"Accept-Encoding": "gzip"})
    assert bundle.headers["content-type"].startswith("text/javascript")
    assert "immutable" in bundle.headers["cache-control"]
    assert len(bundle.content) > 500_000 and b"SwaggerUIBundle" in bundle.content
    raw = client.get(
        "/docs/assets/swagger-ui-bundle.js", headers={"Accept-Encoding": "identity"}
    ).content
    assert gzip.compress(raw) and raw == bundle.content  # httpx inflates the gzip answer
    init = client.get("/docs/assets/swagger-init.js").text
    assert "validatorUrl: null" in init  # the online validator badge would ask another host
    etag = bundle.headers["etag"]
    again = client.get("/docs/assets/swagger-ui-bundle.js", headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_redoc_leads_to_docs(client: TestClient) -> None:
    answer = client.get("/redoc", headers=BROWSER, follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (308, "/docs")


def test_unknown_asset_is_a_404_and_no_path_escapes(client: TestClient) -> None:
    for name in ("nope.js", "..%2Fdocs.py", "%2E%2E%2F%2E%2E%2Fpyproject.toml"):
        answer = client.get(f"/docs/assets/{name}")
        assert answer.status_code == 404, name


def test_openapi_still_lists_no_docs_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith(("/docs", "/redoc"))]
