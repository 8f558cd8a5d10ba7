"""Facts several pages show, made once per generation of the data."""

from __future__ import annotations

from rirport.domain.enums import REGISTRIES
from rirport.errors import InputError
from rirport.policy.loader import builtin_names, load_builtin
from rirport.query.events import EventEntry, stored_events
from rirport.services.transfers.portability import PortabilityReport, run_portability
from rirport.web.context import PageContext


def all_events(page: PageContext) -> list[EventEntry]:
    """Every stored change event, newest first (read once per generation)."""
    store = page.live.store
    return page.served.derived("web:events", lambda: stored_events(store))


async def portability(page: PageContext, regime_name: str) -> PortabilityReport:
    """The matrix and every failing-registry scenario under one shipped regime, once per
    generation and day (the same run ``GET /api/portability`` makes, with the scenarios)."""
    served = page.served
    day = page.today
    store = page.live.store
    regime = load_builtin(regime_name)
    return await served.derived_off_loop(
        f"web:portability:{regime_name}:{day}",
        lambda: run_portability(served.view, served.iana, [regime], day, store, failing=REGISTRIES),
    )


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
