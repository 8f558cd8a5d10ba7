"""The account pages in a real browser: signing in and out, tokens, each tier seeing exactly
what it may, a verified holder checking then filing a transfer, a member refused for another
holder's block, an administrator verifying a holder and adding evidence; accessibility on each
page type and screenshots (docs/web/account-*.png, transfer-*.png, admin-*.png)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from rirport.accounts import service
from rirport.accounts.holdings import known_holder
from rirport.query.view import load_current
from tests.http.conftest import NEW_HOLDER, RIPE_HOLDER
from tests.web.conftest import Served, axe_check, screenshot

PASSWORD = "a passphrase for the account pages"
ACCOUNTS = {
    "acct-sc": ("strategy-circle", None),
    "acct-la": ("leadership-alliance", ("ripencc", RIPE_HOLDER)),
    "acct-la2": ("leadership-alliance", ("arin", NEW_HOLDER)),
    "acct-admin": ("admin", None),
}
PAGES = {
    "/account": {"strategy-circle", "leadership-alliance", "admin"},
    "/account/portfolio": {"leadership-alliance", "admin"},
    "/account/transfer": {"leadership-alliance", "admin"},
    "/admin": {"admin"},
    "/admin/evidence": {"admin"},
}
"""Each page and the tiers that may open it (the others get a 403 page)."""


@pytest.fixture(scope="module")
def accounts(server: Served) -> dict[str, int]:
    store = server.store
    known = known_holder(load_current(store), store)
    ids = {}
    for name, (tier, holder) in ACCOUNTS.items():
        row = service.create_account(store, name, PASSWORD, tier, "tests")
        if holder is not None:
            service.link_holder(store, row.id, *holder, "tests", known)
        ids[name] = row.id
    return ids


def sign_in(page: Any, name: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def transfers(server: Served) -> list[Any]:
    with server.store.read() as uow:
        return list(uow.transfers.all())


def test_sign_in_tokens_and_sign_out(page: Any, watch: Any, accounts: dict[str, int]) -> None:
    watch.allow("status of 401")
    page.goto("/account")
    assert "/login?next=/account" in page.url  # not signed in: sent to sign in, then back
    axe_check(page)
    screenshot(page, "account-sign-in")
    sign_in(page, "acct-sc", "not the password at all")
    assert page.get_by_role("alert").inner_text() == "Wrong username or password."
    sign_in(page, "acct-sc")
    page.wait_for_url("**/account")
    assert "acct-sc" in page.locator("main").inner_text()
    assert "strategy-circle" in page.locator("dl.facts").inner_text()
    page.get_by_label("Name of a new token").fill("<b>my script</b>")
    page.get_by_role("button", name="Make a token").click()
    token = page.locator("#new-token").inner_text().strip()
    assert token.startswith("rpt_")
    assert page.locator("#table-tokens").get_by_text("<b>my script</b>").count() == 1  # escaped
    me = httpx.get(f"{page.url.split('/account')[0]}/api/auth/session", headers=bearer(token))
    assert me.json()["account"] == accounts["acct-sc"]
    axe_check(page)
    screenshot(page, "account")
    page.get_by_role("button", name="Revoke the token <b>my script</b>").click()
    page.wait_for_url("**/account")
    assert "revoked" in page.locator("#table-tokens").inner_text()
    dead = httpx.get(f"{page.url.split('/account')[0]}/api/auth/session", headers=bearer(token))
    assert dead.status_code == 401
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")
    page.goto("/account")
    assert "/login" in page.url


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("name", list(ACCOUNTS))
def test_each_tier_opens_exactly_the_pages_it_may(
    page: Any, watch: Any, accounts: dict[str, int], name: str
) -> None:
    watch.allow("status of 403")
    tier = ACCOUNTS[name][0]
    sign_in(page, name)
    page.wait_for_url("**/account")
    links = page.locator("main").get_by_role("link")
    shown = set(links.evaluate_all("els => els.map(e => e.getAttribute('href'))"))
    assert ("/account/portfolio" in shown) is (tier != "strategy-circle")
    assert ("/admin" in shown) is (tier == "admin")
    for path, tiers in PAGES.items():
        response = page.goto(path)
        assert response.status == (200 if tier in tiers else 403), (name, path)
        if tier not in tiers:
            assert f"your tier ({tier}) may not do this" in page.locator(".problem").inner_text()
    if tier == "leadership-alliance":
        page.goto("/account/portfolio")
        rows = page.locator("#table-portfolio tbody tr")
        holder = ACCOUNTS[name][1]
        assert holder is not None
        assert rows.count() >= 1 and holder[1] in rows.first.inner_text()


def test_a_verified_holder_sees_the_decision_then_files_the_request(
    page: Any, server: Served, accounts: dict[str, int]
) -> None:
    sign_in(page, "acct-la")
    page.wait_for_url("**/account")
    page.goto("/account/portfolio")
    row = page.locator("#table-portfolio tbody tr", has_text="193.0.0.0/20")
    assert row.count() == 1
    axe_check(page)
    screenshot(page, "portfolio")
    row.get_by_role("link", name="Request a transfer").click()
    assert page.get_by_label("Resource").input_value() == "193.0.0.0/20"
    page.get_by_label("To registry").select_option("arin")
    page.get_by_label("Receiving holder").fill("org-receiver")
    page.get_by_label("Judged under").select_option("mandatory-portability")
    before = len(transfers(server))
    page.get_by_role("button", name="Check the decision").click()
    decision = page.locator("section.decision")
    heading = decision.locator("h2").inner_text()
    assert re.fullmatch(r"Decision: (allowed|conditional)", heading), heading
    assert "Rules that fired" in decision.inner_text()
    assert len(transfers(server)) == before  # checking files nothing
    axe_check(page)
    screenshot(page, "transfer-decision")
    decision.get_by_role("button", name="File this request").click()
    filed = page.locator("div.decision h2").inner_text()
    found = re.fullmatch(r"Filed: transfer (\d+) is (\w+)", filed)
    assert found is not None, filed
    after = transfers(server)
    assert len(after) == before + 1
    made = next(t for t in after if t.id == int(found.group(1)))
    assert (made.resource, made.source_holder, made.recipient_registry) == (
        "193.0.0.0/20",
        RIPE_HOLDER,
        "arin",
    )
    assert made.recipient_holder == "org-receiver"
    screenshot(page, "transfer-filed")


def test_a_member_cannot_file_for_another_holders_block(
    page: Any, server: Served, watch: Any, accounts: dict[str, int]
) -> None:
    watch.allow("status of 403")
    sign_in(page, "acct-la2")
    page.wait_for_url("**/account")
    page.goto(
        "/account/transfer?resource=193.0.0.0/20&to=arin&recipient_holder=x"
        "&regime=mandatory-portability"
    )
    decision = page.locator("section.decision")
    assert "You cannot file this" in decision.inner_text()
    assert decision.get_by_role("button", name="File this request").count() == 0
    before = len(transfers(server))
    page.goto("/account")  # the session's token, from a form that has one
    token = page.locator("form input[name=csrf_token]").first.get_attribute("value")
    forced = page.request.post(
        "/account/transfer",
        form={
            "csrf_token": token,
            "resource": "193.0.0.0/20",
            "to": "arin",
            "recipient_holder": "x",
            "regime": "mandatory-portability",
        },
    )
    assert forced.status == 403 and "not held by a holder verified" in forced.text()
    assert len(transfers(server)) == before
    no_token = page.request.post(
        "/account/transfer", form={"resource": "193.0.16.0/21", "to": "ripencc"}
    )
    assert no_token.status == 403 and len(transfers(server)) == before


EVIDENCE = """evidence:
  - id: web-admin-probe
    claim: A test item added through the administration page.
    source: {address: "https://example.org/web-admin-probe", publisher: Tests, date: 2026-06-01,
             kind: news-report}
    reliability: C
    tag: P
    entities: [registry:arin]
