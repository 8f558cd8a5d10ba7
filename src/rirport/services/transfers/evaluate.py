"""Evaluating a transfer: would moving a resource to another registry (or holder) be allowed?

One use case for every edge (``rirport transfer evaluate``, ``GET /api/transfer/evaluate``):
the resource as the user named it (an address alone stands for its smallest delegation), its
source registry and holder from the current view, the facts the policy engine needs, and the
engine's decision. A refusal is an answer, not an error.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from rirport.domain.enums import Registry
from rirport.domain.transfer import Decision, TransferKind, TransferRequest
from rirport.errors import NotFoundError
from rirport.policy.engine import evaluate
from rirport.policy.model import Regime
from rirport.query.iana import IanaBlocks
from rirport.query.view import CurrentView
from rirport.services.transfers.facts import covering_rows, gather_facts, resource_asked
from rirport.services.transfers.lifecycle import build_request
from rirport.store.unit import Store

JSON_KEYS = ("outcome", "rules", "conditions", "rpki")
"""The contract of an evaluation's JSON: exactly these keys (rules and rpki carry more)."""


@dataclass(frozen=True)
class Evaluation:
    """The request as built from the data, the regime it was judged by, and the decision."""

    request: TransferRequest
    regime: Regime
    decision: Decision

    def to_json(self) -> dict[str, Any]:
        body = self.decision.to_json()
        return {k: body[k] for k in JSON_KEYS}


def evaluate_transfer(
    store: Store,
    view: CurrentView,
    iana: IanaBlocks,
    resource: str,
    recipient: Registry,
    regime: Regime,
    day: dt.date,
    kind: TransferKind | None = None,
    recipient_holder: str = "",
) -> Evaluation:
    """Judge moving ``resource`` (as the user wrote it) to ``recipient`` on ``day``.

    ``kind`` defaults to intra-RIR when the recipient is the source registry, else inter-RIR.

    Raises:
        QueryError: ``resource`` is not an address, prefix, range or AS number.
        NotFoundError: no registry holds it.
        InputError: it straddles registries or holders, or the request cannot be made (see
            :func:`~rirport.services.transfers.lifecycle.build_request`).
    """
    wanted = resource_asked(view, resource)
    rows = covering_rows(view, wanted)
    if not rows:
        raise NotFoundError(f"no registry holds {resource}")
    source = view.table.row(rows[0]).registry
    if kind is None:
        kind = TransferKind.INTRA_RIR if recipient is source else TransferKind.INTER_RIR
    request = build_request(view, wanted, recipient, recipient_holder, kind, day)
    facts = gather_facts(store, view, wanted, request.source, day, iana)
    return Evaluation(request, regime, evaluate(request, regime, facts, day))


__all__ = ["JSON_KEYS", "Evaluation", "evaluate_transfer"]
