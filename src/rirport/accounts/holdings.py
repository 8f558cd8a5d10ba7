"""What a verified member holds, and filing transfers for it (only for it).

An account is linked to holder identities (``registry`` + opaque-id) by an administrator.
Opaque-ids change from file to file, so the portfolio follows the stable holder key
(:mod:`rirport.query.holders`): a link made against the 2017 file still *shows* the same
holder renumbered in 2018. That key is inferred (from shared resources), so it never widens
the right to act: filing a transfer needs an explicit link for the holder of record on the
current file (:func:`may_act_for`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rirport.accounts.policy import Principal, authorize
from rirport.domain.enums import REGISTRIES, Registry
from rirport.domain.iana import IanaBlock
from rirport.domain.resources import ResourceRange
from rirport.domain.transfer import TransferKind
from rirport.errors import PermissionDeniedError
from rirport.query.holders import identity
from rirport.query.view import CurrentView
from rirport.services.transfers.lifecycle import StepResult, build_request, request_transfer
from rirport.store.unit import Store


def rows_of(view: CurrentView, registry: str, opaque_id: str) -> np.ndarray[Any, Any]:
    """Rows of the current view held by one opaque-id of one registry."""
    table = view.table
    code = REGISTRIES.index(Registry(registry))
    return np.flatnonzero((table.registry == code) & (table.opaque_id == opaque_id.encode()))


def known_holder(view: CurrentView, store: Store) -> Any:
    """A check for :func:`rirport.accounts.service.link_holder`: the id holds something in the
    current view, or is an older id of a holder that does."""
    ids = identity(store)

    def known(registry: str, opaque_id: str) -> bool:
        return any(len(rows_of(view, registry, i)) for i in ids.holder(registry, opaque_id).ids)

    return known


@dataclass(frozen=True)
class Holding:
    """One linked holder and what it holds now."""

    registry: str
    opaque_id: str
    key: str
    current_ids: list[str]
    resources: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {
            "registry": self.registry,
            "opaque_id": self.opaque_id,
            "holder": self.key,
            "current_ids": self.current_ids,
            "profile": [f"holder:{self.registry}:{i}" for i in self.current_ids],
            "resources": self.resources,
        }


def portfolio(store: Store, view: CurrentView, principal: Principal) -> list[Holding]:
    """The member's linked holders with their current resources.

    Raises:
        AuthenticationError / PermissionDeniedError: not a Leadership Alliance member.
    """
    authorize(principal, "portfolio:read")
    ids = identity(store)
    out = []
    for registry, opaque in principal.holders:
        stable = ids.holder(registry, opaque)
        current = [i for i in stable.ids if len(rows_of(view, registry, i))]
        rows = [int(r) for i in current for r in rows_of(view, registry, i)]
        resources = [_resource(view.table.row(r)) for r in rows]
        out.append(Holding(registry, opaque, stable.key, current, resources))
    return out


def _resource(row: Any) -> dict[str, Any]:
    """A delegation's JSON with the resource as text (``193.0.0.0/20``, ``AS3333``), as a
    transfer request names it."""
    return {**row.to_json(), "resource": str(row.resource)}


def file_transfer(
    store: Store,
    view: CurrentView,
    iana: Sequence[IanaBlock],
    principal: Principal,
    resource: ResourceRange,
    recipient: Registry,
    recipient_holder: str,
    kind: TransferKind,
    date: dt.date,
    regime: str,
) -> StepResult:
    """Request a transfer through the transfer service, for a resource the member holds.

    Raises:
        AuthenticationError / PermissionDeniedError: not allowed to file, or the resource is
            not held by one of the member's verified holders.
        InputError / NotFoundError: as :func:`~rirport.services.transfers.lifecycle.build_request`.
    """
    authorize(principal, "transfer:file")
    request = build_request(view, resource, recipient, recipient_holder, kind, date)
    registry, holder = request.source.value, request.source_holder
    if not may_act_for(principal, registry, holder):
        ids = identity(store)
        inferred = bool(holder) and ids.key(registry, holder) in {
            ids.key(r, o) for r, o in principal.holders
        }
        raise PermissionDeniedError(
            f"{resource} is not held by a holder verified for your account: the current "
            f"{registry} file lists it under {registry}:{holder}"
            + (
                ", which the inferred holder identity joins to an id you were verified for; "
                f"that shows history but gives no right to act: an administrator must link "
                f"{registry}:{holder} itself"
                if inferred
                else "; you may file transfers only for your own"
            )
        )
    return request_transfer(store, view, request, regime, principal.actor, iana)


def may_act_for(principal: Principal, registry: str, opaque_id: str) -> bool:
    """Whether the principal may act for the holder of record ``registry:opaque_id`` (the
    id on the current file): only through an administrator's explicit link for that very
    id. The inferred stable identity (:mod:`rirport.query.holders`) shows a holder's history
    across renumberings; it never widens the right to act."""
    return bool(opaque_id) and (registry, opaque_id) in set(principal.holders)
