"""Profiles cut to the reader's tier, a member's portfolio, and filing transfers.

* ``GET /api/profiles/{id}`` — JSON with the sections the reader's tier may see and, for every
  tier, every source the profile cites (tiers gate depth, never provenance); the page
  ``/profiles/{id}`` is :mod:`rirport.web.pages.profiles`;
* ``GET /api/me/portfolio`` — a Leadership Alliance member's verified holders and what they
  hold now;
* ``POST /api/transfers`` — request a transfer of a resource a member's verified holder holds
  (through :mod:`rirport.services.transfers.lifecycle`; refused with 403 for anyone else's).

Profiles are built once per store generation and day (:meth:`Served.derived`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from rirport.accounts.holdings import file_transfer, portfolio
from rirport.domain.transfer import TransferKind
from rirport.errors import InputError
from rirport.http.auth.bodies import json_fields
from rirport.http.auth.principal import PortfolioReader, Reader, TransferFiler, guarded
from rirport.http.auth.state import FORM_MAX_BYTES
from rirport.http.responses import json_response
from rirport.policy.loader import load_builtin
from rirport.profiles.model import Profile
from rirport.query.live import Served
from rirport.query.parse import parse_day, parse_registry, parse_resource
from rirport.services.profiles.build import ProfileSet, build_profiles

router = APIRouter(tags=["profiles"])
OBJECT = {"type": "object"}
ARRAY = {"type": "array", "items": {"type": "object"}}
ID = Path(
    ...,
    min_length=1,
    max_length=200,
    description="registry:arin, country:ZA, policy:current, holder:ripencc:ID, or a plain name",
)


def _served(request: Request) -> Served:
    served: Served = request.app.state.live.served
    return served


def _profiles(request: Request) -> ProfileSet:
    served = _served(request)
    day = dt.date.today()
    store = request.app.state.live.store
    return served.derived(f"profiles:{day}", lambda: build_profiles(store, day, None, served.view))


def _profile(request: Request, profile_id: str) -> Profile:
    """Raises: NotFoundError."""
    return _profiles(request).get(profile_id)


def cut(profile: Profile, tier: str) -> dict[str, Any]:
    """A profile as one tier may read it: its sections, each entry's source ids (``refs``),
    and every source it cites (the confidence stays the full profile's)."""
    body = profile.visible(tier).to_json(tiers=True)
    body["tier"] = tier
    return body


@router.get(
    "/api/profiles/{profile_id}",
    summary="A profile, cut to the reader's tier",
    **guarded(None, OBJECT, 404),
)
def profile_json(request: Request, principal: Reader, profile_id: str = ID) -> Response:
    return json_response(cut(_profile(request, profile_id), principal.read_tier))


@router.get(
    "/api/me/portfolio",
    summary="Your verified holders and what they hold now",
    **guarded("portfolio:read", ARRAY),
)
def my_portfolio(request: Request, principal: PortfolioReader) -> Response:
    served = _served(request)
    holdings = portfolio(request.app.state.live.store, served.view, principal)
    return json_response([h.to_json() for h in holdings])


TRANSFER_FIELDS = (("resource", "to", "recipient_holder"), ("kind", "date", "regime"))


@router.post(
    "/api/transfers",
    summary="Request a transfer of a resource you hold",
    status_code=201,
    **guarded("transfer:file", OBJECT, 404, 409, 413, 415, ok=201, body=TRANSFER_FIELDS),
)
async def new_transfer(request: Request, principal: TransferFiler) -> Response:
    fields = await json_fields(request, FORM_MAX_BYTES, *TRANSFER_FIELDS)
    args = _transfer_args(fields)
    served = _served(request)
    store = request.app.state.live.store
    result = await asyncio.to_thread(
        file_transfer, store, served.view, served.iana, principal, *args
    )
    return json_response(result.to_json(), status=201)


def _transfer_args(fields: dict[str, str]) -> tuple[Any, ...]:
    """Raises: InputError naming the field that is wrong."""
    resource = parse_resource(fields["resource"])
    recipient = parse_registry(fields["to"], "to")
    try:
        kind = TransferKind(fields.get("kind", "inter-rir"))
    except ValueError as exc:
        raise InputError(f"kind: {exc}") from None
    day = parse_day(fields.get("date"), "date")
    regime = fields.get("regime", "current")
    load_builtin(regime)  # refuse an unknown name before anything is filed
    holder = fields["recipient_holder"].strip()
    if not holder or len(holder) > 128:
        raise InputError("recipient_holder must be 1 to 128 characters")
    return resource, recipient, holder, kind, day, regime
