"""Time series and flows from the versions: every point equals the as-of view of its date
counted directly (on both engines, over a simulated history with gaps and a transfer)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from rirport.domain.enums import REGISTRIES, STATUSES, Registry, ResourceType, Status
from rirport.domain.resources import ResourceRange
from rirport.domain.table import REGISTRY_CODE, STATUS_CODE, TYPE_CODE, DelegationTable
from rirport.domain.transfer import TransferKind
from rirport.errors import InputError, NotFoundError
from rirport.query.flows import flows
from rirport.query.iana import load_iana
from rirport.query.series import load_versions, points, series
from rirport.query.view import load_as_of, load_current
from rirport.services.registry.ingest import ingest_bytes
from rirport.services.transfers.lifecycle import advance, build_request, request_transfer
from rirport.simulation import ChurnRates, DailyHistory
from rirport.store.unit import Store
from tests.formats.test_simulation import excerpts

DELEGATED = [STATUS_CODE[Status.ALLOCATED], STATUS_CODE[Status.ASSIGNED]]
MIX = {"new": 0.3, "return": 0.2, "holder": 0.15, "status": 0.1, "country": 0.1, "move": 0.15}


@pytest.fixture
def history(store: Store) -> list[dt.date]:
    """Ten simulated days (1% a day, moves included), every third day missing, then a
    completed transfer on the last day; the dates are each day's newest file's (the
    registries date their files a day apart)."""
    days = []
    sim = DailyHistory(excerpts(60), seed=3, rates=ChurnRates(per_record=0.01, mix=MIX))
    for day in sim.days(10):
        if day.index % 3 == 2:
            continue
        for f in day.files:
            ingest_bytes(store, f.data, f.name)
        days.append(max(f.date for f in day.files))
    _transfer(store, days[-1])
    return days


def _transfer(store: Store, day: dt.date) -> None:
    view, iana = load_current(store), load_iana(store)
    t = view.table
    row = int(
        np.flatnonzero(
            (t.registry == REGISTRY_CODE[Registry.RIPENCC])
            & (t.type == TYPE_CODE[ResourceType.IPV4])
            & np.isin(t.status, DELEGATED)
        )[0]
    )
    resource = ResourceRange(ResourceType.IPV4, t.first_int(row), t.last_int(row))
    req = build_request(view, resource, Registry.ARIN, "x", TransferKind.INTER_RIR, day)
    made = request_transfer(store, view, req, "mandatory-portability", "test", iana)
    for step in ("approve", "accept", "complete"):
        result = advance(store, view, made.transfer.id, step, "test", iana, conditions_met=True)
    assert result.transfer.state == "completed"


def _expected(t: DelegationTable, metric: str, by: str, name: str) -> int:
    """The metric of one group, counted on a view's table."""
    if by == "registry":
        mask = (t.registry == REGISTRY_CODE[Registry(name)]) & np.isin(t.status, DELEGATED)
    elif by == "status":
        mask = t.status == STATUS_CODE[Status(name)]
    else:
        mask = (t.cc == (b"" if name == "-" else name.encode())) & np.isin(t.status, DELEGATED)
    if metric == "addresses":
        return int(t.value[mask & (t.type == TYPE_CODE[ResourceType.IPV4])].sum())
    if metric == "asns":
        return int(t.value[mask & (t.type == TYPE_CODE[ResourceType.ASN])].sum())
    if metric == "prefixes":
        return int((mask & (t.type != TYPE_CODE[ResourceType.ASN])).sum())
    return len(set(t.opaque_id[mask & t.has_opaque & (t.opaque_id != b"")].tolist()))


def test_every_point_is_the_as_of_view(store: Store, history: list[dt.date]) -> None:
    """Each metric by each grouping, on every day from before the first file to after the
    last (missing days included), equals the as-of view of that day counted directly."""
    at = points(history[0] - dt.timedelta(days=4), history[-1] + dt.timedelta(days=2), "day")
    versions = load_versions(store)
    tables: dict[dt.date, DelegationTable | None] = {}
    for day in at:
        try:
            tables[day] = load_as_of(store, day).table
        except NotFoundError:
            tables[day] = None
    assert tables[at[0]] is None and tables[at[-1]] is not None
    for metric in ("addresses", "prefixes", "asns", "holders"):
        for by in ("registry", "status", "country"):
            made = series(versions, metric, by, at)
            _check(made, tables, metric, by)


def _check(made, tables, metric: str, by: str) -> None:
    for k, (day, table) in enumerate(tables.items()):
        if table is None:
            assert not made.values[:, k].any(), day
            continue
        for g, name in enumerate(made.groups):
            assert made.values[g, k] == _expected(table, metric, by, name), (metric, by, day)
        if by != "country":  # every group with anything on the day is listed
            names = REGISTRIES if by == "registry" else STATUSES
            listed = {n.value for n in names if _expected(table, metric, by, n.value)}
            assert listed <= set(made.groups)


