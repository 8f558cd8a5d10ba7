"""The administration pages: accounts (make one, tier, disable, enable), verification (link
and unlink the holder identities a member acts for), and evidence (add or correct items).

Every route names its permission, as ``/api/admin/`` does; every change is one journaled
transaction in :mod:`rirport.accounts.service` or :mod:`rirport.services.profiles.evidence`
(the same calls as the CLI and the API), made only after the form's CSRF token is checked.
An evidence upload is the evidence file format, pasted or chosen as a file, validated whole
by the evidence service (every problem listed as ``upload.yaml:line: …``).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Callable
from pathlib import Path as FilePath
from typing import Any

from fastapi import APIRouter, Path
from starlette.responses import RedirectResponse, Response

from rirport.accounts import service
from rirport.accounts.holdings import known_holder
from rirport.accounts.policy import ROLES, authorize
from rirport.errors import ConflictError, InputError, NotFoundError
from rirport.http.auth.bodies import form_fields
from rirport.profiles.loader import MAX_BYTES
from rirport.services.profiles import evidence
from rirport.web.context import Page, PageContext
from rirport.web.csrf import checked_fields
from rirport.web.pages.accounts import needs, signed_in
from rirport.web.tables import table

router = APIRouter(include_in_schema=False)  # HTML pages: not in the OpenAPI description
ACCOUNT = Path(..., ge=1, le=2**31 - 1)


async def _form(page: PageContext, permission: str, limit: int = 16_384) -> dict[str, str]:
    authorize(page.principal, permission)
    return checked_fields(page.request, await form_fields(page.request, limit))


def _store(page: PageContext) -> Any:
    return page.live.store


@router.get("/admin", **needs("accounts:manage"))
async def accounts_page(page: Page) -> Response:
    return await _accounts(page)


async def _accounts(page: PageContext, message: str = "", status: int = 200) -> Response:
    refused = signed_in(page, "accounts:manage")
    if refused is not None:
        return refused
    rows = [a.to_json() for a in await asyncio.to_thread(service.accounts, _store(page))]
    listed = table(
        "accounts",
        "Accounts",
        ("id", "username", "tier", "holders", "disabled"),
        [
            (
                a["id"],
                a["username"],
                a["tier"],
                " ".join(f"{h['registry']}:{h['opaque_id']}" for h in a["holders"]),
                a["disabled"],
            )
            for a in rows
        ],
    )
    return page.render(
        "admin.html",
        title="Administration",
        data={"accounts": rows},
        tables=[listed],
        status=status,
        accounts=rows,
        roles=ROLES,
        message=message,
    )


@router.post("/admin/accounts", **needs("accounts:manage"))
async def create(page: Page) -> Response:
    fields = await _form(page, "accounts:manage")
    try:
        row = await asyncio.to_thread(
            service.create_account,
            _store(page),
            fields.get("username", ""),
            fields.get("password", ""),
            fields.get("tier", "strategy-circle"),
            page.principal.actor,
        )
    except (InputError, ConflictError) as exc:
        return await _accounts(page, str(exc), 409 if isinstance(exc, ConflictError) else 400)
    return RedirectResponse(f"/admin/accounts/{row.id}", status_code=303)


@router.get("/admin/accounts/{account_id}", **needs("accounts:manage"))
async def account_page(page: Page, account_id: int = ACCOUNT) -> Response:
    return await _account(page, account_id)


async def _account(
    page: PageContext, account_id: int, message: str = "", status: int = 200
) -> Response:
    refused = signed_in(page, "accounts:manage")
    if refused is not None:
        return refused
    account = (await asyncio.to_thread(service.account, _store(page), account_id)).to_json()
    return page.render(
        "admin_account.html",
        title=f"Account {account['username']}",
        data={"account": account},
        status=status,
        account=account,
        roles=ROLES,
        message=message,
    )


async def _change(
    page: PageContext, account_id: int, permission: str, act: Callable[[dict[str, str]], Any]
) -> Response:
    """Check the form, make the change, show the account again (with the refusal if any)."""
    fields = await _form(page, permission)
    try:
        await asyncio.to_thread(act, fields)
    except (InputError, ConflictError, NotFoundError) as exc:
        # by kind, not exact class: a MirrorReadOnlyError is a ConflictError (409)
        status = (
            409
            if isinstance(exc, ConflictError)
            else 404
            if isinstance(exc, NotFoundError)
            else 400
        )
        return await _account(page, account_id, str(exc), status)
    return RedirectResponse(f"/admin/accounts/{account_id}", status_code=303)


@router.post("/admin/accounts/{account_id}/tier", **needs("verification:manage"))
async def tier(page: Page, account_id: int = ACCOUNT) -> Response:
    store, actor = _store(page), page.principal.actor
    return await _change(
        page,
        account_id,
        "verification:manage",
        lambda f: service.set_tier(store, account_id, f.get("tier", ""), actor),
    )


@router.post("/admin/accounts/{account_id}/holders", **needs("verification:manage"))
async def link(page: Page, account_id: int = ACCOUNT) -> Response:
    store, actor = _store(page), page.principal.actor
    known = known_holder(page.served.view, store)
    return await _change(
        page,
        account_id,
        "verification:manage",
        lambda f: service.link_holder(
            store, account_id, f.get("registry", ""), f.get("opaque_id", "").strip(), actor, known
        ),
    )


@router.post("/admin/accounts/{account_id}/holders/remove", **needs("verification:manage"))
async def unlink(page: Page, account_id: int = ACCOUNT) -> Response:
    store, actor = _store(page), page.principal.actor
    return await _change(
        page,
        account_id,
        "verification:manage",
        lambda f: service.unlink_holder(
            store, account_id, f.get("registry", ""), f.get("opaque_id", ""), actor
        ),
    )


@router.post("/admin/accounts/{account_id}/disable", **needs("accounts:manage"))
async def disable(page: Page, account_id: int = ACCOUNT) -> Response:
    store, actor = _store(page), page.principal.actor
    return await _change(
        page, account_id, "accounts:manage", lambda _f: service.disable(store, account_id, actor)
    )


@router.post("/admin/accounts/{account_id}/enable", **needs("accounts:manage"))
async def enable(page: Page, account_id: int = ACCOUNT) -> Response:
    store, actor = _store(page), page.principal.actor
    return await _change(
        page, account_id, "accounts:manage", lambda _f: service.enable(store, account_id, actor)
    )


# -- evidence ---------------------------------------------------------------------------------
@router.get("/admin/evidence", **needs("evidence:manage"))
async def evidence_page(page: Page) -> Response:
    return await _evidence(page)


async def _evidence(
    page: PageContext, message: str = "", done: str = "", status: int = 200, text: str = ""
) -> Response:
    refused = signed_in(page, "evidence:manage")
    if refused is not None:
        return refused
    stored, _catalogue = await asyncio.to_thread(evidence.all_evidence, _store(page))
    rows = [
        (
            s.item.id,
            s.origin,
            s.version,
            f"{s.item.reliability}{s.item.credibility}",
            s.item.source.publisher,
            s.item.source.date.isoformat(),
        )
        for s in stored
    ]
    listed = table(
        "evidence",
        "Evidence items (starter set and the store's)",
        ("id", "origin", "version", "grade", "publisher", "date"),
        rows,
        numeric=("version",),
    )
    return page.render(
        "admin_evidence.html",
        title="Evidence",
        data={"items": [dict(zip(listed.columns, r, strict=True)) for r in rows]},
        tables=[listed],
        status=status,
        message=message,
        done=done,
        text=text,
    )


@router.post("/admin/evidence", **needs("evidence:manage"))
async def evidence_submit(page: Page) -> Response:
    fields = await _form(page, "evidence:manage", 3 * MAX_BYTES + 4096)
    text = fields.get("file", "")
    action = fields.get("action", "add")
    if action not in ("add", "correct"):
        return await _evidence(page, "action: add or correct", status=400, text=text)
    if not text.strip():
        return await _evidence(page, "paste an evidence file (YAML or JSON)", status=400)
    kind = "json" if text.lstrip().startswith("{") else "yaml"
    use = evidence.add if action == "add" else evidence.correct
    store, actor = _store(page), page.principal.actor
    try:
        result = await asyncio.to_thread(_upload, text, kind, lambda p: use(store, p, actor))
    except (InputError, ConflictError, NotFoundError) as exc:
        status = (
            409
            if isinstance(exc, ConflictError)
            else 404
            if isinstance(exc, NotFoundError)
            else 400
        )
        return await _evidence(page, str(exc), status=status, text=text)
    names = ", ".join(r if isinstance(r, str) else f"{r[0]} (version {r[1]})" for r in result)
    return await _evidence(page, done=f"{'Added' if action == 'add' else 'Corrected'}: {names}.")


def _upload(text: str, kind: str, use: Callable[[FilePath], Any]) -> Any:
    """The pasted text as an evidence file ``upload.yaml``/``upload.json`` for the evidence
    service; errors name the upload, not the server's temporary folder."""
    with tempfile.TemporaryDirectory(prefix="rirport-evidence-") as folder:
        path = FilePath(folder) / f"upload.{kind}"
        path.write_text(text, encoding="utf-8")
        try:
            return use(path)
        except (ConflictError, NotFoundError, InputError) as exc:
            message = str(exc).replace(f"{folder}{os.sep}", "")
            kind_of = next(
                c for c in (ConflictError, NotFoundError, InputError) if isinstance(exc, c)
            )
            raise kind_of(message) from None