"""


def test_an_administrator_verifies_a_holder_and_adds_evidence(
    page: Any, server: Served, watch: Any, accounts: dict[str, int]
) -> None:
    watch.allow("status of 40[04]")
    sign_in(page, "acct-admin")
    page.wait_for_url("**/account")
    page.goto("/admin")
    page.get_by_label("Username").fill("acct-new-member")
    page.get_by_label("Password (12 characters or more").fill(PASSWORD)
    page.get_by_role("button", name="Make the account").click()
    page.wait_for_url(re.compile(r".*/admin/accounts/\d+$"))
    page.locator("select#tier").select_option("leadership-alliance")
    page.get_by_role("button", name="Set the tier").click()
    page.get_by_label("Registry", exact=True).select_option("ripencc")
    page.get_by_label("Holder's opaque-id").fill(RIPE_HOLDER)
    page.get_by_role("button", name="Verify this holder").click()
    facts = page.locator("dl.facts").inner_text()
    assert "leadership-alliance" in facts
    assert f"ripencc:{RIPE_HOLDER}" in page.locator("main").inner_text()
    axe_check(page)
    screenshot(page, "admin-account")
    page.get_by_label("Holder's opaque-id").fill("no-such-holder-anywhere")
    page.get_by_role("button", name="Verify this holder").click()
    assert "no-such-holder-anywhere" in page.get_by_role("alert").inner_text()
    assert page.get_by_role("button", name="Verify this holder").count() == 1  # the form again
    page.goto("/admin/evidence")
    page.locator("#ev-file").fill(EVIDENCE.replace("tag: P", "tag: Z"))
    page.get_by_role("button", name="Send").click()
    assert "upload.yaml:7:" in page.get_by_role("alert").inner_text()
    page.locator("#ev-file").fill(EVIDENCE)
    page.get_by_role("button", name="Send").click()
    assert page.get_by_role("status").inner_text() == "Added: web-admin-probe."
    assert page.locator("#table-evidence").get_by_text("web-admin-probe").count() == 1
    axe_check(page)
    screenshot(page, "admin-evidence")
    member = service.account(server.store, service.account_id_of(server.store, "acct-new-member"))
    assert member.row.tier == "leadership-alliance"
    assert ("ripencc", RIPE_HOLDER) in member.holders