def test_the_transfer_shows_from_its_date(store: Store, history: list[dt.date]) -> None:
    """ARIN gains what RIPE NCC loses on the transfer's date, not on the day before."""
    v = load_versions(store)
    at = [history[-2], history[-1]]
    made = series(v, "addresses", "registry", at)
    arin, ripe = made.groups.index("arin"), made.groups.index("ripencc")
    gain = made.values[arin, 1] - made.values[arin, 0]
    loss = made.values[ripe, 0] - made.values[ripe, 1]
    assert gain > 0 and loss > 0


def test_cached_versions_equal_read_ones(store: Store, history: list[dt.date], tmp_path) -> None:
    at = points(history[0], history[-1], "day")
    direct = series(load_versions(store), "holders", "country", at)
    load_versions(store, tmp_path)  # writes the cache
    cached = series(load_versions(store, tmp_path), "holders", "country", at)
    assert list(tmp_path.glob("versions-*.npz"))
    assert direct.groups == cached.groups and (direct.values == cached.values).all()


def test_points() -> None:
    jan31 = dt.date(2020, 1, 31)
    assert points(jan31, dt.date(2020, 4, 30), "month") == [
        jan31,
        dt.date(2020, 2, 29),
        dt.date(2020, 3, 31),
        dt.date(2020, 4, 30),
    ]
    assert len(points(dt.date(2004, 1, 1), dt.date(2023, 12, 31), "month")) == 240
    assert points(dt.date(2004, 2, 29), dt.date(2006, 3, 1), "year")[-1] == dt.date(2006, 2, 28)
    with pytest.raises(InputError, match="before from"):
        points(jan31, dt.date(2020, 1, 1), "day")
    with pytest.raises(InputError, match="step"):
        points(jan31, jan31, "week")  # type: ignore[arg-type]


def test_flows_sum_the_moved_events(store: Store, history: list[dt.date]) -> None:
    with store.read() as uow:
        moved = [e for rows in uow.events.chunks() for e in rows if e.kind == "moved"]
    assert moved, "the simulated history should move something between registries"
    got = flows(store, history[0] - dt.timedelta(days=1), history[-1], "day")
    assert sum(f.moves for f in got) == len(moved)
    pairs = {(e.from_registry, e.to_registry) for e in moved}
    assert {(f.from_registry, f.to_registry) for f in got} == pairs
    month = flows(store, history[0].replace(day=1), history[-1], "month")
    assert sum(f.moves for f in month) == len(moved)
    assert sum(f.addresses for f in month) == sum(f.addresses for f in got)
    assert (
        flows(store, history[-1] + dt.timedelta(days=1), history[-1] + dt.timedelta(days=9)) == []
    )


def test_cli_and_api_answer_the_same_series(store: Store, history: list[dt.date]) -> None:
    """``rirport series`` (JSON and CSV), ``rirport flows`` and ``GET /api/series`` /
    ``/api/flows`` answer what the read side computes; bad input is a usage error / 400."""
    import csv
    import io
    import json

    from click.testing import CliRunner
    from fastapi.testclient import TestClient

    from rirport.cli.main import cli
    from rirport.http.app import create_app
    from rirport.http.config import HttpConfig

    span = ["--from", history[0].isoformat(), "--to", history[-1].isoformat()]
    args = ["--db", store.url, "series", "--metric", "asns", "--by", "status", *span]
    expected = series(
        load_versions(store), "asns", "status", points(history[0], history[-1], "day"), "day"
    )
    result = CliRunner().invoke(cli, [*args, "--step", "day", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == expected.to_json()
    result = CliRunner().invoke(cli, [*args, "--step", "day", "--format", "csv"])
    assert list(csv.DictReader(io.StringIO(result.output))) == [
        {k: str(v) for k, v in row.items()} for row in expected.rows()
    ]
    bad = CliRunner().invoke(cli, [*args[:-1], "2018-13-01"])
    assert bad.exit_code == 2 and "--to" in bad.output
    moved = CliRunner().invoke(
        cli, ["--db", store.url, "flows", *span, "--step", "day", "--format", "json"]
    )
    assert moved.exit_code == 0, moved.output
    with TestClient(create_app(store, None, HttpConfig(rate=0, refresh_seconds=0))) as client:
        query = {"metric": "asns", "by": "status", "from": span[1], "to": span[3], "step": "day"}
        assert client.get("/api/series", params=query).json() == expected.to_json()
        assert client.get("/api/series", params={**query, "metric": "x"}).status_code == 400
        assert client.get("/api/series", params={**query, "to": "2000-01-01"}).status_code == 400
        got = client.get("/api/flows", params={"from": span[1], "to": span[3], "step": "day"})
        assert got.json() == json.loads(moved.output)
