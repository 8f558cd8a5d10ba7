"""Facts several pages show, made once per generation of the data.

Each costly fact is a :class:`Fact`: the key it is kept under in its generation's derived
values and how it is made. Page handlers ask for one through :meth:`Facts.off_loop`;
:mod:`rirport.web.warm` makes the same ones when the server starts (and when the data moves
on), so the first reader finds them made.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from rirport.domain.enums import REGISTRIES, Registry, ResourceType
from rirport.errors import InputError
from rirport.policy.loader import builtin_names, load_builtin
from rirport.query.countries import SpaceRow, space_by_country
from rirport.query.events import EventEntry, stored_events
from rirport.query.flows import Flow, monthly
from rirport.query.holders import HolderIdentity, identity
from rirport.query.live import LiveIndex, Served
from rirport.query.registries import (
    HolderTotal,
    SpacePoint,
    chart_dates,
    space_over_time,
    top_holders,
)
from rirport.query.series import Versions, load_versions
from rirport.query.stats import StatsRow, compute_stats
from rirport.services.profiles.build import ProfileSet, build_profiles
from rirport.services.transfers.portability import PortabilityReport, run_portability
from rirport.web.context import PageContext

TOP = 15
"""Rows of a registry page's top lists."""
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


@dataclass(frozen=True)
class Fact(Generic[T_co]):
    """A costly fact: the key it is kept under and how it is made; ``current``: kept with the
    current generation whatever the page's as-of date (it holds every date)."""

    key: str
    compute: Callable[[], T_co]
    current: bool = False


class Facts:
    """The shared facts of one generation (``served``) on one day.

    History-wide facts (the versions, the monthly flows) are kept with the current
    generation (``live.served``) whatever the page's as-of date: they hold every date, and
    an as-of page only cuts them at its date.
    """

    def __init__(self, served: Served, live: LiveIndex, day: dt.date) -> None:
        self.served = served
        self.live = live
        self.day = day

    # -- what each fact is ---------------------------------------------------------------
    def stats(self) -> Fact[list[StatsRow]]:
        table = self.served.view.table
        return Fact("web:stats", lambda: compute_stats(table))

    def space(self) -> Fact[list[SpaceRow]]:
        table = self.served.view.table
        return Fact("web:space", lambda: space_by_country(table))

    def events(self) -> Fact[list[EventEntry]]:
        store = self.live.store
        return Fact("web:events", lambda: stored_events(store))

    def holders(self) -> Fact[HolderIdentity]:
        store = self.live.store
        return Fact("holders", lambda: identity(store))

    def top_holders(self, registry: Registry, limit: int = TOP) -> Fact[list[HolderTotal]]:
        """The registry's holders holding the most IPv4 addresses."""
        table = self.served.view.table
        return Fact(
            f"web:top-holders:{registry.value}:{limit}",
            lambda: top_holders(table, registry, ResourceType.IPV4, limit),
        )

    def portability(self, regime_name: str) -> Fact[PortabilityReport]:
        """The matrix and every failing-registry scenario under one shipped regime (the
        same run ``GET /api/portability`` makes, with the scenarios)."""
        served, day, store = self.served, self.day, self.live.store
        regime = load_builtin(regime_name)
        return Fact(
            f"web:portability:{regime_name}:{day}",
            lambda: run_portability(
                served.view, served.iana, [regime], day, store, failing=REGISTRIES
            ),
        )

    def profiles(self) -> Fact[ProfileSet]:
        """Every profile on the day (the key ``GET /api/profiles/{id}`` uses too)."""
        store, day, view = self.live.store, self.day, self.served.view
        return Fact(f"profiles:{day}", lambda: build_profiles(store, day, None, view))

    def versions(self) -> Fact[Versions]:
        """Every stored version (the key ``GET /api/series`` uses too)."""
        live = self.live
        return Fact("versions", lambda: load_versions(live.store, live.cache_dir), current=True)

    def flows(self, until: dt.date | None = None) -> Fact[list[Flow]]:
        """Every move by month, up to ``until`` (a page's as-of date) when given."""
        store = self.live.store
        return Fact(f"web:flows:{until}", lambda: monthly(store, until), current=True)

    def space_over_time(
        self, versions: Versions, registry: Registry, until: dt.date | None
    ) -> Fact[list[SpacePoint]]:
        def compute() -> list[SpacePoint]:
            return space_over_time(versions, registry, chart_dates(versions, registry, until))

        return Fact(f"web:space-over-time:{registry.value}:{until}", compute)

    # -- getting them --------------------------------------------------------------------
    def _home(self, fact: Fact[T]) -> Served:
        return self.live.served if fact.current else self.served

    def get(self, fact: Fact[T]) -> T:
        """The fact, made now if it is not yet (blocks: not for the event loop)."""
        return self._home(fact).derived(fact.key, fact.compute)

    async def off_loop(self, fact: Fact[T]) -> T:
        """The fact; a first computation runs in a worker thread."""
        return await self._home(fact).derived_off_loop(fact.key, fact.compute)

    def warmed(self) -> list[Fact[object]]:
        """What a server makes before anyone asks, the home page's first."""
        first: list[Fact[object]] = [self.stats(), self.events()]
        first += [self.portability(name) for name in regimes()]
        later: list[Fact[object]] = [
            self.space(),
            self.holders(),
            self.versions(),
            self.flows(),
            *(self.top_holders(r) for r in REGISTRIES),
            self.profiles(),
        ]
        return [*first, *later]


def facts(page: PageContext) -> Facts:
    return Facts(page.served, page.live, page.today)


def all_events(page: PageContext) -> list[EventEntry]:
    """Every stored change event, newest first (read once per generation; blocks on a first
    read: handlers on the event loop use ``await facts(page).off_loop(...events())``)."""
    shared = facts(page)
    return shared.get(shared.events())


async def portability(page: PageContext, regime_name: str) -> PortabilityReport:
    """The matrix and every failing-registry scenario under one shipped regime, once per
    generation and day."""
    shared = facts(page)
    return await shared.off_loop(shared.portability(regime_name))


def regimes() -> list[str]:
    """The shipped regimes, the one in force first."""
    names = builtin_names()
    return sorted(names, key=lambda n: (n != "current", n))


def regime_asked(text: str | None) -> str:
    """Raises: InputError for a regime that is not shipped."""
    names = regimes()
    if text is None or text == "":
        return names[0]
    if text not in names:
        raise InputError(f"regime: {text[:60]!r} is not one of {', '.join(names)}")
    return text
