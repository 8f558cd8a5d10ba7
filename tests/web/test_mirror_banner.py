"""The pages of a mirror store: a banner on every page naming the publisher and the checkpoint
reached (none on a publisher's pages), and the pages' write forms refused with the mirror's
409 page in the site's layout, nothing written. Without a browser: the app over a store
marked as following a publisher, as ``mirror follow`` leaves it."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rirport.accounts import service
from rirport.accounts.holdings import known_holder
from rirport.http.app import create_app
from rirport.http.config import HttpConfig
from rirport.log.checkpoint import Checkpoint
from rirport.log.note import Signer
from rirport.query.view import load_current
from rirport.services.registry.ingest import ingest_bytes
from rirport.services.transparency import readonly
from rirport.store.repos.log import PeerRow
from rirport.store.unit import Store
from tests.excerpts import excerpt, real_file
from tests.web.conftest import PHONE, Watch, axe_check, open_tab, serve

ORIGIN = "rirport.test/publisher"
PUBLISHER = "http://pub.test:8000"
ROOT = hashlib.sha256(b"the publisher's tree at size 37").digest()
VERIFIED = "2026-11-30T12:00:00+00:00"
HOLDER = "d91963c1-e981-4483-bba3-eb5060e0bdb2"
PASSWORD = "a passphrase for the mirror pages"
PAGES = ("/", "/registry/ripencc", "/events", "/transfers", "/journal", "/login", "/no-such")
"""Pages of each kind (a 404 page too) that must all carry the banner."""


def _store(path: Path) -> Store:
    store = Store(f"sqlite:///{path}")
    ingest_bytes(
        store,
        excerpt(real_file("ripencc", "2018"), lambda i, _f: i < 40),
        "ripencc-2018-excerpt",
    )
    admin = service.create_account(store, "mirror-admin", PASSWORD, "admin", "tests")
    service.create_account(store, "mirror-member", PASSWORD, "strategy-circle", "tests")
    known = known_holder(load_current(store), store)
    service.link_holder(store, admin.id, "ripencc", HOLDER, "tests", known)  # 2.0.0.0/12
    return store


def _client(store: Store) -> Iterator[TestClient]:
    app = create_app(store, None, HttpConfig(rate=0, refresh_seconds=0))
    with TestClient(app, headers={"Accept": "text/html"}) as client:  # as a browser asks
        yield client


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, TestClient]]:
    store = _store(tmp_path_factory.mktemp("mirror") / "mirror.sqlite")
    note = Checkpoint(ORIGIN, 37, ROOT).sign([Signer.generate(ORIGIN)])
    with store.transaction() as uow:  # what a pass of `mirror follow` records
        assert uow.log.set_peer(
            PeerRow(readonly.ROLE, ORIGIN, 37, note, PUBLISHER, VERIFIED), expected_size=None
        )
    for client in _client(store):
        yield store, client
    store.close()


@pytest.fixture(scope="module")
def publisher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    store = _store(tmp_path_factory.mktemp("publisher") / "publisher.sqlite")
    yield from _client(store)
    store.close()


def _banner(html: str) -> str | None:
    found = re.search(r'<p class="mirror-banner" role="status">(.*?)</p>', html, re.S)
    return None if found is None else re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found[1]))


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found[1]


def test_every_page_of_a_mirror_names_the_publisher_and_checkpoint(
    mirror: tuple[Store, TestClient],
) -> None:
    _store, client = mirror
    root = base64.b64encode(ROOT).decode()
    for path in PAGES:
        answer = client.get(path)
        assert answer.status_code == (404 if path == "/no-such" else 200), (path, answer.text)
        text = _banner(answer.text)
        assert text is not None, f"{path}: no mirror banner"
        assert text == (
            f"Mirror of {ORIGIN} ({PUBLISHER}), at checkpoint size 37 (root {root}, "
            f"verified {VERIFIED}); read-only: changes are made at the publisher."
        ), path
        assert f'<a href="{PUBLISHER}" rel="external">' in answer.text, path
    again = client.get("/")  # the page cache keeps it: still the banner
    assert _banner(again.text) is not None


def test_the_banner_in_a_browser_is_a_status_and_accessible(
    mirror: tuple[Store, TestClient], browser: Any
) -> None:
    store, _client = mirror
    with serve(store) as served, open_tab(browser, served.base, Watch(served.base)) as tab:
        tab.goto("/")
        banner = tab.get_by_role("status").filter(has_text="Mirror of")
        assert banner.count() == 1
        assert f"Mirror of {ORIGIN}" in banner.inner_text()
        link = banner.get_by_role("link", name=PUBLISHER)
        assert link.get_attribute("href") == PUBLISHER
        axe_check(tab)  # contrast, landmarks, names: no serious or critical violation
        tab.set_viewport_size(PHONE)
        box = banner.bounding_box()
        assert box is not None and box["width"] <= PHONE["width"]  # the root hash wraps


def test_a_publisher_shows_no_banner(publisher: TestClient) -> None:
    for path in PAGES:
        answer = publisher.get(path)
        assert "mirror-banner" not in answer.text, path
        assert "Mirror of" not in answer.text, path


def test_banner_before_the_first_pass_finished(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'starting.sqlite'}")
    readonly.mark_started(store, ORIGIN, PUBLISHER)
    for client in _client(store):
        text = _banner(client.get("/login").text)
        assert text == (
            f"Mirror of {ORIGIN} ({PUBLISHER}), first pass not finished; read-only: changes "
            "are made at the publisher."
        )
    store.close()


def test_write_forms_on_a_mirror_answer_the_409_page(mirror: tuple[Store, TestClient]) -> None:
    store, client = mirror
    with store.read() as uow:
        serial = uow.journal.count()
    token = _token(client.get("/login").text)
    signed = client.post(
        "/login",
        data={"username": "mirror-admin", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert signed.status_code == 303, signed.text  # signing in journals nothing
    token = _token(client.get("/admin").text)
    made = client.post(
        "/admin/accounts",
        data={
            "username": "newcomer",
            "password": "a long enough passphrase 42",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert made.status_code == 409, made.text
    assert "read-only mirror of rirport.test/publisher from http://pub.test:8000" in made.text
    assert _banner(made.text) is not None
    filed = client.post(
        "/account/transfer",
        data={
            "resource": "2.0.0.0/12",
            "to": "arin",
            "recipient_holder": "org-new",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert filed.status_code == 409, filed.text
    assert "<title>This server is a read-only mirror · rirport</title>" in filed.text
    assert "read-only mirror of rirport.test/publisher" in filed.text
    assert f'<a href="{PUBLISHER}">The publisher, {ORIGIN}</a>' in filed.text
    assert _banner(filed.text) is not None
    others = {  # every other form that journals: the same refusal, never a 500
        "/account/tokens": {"name": "a script"},
        "/account/password": {
            "current_password": PASSWORD,
            "new_password": "another long passphrase 7",
        },
        "/admin/accounts/2/tier": {"tier": "leadership-alliance"},
        "/admin/accounts/2/holders": {"registry": "ripencc", "opaque_id": HOLDER},
        "/admin/accounts/1/holders/remove": {"registry": "ripencc", "opaque_id": HOLDER},
        "/admin/accounts/2/disable": {},
    }
    for path, fields in others.items():
        answer = client.post(path, data={**fields, "csrf_token": token}, follow_redirects=False)
        assert answer.status_code == 409, (path, answer.status_code, answer.text[-3000:])
        assert "read-only mirror of rirport.test/publisher" in answer.text, path
    with store.read() as uow:
        assert uow.journal.count() == serial  # nothing written
