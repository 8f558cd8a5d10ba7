"""The registry page's charts over a stored history with moves between registries: its space
by type and status over time (each point what ``stats --as-of`` of that date counts for the
registry), and its inflow from and outflow to each other registry per month (the moved
events). In the browser, each chart has marks, draws exactly its part of the table, and the
table is the page's JSON.

The history: ten simulated days of the five 2018 files' excerpts (1% of records changing a
day, moves between registries among the changes), every third day missing, then a completed
transfer out of the RIPE NCC."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest

from rirport.domain.enums import REGISTRIES, Registry, ResourceType, Status
from rirport.domain.resources import ResourceRange
from rirport.domain.table import REGISTRY_CODE, STATUS_CODE, TYPE_CODE
from rirport.domain.transfer import TransferKind
from rirport.query.events import stored_events
from rirport.query.iana import load_iana
from rirport.query.registries import chart_dates, space_over_time
from rirport.query.series import load_versions
from rirport.query.stats import compute_stats
from rirport.query.view import load_as_of, load_current
from rirport.services.registry.ingest import ingest_bytes
from rirport.services.transfers.lifecycle import advance, build_request, request_transfer
from rirport.simulation import ChurnRates, DailyHistory
from rirport.store.unit import Store
from tests.formats.test_simulation import excerpts
from tests.web.conftest import Served, Watch, axe_check, open_tab, screenshot, serve
from tests.web.test_pages import wait_for_charts

MIX = {"new": 0.3, "return": 0.2, "holder": 0.15, "status": 0.1, "country": 0.1, "move": 0.15}


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('history') / 'h.sqlite'}")
    sim = DailyHistory(excerpts(60), seed=3, rates=ChurnRates(per_record=0.01, mix=MIX))
    last = None
    for day in sim.days(10):
        if day.index % 3 == 2:
            continue
        for f in day.files:
            ingest_bytes(store, f.data, f.name)
        last = max(f.date for f in day.files)
    assert last is not None
    _transfer(store, last)
    yield store
    store.close()


def _transfer(store: Store, day: dt.date) -> None:
    view, iana = load_current(store), load_iana(store)
    t = view.table
    row = int(
        np.flatnonzero(
            (t.registry == REGISTRY_CODE[Registry.RIPENCC])
            & (t.type == TYPE_CODE[ResourceType.IPV4])
            & (t.status == STATUS_CODE[Status.ALLOCATED])
        )[0]
    )
    resource = ResourceRange(ResourceType.IPV4, t.first_int(row), t.last_int(row))
    req = build_request(view, resource, Registry.ARIN, "x", TransferKind.INTER_RIR, day)
    made = request_transfer(store, view, req, "mandatory-portability", "test", iana)
    for step in ("approve", "accept", "complete"):
        advance(store, view, made.transfer.id, step, "test", iana, conditions_met=True)


@pytest.fixture(scope="module")
def history_server(history: Store) -> Iterator[Served]:
    with serve(history) as served:
        yield served


@pytest.fixture
def history_page(browser: Any, history_server: Served) -> Iterator[Any]:
    with open_tab(browser, history_server.base, Watch(history_server.base)) as tab:
        yield tab


def _moves(store: Store) -> Counter[tuple[str, str]]:
    return Counter(
        (e.from_registry or "", e.to_registry or "")
        for e in stored_events(store)
        if e.kind == "moved"
    )


def _busiest(store: Store) -> Registry:
    """The registry with the most moves in and out (both, when any has both)."""
    moves = _moves(store)
    both = [
        r for r in REGISTRIES if any(a == r for a, _ in moves) and any(b == r for _, b in moves)
    ]
    return max(both or REGISTRIES, key=lambda r: sum(n for p, n in moves.items() if r in p))


# -- the read side --------------------------------------------------------------------------
def test_each_point_is_what_the_as_of_view_counts(history: Store) -> None:
    versions = load_versions(history)
    for registry in (Registry.RIPENCC, Registry.ARIN):
        dates = chart_dates(versions, registry)
        assert len(dates) >= 7  # its files' dates and the transfer's
        points = space_over_time(versions, registry, dates)
        assert {p.status for p in points} >= {"allocated", "assigned", "available", "reserved"}
        got = {(p.date, p.type.value, p.status): p.amount for p in points if p.amount}
        want = {}
        for day in dates:
            for row in compute_stats(load_as_of(history, day).table):
                if row.registry == registry.value:
                    amount = row.records if row.type is ResourceType.IPV6 else row.amount
                    want[(day, row.type.value, row.status)] = amount
        assert got == want, registry


def test_chart_dates_thin_out_to_months_past_the_limit(history: Store) -> None:
    versions = load_versions(history)
    every = chart_dates(versions, Registry.RIPENCC)
    few = chart_dates(versions, Registry.RIPENCC, limit=3)
    assert few[0] == every[0].replace(day=1) and few[-1] == every[-1] and len(few) <= 3
    cut = chart_dates(versions, Registry.RIPENCC, until=every[2])
    assert cut == every[:3]


# -- the page, in the browser -----------------------------------------------------------------
def test_space_over_time_charts_have_marks_and_match_the_json(history_page, history) -> None:
    registry = _busiest(history)
    path = f"/registry/{registry.value}"
    history_page.goto(path)
    wait_for_charts(history_page)
    data = httpx.get(history_page.url, params={"format": "json"}).json()
    body = data["tables"]["space"]
    statuses = body["columns"][2:-1]  # date, type, one column per status, unit
    assert statuses == ["allocated", "assigned", "available", "reserved"]
    long = [
        {"date": r[0], "type": r[1], "status": s, "amount": r[2 + k], "unit": r[-1]}
        for r in body["rows"]
        for k, s in enumerate(statuses)
        if r[2 + k] is not None
    ]
    assert long and long == data["data"]["space_over_time"]
    shown = history_page.locator("#table-space tbody tr")
    assert shown.count() == len(body["rows"])
    for i, row in enumerate(body["rows"]):
        cells = shown.nth(i).locator("td")
        assert [cells.nth(k).inner_text().strip() for k in (0, 1)] == row[:2]
        for k in range(len(statuses)):
            value = row[2 + k]
            assert cells.nth(2 + k).get_attribute("data-v") == ("" if value is None else str(value))
    figures = history_page.locator('figure.chart[data-for="table-space"]')
    assert figures.count() == 3  # one per type
    for k in range(figures.count()):
        figure = figures.nth(k)
        rtype = figure.get_attribute("data-where").split("=")[1]
        mine = [p for p in long if p["type"] == rtype]
        assert figure.get_attribute("data-drawn") == str(len(mine))  # one point a cell
        lines = figure.locator("svg g[aria-label=line] path")
        assert lines.count() == len({p["status"] for p in mine})  # a line per status
        assert all(p["status"] in figure.inner_text() for p in mine)  # in the legend
    axe_check(history_page)
    screenshot(history_page, "registry-history")


def test_inflow_and_outflow_per_registry_are_charted_from_the_moves(history_page, history) -> None:
    registry = _busiest(history)
    history_page.goto(f"/registry/{registry.value}")
    wait_for_charts(history_page)
    data = httpx.get(history_page.url, params={"format": "json"}).json()
    body = data["tables"]["flows"]
    rows = [dict(zip(body["columns"], r, strict=True)) for r in body["rows"]]
    moves = _moves(history)
    inflow = Counter({a: n for (a, b), n in moves.items() if b == registry and a != registry})
    outflow = Counter({b: n for (a, b), n in moves.items() if a == registry and b != registry})
    got_in: Counter[str] = Counter()
    got_out: Counter[str] = Counter()
    for r in rows:
        (got_in if r["direction"] == "in" else got_out)[r["registry"]] += r["moves"]
    assert (got_in, got_out) == (inflow, outflow)
    assert inflow or outflow, "the history should move something to or from it"
    shown = history_page.locator("#table-flows tbody tr")
    assert shown.count() == len(rows)
    first = shown.first.locator("td")
    assert [first.nth(k).inner_text().strip() for k in range(3)] == body["rows"][0][:3]
    for direction, wanted in (("in", inflow), ("out", outflow)):
        figure = history_page.locator(f'figure.chart[data-where="direction={direction}"]')
        if not wanted:
            assert figure.count() == 0
            continue
        mine = [r for r in rows if r["direction"] == direction]
        assert figure.get_attribute("data-drawn") == str(len(mine))
        assert figure.locator("svg rect").count() >= len(mine)  # a bar each
        legend = figure.inner_text()
        assert all(name in legend for name in wanted)  # coloured by the other registry


def test_as_of_cuts_the_series_and_flows_at_its_date(history_server, history) -> None:
    versions = load_versions(history)
    every = chart_dates(versions, Registry.RIPENCC)
    day = every[len(every) // 2]
    data = httpx.get(
        history_server.base + "/registry/ripencc",
        params={"format": "json", "as-of": day.isoformat()},
    ).json()
    dates = {r[0] for r in data["tables"]["space"]["rows"]}
    assert dates == {d.isoformat() for d in every if d <= day}
    seen = sum(
        1
        for e in stored_events(history)
        if e.kind == "moved"
        and e.seen is not None
        and e.seen <= day
        and "ripencc" in (e.from_registry, e.to_registry)
        and e.from_registry != e.to_registry
    )
    assert sum(r[3] for r in data["tables"]["flows"]["rows"]) == seen  # moves up to its date
    newest = httpx.get(history_server.base + "/registry/ripencc", params={"format": "json"})
    assert {r[0] for r in newest.json()["tables"]["space"]["rows"]} == {
        d.isoformat() for d in every
    }
