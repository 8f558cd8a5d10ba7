"""Administration under ``/api/admin/``: accounts, verification (holder links, tiers) and
evidence. Every route needs an administrator; every change is one journaled transaction in
the service it calls.

Evidence bodies are the evidence file format (:mod:`rirport.profiles.loader`) as
``application/json`` or ``application/yaml``, at most
:data:`~rirport.profiles.loader.MAX_BYTES` bytes (else 413), validated by the same service as
``rirport evidence add|correct``.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Callable
from pathlib import Path as FilePath
from typing import Any

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from rirport.accounts import service
from rirport.accounts.holdings import known_holder
from rirport.errors import ConflictError, InputError, NotFoundError
from rirport.http.auth.bodies import json_fields, media_type, read_limited
from rirport.http.auth.principal import AccountsAdmin, EvidenceAdmin, VerificationAdmin, guarded
from rirport.http.auth.state import FORM_MAX_BYTES
from rirport.http.responses import HttpError, json_response
from rirport.profiles.loader import MAX_BYTES
from rirport.services.profiles import evidence

router = APIRouter(prefix="/api/admin", tags=["admin"])
OBJECT = {"type": "object"}
ARRAY = {"type": "array", "items": {"type": "object"}}
ACCOUNT = Path(..., ge=1, le=2**31 - 1)
EVIDENCE_TYPES = {
    "application/json": "json",
    "application/yaml": "yaml",
    "application/x-yaml": "yaml",
    "text/yaml": "yaml",
}
EVIDENCE_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"type": "object", "required": ["evidence"]}},
        "application/yaml": {"schema": {"type": "string"}},
    },
}


def _store(request: Request) -> Any:
    return request.app.state.live.store


@router.get("/accounts", summary="Every account", **guarded("accounts:manage", ARRAY))
def list_accounts(request: Request, _p: AccountsAdmin) -> Response:
    return json_response([a.to_json() for a in service.accounts(_store(request))])


@router.post(
    "/accounts",
    summary="Create an account",
    status_code=201,
    **guarded(
        "accounts:manage", OBJECT, 409, 413, 415, ok=201, body=(("username", "password"), ("tier",))
    ),
)
async def create(request: Request, principal: AccountsAdmin) -> Response:
    fields = await json_fields(request, FORM_MAX_BYTES, ("username", "password"), ("tier",))
    row = await asyncio.to_thread(
        service.create_account,
        _store(request),
        fields["username"],
        fields["password"],
        fields.get("tier", "strategy-circle"),
        principal.actor,
    )
    return json_response(service.account(_store(request), row.id).to_json(), status=201)


@router.get(
    "/accounts/{account_id}", summary="One account", **guarded("accounts:manage", OBJECT, 404)
)
def get_account(request: Request, _p: AccountsAdmin, account_id: int = ACCOUNT) -> Response:
    return json_response(service.account(_store(request), account_id).to_json())


@router.put(
    "/accounts/{account_id}/tier",
    summary="Set an account's tier",
    **guarded("verification:manage", OBJECT, 404, 409, 413, 415, body=(("tier",), ())),
)
async def tier(
    request: Request, principal: VerificationAdmin, account_id: int = ACCOUNT
) -> Response:
    fields = await json_fields(request, FORM_MAX_BYTES, ("tier",))
    await asyncio.to_thread(
        service.set_tier, _store(request), account_id, fields["tier"], principal.actor
    )
    return json_response(service.account(_store(request), account_id).to_json())


@router.post(
    "/accounts/{account_id}/holders",
    summary="Link a verified holder identity",
    status_code=201,
    **guarded(
        "verification:manage",
        OBJECT,
        404,
        409,
        413,
        415,
        ok=201,
        body=(("registry", "opaque_id"), ()),
    ),
)
async def link(
    request: Request, principal: VerificationAdmin, account_id: int = ACCOUNT
) -> Response:
    fields = await json_fields(request, FORM_MAX_BYTES, ("registry", "opaque_id"))
    store = _store(request)
    known = known_holder(request.app.state.live.served.view, store)
    await asyncio.to_thread(
        service.link_holder,
        store,
        account_id,
        fields["registry"],
        fields["opaque_id"],
        principal.actor,
        known,
    )
    return json_response(service.account(store, account_id).to_json(), status=201)


@router.delete(
    "/accounts/{account_id}/holders/{registry}/{opaque_id}",
    summary="Withdraw a holder verification",
    **guarded("verification:manage", OBJECT, 404),
)
def unlink(
    request: Request,
    principal: VerificationAdmin,
    account_id: int = ACCOUNT,
    registry: str = Path(..., min_length=1, max_length=16),
    opaque_id: str = Path(..., min_length=1, max_length=128),
) -> Response:
    service.unlink_holder(_store(request), account_id, registry, opaque_id, principal.actor)
    return json_response(service.account(_store(request), account_id).to_json())


@router.post(
    "/accounts/{account_id}/disable",
    summary="Disable an account (its sessions and tokens end)",
    **guarded("accounts:manage", OBJECT, 404, 409),
)
def disable(request: Request, principal: AccountsAdmin, account_id: int = ACCOUNT) -> Response:
    service.disable(_store(request), account_id, principal.actor)
    return json_response(service.account(_store(request), account_id).to_json())


@router.post(
    "/accounts/{account_id}/enable",
    summary="Enable a disabled account again (it signs in anew)",
    **guarded("accounts:manage", OBJECT, 404, 409),
)
def enable(request: Request, principal: AccountsAdmin, account_id: int = ACCOUNT) -> Response:
    service.enable(_store(request), account_id, principal.actor)
    return json_response(service.account(_store(request), account_id).to_json())


@router.post(
    "/evidence",
    summary="Add evidence items (an evidence file as the body)",
    status_code=201,
    **guarded("evidence:manage", OBJECT, 409, 413, 415, ok=201)
    | {"openapi_extra": {"x-rirport-permission": "evidence:manage", "requestBody": EVIDENCE_BODY}},
)
async def add_evidence(request: Request, principal: EvidenceAdmin) -> Response:
    ids = await _with_upload(
        request, lambda path: evidence.add(_store(request), path, principal.actor)
    )
    return json_response({"added": ids}, status=201)


@router.put(
    "/evidence",
    summary="Correct evidence items (an evidence file as the body)",
    **guarded("evidence:manage", OBJECT, 404, 413, 415)
    | {"openapi_extra": {"x-rirport-permission": "evidence:manage", "requestBody": EVIDENCE_BODY}},
)
async def correct_evidence(request: Request, principal: EvidenceAdmin) -> Response:
    changes = await _with_upload(
        request, lambda path: evidence.correct(_store(request), path, principal.actor)
    )
    return json_response({"corrected": [{"id": i, "version": v} for i, v in changes]})


async def _with_upload(request: Request, use: Callable[[FilePath], Any]) -> Any:
    """The body as an evidence file (named ``upload.json``/``upload.yaml`` in the journal)
    handed to the evidence service, which validates it whole."""
    kind = EVIDENCE_TYPES.get(media_type(request))
    if kind is None:
        raise HttpError(415, "send an evidence file as application/json or application/yaml")
    body = await read_limited(request, MAX_BYTES)
    with tempfile.TemporaryDirectory(prefix="rirport-evidence-") as folder:
        path = FilePath(folder) / f"upload.{kind}"
        path.write_bytes(body)
        try:
            return await asyncio.to_thread(use, path)
        except (ConflictError, NotFoundError, InputError) as exc:
            # the same error, naming the upload rather than the server's temporary folder
            text = str(exc).replace(f"{folder}{os.sep}", "")
            kind_of = next(
                c for c in (ConflictError, NotFoundError, InputError) if isinstance(exc, c)
            )
            raise kind_of(text) from None
