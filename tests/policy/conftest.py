"""The five real 2018 files in a SQLite store, shared by the policy tests of one worker."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from rirport.domain.delegation import Delegation
from rirport.domain.enums import Registry, ResourceType
from rirport.domain.iana import IanaBlock
from rirport.domain.table import REGISTRY_CODE, TYPE_CODE
from rirport.domain.transfer import Decision, ResourceFacts, TransferKind, TransferRequest
from rirport.policy.engine import evaluate
from rirport.policy.loader import load_regime
from rirport.query.view import CurrentView, load_current
from rirport.services.registry.iana import load_iana
from rirport.services.registry.ingest import ingest_path
from rirport.services.transfers.facts import gather_facts
from rirport.store.unit import Store
from tests.paths import real_files

AS_OF = dt.date(2026, 11, 28)
"""A fixed "today", so the holding periods of the 2018 data are all over."""


@dataclass
class Real:
    """A store of the real 2018 files, its current view and the IANA blocks."""

    store: Store
    view: CurrentView
    iana: list[IanaBlock]
    url: str

    def pick(
        self,
        registry: Registry,
        rtype: ResourceType,
        keep: Callable[[Delegation], bool] = lambda d: True,
    ) -> Delegation:
        """The first delegated record of a registry and type that ``keep`` accepts."""
        t = self.view.table
        rows = np.flatnonzero(
            (t.registry == REGISTRY_CODE[registry]) & (t.type == TYPE_CODE[rtype])
        )
        for row in rows.tolist():
            d = t.row(row)
            if d.status.delegated and d.date is not None and keep(d):
                return d
        raise AssertionError(f"no {registry} {rtype} delegation fits")

    def facts(self, d: Delegation, on: dt.date = AS_OF) -> ResourceFacts:
        return gather_facts(self.store, self.view, d.resource, d.registry, on, self.iana)

    def decide(
        self,
        d: Delegation,
        to: Registry,
        regime: str = "current",
        on: dt.date = AS_OF,
        kind: TransferKind | None = None,
        facts: ResourceFacts | None = None,
        holder: str | None = None,
    ) -> Decision:
        """The decision for ``d``'s holder moving all of ``d`` to ``to``."""
        chosen = kind or (TransferKind.INTRA_RIR if to is d.registry else TransferKind.INTER_RIR)
        request = TransferRequest(
            d.resource,
            d.registry,
            d.opaque_id or "" if holder is None else holder,
            to,
            "recipient",
            chosen,
            on,
        )
        return evaluate(request, load_regime(regime), facts or self.facts(d, on), on)


def build_real(folder: Path) -> Real:
    url = f"sqlite:///{folder / 'real.sqlite'}"
    store = Store(url)
    for path in real_files("2018"):
        ingest_path(store, path)
    return Real(store, load_current(store), list(load_iana(store)), url)


@pytest.fixture(scope="session")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Real]:
    built = build_real(tmp_path_factory.mktemp("policy-real"))
    yield built
    built.store.close()
